// Every command end to end on every remote store, with a real PostgreSQL 15 in front: one primary whose
// archive_command (`envdir ENV wal-e wal-push %p`) is switched from store to store with ALTER SYSTEM,
// pgbench traffic while `wal-e backup-push` runs, `backup-list`, `backup-fetch LATEST` plus recovery
// through `wal-e wal-fetch` that must give the primary's data, a missing segment (exit 1), and
// `delete --confirm retain 1` after a second backup, which must leave exactly the newest backup.
import { strict as assert } from 'node:assert';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  PgCluster,
  assertPostgresCanAccess,
  baseEnv,
  chownToPostgres,
  makePostgresTempDir,
  removeTempDir,
  repoRoot,
  requireMajor,
  runAsPostgres,
  shellQuote,
  waitFor,
} from '../helpers/postgres';
import { STORE_LABELS, openTestStore, writeEnvDir, type StoreKind, type TestStore } from '../helpers/store-env';

const MAJOR = 15;
const STORES: StoreKind[] = ['s3', 'wabs', 'gs', 'swift'];
const PATH = 'pg/main';
const HEADER =
  'name\tlast_modified\texpanded_size_bytes\twal_segment_backup_start\twal_segment_offset_backup_start\t' +
  'wal_segment_backup_stop\twal_segment_offset_backup_stop';

const DIGEST_SQL =
  `SELECT 'accounts', count(*), sum(abalance), md5(string_agg(aid || ':' || abalance, ',' ORDER BY aid)) FROM pgbench_accounts ` +
  `UNION ALL SELECT 'tellers', count(*), sum(tbalance), md5(string_agg(tid || ':' || tbalance, ',' ORDER BY tid)) FROM pgbench_tellers ` +
  `UNION ALL SELECT 'history', count(*), sum(delta), md5(coalesce(string_agg(h::text, ',' ORDER BY h::text), '')) FROM pgbench_history h ` +
  `UNION ALL SELECT 'marks', count(*), max(n), md5(coalesce(string_agg(store || n, ',' ORDER BY n), '')) FROM e2e_marks`;

const walEPath = join(repoRoot(), 'bin', 'wal-e');
const sqlLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** log+seg of a segment name as one number: the order `delete` uses (timelines ignored). */
const segPosition = (seg: string) => BigInt(`0x${seg.slice(8)}`);

/**
 * The oldest WAL position `delete` keeps for a kept backup: its start segment, except for names shaped
 * like WAL-E's offline ones (segment part equal to the offset, 000000XY), where WAL from segment X on is
 * kept (docs/commands/delete.md). An online backup can get such a name: segment 0x40, offset 40.
 */
function walKeptFrom(name: string): bigint {
  const seg = name.slice(5, 29);
  const off = name.slice(30);
  if (seg.slice(16) === off && /^000000[0-9A-F]{2}$/.test(off)) return segPosition(`${seg.slice(0, 16)}0000000${off[6]}`);
  return segPosition(seg);
}

