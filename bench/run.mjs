// Runs every benchmark under bench/ (or the ones named): node bench/run.mjs [startup] [lzo] ...
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const all = { startup: 'startup.mjs', lzo: 'lzo/run.mjs', wal: 'wal/run.mjs', gpg: 'gpg/run.mjs', stores: 'stores/wal-push.mjs' };
const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(all);
let failed = false;
for (const n of names) {
  const file = all[n] ? join(here, all[n]) : undefined;
  if (!file || !existsSync(file)) {
    console.error(`unknown benchmark "${n}" (have: ${Object.keys(all).join(', ')})`);
    failed = true;
    continue;
  }
  const r = spawnSync(process.execPath, [file], { stdio: 'inherit' });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
