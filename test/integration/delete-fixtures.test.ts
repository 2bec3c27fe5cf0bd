// delete on copies of the store WAL-E 1.1.1 wrote: dry run by default, --confirm deletes, --dry-run wins.
import { strict as assert } from 'node:assert';
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logMessages, runWalE, tempDir } from '../helpers/cli';
import { repoRoot } from '../helpers/postgres';

const B1 = 'base_000000010000000000000040_00000040';
const B2 = 'base_000000020000000000000010_00000010';

describe('delete on a WAL-E 1.1.1 store', () => {
  let dir: { path: string; remove: () => void };
  let n = 0;

  before(() => (dir = tempDir('del')));
  after(() => dir.remove());

  function freshStore(): string {
    const s = join(dir.path, `store${n++}`);
    cpSync(join(repoRoot(), 'test', 'fixtures', 'wale-store-plain'), s, { recursive: true });
    return s;
  }
  const del = (s: string, ...args: string[]) => runWalE(['delete', ...args], { env: { WALE_FILE_PREFIX: `file://localhost${s}` } });
  const walNames = (s: string) => readdirSync(join(s, 'wal_005')).sort();
  const deletedKeys = (stderr: string) => [...stderr.matchAll(/DETAIL: The key being deleted is file:\/\/(\/\S+)\./g)].map((m) => m[1]!);

  it('retain 1, dry run: logs what would go (B2 by WAL-E\'s name order), deletes nothing', async () => {
    const s = freshStore();
    const r = await del(s, 'retain', '1');
    assert.equal(r.code, 0, r.stderr);
    const msgs = logMessages(r.stderr).map((m) => m.msg);
    assert.ok(msgs.includes('performing dry run of data deletion'));
    assert.ok(msgs.includes('Deleting 1 oldest base backups.'));
    assert.match(r.stderr, /HINT: Deleting keys older than file:\/\/\/.*base_000000010000000000000040_00000040_backup_stop_sentinel\.json\./);
    assert.match(r.stderr, /HINT: This is only a dry run -- no actual data is being deleted/);
    assert.ok(deletedKeys(r.stderr).some((k) => k.endsWith(`${B2}_backup_stop_sentinel.json`)));
    assert.equal(walNames(s).length, 18, 'nothing deleted');
    assert.ok(existsSync(join(s, 'basebackups_005', `${B2}_backup_stop_sentinel.json`)));
  });

  it('retain 1 --confirm deletes exactly what the dry run listed; --dry-run overrides --confirm', async () => {
    const s = freshStore();
    const dry = deletedKeys((await del(s, 'retain', '1')).stderr);
    const forced = await del(s, '--dry-run', '--confirm', 'retain', '1');
    assert.deepEqual(deletedKeys(forced.stderr), dry);
    assert.equal(walNames(s).length, 18);
    const r = await del(s, '--confirm', 'retain', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(logMessages(r.stderr).some((m) => m.msg === 'deleting data in the store'));
    assert.deepEqual(deletedKeys(r.stderr), dry);
    for (const k of dry) assert.equal(existsSync(k), false, k);
    assert.equal(existsSync(join(s, 'basebackups_005', B2)), false, 'the emptied backup directory is pruned');
    // B1 stays, and so does the WAL it needs (its offline name reads 0x40, its checkpoint is in 0x04).
    assert.ok(existsSync(join(s, 'basebackups_005', `${B1}_backup_stop_sentinel.json`)));
    assert.deepEqual(walNames(s).slice(0, 2), ['000000010000000000000004.lzo', '000000010000000000000005.lzo']);
    assert.ok(walNames(s).includes('00000002.history.lzo') && walNames(s).includes('00000001000000000000000F.partial.lzo'));
    // Idempotent: the same command again finds nothing more to delete.
    const again = await del(s, '--confirm', 'retain', '1');
    assert.equal(again.code, 0);
    assert.deepEqual(deletedKeys(again.stderr), []);
  });

  it('before a WAL segment name (WAL-E crashed) and before a backup name', async () => {
    const s = freshStore();
    rmSync(join(s, 'basebackups_005', `${B1}_backup_stop_sentinel.json`));
    rmSync(join(s, 'basebackups_005', B1), { recursive: true });
    const r = await del(s, '--confirm', 'before', '000000020000000000000010');
    assert.equal(r.code, 0, r.stderr);
    // B2's offline-style name could stand for segment 0x01: its WAL is kept to be safe. A clear name:
    const s2 = freshStore();
    for (const b of [B1, B2]) {
      rmSync(join(s2, 'basebackups_005', `${b}_backup_stop_sentinel.json`));
      rmSync(join(s2, 'basebackups_005', b), { recursive: true });
    }
    const r2 = await del(s2, '--confirm', 'before', 'base_000000010000000000000004_00000312');
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(walNames(s2).slice(0, 1), ['000000010000000000000004.lzo']);
    assert.equal(walNames(s2).length, 15);
    assert.match(r2.stderr, /WARNING +MSG: skipping non-qualifying key in 'delete before'\n\s+DETAIL: The unexpected key is "file:\/\/\/.*00000001000000000000000F\.partial\.lzo", and it appears not to match the WAL file naming pattern\./);
  });

  it('retain with no backups does not crash; retain 0 and bad names are clear errors', async () => {
    const s = join(dir.path, 'empty');
    const r = await del(s, 'retain', '3');
    assert.equal(r.code, 0, r.stderr);
    assert.ok(logMessages(r.stderr).some((m) => m.msg === 'Not deleting any data.'));
    assert.equal((await del(s, 'retain', '0')).code, 1);
    const bad = await del(s, 'before', 'yesterday');
    assert.equal(bad.code, 1);
    assert.doesNotMatch(bad.stderr, /^\s+at /m);
  });

  it('everything: dry run lists all, --confirm empties both prefixes', async () => {
    const s = freshStore();
    const dry = await del(s, 'everything');
    assert.equal(deletedKeys(dry.stderr).length, 24);
    assert.equal(walNames(s).length, 18);
    const r = await del(s, '--confirm', 'everything');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(join(s, 'wal_005')), false);
    assert.equal(existsSync(join(s, 'basebackups_005')), false);
  });

  it('old-versions removes layouts 000-004 only', async () => {
    const s = freshStore();
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(join(s, 'wal_004'));
    writeFileSync(join(s, 'wal_004', '000000010000000000000001.lzo'), 'old');
    mkdirSync(join(s, 'basebackups_000', 'x'), { recursive: true });
    writeFileSync(join(s, 'basebackups_000', 'x', 'y'), 'old');
    const r = await del(s, '--confirm', 'old-versions');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(join(s, 'wal_004')), false);
    assert.equal(existsSync(join(s, 'basebackups_000')), false);
    assert.equal(walNames(s).length, 18);
  });
});
