// delete's selection rules (spec §5.7): what before/retain/everything/old-versions may remove, with
// timeline changes, decimal offsets, offline-style names and junk keys (spec §8.1).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { classifyBackupKey, classifyWalKey } from '../../src/backup/delete/classify';
import { earliestStart, parseHorizon, position, segmentText } from '../../src/backup/delete/horizon';
import { OLD_VERSION_PREFIXES, backupsByPosition, chooseRetain, everything, sweep, walHorizonFor } from '../../src/backup/delete/plan';
import { parseBackupName } from '../../src/layout/backup-name';
import type { ObjectInfo } from '../../src/storage/blob-store';

const obj = (key: string): ObjectInfo => ({ key, size: 1, lastModified: '2026-01-01T00:00:00', lastModifiedMs: 0 });
const backup = (name: string): ObjectInfo[] =>
  [`basebackups_005/${name}_backup_stop_sentinel.json`, `basebackups_005/${name}/extended_version.txt`, `basebackups_005/${name}/tar_partitions/part_00000000.tar.lzo`].map(obj);
const wal = (...names: string[]): ObjectInfo[] => names.map((n) => obj(`wal_005/${n}.lzo`));
const keys = (p: { deletions: { key: string }[] }) => p.deletions.map((d) => d.key);

describe('positions', () => {
  it('compare (log, seg) only: timeline and offset ignored', () => {
    assert.equal(parseHorizon('base_000000020000000000000010_00000010'), position('00000000', '00000010'));
    assert.equal(parseHorizon('000000010000000000000010'), parseHorizon('base_000000030000000000000010_16777208'));
    assert.ok(parseHorizon('0000000100000A1B000000C3')! > parseHorizon('000000010000000900000FFF'.slice(0, 24))!);
    assert.equal(parseHorizon('base_000000010000000000000004_00000040junk'), position('00000000', '00000004'));
    assert.equal(parseHorizon('not-a-name'), undefined);
    assert.equal(parseHorizon('000000010000000000000aaa'), undefined, 'lower-case hex is not a segment');
    assert.equal(segmentText(position('00000A1B', '000000C3')), '00000A1B000000C3');
  });

  it('an offline-style name (segment == offset) may start one hex digit earlier', () => {
    assert.equal(earliestStart(parseBackupName('base_000000010000000000000040_00000040')!), position('00000000', '00000004'));
    assert.equal(earliestStart(parseBackupName('base_000000010000000000000040_00000312')!), position('00000000', '00000040'));
  });
});

describe('key classification', () => {
  it('base backup objects by depth, with WAL-E warnings for junk', () => {
    assert.equal(classifyBackupKey('basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json').kind, 'candidate');
    assert.equal(classifyBackupKey('basebackups_005/base_000000010000000000000002_00000040/extended_version.txt').kind, 'candidate');
    assert.equal(classifyBackupKey('basebackups_005/base_000000010000000000000002_00000040/tar_partitions/anything').kind, 'candidate');
    assert.match((classifyBackupKey('basebackups_005/junk') as { why: string }).why, /sentinel pattern/);
    assert.match((classifyBackupKey('basebackups_005/base_X_Y/other.txt') as { why: string }).why, /extended-version/);
    assert.match((classifyBackupKey('basebackups_005/base_X_Y/tar_partitions/readme') as { why: string }).why, /partition pattern/);
    assert.match((classifyBackupKey('basebackups_005/a/b/c/d') as { why: string }).why, /unexpected depth/);
  });

  it('WAL objects: segments and .backup files qualify, .history is kept silently, .partial and junk warn', () => {
    assert.deepEqual(classifyWalKey('wal_005/000000010000000000000003.lzo'), { kind: 'candidate', what: 'a wal file', position: 3n });
    assert.equal(classifyWalKey('wal_005/000000010000000000000002.00000028.backup.lzo').kind, 'candidate');
    assert.deepEqual(classifyWalKey('wal_005/00000002.history.lzo'), { kind: 'keep' });
    assert.equal(classifyWalKey('wal_005/00000001000000000000000F.partial.lzo').kind, 'warn');
    assert.equal(classifyWalKey('wal_005/garbage').kind, 'warn');
    assert.match((classifyWalKey('wal_005/sub/x.lzo') as { why: string }).why, /depth/);
  });
});

