// Runs node's test runner over the bundled tests: "unit", "integration" or "all".
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const which = process.argv[2] ?? 'all';
const skipBuild = process.env.WALE_TEST_SKIP_BUILD === '1';

if (!skipBuild) {
  const b = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}

function list(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...list(p));
    else if (name.endsWith('.test.mjs')) out.push(p);
  }
  return out;
}

const dirs = which === 'all' ? ['unit', 'integration'] : [which];
const files = dirs.flatMap((d) => list(join(root, 'build', 'test', d)));
if (files.length === 0) {
  console.error(`no test files found for "${which}"`);
  process.exit(1);
}
const concurrency = process.env.WALE_TEST_CONCURRENCY ?? '2';
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(r.status ?? 1);
