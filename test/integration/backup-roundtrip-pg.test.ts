// The full cycle on every major under test (12, 15, 18 unless WALE_TEST_PG_MAJORS says otherwise):
// PostgreSQL archives through `wal-e wal-push`, `wal-e backup-push` takes an online backup, more writes
// follow, then `wal-e backup-fetch` restores it with the tablespace relocated by --restore-spec, and
// recovery through `wal-e wal-fetch` must give identical data, with the tablespace (and tablespace_map)
// at the new place rather than the original one.
import { strict as assert } from 'node:assert';
import { cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  PgCluster,
  assertPostgresCanAccess,
  baseEnv,
  chownToPostgres,
  majorsUnderTest,
  makePostgresTempDir,
  removeTempDir,
  repoRoot,
  requireMajor,
  runAsPostgres,
  shellQuote,
  waitFor,
} from '../helpers/postgres';

const DIGEST_SQL =
  `SELECT 'items', count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM items t ` +
  `UNION ALL SELECT 'ts_items', count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY id), '')) FROM ts_items t`;

async function roundTrip(major: number, cleanups: (() => Promise<void> | void)[]): Promise<void> {
  requireMajor(major);
  const root = repoRoot();
  const walEPath = join(root, 'bin', 'wal-e');
  await assertPostgresCanAccess([walEPath, join(root, 'dist', 'wal-e.mjs')]);
  const work = makePostgresTempDir(`wale-rt${major}-`);
  cleanups.push(() => removeTempDir(work));
  const store = join(work, 'store');
  const tsOrig = join(work, 'ts-orig');
  mkdirSync(store);
  mkdirSync(tsOrig, { mode: 0o700 });
  chownToPostgres(work);
  const walEnv = { WALE_FILE_PREFIX: `file://localhost${store}`, WALE_LOG_DESTINATION: 'stderr' };
  const walE = shellQuote(walEPath);

  const primary = await PgCluster.create({
    major,
    config: { wal_level: 'replica', archive_mode: 'on', archive_command: `${walE} wal-push %p`, checkpoint_completion_target: '0' },
    env: walEnv,
  });
  cleanups.push(() => primary.destroy());
  await primary.start();
  await primary.sql(`CREATE TABLESPACE rt_ts LOCATION '${tsOrig}'`);
  await primary.sql(`CREATE TABLE items (id int PRIMARY KEY, v text)`);
  await primary.sql(`CREATE TABLE ts_items (id int PRIMARY KEY, v text) TABLESPACE rt_ts`);
  await primary.sql(`INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 5000) g`);
  await primary.sql(`INSERT INTO ts_items SELECT g, repeat('t', g % 50) FROM generate_series(1, 3000) g`);
  const oid = await primary.sql(`SELECT oid FROM pg_tablespace WHERE spcname = 'rt_ts'`);

  const push = await runAsPostgres(process.execPath, [walEPath, 'backup-push', primary.dataDir], {
    env: baseEnv({ ...walEnv, ...primary.env() }),
    timeoutMs: 240_000,
  });
  assert.equal(push.code, 0, `backup-push failed:\n${push.stderr}`);

  // Changes after the backup, reached only by replaying archived WAL.
  await primary.sql(`INSERT INTO items SELECT g, 'after' FROM generate_series(5001, 6000) g`);
  await primary.sql(`UPDATE ts_items SET v = 'changed' WHERE id % 7 = 0`);
  const lastWal = await primary.sql(major >= 10 ? `SELECT pg_walfile_name(pg_switch_wal())` : `SELECT pg_xlogfile_name(pg_switch_xlog())`);
  await waitFor(async () => (existsSync(join(store, 'wal_005', `${lastWal}.lzo`)) ? true : undefined), {
    timeoutMs: 60_000,
    describe: () => `${lastWal} was not archived`,
  });
  const expected = await primary.sql(DIGEST_SQL);
  await primary.stop('fast');

  const restoreBase = makePostgresTempDir(`wale-rt${major}-restore-`);
  const dataDir = join(restoreBase, 'data');
  const tsNew = join(restoreBase, 'ts-new');
  const spec = join(restoreBase, 'spec.json');
  writeFileSync(spec, JSON.stringify({ base_prefix: dataDir, tablespaces: [oid], [oid]: { loc: tsNew, link: `pg_tblspc/${oid}` } }));
  chownToPostgres(restoreBase);
  const fetch = await runAsPostgres(process.execPath, [walEPath, 'backup-fetch', '--restore-spec', spec, dataDir, 'LATEST'], {
    env: baseEnv(walEnv),
    timeoutMs: 240_000,
  });
  assert.equal(fetch.code, 0, `backup-fetch failed:\n${fetch.stderr}`);
  assert.equal(readlinkSync(join(dataDir, 'pg_tblspc', oid)), tsNew);
  const map = join(dataDir, 'tablespace_map');
  // backup-push stores the tablespace_map from the stop call; restored as-is it would send PostgreSQL
  // back to the original location at start-up.
  assert.equal(readFileSync(map, 'utf8'), `${oid} ${tsNew}\n`, 'tablespace_map names the new location');
  for (const f of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) {
    if (!existsSync(join(dataDir, f))) cpSync(join(primary.dataDir, f), join(dataDir, f));
  }
  chownToPostgres(restoreBase);

  const restored = await PgCluster.fromBaseBackup(
    { major, baseDir: restoreBase, dataDir, startLsn: '', stopLsn: '', destroy: () => removeTempDir(restoreBase) },
    { restoreCommand: `${walE} wal-fetch --prefetch 0 %f %p`, env: walEnv },
  );
  cleanups.push(() => restored.destroy());
  await restored.start();
  await restored.waitForRecoveryEnd(180_000);
  assert.equal(await restored.sql(DIGEST_SQL), expected);
  const link = join(dataDir, 'pg_tblspc', oid);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readlinkSync(link), tsNew, 'after start-up the tablespace still points at the relocated directory');
  assert.equal(await restored.sql(`SELECT pg_tablespace_location(${oid})`), tsNew);
}

describe('backup-push -> backup-fetch -> recovery through wal-fetch', { concurrency: 1 }, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  for (const major of majorsUnderTest()) {
    it(`PostgreSQL ${major}: identical data, tablespace relocated with --restore-spec`, { timeout: 600_000 }, () => roundTrip(major, cleanups));
  }
});
