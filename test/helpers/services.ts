// Real storage servers on loopback for integration tests. Each start script installs what it needs,
// starts the server if it is not running, and prints `export VAR=value` lines; calling it again is
// cheap, so every test file asks for the services it uses and CI's order does not matter.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/dist-path';

export type ServiceName = 'swift' | 's3rver' | 'azurite' | 'gcs-firebase';

const started = new Map<ServiceName, Record<string, string>>();

/** Starts (or finds running) a service and returns the environment a client needs. */
export function startService(name: ServiceName, extraEnv: Record<string, string> = {}): Record<string, string> {
  const known = started.get(name);
  if (known) return known;
  const root = packageRoot();
  const servicesDir = join(root, '.services');
  mkdirSync(servicesDir, { recursive: true });
  // Test files run in parallel: one start at a time per service. `flock -o` keeps the lock out of the
  // servers the script leaves running.
  const r = spawnSync('flock', ['-o', join(servicesDir, `${name}.lock`), 'bash', join(root, 'scripts', 'services', `start-${name}.sh`)], {
    cwd: root,
    env: { ...process.env, SERVICES_DIR: servicesDir, ...extraEnv },
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  if (r.status !== 0) {
    throw new Error(`could not start ${name} (exit ${r.status}):\n${(r.stderr ?? '').split('\n').slice(-30).join('\n')}`);
  }
  const env: Record<string, string> = {};
  for (const m of r.stdout.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)) {
    env[m[1]!] = m[2]!.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  }
  started.set(name, env);
  return env;
}