describe('before', () => {
  const store = [
    ...backup('base_000000010000000000000002_00000040'),
    ...backup('base_000000010000000000000005_16777208'),
    obj('basebackups_005/base_000000010000000000000003_00000040/tar_partitions/part_00000000.tar.lzo'), // incomplete
    obj('basebackups_005/junk'),
  ];
  const walObjs = [
    ...wal('000000010000000000000001', '000000010000000000000002', '000000010000000000000004', '000000020000000000000004', '000000020000000000000005'),
    ...wal('000000010000000000000002.00000028.backup', '00000002.history', '000000010000000000000004.partial'),
  ];

  it('removes older backups (incomplete ones too) and older WAL of every timeline; the named backup stays', () => {
    const h = parseHorizon('base_000000010000000000000005_16777208')!;
    const plan = sweep(store, walObjs, h, walHorizonFor(h, backupsByPosition(store)));
    assert.deepEqual(keys(plan), [
      'basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json',
      'basebackups_005/base_000000010000000000000002_00000040/extended_version.txt',
      'basebackups_005/base_000000010000000000000002_00000040/tar_partitions/part_00000000.tar.lzo',
      'basebackups_005/base_000000010000000000000003_00000040/tar_partitions/part_00000000.tar.lzo',
      'wal_005/000000010000000000000001.lzo',
      'wal_005/000000010000000000000002.lzo',
      'wal_005/000000010000000000000004.lzo',
      'wal_005/000000020000000000000004.lzo',
      'wal_005/000000010000000000000002.00000028.backup.lzo',
    ]);
    assert.equal(plan.deletions[0]!.what, 'a base backup sentinel file', 'sentinels go first');
    assert.deepEqual(plan.warnings.map((w) => w.key).sort(), ['basebackups_005/junk', 'wal_005/000000010000000000000004.partial.lzo']);
  });

  it('a WAL segment name works as the horizon too', () => {
    const h = parseHorizon('000000020000000000000002')!;
    assert.deepEqual(keys(sweep([], walObjs, h, h)), ['wal_005/000000010000000000000001.lzo']);
  });

  it('never removes WAL an offline-named backup that stays may need', () => {
    const offline = backup('base_000000010000000000000040_00000040');
    const h = parseHorizon('base_000000010000000000000010_00000312')!;
    const plan = sweep(offline, wal('000000010000000000000003', '000000010000000000000004', '00000001000000000000000F'), h, walHorizonFor(h, backupsByPosition(offline)));
    assert.deepEqual(keys(plan), ['wal_005/000000010000000000000003.lzo']);
  });
});

describe('retain', () => {
  const names = ['base_000000010000000000000002_00000040', 'base_000000020000000000000009_00000040', 'base_000000010000000000000005_00000040'];
  const store = names.flatMap(backup);

  it('orders by (log, seg), newest first, ignoring timelines and time', () => {
    assert.deepEqual(backupsByPosition(store).map((b) => b.name), [names[1], names[2], names[0]]);
  });

  it('N < count: the N-th newest is the horizon', () => {
    const d = chooseRetain(backupsByPosition(store), 2);
    assert.equal(d.kind, 'delete-oldest');
    assert.equal(d.kind === 'delete-oldest' && d.horizonBackup.name, names[2]);
    assert.equal(d.kind === 'delete-oldest' && d.deleting, 1);
  });

  it('N >= count keeps all, with the oldest as the horizon; no backups: nothing', () => {
    const d = chooseRetain(backupsByPosition(store), 5);
    assert.equal(d.kind === 'keep-all' && d.horizonBackup.name, names[0]);
    assert.deepEqual(chooseRetain([], 1), { kind: 'none' });
  });
});

describe('everything and old-versions', () => {
  it('everything lists every object of both prefixes, .history and .partial included', () => {
    const plan = everything([...backup('base_000000010000000000000002_00000040'), obj('basebackups_005/junk')], wal('00000002.history', '000000010000000000000004.partial'));
    assert.equal(plan.deletions.length, 6);
    assert.deepEqual(plan.deletions.slice(-2).map((d) => d.what), ['part of wal logs', 'part of wal logs']);
  });

  it('old-versions covers 000-004 and never 005', () => {
    assert.equal(OLD_VERSION_PREFIXES.length, 10);
    assert.ok(OLD_VERSION_PREFIXES.every((p) => !p.includes('005')));
    assert.ok(OLD_VERSION_PREFIXES.includes('wal_000/') && OLD_VERSION_PREFIXES.includes('basebackups_004/'));
  });
});
