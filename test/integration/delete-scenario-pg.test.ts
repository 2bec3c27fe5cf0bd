// `wal-e delete` on a real archive (PostgreSQL 15, file:// store): four online backups with traffic and
// WAL switches between them, then a timeline switch (a restored cluster promoted while archiving into the
// same store, which uploads 00000002.history and a .partial segment). After every subcommand the store
// is checked object by object against WAL-E's selection rules, encoded here independently of src/:
// dry runs change nothing; `retain 2` keeps exactly what backups 3 and 4 need, proven by restoring both
// to the end of the archive; `before <backup 4>` leaves backup 4, still restorable; `.history` objects
// survive both; `everything` empties the store.
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PgCluster, requireMajor } from '../helpers/postgres';
import {
  archivingConfig,
  backupsInStore,
  makeArchive,
  mustWalE,
  restoreAndStart,
  runCleanups,
  storeListing,
  switchAndWaitArchived,
  waitArchived,
  walE,
  walObjects,
} from '../helpers/pitr';

const MAJOR = 15;

const DIGEST =
  `SELECT (SELECT count(*) || '/' || sum(abalance) FROM pgbench_accounts) || ' ' || ` +
  `(SELECT count(*) FROM pgbench_history) || ' ' || (SELECT string_agg(n || ':' || note, ',' ORDER BY n) FROM rounds)`;

/** The 16 hex digits of log and segment that WAL-E compares, timeline and offset ignored. */
const position = (name: string): bigint => BigInt(`0x${name.slice(8, 24)}`);
const backupPosition = (backup: string): bigint => position(backup.slice('base_'.length));

/**
 * WAL objects WAL-E's sweep keeps for horizon `h`: segments and backup history files at or after it,
 * `.history` always, and anything not named like a segment (the `.partial`) with a warning.
 */
function walKeptBySweep(objects: string[], h: bigint): string[] {
  return objects.filter((o) => {
    if (/^[0-9A-F]{8}\.history\.lzo$/.test(o)) return true;
    if (/^[0-9A-F]{24}\.lzo$/.test(o) || /^[0-9A-F]{24}\.[0-9A-F]{8}\.backup\.lzo$/.test(o)) return position(o) >= h;
    return true;
  });
}

/** The store's objects that belong to `backup`: its sentinel, extended_version.txt and partitions. */
function backupObjects(listing: string[], backup: string): string[] {
  return listing.filter((l) => l.startsWith(`basebackups_005/${backup}_backup_stop_sentinel.json `) || l.startsWith(`basebackups_005/${backup}/`));
}

