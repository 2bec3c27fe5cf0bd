// backup-fetch of the base backups WAL-E 1.1.1 wrote (test/fixtures/wale-store-plain: B1 offline-named,
// B2, a tablespace with OID 16384), then PostgreSQL 15 (the version that made them) recovers through
// `wal-e wal-fetch` from the same store and must reach exactly the table digests recorded when the
// fixtures were made (queries in test/fixtures/sql/state.sql).
import { strict as assert } from 'node:assert';
import { cpSync, existsSync, lstatSync, readFileSync, readlinkSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runWalE } from '../helpers/cli';
import {
  PgCluster,
  assertPostgresCanAccess,
  chownToPostgres,
  makePostgresTempDir,
  postgresUser,
  removeTempDir,
  repoRoot,
  requireMajor,
  shellQuote,
} from '../helpers/postgres';

const B1 = 'base_000000010000000000000040_00000040';
const B2 = 'base_000000020000000000000010_00000010';
const TS_OID = '16384';

/** Digests after replaying the whole archive (phase 18 on timeline 2), from the fixtures' notes. */
const END_OF_ARCHIVE = [
  'accounts|570|dc56ebb457130376b3a0f37718bf695d',
  'notes|308|ce919e1278b431e10655194a42dc74a3',
  'ts_items|320|69bf56b12678cb87669277bbe04c4ed1',
  'events|18|9b5aada764829ac81ee3bbe30a3d0af6',
];
/** Digests at backup B1 (recovery_target = 'immediate'). */
const AT_B1 = [
  'accounts|400|d7fb82ff0081eadfe36f0193f7d25fd4',
  'notes|258|0faf3c093425deb27e32445850c41da8',
  'ts_items|300|4c5ca508e6acb0b6056efdd4ff71c96f',
  'events|3|fbbf2799203cc3517b44396677b3fd34',
];

const fixtures = () => join(repoRoot(), 'test', 'fixtures');

/** A copy of the plain fixture store with the sentinel mtimes WAL-E left (a git checkout resets them). */
function copyPlainStore(to: string): string {
  cpSync(join(fixtures(), 'wale-store-plain'), to, { recursive: true });
  const bb = join(to, 'basebackups_005');
  utimesSync(join(bb, `${B1}_backup_stop_sentinel.json`), new Date('2026-11-22T23:56:39.987Z'), new Date('2026-11-22T23:56:39.987Z'));
  utimesSync(join(bb, `${B2}_backup_stop_sentinel.json`), new Date('2026-11-22T23:56:52.502Z'), new Date('2026-11-22T23:56:52.502Z'));
  return to;
}

