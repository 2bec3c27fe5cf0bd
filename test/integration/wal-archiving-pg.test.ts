// End to end: PostgreSQL archives WAL through `wal-e wal-push` and a cluster restored from a base backup
// replays it through `wal-e wal-fetch`, for every major under test (12, 15, 18 unless
// WALE_TEST_PG_MAJORS says otherwise). A missing major fails; installing majors is
// scripts/install-postgres.mjs's job, not the test's.
//
// The same round trip also runs once with plain `cp` as archive and restore command, so a failure of
// the wal-e variant can be told apart from a broken harness or server.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import {
  PgCluster,
  assertPostgresCanAccess,
  chownToPostgres,
  majorsUnderTest,
  makePostgresTempDir,
  removeTempDir,
  repoRoot,
  requireMajor,
  shellQuote,
  waitFor,
} from '../helpers/postgres';

/** How WAL leaves the primary and comes back: one archive_command / restore_command pair. */
interface ArchiveMethod {
  name: string;
  archiveCommand: string;
  restoreCommand: string;
  /** Where the archived copy of WAL file `name` is expected. */
  objectPath(name: string): string;
  /** Every archived object, whatever its name. */
  listObjects(): string[];
  /** The WAL file name an archived object stands for, or null if it stands for none. */
  walNameOf(path: string): string | null;
  /** The WAL bytes an archived object holds. */
  readObject(path: string): Buffer;
  /** Extra integrity checks over all archived objects. */
  verifyObjects?(paths: string[]): void;
  /**
   * Start with archiving paused (empty archive_command) and switch it on after the traffic, so that
   * PostgreSQL meets a backlog of .ready segments: the case wal-push's look-ahead is for.
   */
  deferArchiving?: boolean;
  /** Checks once archiving is done, given every WAL file name PostgreSQL archived. */
  afterArchiving?(expected: string[], serverLog: string): void;
}

function walEMethod(workDir: string): ArchiveMethod {
  const root = repoRoot();
  const store = join(workDir, 'store');
  const envDir = join(workDir, 'env');
  mkdirSync(store);
  mkdirSync(envDir);
  writeFileSync(join(envDir, 'WALE_FILE_PREFIX'), `file://localhost${store}\n`);
  writeFileSync(join(envDir, 'WALE_LOG_DESTINATION'), 'stderr\n');
  chownToPostgres(workDir);
  const walE = shellQuote(join(root, 'bin', 'wal-e'));
  const env = `envdir ${shellQuote(envDir)}`;
  const walDir = join(store, 'wal_005');
  return {
    name: 'wal-e',
    archiveCommand: `${env} ${walE} wal-push %p`,
    restoreCommand: `${env} ${walE} wal-fetch %f %p`,
    objectPath: (name) => join(walDir, `${name}.lzo`),
    listObjects: () => (existsSync(walDir) ? readdirSync(walDir).map((n) => join(walDir, n)) : []),
    walNameOf: (path) => (path.endsWith('.lzo') ? basename(path, '.lzo') : null),
    readObject: (path) => execFileSync('lzop', ['-dc', path], { maxBuffer: 256 << 20 }),
    verifyObjects: (paths) => {
      if (paths.length) execFileSync('lzop', ['-t', ...paths], { stdio: ['ignore', 'ignore', 'pipe'] });
    },
  };
}

/**
 * wal-e followed by a second archiver in the same archive_command, with a backlog: every segment must
 * still reach the second archiver (WAL-E renamed other segments' .ready to .done, so the second
 * archiver never saw them: wal-e#435).
 */
function walEWithSecondArchiverMethod(workDir: string): ArchiveMethod {
  const base = walEMethod(workDir);
  const other = join(workDir, 'second-archiver');
  mkdirSync(other);
  chownToPostgres(other);
  return {
    ...base,
    name: 'wal-e + second archiver',
    archiveCommand: `${base.archiveCommand} && cp %p ${shellQuote(other)}/%f`,
    deferArchiving: true,
    afterArchiving: (expected, serverLog) => {
      const missing = expected.filter((n) => !existsSync(join(other, n)));
      assert.deepEqual(missing, [], 'the second archiver missed segments');
      for (const n of expected.filter((x) => SEGMENT_NAME.test(x))) {
        assert.ok(readFileSync(join(other, n)).equals(base.readObject(base.objectPath(n))), `second archiver's ${n} differs`);
      }
      assert.match(serverLog, /MSG: WAL file was archived ahead of time/, 'the look-ahead pool never served a segment');
    },
  };
}

function cpMethod(workDir: string): ArchiveMethod {
  const dir = join(workDir, 'archive');
  mkdirSync(dir);
  chownToPostgres(workDir);
  const q = shellQuote(dir);
  return {
    name: 'cp',
    archiveCommand: `test ! -f ${q}/%f && cp %p ${q}/%f`,
    restoreCommand: `cp ${q}/%f %p`,
    objectPath: (name) => join(dir, name),
    listObjects: () => readdirSync(dir).map((n) => join(dir, n)),
    walNameOf: (path) => basename(path),
    readObject: (path) => readFileSync(path),
  };
}