describe('delete on a real archive: dry run, retain, before, .history, everything', { timeout: 900_000 }, () => {
  const cleanups: (() => unknown)[] = [];
  after(() => runCleanups(cleanups));

  it('keeps exactly what the retained backups need, and they restore', async () => {
    requireMajor(MAJOR);
    const a = await makeArchive('delete-scenario');
    cleanups.push(() => a.remove());
    const primary = await PgCluster.create({ major: MAJOR, config: archivingConfig(a, { checkpoint_completion_target: '0' }) });
    cleanups.push(() => primary.destroy());
    await primary.start();
    await primary.pgbench(['-i', '-s', '1', '-q', 'postgres']);
    await primary.sql(`CREATE TABLE rounds (n int PRIMARY KEY, note text)`);

    // Four backups: traffic, backup-push, more traffic, WAL switch.
    const backups: string[] = [];
    for (let i = 1; i <= 4; i++) {
      await primary.pgbench(['-c', '2', '-j', '1', '-t', '200', '-n', 'postgres']);
      await primary.sql(`INSERT INTO rounds VALUES (${i * 10}, 'before backup ${i}')`);
      await mustWalE(a, ['backup-push', primary.dataDir], { env: primary.env() });
      const now = backupsInStore(a.store);
      const added = now.filter((b) => !backups.includes(b));
      assert.equal(added.length, 1, `backup ${i} added one backup: ${now.join(', ')}`);
      backups.push(added[0]!);
      await primary.sql(`INSERT INTO rounds VALUES (${i * 10 + 1}, 'after backup ${i}')`);
      await primary.pgbench(['-c', '1', '-j', '1', '-t', '100', '-n', 'postgres']);
      await switchAndWaitArchived(primary, a);
    }
    assert.deepEqual([...backups].sort((x, y) => (backupPosition(x) < backupPosition(y) ? -1 : 1)), backups, 'names grow with the WAL position');
    await primary.stop('fast');

    // A timeline switch archived into the same store: backup 4 recovered and promoted with archiving on.
    const promoted = await restoreAndStart(
      a,
      { major: MAJOR, backup: backups[3]!, configFrom: primary.dataDir, config: archivingConfig(a) },
      cleanups,
    );
    await promoted.cluster.sql(`INSERT INTO rounds VALUES (50, 'timeline 2')`);
    await switchAndWaitArchived(promoted.cluster, a);
    await waitArchived(promoted.cluster, a, '00000002.history');
    const expected = await promoted.cluster.sql(DIGEST);
    assert.match(expected, /50:timeline 2$/);
    await promoted.cluster.destroy();
    console.log(`# backups: ${backups.join(' ')}\n# WAL: ${walObjects(a.store).join(' ')}`);

    const wal0 = walObjects(a.store);
    assert.ok(wal0.includes('00000002.history.lzo'), wal0.join(' '));
    assert.ok(wal0.some((o) => o.endsWith('.backup.lzo')), `backup history files are archived: ${wal0.join(' ')}`);
    assert.ok(wal0.filter((o) => /^[0-9A-F]{24}\.lzo$/.test(o) && position(o) < backupPosition(backups[2]!)).length >= 4, 'WAL older than backup 3 exists');

    const restoresTo = async (backup: string): Promise<void> => {
      const before = storeListing(a.store);
      const r = await restoreAndStart(a, { major: MAJOR, backup, configFrom: primary.dataDir }, cleanups);
      assert.equal(await r.cluster.sql(DIGEST), expected, `${backup} restored to the end of the archive`);
      await r.cluster.destroy();
      assert.deepEqual(storeListing(a.store), before, 'restoring left the store alone');
    };

    // Dry runs, of every kind, change nothing.
    const listing0 = storeListing(a.store);
    for (const args of [['retain', '2'], ['before', backups[3]!], ['everything'], ['--dry-run', '--confirm', 'retain', '1']]) {
      const r = await mustWalE(a, ['delete', ...args]);
      assert.match(r.stderr, /performing dry run of data deletion/, `delete ${args.join(' ')}`);
      assert.match(r.stderr, /HINT: This is only a dry run -- no actual data is being deleted/);
      assert.deepEqual(storeListing(a.store), listing0, `delete ${args.join(' ')} without --confirm changed the store`);
    }

    // retain 2: backups 1 and 2 and the WAL before backup 3 go; everything else stays as it was.
    const retain = await mustWalE(a, ['delete', '--confirm', 'retain', '2']);
    assert.match(retain.stderr, /Deleting 2 oldest base backups/);
    const listing1 = storeListing(a.store);
    assert.deepEqual(backupsInStore(a.store), backups.slice(2));
    for (const b of backups.slice(0, 2)) assert.deepEqual(backupObjects(listing1, b), [], `${b} is gone`);
    for (const b of backups.slice(2)) assert.deepEqual(backupObjects(listing1, b), backupObjects(listing0, b), `${b} is untouched`);
    assert.deepEqual(walObjects(a.store), walKeptBySweep(wal0, backupPosition(backups[2]!)));
    const gone = await walE(a, ['backup-fetch', join(a.work, 'gone'), backups[0]!]);
    assert.notEqual(gone.code, 0, 'backup 1 cannot be fetched any more');
    await restoresTo(backups[2]!);
    await restoresTo(backups[3]!);

    // before <backup 4>: only backup 4 and what it needs remain.
    const wal1 = walObjects(a.store);
    await mustWalE(a, ['delete', '--confirm', 'before', backups[3]!]);
    const listing2 = storeListing(a.store);
    assert.deepEqual(backupsInStore(a.store), [backups[3]!]);
    assert.deepEqual(backupObjects(listing2, backups[2]!), []);
    assert.deepEqual(backupObjects(listing2, backups[3]!), backupObjects(listing0, backups[3]!));
    assert.deepEqual(walObjects(a.store), walKeptBySweep(wal1, backupPosition(backups[3]!)));
    assert.ok(walObjects(a.store).includes('00000002.history.lzo'), '.history survives delete before');
    await restoresTo(backups[3]!);

    // everything: nothing is left under the prefix.
    await mustWalE(a, ['delete', '--confirm', 'everything']);
    assert.deepEqual(storeListing(a.store), []);
    const list = await mustWalE(a, ['backup-list']);
    assert.equal(list.stdout.trim().split('\n').length, 1, `only the header is left:\n${list.stdout}`);
  });
});
