// backup-list on the store WAL-E 1.1.1 wrote (test/fixtures/wale-store-plain): exact bytes on stdout.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logMessages, runWalE, tempDir } from '../helpers/cli';
import { repoRoot } from '../helpers/postgres';

const B1 = 'base_000000010000000000000040_00000040';
const B2 = 'base_000000020000000000000010_00000010';
const HEADER = 'name\tlast_modified\texpanded_size_bytes\twal_segment_backup_start\twal_segment_offset_backup_start\twal_segment_backup_stop\twal_segment_offset_backup_stop\r\n';
const ROW1 = `${B1}\t2026-11-22T23:56:39.987660\t\t000000010000000000000040\t00000040\t\t\r\n`;
const ROW2 = `${B2}\t2026-11-22T23:56:52.502487\t\t000000020000000000000010\t00000010\t\t\r\n`;

describe('backup-list on a WAL-E 1.1.1 store', () => {
  let dir: { path: string; remove: () => void };
  let store: string;

  before(() => {
    dir = tempDir('bl');
    store = join(dir.path, 'store');
    cpSync(join(repoRoot(), 'test', 'fixtures', 'wale-store-plain'), store, { recursive: true });
    // Sentinel mtimes as WAL-E left them, to the microsecond (a checkout does not keep them; touch sets
    // nanoseconds exactly where a float seconds value would round).
    const set = (name: string, when: string) =>
      execFileSync('touch', ['-d', when, join(store, 'basebackups_005', `${name}_backup_stop_sentinel.json`)]);
    set(B1, '2026-11-22 23:56:39.987660 UTC');
    set(B2, '2026-11-22 23:56:52.502487 UTC');
  });
  after(() => dir.remove());

  const list = (...args: string[]) => runWalE(['backup-list', ...args], { env: { WALE_FILE_PREFIX: `file://localhost${store}` } });

  it('prints WAL-E\'s exact table, in directory order', async () => {
    const r = await list();
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(HEADER));
    assert.deepEqual(new Set(r.stdout.slice(HEADER.length).split(/(?<=\r\n)/)), new Set([ROW1, ROW2]));
    assert.equal(r.stdout.length, HEADER.length + ROW1.length + ROW2.length);
  });

  it('LATEST is B2 (newer sentinel), a name selects that row', async () => {
    assert.equal((await list('LATEST')).stdout, HEADER + ROW2);
    assert.equal((await list(B1)).stdout, HEADER + ROW1);
    assert.equal((await list('base_000000010000000000000099_00000040')).stdout, HEADER);
  });

  it('--detail reads the sentinels on the file store too', async () => {
    const r = await list('--detail', 'LATEST');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, HEADER + `${B2}\t2026-11-22T23:56:52.502487\t23782293\t000000020000000000000010\t00000010\t000000020000000000000010\t00000010\r\n`);
  });

  it('an invalid query: header, then an error and exit 1', async () => {
    const r = await list('nonsense');
    assert.equal(r.code, 1);
    assert.equal(r.stdout, HEADER);
    assert.ok(logMessages(r.stderr).some((m) => m.level === 'ERROR' && m.msg === 'invalid backup query submitted'));
    assert.match(r.stderr, /DETAIL: The submitted query operator was "nonsense\."/);
  });

  it('an incomplete backup is not listed, and a warning names it', async () => {
    const extra = join(store, 'basebackups_005', 'base_000000020000000000000020_00000040', 'tar_partitions');
    mkdirSync(extra, { recursive: true });
    writeFileSync(join(extra, 'part_00000000.tar.lzo'), 'x');
    try {
      const r = await list();
      assert.equal(r.stdout.length, HEADER.length + ROW1.length + ROW2.length);
      assert.match(r.stderr, /WARNING +MSG: found base backups without a sentinel[\s\S]*base_000000020000000000000020_00000040/);
    } finally {
      const { rmSync } = await import('node:fs');
      rmSync(join(store, 'basebackups_005', 'base_000000020000000000000020_00000040'), { recursive: true });
    }
  });

  it('an empty store prints the header only', async () => {
    const r = await runWalE(['backup-list'], { env: { WALE_FILE_PREFIX: `file://localhost${dir.path}/empty` } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, HEADER);
  });
});
