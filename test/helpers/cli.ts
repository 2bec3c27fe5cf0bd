// Runs the built bin/wal-e as a user would, with a controlled environment.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../src/util/dist-path';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Extra node flags placed before the script (e.g. --import hooks). */
  nodeArgs?: string[];
  timeoutMs?: number;
}

export const WAL_E_BIN = (): string => join(packageRoot(), 'bin', 'wal-e');

/** A minimal environment: no prefixes or credentials leak in from the machine running the tests. */
export function baseEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    WALE_LOG_DESTINATION: 'stderr',
  };
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export function runWalE(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), WAL_E_BIN(), ...args], {
      env: baseEnv(opts.env),
      cwd: opts.cwd ?? packageRoot(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** A temp directory removed by the returned function. */
export function tempDir(label: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), `wal-e-${label}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** The MSG: texts of WAL-E-shaped log records in stderr, in order. */
export function logMessages(stderr: string): { level: string; msg: string }[] {
  const out: { level: string; msg: string }[] = [];
  for (const m of stderr.matchAll(/^\S+\s+(DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+MSG: (.*)$/gm)) {
    out.push({ level: m[1]!, msg: m[2]! });
  }
  return out;
}

let loadHook: string | undefined;

/** A module-resolution hook (node --import) that appends every module URL a run loads to a file. */
function recordLoadsHook(): string {
  if (loadHook) return loadHook;
  const dir = mkdtempSync(join(tmpdir(), 'wal-e-load-hook-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  loadHook = join(dir, 'record-loads.mjs');
  writeFileSync(
    loadHook,
    `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
  import { appendFileSync } from 'node:fs';
  export async function resolve(specifier, context, next) {
    const r = await next(specifier, context);
    appendFileSync(process.env.WALE_TEST_LOAD_LOG, r.url + '\\\\n');
    return r;
  }\`));
`,
  );
  return loadHook;
}

/** Runs wal-e and also returns every module it loaded (to prove what a command does not import). */
export async function runWalERecordingLoads(args: string[], opts: RunOptions = {}): Promise<RunResult & { loaded: string[] }> {
  const hook = recordLoadsHook();
  const log = join(dirname(hook), `loads-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, '');
  const r = await runWalE(args, {
    ...opts,
    nodeArgs: [...(opts.nodeArgs ?? []), '--import', hook],
    env: { ...opts.env, WALE_TEST_LOAD_LOG: log },
  });
  const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
  rmSync(log, { force: true });
  return { ...r, loaded };
}

/** Every stderr line is a WAL-E log line or its indented DETAIL/HINT/STRUCTURED continuation. */
export function assertWalEShaped(stderr: string): void {
  for (const line of stderr.split('\n').filter(Boolean)) {
    if (!/^(\S+\s+(DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+MSG: |\s+(DETAIL|HINT|STRUCTURED): )/.test(line)) {
      throw new Error(`unexpected stderr line: ${line}`);
    }
  }
}
