// Start-up cost of the wal-e process, which archive_command pays once per WAL segment:
// `wal-e version` and a failing file:// wal-push path against `node -e 0`. Goal: <= 1.5x.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compare, printRows } from './lib.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'bin', 'wal-e');
const runs = Number(process.env.BENCH_RUNS ?? 21);

const rows = compare({
  reference: { name: 'node -e 0', cmd: [process.execPath, '-e', '0'] },
  candidates: [{ name: 'wal-e version', cmd: [process.execPath, bin, 'version'] }],
  runs,
});
printRows('start-up', 'node -e 0', rows);
