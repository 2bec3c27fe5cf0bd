// `wal-e backup-push --while-offline` of a cleanly stopped cluster that archived through wal-e while it
// ran, on every major under test. The backup is fetched into an empty directory and PostgreSQL recovers
// it through `wal-e wal-fetch`: to the backup itself (recovery_target = immediate) it must hold exactly
// the data of the stopped cluster, and to the end of the archive the writes made after a restart.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PgCluster, majorsUnderTest, requireMajor } from '../helpers/postgres';
import { archivingConfig, backupsInStore, makeArchive, mustWalE, restoreAndStart, runCleanups, switchAndWaitArchived, walE } from '../helpers/pitr';

const DIGEST =
  `SELECT (SELECT count(*) || '/' || sum(abalance) FROM pgbench_accounts) || ' ' || ` +
  `(SELECT count(*) || '/' || md5(coalesce(string_agg(id || ':' || v, ',' ORDER BY id), '')) FROM items)`;

async function offlineRoundTrip(major: number, cleanups: (() => unknown)[]): Promise<void> {
  requireMajor(major);
  const a = await makeArchive(`offline${major}`);
  cleanups.push(() => a.remove());
  const primary = await PgCluster.create({ major, config: archivingConfig(a) });
  cleanups.push(() => primary.destroy());
  await primary.start();
  await primary.pgbench(['-i', '-s', '1', '-q', 'postgres']);
  await primary.sql(`CREATE TABLE items (id int PRIMARY KEY, v text)`);
  await primary.sql(`INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 2000) g`);
  await primary.pgbench(['-c', '2', '-j', '1', '-t', '200', '-n', 'postgres']);
  await switchAndWaitArchived(primary, a);
  await primary.sql(`UPDATE items SET v = 'last before stop' WHERE id % 9 = 0`);
  const atStop = await primary.sql(DIGEST);
  await primary.stop('fast');

  // A running cluster is refused; a stopped one is backed up without any connection.
  const pid = join(primary.dataDir, 'postmaster.pid');
  assert.ok(!existsSync(pid), 'the cluster is stopped');
  const push = await mustWalE(a, ['backup-push', '--while-offline', primary.dataDir], { env: { PGHOST: '/nonexistent' } });
  const [backup] = backupsInStore(a.store);
  assert.ok(backup, `a backup is in the store:\n${push.stderr}`);
  const sentinel = JSON.parse(readFileSync(join(a.store, 'basebackups_005', `${backup}_backup_stop_sentinel.json`), 'utf8'));
  assert.equal(`base_${sentinel.wal_segment_backup_stop}_${sentinel.wal_segment_offset_backup_stop}`, backup, 'stop = start for an offline backup');

  // The shutdown checkpoint sits in a segment archived only once the server has run again and switched:
  // restart, write, switch, stop.
  await primary.start();
  const redo = await primary.sql(
    `SELECT 'base_' || pg_walfile_name(redo_lsn) || '_' || lpad((pg_walfile_name_offset(redo_lsn)).file_offset::text, 8, '0') FROM pg_control_checkpoint()`,
  );
  assert.equal(backup, redo, 'named after the REDO location of the shutdown checkpoint');
  const running = await walE(a, ['backup-push', '--while-offline', primary.dataDir]);
  assert.equal(running.code, 1, `backup-push --while-offline of a running cluster must fail:\n${running.stderr}`);
  assert.match(running.stderr, /while_offline set, but pg looks to be running/);
  await primary.sql(`INSERT INTO items SELECT g, 'after restart' FROM generate_series(2001, 2500) g`);
  await switchAndWaitArchived(primary, a);
  const atEnd = await primary.sql(DIGEST);
  await primary.stop('fast');
  assert.deepEqual(backupsInStore(a.store), [backup], 'the refused push left no backup behind');

  const immediate = await restoreAndStart(
    a,
    { major, backup, configFrom: primary.dataDir, config: { recovery_target: 'immediate', recovery_target_action: 'promote' } },
    cleanups,
  );
  assert.equal(await immediate.cluster.sql(DIGEST), atStop, 'the offline backup holds the stopped cluster');
  await immediate.cluster.destroy();

  const full = await restoreAndStart(a, { major, backup: 'LATEST', configFrom: primary.dataDir }, cleanups);
  assert.equal(await full.cluster.sql(DIGEST), atEnd, 'replaying the archive on top of it reaches the end');
}

describe('backup-push --while-offline restores and starts', { concurrency: 1 }, () => {
  const cleanups: (() => unknown)[] = [];
  after(() => runCleanups(cleanups));
  for (const major of majorsUnderTest()) {
    it(`PostgreSQL ${major}: stopped cluster -> backup-push --while-offline -> backup-fetch -> recovery`, { timeout: 600_000 }, async () => {
      try {
        await offlineRoundTrip(major, cleanups);
      } finally {
        await runCleanups(cleanups);
      }
    });
  }
});