describe('backup-fetch restores WAL-E 1.1.1 backups that PostgreSQL 15 recovers', { timeout: 600_000 }, () => {
  let work: string;
  let store: string;
  const clusters: PgCluster[] = [];

  before(async () => {
    requireMajor(15);
    const root = repoRoot();
    await assertPostgresCanAccess([join(root, 'bin', 'wal-e'), join(root, 'dist', 'wal-e.mjs')]);
    work = makePostgresTempDir('wale-bf-fixtures-');
    store = copyPlainStore(join(work, 'store'));
    chownToPostgres(work);
  });

  after(async () => {
    for (const c of clusters) await c.destroy();
    if (work) removeTempDir(work);
  });

  const walE = (args: string[]) => runWalE(args, { env: { WALE_FILE_PREFIX: `file://localhost${store}` }, timeoutMs: 120_000 });

  /** Starts PostgreSQL 15 on a restored directory with the saved configuration and wal-fetch. */
  async function recover(baseDir: string, config: Record<string, string> = {}): Promise<PgCluster> {
    const dataDir = join(baseDir, 'data');
    for (const f of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) {
      cpSync(join(fixtures(), 'plain-cluster-config', f), join(dataDir, f));
    }
    chownToPostgres(baseDir);
    const walECmd = `${shellQuote(join(repoRoot(), 'bin', 'wal-e'))} wal-fetch --prefetch 0 %f %p`;
    const cluster = await PgCluster.fromBaseBackup(
      { major: 15, baseDir, dataDir, startLsn: '', stopLsn: '', destroy: () => removeTempDir(baseDir) },
      { restoreCommand: walECmd, env: { WALE_FILE_PREFIX: `file://localhost${store}`, WALE_LOG_DESTINATION: 'stderr' }, config },
    );
    clusters.push(cluster);
    await cluster.start();
    await cluster.waitForRecoveryEnd(180_000);
    return cluster;
  }

  async function digests(cluster: PgCluster): Promise<string[]> {
    const sql = readFileSync(join(fixtures(), 'sql', 'state.sql'), 'utf8');
    return (await cluster.sql(sql)).split('\n');
  }

  it('B1 (offline-style name) with a restore spec file: tablespace relocated, whole archive replayed', async () => {
    const base = makePostgresTempDir('wale-bf-b1-');
    const spec = join(base, 'spec.json');
    writeFileSync(
      spec,
      JSON.stringify({ base_prefix: `${base}/data/`, tablespaces: [TS_OID], [TS_OID]: { loc: `${base}/tblspc/`, link: `pg_tblspc/${TS_OID}` } }),
    );
    const r = await walE(['backup-fetch', '--restore-spec', spec, join(base, 'data'), B1]);
    assert.equal(r.code, 0, r.stderr);
    const link = join(base, 'data', 'pg_tblspc', TS_OID);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link).replace(/\/$/, ''), `${base}/tblspc`);
    assert.ok(existsSync(join(base, 'tblspc', 'PG_15_202209061', '5')), 'tablespace files are in the relocated directory');
    // PostgreSQL's modes, and (as root) the owner named in the tar.
    assert.equal(statSync(join(base, 'data')).mode & 0o777, 0o700);
    assert.equal(statSync(join(base, 'data', 'PG_VERSION')).mode & 0o777, 0o600);
    assert.equal(statSync(join(base, 'data', 'base')).mode & 0o777, 0o700);
    const pg = postgresUser();
    if (pg) assert.equal(statSync(join(base, 'data', 'global', 'pg_control')).uid, pg.uid);
    assert.deepEqual(await digests(await recover(base)), END_OF_ARCHIVE);
  });

  it('B1 to its own end (recovery_target = immediate)', async () => {
    const base = makePostgresTempDir('wale-bf-b1i-');
    const spec = join(base, 'spec.json');
    writeFileSync(spec, JSON.stringify({ tablespaces: [TS_OID], [TS_OID]: { loc: `${base}/ts`, link: `pg_tblspc/${TS_OID}` } }));
    const r = await walE(['backup-fetch', '--restore-spec', spec, join(base, 'data'), B1]);
    assert.equal(r.code, 0, r.stderr);
    const cluster = await recover(base, { recovery_target: 'immediate', recovery_target_action: 'promote' });
    assert.deepEqual(await digests(cluster), AT_B1);
  });

  it('LATEST (= B2) with a tablespace symlink the user prepared', async () => {
    const base = makePostgresTempDir('wale-bf-b2-');
    const { mkdirSync, symlinkSync } = await import('node:fs');
    mkdirSync(join(base, 'data', 'pg_tblspc'), { recursive: true, mode: 0o700 });
    mkdirSync(join(base, 'elsewhere'), { mode: 0o700 });
    symlinkSync(join(base, 'elsewhere'), join(base, 'data', 'pg_tblspc', TS_OID));
    const r = await walE(['backup-fetch', '--pool-size', '2', join(base, 'data'), 'LATEST']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`HINT: The absolute file key is ${store}/basebackups_005/${B2}/tar_partitions/part_00000000\\.tar\\.lzo\\.`));
    assert.ok(existsSync(join(base, 'elsewhere', 'PG_15_202209061')));
    assert.deepEqual(await digests(await recover(base)), END_OF_ARCHIVE);
  });
});
