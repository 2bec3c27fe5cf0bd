// backup-fetch's refusals: each ends with one clear error, a non-zero exit and no stack trace.
import { strict as assert } from 'node:assert';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { logMessages, runWalE, tempDir } from '../helpers/cli';
import { repoRoot } from '../helpers/postgres';

const B2 = 'base_000000020000000000000010_00000010';

describe('backup-fetch refusals', () => {
  let dir: { path: string; remove: () => void };
  let store: string;

  before(() => {
    dir = tempDir('bfr');
    store = join(dir.path, 'store');
    cpSync(join(repoRoot(), 'test', 'fixtures', 'wale-store-plain'), store, { recursive: true });
  });
  after(() => dir.remove());

  const fetch = (dest: string, name: string, s = store, extra: string[] = []) =>
    runWalE(['backup-fetch', ...extra, dest, name], { env: { WALE_FILE_PREFIX: `file://localhost${s}` }, timeoutMs: 120_000 });
  const errors = (stderr: string) => logMessages(stderr).filter((m) => m.level === 'ERROR' || m.level === 'CRITICAL');

  it('a live data directory (postmaster.pid)', async () => {
    const dest = join(dir.path, 'live');
    mkdirSync(dest);
    writeFileSync(join(dest, 'postmaster.pid'), '12345\n');
    const r = await fetch(dest, B2);
    assert.equal(r.code, 1);
    assert.deepEqual(errors(r.stderr).map((m) => m.msg), ['attempting to overwrite a live data directory']);
    assert.match(r.stderr, /DETAIL: Found a postmaster.pid lockfile, and aborting/);
    assert.deepEqual(readdirSync(dest), ['postmaster.pid']);
  });

  it('an unknown backup name, and an invalid query', async () => {
    let r = await fetch(join(dir.path, 'u'), 'base_000000010000000000000099_00000040');
    assert.equal(r.code, 1);
    assert.deepEqual(errors(r.stderr).map((m) => m.msg), ['no backups found for fetching']);
    assert.match(r.stderr, /DETAIL: No backup matching the query base_000000010000000000000099_00000040 was able to be located\./);
    r = await fetch(join(dir.path, 'u'), 'bogus');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MSG: invalid backup query submitted\n\s+DETAIL: The submitted query operator was "bogus\."/);
    assert.equal(existsSync(join(dir.path, 'u')), false);
  });

  it('a missing partition (numbers not contiguous from 0)', async () => {
    const s = join(dir.path, 'gap');
    cpSync(store, s, { recursive: true });
    const parts = join(s, 'basebackups_005', B2, 'tar_partitions');
    cpSync(join(parts, 'part_00000000.tar.lzo'), join(parts, 'part_00000002.tar.lzo'));
    const r = await fetch(join(dir.path, 'gapdest'), B2, s, ['--blind-restore']);
    assert.equal(r.code, 1);
    assert.deepEqual(errors(r.stderr).map((m) => m.msg), ['the backup is missing tar partitions']);
    assert.match(r.stderr, /Missing: part_00000001\.tar\.lzo/);
    assert.equal(existsSync(join(dir.path, 'gapdest')), false, 'checked before anything is written');
  });

  it('no partitions at all', async () => {
    const s = join(dir.path, 'none');
    cpSync(store, s, { recursive: true });
    rmSync(join(s, 'basebackups_005', B2, 'tar_partitions'), { recursive: true });
    const r = await fetch(join(dir.path, 'nonedest'), B2, s, ['--blind-restore']);
    assert.equal(r.code, 1);
    assert.deepEqual(errors(r.stderr).map((m) => m.msg), ['the backup has no tar partitions']);
  });

  it('a corrupt partition', async () => {
    const s = join(dir.path, 'corrupt');
    cpSync(store, s, { recursive: true });
    const p = join(s, 'basebackups_005', B2, 'tar_partitions', 'part_00000000.tar.lzo');
    const bytes = readFileSync(p);
    bytes[200_000] ^= 0x55;
    writeFileSync(p, bytes);
    const r = await fetch(join(dir.path, 'cdest'), B2, s, ['--blind-restore']);
    assert.notEqual(r.code, 0);
    const errs = errors(r.stderr);
    assert.equal(errs.length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /retrying/, 'corrupt data is never retried');
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.match(r.stderr, /part_00000000\.tar\.lzo/);
  });

  it('tablespace symlinks missing (no restore spec, no --blind-restore)', async () => {
    const r = await fetch(join(dir.path, 'tsdest'), B2);
    assert.equal(r.code, 1);
    assert.deepEqual(errors(r.stderr).map((m) => m.msg), ['Symlinks for some tablespaces not found or created.']);
    assert.match(r.stderr, /DETAIL: Symlinks for the following tablespaces were not found: 16384/);
  });

  it('a restore spec file that does not exist', async () => {
    const r = await fetch(join(dir.path, 'sdest'), B2, store, ['--restore-spec', join(dir.path, 'nope.json')]);
    assert.equal(r.code, 1);
    assert.deepEqual(errors(r.stderr).map((m) => m.msg), ['Restore specification does not exist']);
    assert.match(r.stderr, new RegExp(`DETAIL: File not found: ${join(dir.path, 'nope.json')}`));
  });
});