const SEGMENT_NAME = /^[0-9A-F]{24}$/;
const BACKUP_HISTORY = /^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$/;

/** Names of every WAL segment on `name`'s timeline from the cluster's first (…0001) up to `name`. */
function segmentsThrough(name: string, segmentBytes: number): string[] {
  const tli = name.slice(0, 8);
  const perId = 0x1_0000_0000 / segmentBytes;
  const last = parseInt(name.slice(8, 16), 16) * perId + parseInt(name.slice(16), 16);
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  const out: string[] = [];
  for (let seg = 1; seg <= last; seg++) out.push(`${tli}${hex(Math.floor(seg / perId))}${hex(seg % perId)}`);
  return out;
}

/** The lines of `log` leading up to and just after the first line matching `pattern`. */
function logAround(log: string, pattern: RegExp, before = 25, after = 5): string {
  const lines = log.split('\n');
  const at = lines.findIndex((l) => pattern.test(l));
  if (at < 0) return lines.slice(-before).join('\n');
  return lines.slice(Math.max(0, at - before), at + after + 1).join('\n');
}

const FINGERPRINT = [
  `SELECT sum(abalance) || '/' || count(*) FROM pgbench_accounts`,
  `SELECT coalesce(sum(delta), 0) || '/' || count(*) FROM pgbench_history`,
  `SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM wale_check`,
];

async function fingerprint(c: PgCluster): Promise<string[]> {
  const out: string[] = [];
  for (const q of FINGERPRINT) out.push(await c.sql(q));
  return out;
}

