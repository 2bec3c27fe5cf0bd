import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  backupDirKey,
  extendedVersionKey,
  formatBackupName,
  lpadOffset,
  parseBackupName,
  parsePartitionFileName,
  parseSentinelFileName,
  partitionKey,
  sentinelKey,
} from '../../src/layout/backup-name';
import { parseSentinel, serializeSentinel } from '../../src/layout/sentinel';
import { CorruptObjectError } from '../../src/util/errors';

describe('backup names (spec §3.3)', () => {
  it('parses a name into its parts', () => {
    assert.deepEqual(parseBackupName('base_000000010000000000000002_00000040'), {
      name: 'base_000000010000000000000002_00000040',
      tli: '00000001',
      log: '00000000',
      seg: '00000002',
      offset: '00000040',
      startSegment: '000000010000000000000002',
    });
  });

  it('prefix-matches like Python re.match and rejects lower-case hex or short names', () => {
    assert.equal(parseBackupName('base_000000010000000000000002_00000040_junk')?.name, 'base_000000010000000000000002_00000040');
    assert.equal(parseBackupName('base_00000001000000000000000a_00000040'), undefined);
    assert.equal(parseBackupName('base_00000001000000000000002_00000040'), undefined);
    assert.equal(parseBackupName('xbase_000000010000000000000002_00000040'), undefined);
    assert.equal(parseBackupName('LATEST'), undefined);
  });

  it('parses sentinel file names from the last path component only', () => {
    const b = parseSentinelFileName('pg/basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json');
    assert.equal(b?.name, 'base_000000010000000000000002_00000040');
    assert.equal(parseSentinelFileName('basebackups_005/base_000000010000000000000002_00000040/extended_version.txt'), undefined);
    assert.equal(parseSentinelFileName('base_000000010000000000000002_00000040_backup_stop_sentinel.jso'), undefined);
  });

  it('builds keys as WAL-E lays them out (spec §3.2)', () => {
    const n = formatBackupName('000000010000000000000002', '00000040');
    assert.equal(n, 'base_000000010000000000000002_00000040');
    assert.equal(backupDirKey(n), 'basebackups_005/base_000000010000000000000002_00000040/');
    assert.equal(sentinelKey(n), 'basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json');
    assert.equal(extendedVersionKey(n), 'basebackups_005/base_000000010000000000000002_00000040/extended_version.txt');
    assert.equal(partitionKey(n, 12), 'basebackups_005/base_000000010000000000000002_00000040/tar_partitions/part_00000012.tar.lzo');
    assert.equal(partitionKey(n, 123456789), 'basebackups_005/base_000000010000000000000002_00000040/tar_partitions/part_123456789.tar.lzo');
  });

  it('parses partition file names by prefix', () => {
    assert.equal(parsePartitionFileName('part_00000012.tar.lzo'), 12);
    assert.equal(parsePartitionFileName('part_7.tar.lzo.tmp'), 7);
    assert.equal(parsePartitionFileName('part_x.tar.lzo'), undefined);
    assert.equal(parsePartitionFileName('extended_version.txt'), undefined);
  });

  it('pads offsets in decimal and truncates like SQL lpad', () => {
    assert.equal(lpadOffset(0), '00000000');
    assert.equal(lpadOffset(40), '00000040');
    assert.equal(lpadOffset(16777215), '16777215');
    assert.equal(lpadOffset(123456789), '12345678');
  });
});

describe('sentinel JSON (spec §3.4)', () => {
  it('serializes exactly like Python json.dumps in WAL-E key order', () => {
    const text = serializeSentinel({
      spec: {
        base_prefix: '/tmp/pgdata/',
        tablespaces: ['16385'],
        '16385': { loc: '/tmp/tartest/ts1/', link: 'pg_tblspc/16385' },
      },
      expanded_size_bytes: 14,
      wal_segment_offset_backup_stop: '00000312',
      wal_segment_backup_stop: '000000010000000000000002',
    });
    assert.equal(
      text,
      '{"wal_segment_backup_stop": "000000010000000000000002", "wal_segment_offset_backup_stop": "00000312", "expanded_size_bytes": 14, "spec": {"base_prefix": "/tmp/pgdata/", "tablespaces": ["16385"], "16385": {"loc": "/tmp/tartest/ts1/", "link": "pg_tblspc/16385"}}}',
    );
  });

  it('escapes non-ASCII and DEL as \\uXXXX, and empty containers like Python', () => {
    const text = serializeSentinel({ spec: { base_prefix: '/d/é\u007f😀\n', tablespaces: [] } });
    assert.equal(text, '{"spec": {"base_prefix": "/d/\\u00e9\\u007f\\ud83d\\ude00\\n", "tablespaces": []}}');
    assert.equal(serializeSentinel({}), '{}');
    assert.deepEqual(JSON.parse(text).spec.base_prefix, '/d/é\u007f😀\n');
  });

  it('parses old sentinels and keeps unknown fields', () => {
    const s = parseSentinel('{"wal_segment_backup_stop": "000000010000000000000002", "extra": [1]}', 'k');
    assert.equal(s.wal_segment_backup_stop, '000000010000000000000002');
    assert.equal(s.spec, undefined);
    assert.equal(s.expanded_size_bytes, undefined);
    assert.deepEqual(s['extra'], [1]);
  });

  it('names the key when the JSON is bad', () => {
    assert.throws(() => parseSentinel('{"a":', 'basebackups_005/x_backup_stop_sentinel.json'), (e: unknown) => {
      assert.ok(e instanceof CorruptObjectError);
      assert.match(e.message, /basebackups_005\/x_backup_stop_sentinel\.json/);
      return true;
    });
    assert.throws(() => parseSentinel('[1]', 'k2'), /k2/);
  });
});