describe(`every command on every store, PostgreSQL ${MAJOR}`, { concurrency: 1, timeout: 900_000 }, () => {
  let work: string;
  let primary: PgCluster;
  let marks = 0;
  const cleanups: (() => Promise<void> | void)[] = [];

  before(async () => {
    requireMajor(MAJOR);
    await assertPostgresCanAccess([walEPath, join(repoRoot(), 'dist', 'wal-e.mjs')]);
    work = makePostgresTempDir('wale-e2e-');
    primary = await PgCluster.create({
      major: MAJOR,
      // Nothing is archived until a store's archive_command is set below.
      config: { wal_level: 'replica', archive_mode: 'on', archive_command: 'true', max_wal_size: '1GB' },
    });
    await primary.start();
    await primary.pgbench(['-i', '-q', '-s', '1']);
    await primary.sql('CREATE TABLE e2e_marks (n int PRIMARY KEY, store text)');
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await primary?.destroy();
    if (work) removeTempDir(work);
  });

  /** Runs wal-e as the postgres user through envdir, as archive_command and cron would. */
  const walE = (envDir: string, args: string[], timeoutMs = 240_000) =>
    runAsPostgres('envdir', [envDir, walEPath, ...args], { env: baseEnv(primary.env()), timeoutMs });

  /** Inserts a marker row and switches WAL; returns the segment just completed. */
  async function markAndSwitch(kind: StoreKind): Promise<string> {
    await primary.sql(`INSERT INTO e2e_marks VALUES (${++marks}, '${kind}')`);
    return primary.sql('SELECT pg_walfile_name(pg_switch_wal())');
  }

  async function waitForSegmentInStore(store: TestStore, seg: string, timeoutMs = 60_000): Promise<boolean> {
    const name = store.objectName(PATH, `wal_005/${seg}.lzo`);
    return waitFor(async () => ((await store.list(name)).includes(name) ? true : undefined), {
      timeoutMs,
      intervalMs: 250,
      describe: async () => `${seg} did not reach ${store.label}: ${JSON.stringify(await primary.archiverStats())}\n${primary.logTail(30)}`,
    });
  }

  /** Points archive_command at `envDir` and waits until a segment is archived through it. */
  async function archiveInto(store: TestStore, envDir: string, kind: StoreKind): Promise<void> {
    const command = `envdir ${shellQuote(envDir)} ${shellQuote(walEPath)} wal-push %p`;
    await primary.sql(`ALTER SYSTEM SET archive_command = ${sqlLiteral(command)}`);
    await primary.sql('SELECT pg_reload_conf()');
    // The archiver picks up the reload on its own schedule; a segment switched before that goes to the
    // previous store, so switch until one lands in this one.
    for (let attempt = 1; ; attempt++) {
      const seg = await markAndSwitch(kind);
      await waitFor(async () => (((await primary.archiverStats()).lastArchivedWal ?? '') >= seg ? true : undefined), {
        timeoutMs: 60_000,
        describe: async () => `${seg} not archived: ${JSON.stringify(await primary.archiverStats())}\n${primary.logTail(30)}`,
      });
      if ((await store.list(store.objectName(PATH, `wal_005/${seg}.lzo`))).length === 1) return;
      assert.ok(attempt < 5, `archive_command did not switch to ${store.label}`);
    }
  }

  /** backup-push while pgbench writes; returns the new backup's name from backup-list. */
  async function backupPushUnderLoad(envDir: string, before: Set<string>): Promise<string> {
    const [push] = await Promise.all([
      walE(envDir, ['backup-push', primary.dataDir]),
      primary.pgbench(['-n', '-c', '2', '-T', '3']),
    ]);
    assert.equal(push.code, 0, `backup-push failed:\n${push.stderr}`);
    const list = await walE(envDir, ['backup-list']);
    assert.equal(list.code, 0, list.stderr);
    const names = parseBackupList(list.stdout).map((r) => r.name);
    const added = names.filter((n) => !before.has(n));
    assert.equal(added.length, 1, `one new backup listed: ${list.stdout}`);
    return added[0]!;
  }

  for (const kind of STORES) {
    it(`${STORE_LABELS[kind]}: wal-push, backup-push, backup-list, backup-fetch + recovery, wal-fetch miss, delete retain 1`, async () => {
      const store = await openTestStore(kind, 'e2e');
      cleanups.push(() => store.close());
      const envDir = writeEnvDir(join(work, `env-${kind}`), {
        ...store.walEnv(PATH),
        WALE_LOG_DESTINATION: 'stderr',
        WALE_BACKUP_FAST_CHECKPOINT: '1',
      });
      await archiveInto(store, envDir, kind);

      // First backup, then more writes that only WAL replay can bring back.
      const first = await backupPushUnderLoad(envDir, new Set());
      await primary.pgbench(['-n', '-c', '2', '-t', '200']);
      await primary.sql(`INSERT INTO e2e_marks VALUES (${++marks}, '${kind}-after-backup')`);
      const expected = await primary.sql(DIGEST_SQL);
      await waitForSegmentInStore(store, await primary.sql('SELECT pg_walfile_name(pg_switch_wal())'));

      // backup-list: WAL-E's TSV (excel-tab dialect), CRLF line ends, the backup with its start position.
      const list = await walE(envDir, ['backup-list']);
      assert.equal(list.code, 0, list.stderr);
      const [, seg1, off1] = /^base_([0-9A-F]{24})_(\d{8})$/.exec(first) ?? [];
      assert.ok(seg1 && off1, first);
      assert.match(list.stdout, new RegExp(`^${HEADER}\\r\\n${first}\\t[^\\t\\r\\n]+\\t\\t${seg1}\\t${off1}\\t\\t\\r\\n$`));
      const latest = await walE(envDir, ['backup-list', 'LATEST']);
      assert.equal(latest.code, 0, latest.stderr);
      assert.equal(latest.stdout, list.stdout);

      // backup-fetch LATEST, then recovery through wal-fetch reaches exactly the primary's data.
      const restoreBase = makePostgresTempDir(`wale-e2e-${kind}-`);
      const dataDir = join(restoreBase, 'data');
      const fetch = await walE(envDir, ['backup-fetch', dataDir, 'LATEST']);
      assert.equal(fetch.code, 0, `backup-fetch failed:\n${fetch.stderr}`);
      for (const f of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) cpSync(join(primary.dataDir, f), join(dataDir, f));
      chownToPostgres(restoreBase);
      const restored = await PgCluster.fromBaseBackup(
        { major: MAJOR, baseDir: restoreBase, dataDir, startLsn: '', stopLsn: '', destroy: () => removeTempDir(restoreBase) },
        { restoreCommand: `envdir ${shellQuote(envDir)} ${shellQuote(walEPath)} wal-fetch %f %p` },
      );
      cleanups.push(() => restored.destroy());
      await restored.start();
      await restored.waitForRecoveryEnd(180_000);
      assert.equal(await restored.sql(DIGEST_SQL), expected);
      assert.match(restored.log(), /restored log file "[0-9A-F]{24}" from archive/);
      await restored.destroy();

      // A segment the archive does not have: exit 1 ("not found"), and no destination file.
      const missDest = join(work, `miss-${kind}`);
      const miss = await walE(envDir, ['wal-fetch', '--prefetch', '0', '000000090000000000000001', missDest]);
      assert.equal(miss.code, 1, miss.stderr);
      assert.match(miss.stderr, /MSG: could no longer locate object while performing wal restore/);
      assert.equal(existsSync(missDest), false);

      // A second backup, then retain 1: exactly the newest backup's objects stay.
      const second = await backupPushUnderLoad(envDir, new Set([first]));
      const bbPrefix = store.objectName(PATH, 'basebackups_005/');
      const walPrefix = store.objectName(PATH, 'wal_005/');
      const secondKeys = (await store.list(bbPrefix)).filter((k) => k.startsWith(`${bbPrefix}${second}`));
      const rel = secondKeys.map((k) => k.slice(bbPrefix.length));
      const partCount = rel.filter((k) => k.startsWith(`${second}/tar_partitions/`)).length;
      assert.ok(partCount >= 1, rel.join('\n'));
      assert.deepEqual(
        rel,
        [
          `${second}/extended_version.txt`,
          ...Array.from({ length: partCount }, (_, i) => `${second}/tar_partitions/part_${String(i).padStart(8, '0')}.tar.lzo`),
          `${second}_backup_stop_sentinel.json`,
        ].sort(),
      );
      const walBefore = await store.list(walPrefix);
      const del = await walE(envDir, ['delete', '--confirm', 'retain', '1']);
      assert.equal(del.code, 0, `delete failed:\n${del.stderr}`);
      assert.deepEqual(await store.list(bbPrefix), secondKeys, 'only the newest backup is left');
      const walAfter = await store.list(walPrefix);
      const seg2 = second.slice(5, 29);
      const horizon = walKeptFrom(second);
      const position = (key: string) => {
        const m = /^([0-9A-F]{24})(\.[0-9A-F]{8}\.backup)?\.lzo$/.exec(key.slice(walPrefix.length));
        assert.ok(m, `unexpected WAL object ${key}`);
        return segPosition(m[1]!);
      };
      const older = walBefore.filter((k) => position(k) < horizon);
      if (horizon === segPosition(seg2)) assert.ok(older.length > 0, 'the first backup left WAL older than the second');
      for (const k of older) assert.ok(!walAfter.includes(k), `${k} is older than the kept backup and was not deleted`);
      for (const k of walBefore.filter((w) => position(w) >= horizon)) assert.ok(walAfter.includes(k), `${k} was deleted`);
      for (const k of walAfter) assert.ok(position(k) >= horizon, `${k} is older than the kept backup`);
      assert.ok(walAfter.includes(`${walPrefix}${seg2}.lzo`), `the kept backup's first segment ${seg2} is still there`);
      const listAfter = await walE(envDir, ['backup-list']);
      assert.equal(listAfter.code, 0, listAfter.stderr);
      assert.deepEqual(parseBackupList(listAfter.stdout).map((r) => r.name), [second]);

      // The kept backup still restores.
      const again = makePostgresTempDir(`wale-e2e-${kind}-2-`);
      cleanups.push(() => removeTempDir(again));
      const fetch2 = await walE(envDir, ['backup-fetch', join(again, 'data'), 'LATEST']);
      assert.equal(fetch2.code, 0, `backup-fetch after delete failed:\n${fetch2.stderr}`);
      assert.equal(readFileSync(join(again, 'data', 'PG_VERSION'), 'utf8'), `${MAJOR}\n`);
      assert.match(readFileSync(join(again, 'data', 'backup_label'), 'utf8'), new RegExp(`\\(file ${seg2}\\)`));
      assert.ok(existsSync(join(again, 'data', 'global', 'pg_control')));
    });
  }
});

/** backup-list's rows after the header; throws unless the header and CRLF line ends are WAL-E's. */
function parseBackupList(stdout: string): { name: string; lastModified: string }[] {
  assert.ok(stdout.startsWith(`${HEADER}\r\n`), `backup-list header: ${JSON.stringify(stdout.slice(0, 200))}`);
  assert.ok(stdout.endsWith('\r\n'));
  return stdout
    .slice(HEADER.length + 2, -2)
    .split('\r\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split('\t');
      assert.equal(f.length, 7, line);
      return { name: f[0]!, lastModified: f[1]! };
    });
}