async function roundTrip(t: TestContext, major: number, makeMethod: (workDir: string) => ArchiveMethod): Promise<void> {
  requireMajor(major);
  const root = repoRoot();
  if (makeMethod !== cpMethod) {
    if (!existsSync(join(root, 'dist', 'wal-e.mjs'))) throw new Error('dist/wal-e.mjs is missing: run "npm run build" first');
    await assertPostgresCanAccess([join(root, 'bin', 'wal-e'), join(root, 'dist', 'wal-e.mjs')]);
  }

  const workDir = makePostgresTempDir(`wale-archive-pg${major}-`);
  const cleanups: Array<() => Promise<void> | void> = [() => removeTempDir(workDir)];
  t.after(async () => {
    let first: unknown;
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  });
  const method = makeMethod(workDir);

  const primary = await PgCluster.create({
    major,
    config: {
      wal_level: 'replica',
      archive_mode: 'on',
      archive_command: method.deferArchiving ? '' : method.archiveCommand,
      max_wal_size: '1GB',
    },
  });
  cleanups.push(() => primary.destroy());
  await primary.start();

  // The backup precedes all traffic, so the restored cluster has to replay every bit of it from the archive.
  const backup = await PgCluster.baseBackup(primary);
  cleanups.push(() => backup.destroy());

  await primary.pgbench(['-i', '-s', '2', '-q', 'postgres']);
  await primary.sql(`CREATE TABLE wale_check AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g`);
  await primary.pgbench(['-c', '2', '-j', '1', '-t', '300', '-n', 'postgres']);

  const switches: string[] = [];
  let lastSwitchStart = '';
  for (let i = 0; i < 3; i++) {
    await primary.sql(`INSERT INTO wale_check SELECT g, md5((g * ${i + 7})::text) FROM generate_series(${30000 + i * 1000}, ${30999 + i * 1000}) g`);
    lastSwitchStart = await primary.sql('SELECT pg_current_wal_insert_lsn()');
    switches.push(await primary.sql('SELECT pg_walfile_name(pg_switch_wal())'));
  }
  const lastSegment = switches[switches.length - 1]!;
  assert.match(lastSegment, SEGMENT_NAME);
  if (method.deferArchiving) {
    await primary.sql(`ALTER SYSTEM SET archive_command = '${method.archiveCommand.replace(/'/g, "''")}'`);
    await primary.sql('SELECT pg_reload_conf()');
  }
  const segmentBytes = Number(
    await primary.sql(
      `SELECT setting::bigint * CASE unit WHEN 'B' THEN 1 WHEN 'kB' THEN 1024 WHEN '8kB' THEN 8192 WHEN 'MB' THEN 1048576 END ` +
        `FROM pg_settings WHERE name = 'wal_segment_size'`,
    ),
  );

  // Done means no segment up to the last switch still waits in archive_status. pg_stat_archiver alone
  // cannot say so: WAL-E's wal-push uploads other .ready segments alongside the one it was given and
  // marks them .done itself, so PostgreSQL never archives (nor counts) those.
  const statusDir = join(primary.dataDir, 'pg_wal', 'archive_status');
  const statusFiles = (suffix: string) =>
    readdirSync(statusDir)
      .filter((n) => n.endsWith(suffix))
      .map((n) => n.slice(0, -suffix.length));
  const pending = () => statusFiles('.ready').filter((n) => n.slice(0, 24) <= lastSegment);
  // Any failure already fails the test (failed_count must stay 0), so stop waiting at the first one.
  await waitFor(
    async () => {
      const s = await primary.archiverStats();
      if (s.failedCount > 0) return s;
      const lastDone = statusFiles('.done').includes(lastSegment) || existsSync(method.objectPath(lastSegment));
      return lastDone && pending().length === 0 ? s : undefined;
    },
    {
      timeoutMs: 60_000,
      describe: async () =>
        `${method.name}: PostgreSQL ${major} did not archive through ${lastSegment}: ` +
        `${JSON.stringify(await primary.archiverStats())}, still .ready: ${pending().join(' ') || 'none'}` +
        `\n--- server log (tail) ---\n${primary.logTail()}`,
    },
  );
  // The archiver's counters reach pg_stat_archiver with a delay (up to ~0.5 s before 15), and a failure's
  // stderr reaches the server log a moment after the fact.
  await new Promise((r) => setTimeout(r, 1000));
  const stats = await primary.archiverStats();
  assert.equal(
    stats.failedCount,
    0,
    `${method.name}: archive_command failed (${JSON.stringify(stats)})\n--- server log around the first failure ---\n` +
      logAround(primary.log(), /archive command (failed|was terminated)/),
  );

  // Everything PostgreSQL had archived: each segment of timeline 1 up to the last switch, and whatever
  // else (the backup history file) it still lists as done.
  const expected = [...new Set([...segmentsThrough(lastSegment, segmentBytes), ...statusFiles('.done')])].sort();
  const missing = expected.filter((n) => !existsSync(method.objectPath(n)));
  assert.deepEqual(missing, [], `${method.name}: archived WAL missing from the store`);
  const objects = method.listObjects();
  const unexpected = objects.filter((p) => {
    const name = method.walNameOf(p);
    return name === null || !(expected.includes(name) || BACKUP_HISTORY.test(name));
  });
  assert.deepEqual(unexpected, [], `${method.name}: the store holds objects PostgreSQL never archived`);
  assert.ok(objects.length >= stats.archivedCount, `${method.name}: ${objects.length} objects, but PostgreSQL archived ${stats.archivedCount}`);
  method.verifyObjects?.(objects);
  method.afterArchiving?.(expected, primary.log());
  // Completed segments never change again, so those still in pg_wal must match their archived copies byte for byte.
  let compared = 0;
  for (const name of expected.filter((n) => SEGMENT_NAME.test(n))) {
    const local = join(primary.dataDir, 'pg_wal', name);
    if (!existsSync(local)) continue;
    assert.ok(method.readObject(method.objectPath(name)).equals(readFileSync(local)), `${method.name}: archived ${name} differs from pg_wal/${name}`);
    compared++;
  }
  assert.ok(compared > 0, 'no archived segment left in pg_wal to compare against');

  const want = await fingerprint(primary);

  const restored = await PgCluster.fromBaseBackup(backup, { restoreCommand: method.restoreCommand, mode: 'archive' });
  cleanups.push(() => restored.destroy());
  await restored.start();
  await restored.waitForRecoveryEnd(60_000);

  const replayed = await restored.sql(`SELECT pg_last_wal_replay_lsn() >= '${lastSwitchStart}'::pg_lsn`);
  assert.equal(replayed, 't', `restored cluster stopped replaying before ${lastSwitchStart}\n${restored.logTail()}`);
  assert.match(restored.log(), new RegExp(`restored log file "${lastSegment}" from archive`), 'last segment was not restored from the archive');
  assert.deepEqual(await fingerprint(restored), want, 'restored data differs from the primary');
  const finalStats = await primary.archiverStats();
  assert.equal(finalStats.failedCount, 0, `${method.name}: archive_command failed later on (${JSON.stringify(finalStats)})\n${primary.logTail()}`);
  t.diagnostic(
    `${method.name} on PostgreSQL ${major}: ${objects.length} files archived through ${lastSegment} ` +
      `(${finalStats.archivedCount} by PostgreSQL's count), ` +
      `${compared} compared with pg_wal, restored cluster replayed to ${await restored.sql('SELECT pg_last_wal_replay_lsn()')}; ` +
      `data: ${want.join(' ')}`,
  );
}

const majors = majorsUnderTest();

describe('WAL archiving against real PostgreSQL', { concurrency: 1 }, () => {
  // Harness self-check on one major: cheap, and it separates "wal-e is broken" from "the harness is broken".
  it(`harness self-check with cp on PostgreSQL ${majors[0]}`, { timeout: 120_000 }, (t) => roundTrip(t, majors[0]!, cpMethod));

  for (const major of majors) {
    it(`PostgreSQL ${major}: wal-e wal-push archives every segment and wal-fetch restores them`, { timeout: 150_000 }, (t) =>
      roundTrip(t, major, walEMethod),
    );
  }

  // One major is enough for the look-ahead's interplay with PostgreSQL's own bookkeeping.
  const lookAheadMajor = majors.includes(15) ? 15 : majors[0]!;
  it(`PostgreSQL ${lookAheadMajor}: a backlog archived through wal-e's look-ahead still reaches a second archiver`, { timeout: 150_000 }, (t) =>
    roundTrip(t, lookAheadMajor, walEWithSecondArchiverMethod),
  );
});
