// Backup discovery (spec §3.6), LATEST and its tie rule, and the excel-tab output of backup-list (§5.6).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { catalogFromListing, compareLastModified, parseQuery, pickLatest, selectBackups } from '../../src/backup/catalog';
import { listRow, tsvRow } from '../../src/commands/backup-list';
import type { ObjectInfo } from '../../src/storage/blob-store';

const obj = (key: string, lastModified = '2026-01-01T00:00:00', ms = 0): ObjectInfo => ({ key, size: 1, lastModified, lastModifiedMs: ms });
const S = '_backup_stop_sentinel.json';

describe('backup discovery', () => {
  it('lists backups with a sentinel directly inside basebackups_005/, in listing order, skipping junk (spec §8.1)', () => {
    const c = catalogFromListing([
      obj('basebackups_005/base_000000010000000000000040_00000040' + S, '2026-11-22T23:56:39.987660'),
      obj('basebackups_005/base_000000010000000000000040_00000040/extended_version.txt'),
      obj('basebackups_005/base_000000010000000000000002_00000040' + S),
      obj('basebackups_005/junk'),
      obj('basebackups_005/base_X_Y/other.txt'),
      obj('basebackups_005/a/b/c/d'),
      obj('basebackups_005/sub/base_000000010000000000000009_00000040' + S),
      obj('basebackups_005/base_00000001000000000000000a_00000040' + S),
      obj('basebackups_005/base_000000010000000000000005_00000040/tar_partitions/part_00000000.tar.lzo'),
    ]);
    assert.deepEqual(c.backups.map((b) => b.name), ['base_000000010000000000000040_00000040', 'base_000000010000000000000002_00000040']);
    assert.equal(c.backups[0]!.lastModified, '2026-11-22T23:56:39.987660');
    assert.deepEqual(c.incomplete, ['base_000000010000000000000005_00000040'], 'a backup without sentinel is incomplete, never listed');
  });

  it('prefix-matches sentinel names (trailing text tolerated, as WAL-E did)', () => {
    const c = catalogFromListing([obj('basebackups_005/base_000000010000000000000002_16777208' + S + '.bak')]);
    assert.deepEqual(c.backups.map((b) => b.name), ['base_000000010000000000000002_16777208']);
  });
});

describe('LATEST', () => {
  const a = { ...catalogFromListing([obj('basebackups_005/base_000000010000000000000040_00000040' + S, '2026-11-22T23:56:39.987660', 2)]).backups[0]! };
  const b = { ...catalogFromListing([obj('basebackups_005/base_000000020000000000000010_00000010' + S, '2026-11-22T23:56:52.502487', 1)]).backups[0]! };

  it('is the greatest sentinel last-modified, not the highest WAL position', () => {
    assert.equal(pickLatest([a, b], compareLastModified('file'))!.name, b.name);
    assert.equal(pickLatest([b, a], compareLastModified('s3'))!.name, b.name);
  });

  it('on a tie, the last in listing order wins', () => {
    const a2 = { ...a, lastModified: b.lastModified };
    assert.equal(pickLatest([a2, b], compareLastModified('file'))!.name, b.name);
    assert.equal(pickLatest([b, a2], compareLastModified('file'))!.name, a2.name);
  });

  it('compares as text on S3/Swift/file ("…55" < "…55.1") and as time on WABS/GS', () => {
    const x = { ...a, lastModified: '2017-02-01T19:58:55', lastModifiedMs: 5 };
    const y = { ...a, name: 'y', lastModified: '2017-02-01T19:58:55.100000', lastModifiedMs: 4 };
    assert.equal(pickLatest([y, x], compareLastModified('file'))!.name, 'y');
    assert.equal(pickLatest([y, x], compareLastModified('gs'))!.lastModified, x.lastModified);
  });

  it('is nothing on an empty store', () => {
    assert.equal(pickLatest([], compareLastModified('file')), undefined);
    assert.deepEqual(selectBackups({ backups: [], incomplete: [] }, { kind: 'latest' }, 'file'), []);
  });

  it('queries: LATEST, a backup name, or invalid', () => {
    assert.deepEqual(parseQuery('LATEST'), { kind: 'latest' });
    assert.deepEqual(parseQuery(undefined), { kind: 'all' });
    assert.equal(parseQuery('latest'), undefined);
    assert.equal(parseQuery('000000010000000000000002'), undefined);
    assert.deepEqual(selectBackups({ backups: [a, b], incomplete: [] }, parseQuery(a.name)!, 'file').map((x) => x.name), [a.name]);
  });
});

describe('backup-list rows', () => {
  it('are tab-separated with CRLF, empty detail columns without a sentinel', () => {
    const [b] = catalogFromListing([obj('basebackups_005/base_000000010000000000000002_00000040' + S, '2026-11-22T22:58:47.377678')]).backups;
    assert.equal(listRow(b!, undefined), 'base_000000010000000000000002_00000040\t2026-11-22T22:58:47.377678\t\t000000010000000000000002\t00000040\t\t\r\n');
    assert.equal(
      listRow(b!, { expanded_size_bytes: 14, wal_segment_backup_stop: '000000010000000000000002', wal_segment_offset_backup_stop: '00000312' }),
      'base_000000010000000000000002_00000040\t2026-11-22T22:58:47.377678\t14\t000000010000000000000002\t00000040\t000000010000000000000002\t00000312\r\n',
    );
  });

  it('quote like Python csv excel-tab: only fields with TAB, quote, CR or LF', () => {
    assert.equal(tsvRow(['a b', 'x\ty', 'say "hi"', 'l\nf']), 'a b\t"x\ty"\t"say ""hi"""\t"l\nf"\r\n');
  });
});
