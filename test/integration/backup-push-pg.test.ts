// End to end: `wal-e backup-push` against real PostgreSQL 12, 15 and 18 (or WALE_TEST_PG_MAJORS), with
// archive_command = wal-e wal-push into a file:// store, a tablespace and a pgbench workload running
// during the backup. Checks the store layout WAL-E readers rely on (names, extended_version.txt,
// partitions, sentinel content and that it comes last), every partition with lzop -t and tar -t, and
// restores the backup with tar + lzop -d and restore_command = wal-e wal-fetch.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import {
  PgCluster,
  assertPostgresCanAccess,
  baseEnv,
  chownToPostgres,
  makePostgresTempDir,
  majorsUnderTest,
  removeTempDir,
  repoRoot,
  runAsPostgres,
  shellQuote,
  waitFor,
  type BaseBackup,
  type RunResult,
} from '../helpers/postgres';

interface Fixture {
  workDir: string;
  store: string;
  envDir: string;
  walE: string;
}

function makeFixture(t: TestContext, label: string): Fixture {
  const root = repoRoot();
  if (!existsSync(join(root, 'dist', 'wal-e.mjs'))) throw new Error('dist/wal-e.mjs is missing: run "npm run build" first');
  const workDir = makePostgresTempDir(`wale-bp-${label}-`);
  t.after(() => removeTempDir(workDir));
  const store = join(workDir, 'store');
  const envDir = join(workDir, 'env');
  mkdirSync(store);
  mkdirSync(envDir);
  writeFileSync(join(envDir, 'WALE_FILE_PREFIX'), `file://localhost${store}\n`);
  writeFileSync(join(envDir, 'WALE_LOG_DESTINATION'), 'stderr\n');
  chownToPostgres(workDir);
  return { workDir, store, envDir, walE: join(root, 'bin', 'wal-e') };
}

function archiveCommand(f: Fixture): string {
  return `envdir ${shellQuote(f.envDir)} ${shellQuote(f.walE)} wal-push %p`;
}

/** Runs the built wal-e as the postgres user, as an operator's cron job would. */
function walE(f: Fixture, args: string[], env: Record<string, string>, timeoutMs = 180_000): Promise<RunResult> {
  return runAsPostgres(process.execPath, [f.walE, ...args], {
    env: baseEnv({ WALE_FILE_PREFIX: `file://localhost${f.store}`, WALE_LOG_DESTINATION: 'stderr', ...env }),
    timeoutMs,
  });
}

function backupDirs(store: string): { names: string[]; sentinels: string[] } {
  const dir = join(store, 'basebackups_005');
  const all = existsSync(dir) ? readdirSync(dir) : [];
  return { names: all.filter((n) => !n.endsWith('.json')), sentinels: all.filter((n) => n.endsWith('.json')) };
}

function partitionFiles(store: string, name: string): string[] {
  const dir = join(store, 'basebackups_005', name, 'tar_partitions');
  return readdirSync(dir).sort().map((n) => join(dir, n));
}

interface TarEntry {
  type: string;
  size: number;
  name: string;
}

/** `tar -tv` of one partition, through `lzop -dc`. */
function listPartition(path: string): TarEntry[] {
  const tar = execFileSync('lzop', ['-dc', path], { maxBuffer: 1 << 30 });
  const out = execFileSync('tar', ['--numeric-owner', '-tvf', '-'], { input: tar, maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'ignore'] }).toString();
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const m = /^(\S)\S+\s+\S+\s+(\d+)\s+\S+\s+\S+\s+(.*?)(?: -> .*)?$/.exec(line);
      assert.ok(m, `unexpected tar -tv line: ${line}`);
      return { type: m[1]!, size: Number(m[2]), name: m[3]! };
    });
}

function lsnToBig(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

const FINGERPRINT = [
  `SELECT sum(abalance) || '/' || count(*) FROM pgbench_accounts`,
  `SELECT coalesce(sum(delta), 0) || '/' || count(*) FROM pgbench_history`,
  `SELECT count(*) || '/' || sum(v) FROM ts_data`,
  `SELECT string_agg(note, ',' ORDER BY note) FROM markers`,
];

async function fingerprint(c: PgCluster): Promise<string[]> {
  const out: string[] = [];
  for (const q of FINGERPRINT) out.push(await c.sql(q));
  return out;
}

async function waitArchived(c: PgCluster, segment: string): Promise<void> {
  await waitFor(
    async () => {
      const s = await c.archiverStats();
      return s.lastArchivedWal !== null && s.lastArchivedWal.slice(0, 24) >= segment ? true : undefined;
    },
    { timeoutMs: 60_000, describe: async () => `segment ${segment} not archived: ${JSON.stringify(await c.archiverStats())}` },
  );
}

async function onlineBackupRoundTrip(t: TestContext, major: number): Promise<void> {
  const f = makeFixture(t, `online-pg${major}`);
  await assertPostgresCanAccess([f.walE, join(repoRoot(), 'dist', 'wal-e.mjs')]);
  const tsDir = join(f.workDir, 'tblspc');
  mkdirSync(tsDir, { mode: 0o700 });
  chownToPostgres(tsDir);

  const primary = await PgCluster.create({
    major,
    // backup-push asks for a spread checkpoint, as WAL-E did; a target of 0 lets it run at full speed here.
    config: { wal_level: 'replica', archive_mode: 'on', archive_command: archiveCommand(f), max_wal_size: '1GB', checkpoint_completion_target: '0' },
  });
  t.after(() => primary.destroy());
  await primary.start();
  await primary.sql(`CREATE TABLESPACE bp_ts LOCATION '${tsDir}'`);
  await primary.sql(`CREATE TABLE ts_data TABLESPACE bp_ts AS SELECT g AS id, g * 2 AS v FROM generate_series(1, 20000) g`);
  await primary.sql(`CREATE TABLE markers (note text)`);
  await primary.sql(`INSERT INTO markers VALUES ('before backup')`);
  await primary.pgbench(['-i', '-s', '2', '-q', 'postgres']);
  const oid = await primary.sql(`SELECT oid FROM pg_tablespace WHERE spcname = 'bp_ts'`);

  // Things a backup must leave out (spec §4.4.2, plus PG 12+ signal files): harmless while running.
  const d = primary.dataDir;
  for (const [p, content] of [
    ['recovery.signal', ''],
    ['standby.signal', ''],
    ['base/pgsql_tmp/junk', 'temp'],
    ['pg_stat_tmp/junk', 'stat'],
    ['lost+found/junk', 'lost'],
    ['.wal-e/prefetch/junk', 'prefetch'],
  ] as const) {
    mkdirSync(join(d, p, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(join(d, p), content, { mode: 0o600 });
  }
  chownToPostgres(d);
  // Keep the spread checkpoint of pg_backup_start short.
  await primary.sql('CHECKPOINT');

  // Writes during the backup: the copy is inconsistent and WAL replay must repair it.
  const workload = primary.pgbench(['-c', '2', '-j', '1', '-T', '6', '-n', 'postgres'], 120_000);
  const started = Date.now();
  const r = await walE(f, ['backup-push', d], { ...primary.env() });
  const seconds = (Date.now() - started) / 1000;
  await workload;
  assert.equal(r.code, 0, `backup-push failed:\n${r.stderr}`);
  t.diagnostic(`PostgreSQL ${major}: backup-push took ${seconds.toFixed(1)} s`);

  // --- store layout (spec §3.2-§3.5)
  const { names, sentinels } = backupDirs(f.store);
  assert.equal(names.length, 1, `one backup directory expected: ${names.join(', ')}`);
  const name = names[0]!;
  assert.match(name, /^base_[0-9A-F]{24}_[0-9]{8}$/);
  assert.deepEqual(sentinels, [`${name}_backup_stop_sentinel.json`]);
  const backupDir = join(f.store, 'basebackups_005', name);
  assert.deepEqual(readdirSync(backupDir).sort(), ['extended_version.txt', 'tar_partitions']);
  assert.equal(readFileSync(join(backupDir, 'extended_version.txt'), 'utf8'), await primary.sql('SELECT version()'));

  const parts = partitionFiles(f.store, name);
  parts.forEach((p, i) => assert.ok(p.endsWith(`part_${String(i).padStart(8, '0')}.tar.lzo`), p));
  assert.ok(parts.length >= 2, 'data partitions plus the backup_label partition');
  execFileSync('lzop', ['-t', ...parts], { stdio: ['ignore', 'ignore', 'pipe'] });

  const listed = parts.map(listPartition);
  const all = listed.flat();
  const names0 = all.map((e) => e.name);
  assert.equal(names0[0], '/', 'the first member is the data directory itself, named "/" as WAL-E wrote it');
  const last = listed[listed.length - 1]!;
  assert.deepEqual(last.map((e) => e.name), ['backup_label', 'tablespace_map']);
  for (const must of ['PG_VERSION', 'global/pg_control', 'pg_wal/', 'pg_tblspc/', 'postgresql.auto.conf', 'base/pgsql_tmp/', 'pg_stat_tmp/', '.wal-e/']) {
    assert.ok(names0.includes(must), `member ${must} missing`);
  }
  const tsMembers = names0.filter((n) => n.startsWith(`pg_tblspc/${oid}/`));
  assert.ok(tsMembers.some((n) => /^pg_tblspc\/\d+\/PG_[^/]+\/\d+\/\d+$/.test(n)), `tablespace relation files missing: ${tsMembers.join(' ')}`);
  assert.ok(!names0.includes(`pg_tblspc/${oid}`) && !names0.includes(`pg_tblspc/${oid}/`), 'the tablespace link itself is not archived');
  for (const n of names0) {
    assert.ok(!/^(postmaster\.pid|postmaster\.opts|postgresql\.conf|pg_hba\.conf|pg_ident\.conf|recovery\.signal|standby\.signal)$/.test(n), `excluded file archived: ${n}`);
    assert.ok(!/^(pg_wal|pg_stat_tmp|\.wal-e|base\/pgsql_tmp)\/./.test(n), `contents of an excluded directory archived: ${n}`);
    assert.ok(!n.startsWith('lost+found'), `lost+found archived: ${n}`);
  }
  assert.equal(names0.filter((n) => n === 'backup_label').length, 1);

  // --- sentinel (spec §3.4)
  const sentinelPath = join(f.store, 'basebackups_005', sentinels[0]!);
  const sentinelText = readFileSync(sentinelPath, 'utf8');
  const sentinel = JSON.parse(sentinelText);
  assert.deepEqual(Object.keys(sentinel), ['wal_segment_backup_stop', 'wal_segment_offset_backup_stop', 'expanded_size_bytes', 'spec']);
  assert.ok(!sentinelText.endsWith('\n') && sentinelText.includes('", "'), 'Python json.dumps separators, no newline');
  assert.equal(sentinel.expanded_size_bytes, all.reduce((n, e) => n + (e.type === '-' ? e.size : 0), 0));
  assert.deepEqual(sentinel.spec, {
    base_prefix: `${d}/`,
    tablespaces: [oid],
    [oid]: { loc: `${tsDir}/`, link: `pg_tblspc/${oid}` },
  });
  assert.match(sentinel.wal_segment_backup_stop, /^[0-9A-F]{24}$/);
  assert.match(sentinel.wal_segment_offset_backup_stop, /^[0-9]{8}$/);

  // The name is the backup's start: backup_label's START WAL LOCATION (spec §3.3).
  const label = execFileSync('tar', ['-xOf', '-', 'backup_label'], { input: execFileSync('lzop', ['-dc', parts[parts.length - 1]!]) }).toString();
  const startMatch = /^START WAL LOCATION: (\S+) \(file ([0-9A-F]{24})\)$/m.exec(label);
  assert.ok(startMatch, label);
  const segBytes = Number(await primary.sql(`SELECT setting::bigint * CASE unit WHEN 'B' THEN 1 WHEN '8kB' THEN 8192 WHEN 'MB' THEN 1048576 END FROM pg_settings WHERE name = 'wal_segment_size'`));
  const startOffset = Number(lsnToBig(startMatch[1]!) % BigInt(segBytes));
  assert.equal(name, `base_${startMatch[2]}_${String(startOffset).padStart(8, '0')}`);
  assert.ok(sentinel.wal_segment_backup_stop >= startMatch[2]!);

  // Sentinel last: after every partition, extended_version.txt and the stop segment's WAL object.
  const stopWal = join(f.store, 'wal_005', `${sentinel.wal_segment_backup_stop}.lzo`);
  assert.ok(existsSync(stopWal), 'the stop segment was archived before the backup was declared complete');
  const mtime = (p: string) => statSync(p, { bigint: true }).mtimeNs;
  for (const p of [...parts, join(backupDir, 'extended_version.txt'), stopWal]) {
    assert.ok(mtime(p) <= mtime(sentinelPath), `${p} is newer than the sentinel`);
  }
  assert.ok(mtime(join(backupDir, 'extended_version.txt')) <= mtime(parts[0]!), 'extended_version.txt is uploaded first');
  const msgs = [...r.stderr.matchAll(/MSG: (.*)$/gm)].map((m) => m[1]);
  assert.equal(msgs[msgs.length - 1], 'base backup complete');
  assert.ok(msgs.includes('begin uploading a base backup volume') && msgs.includes('finish uploading a base backup volume'));

  // --- restore: extract every partition, relocate the tablespace, recover through wal-e wal-fetch.
  await primary.sql(`INSERT INTO markers VALUES ('after backup')`);
  const switched = await primary.sql(`SELECT pg_walfile_name(pg_switch_wal())`);
  await waitArchived(primary, switched);
  const expected = await fingerprint(primary);

  const restoreBase = makePostgresTempDir(`wale-bp-restore-pg${major}-`);
  const restoreData = join(restoreBase, 'data');
  mkdirSync(restoreData, { mode: 0o700 });
  chownToPostgres(restoreBase);
  for (const p of parts) {
    const x = await runAsPostgres('sh', ['-c', `lzop -dc ${shellQuote(p)} | tar -xf - -C ${shellQuote(restoreData)}`]);
    assert.equal(x.code, 0, x.stderr);
  }
  const newTs = join(restoreBase, 'tblspc');
  renameSync(join(restoreData, 'pg_tblspc', oid), newTs);
  symlinkSync(newTs, join(restoreData, 'pg_tblspc', oid));
  writeFileSync(join(restoreData, 'tablespace_map'), `${oid} ${newTs}\n`);
  for (const conf of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) writeFileSync(join(restoreData, conf), readFileSync(join(d, conf)));
  chownToPostgres(restoreBase);
  const backup: BaseBackup = { major, baseDir: restoreBase, dataDir: restoreData, startLsn: startMatch[1]!, stopLsn: '', destroy: () => removeTempDir(restoreBase) };
  const restored = await PgCluster.fromBaseBackup(backup, {
    restoreCommand: `envdir ${shellQuote(f.envDir)} ${shellQuote(f.walE)} wal-fetch %f %p`,
  });
  t.after(() => restored.destroy());
  await restored.start();
  await restored.waitForRecoveryEnd(120_000);
  assert.deepEqual(await fingerprint(restored), expected, `restored data differs\n${restored.logTail()}`);
  assert.equal(await restored.sql(`SELECT pg_tablespace_location(${oid})`), newTs, 'the tablespace was relocated');
}

async function offlineBackup(t: TestContext, major: number): Promise<void> {
  const f = makeFixture(t, `offline-pg${major}`);
  const cluster = await PgCluster.create({ major, config: { wal_level: 'replica' } });
  t.after(() => cluster.destroy());
  await cluster.start();
  await cluster.sql('CREATE TABLE t AS SELECT g FROM generate_series(1, 50000) g');
  await cluster.sql('SELECT pg_switch_wal()');
  await cluster.stop('fast');
  const d = cluster.dataDir;

  // A postmaster.pid means a running (or crashed) server: refuse (spec §5.4.2).
  writeFileSync(join(d, 'postmaster.pid'), '12345\n');
  chownToPostgres(d);
  const refused = await walE(f, ['backup-push', '--while-offline', d], {});
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /MSG: while_offline set, but pg looks to be running\n\s+DETAIL: Found a postmaster.pid lockfile, and aborting/);
  assert.ok(!existsSync(join(f.store, 'basebackups_005')), 'nothing uploaded');
  rmSync(join(d, 'postmaster.pid'));

  // The read rate limit holds across both upload slots (a token bucket shared by all readers).
  const rate = 4_000_000;
  const t0 = Date.now();
  const r = await walE(f, ['backup-push', '--while-offline', '--pool-size', '2', '--cluster-read-rate-limit', String(rate), d], {});
  const elapsed = (Date.now() - t0) / 1000;
  assert.equal(r.code, 0, r.stderr);
  const { names, sentinels } = backupDirs(f.store);
  assert.equal(names.length, 1);
  const name = names[0]!;
  const parts = partitionFiles(f.store, name);
  execFileSync('lzop', ['-t', ...parts], { stdio: ['ignore', 'ignore', 'pipe'] });
  const members = parts.flatMap(listPartition).map((e) => e.name);
  assert.ok(members.includes('global/pg_control'));
  assert.ok(!members.includes('backup_label') && !members.includes('postmaster.pid'));
  assert.match(readFileSync(join(f.store, 'basebackups_005', name, 'extended_version.txt'), 'utf8'), new RegExp(`^PostgreSQL ${major}`));

  // The server's own view of its last (shutdown) checkpoint names the backup; WAL-E got this wrong.
  await cluster.start();
  const [seg, off] = (
    await cluster.sql(`SELECT file_name || ' ' || lpad(file_offset::text, 8, '0') FROM pg_walfile_name_offset((SELECT redo_lsn FROM pg_control_checkpoint()))`)
  ).split(' ');
  assert.equal(name, `base_${seg}_${off}`);
  const sentinel = JSON.parse(readFileSync(join(f.store, 'basebackups_005', sentinels[0]!), 'utf8'));
  assert.equal(sentinel.wal_segment_backup_stop, seg);
  assert.equal(sentinel.wal_segment_offset_backup_stop, off);
  assert.deepEqual(sentinel.spec, { base_prefix: `${d}/`, tablespaces: [] });
  const minSeconds = sentinel.expanded_size_bytes / rate - 1; // minus at most one second of burst
  assert.ok(minSeconds > 1, `enough data to measure (${sentinel.expanded_size_bytes} bytes)`);
  t.diagnostic(`offline backup of ${sentinel.expanded_size_bytes} bytes at ${rate} B/s took ${elapsed.toFixed(1)} s`);
  assert.ok(elapsed >= minSeconds, `read ${sentinel.expanded_size_bytes} bytes in ${elapsed} s at a limit of ${rate} B/s`);

  // A crashed cluster (no postmaster.pid, state "in production") is refused too.
  await cluster.stop('immediate');
  assert.ok(!existsSync(join(d, 'postmaster.pid')));
  const crashed = await walE(f, ['backup-push', '--while-offline', d], {});
  assert.equal(crashed.code, 1, crashed.stderr);
  assert.match(crashed.stderr, /MSG: while_offline set, but the cluster was not shut down cleanly\n\s+DETAIL: pg_control says the database cluster state is "in production"/);
  assert.equal(backupDirs(f.store).names.length, 1, 'no second backup');
}

async function archiveWaitTimeout(t: TestContext, major: number): Promise<void> {
  const f = makeFixture(t, `timeout-pg${major}`);
  // An archiver that always fails: the stop segment never reaches the archive.
  const cluster = await PgCluster.create({
    major,
    config: { wal_level: 'replica', archive_mode: 'on', archive_command: 'false', checkpoint_completion_target: '0' },
  });
  t.after(() => cluster.destroy());
  await cluster.start();
  const started = Date.now();
  const r = await walE(f, ['backup-push', cluster.dataDir], { ...cluster.env(), WALE_ARCHIVE_WAIT_TIMEOUT: '3' });
  const seconds = (Date.now() - started) / 1000;
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /MSG: waiting for the backup's last WAL segment to be archived/);
  assert.match(r.stderr, /MSG: timed out waiting for the backup's last WAL segment to be archived\n\s+DETAIL: [0-9A-F]{24} was not archived within 3 s/);
  assert.ok(seconds < 60, `bounded wait, took ${seconds} s`);
  const { names, sentinels } = backupDirs(f.store);
  assert.equal(names.length, 1, 'partitions were uploaded');
  assert.deepEqual(sentinels, [], 'but no sentinel: the backup does not exist for readers');
  // The session was closed, so the server is not left in backup mode.
  const open = await cluster.sql(`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'wal-e backup-push'`);
  assert.equal(open, '0');
}

async function standbyBackup(t: TestContext, major: number): Promise<void> {
  const f = makeFixture(t, `standby-pg${major}`);
  const primary = await PgCluster.create({
    major,
    config: { wal_level: 'replica', archive_mode: 'on', archive_command: archiveCommand(f), checkpoint_completion_target: '0' },
  });
  t.after(() => primary.destroy());
  await primary.start();
  await primary.sql('CREATE TABLE t AS SELECT g FROM generate_series(1, 10000) g');
  const copy = await PgCluster.baseBackup(primary);
  // A standby fed from the archive, archiving too (archive_mode=always), as docs/commands/backup-push.md asks.
  const standby = await PgCluster.fromBaseBackup(copy, {
    mode: 'standby',
    restoreCommand: `envdir ${shellQuote(f.envDir)} ${shellQuote(f.walE)} wal-fetch %f %p`,
    config: { archive_mode: 'always', archive_command: archiveCommand(f), hot_standby: 'on', wal_retrieve_retry_interval: '500ms' },
  });
  t.after(() => standby.destroy());
  await standby.start();
  await primary.sql('INSERT INTO t SELECT generate_series(10001, 20000)');
  const switched = await primary.sql('SELECT pg_walfile_name(pg_switch_wal())');
  await waitArchived(primary, switched);
  await waitFor(async () => ((await standby.sql('SELECT count(*) FROM t')) === '20000' ? true : undefined), {
    timeoutMs: 60_000,
    describe: () => `standby did not replay\n${standby.logTail()}`,
  });
  assert.equal(await standby.sql('SELECT pg_is_in_recovery()'), 't');

  const r = await walE(f, ['backup-push', standby.dataDir], { ...standby.env(), WALE_ARCHIVE_WAIT_TIMEOUT: '60' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /MSG: backing up a standby/);
  const { names, sentinels } = backupDirs(f.store);
  assert.equal(names.length, 1);
  assert.equal(sentinels.length, 1);
  const parts = partitionFiles(f.store, names[0]!);
  const members = parts.flatMap(listPartition).map((e) => e.name);
  assert.ok(!members.includes('standby.signal'), 'a restore of this backup must not come back as a standby');
  const label = execFileSync('tar', ['-xOf', '-', 'backup_label'], { input: execFileSync('lzop', ['-dc', parts[parts.length - 1]!]) }).toString();
  assert.match(label, /^BACKUP FROM: standby$/m);
  const start = /^START WAL LOCATION: (\S+) \(file ([0-9A-F]{24})\)$/m.exec(label)!;
  const offset = Number(lsnToBig(start[1]!) % BigInt(16 * 1024 * 1024));
  assert.equal(names[0], `base_${start[2]}_${String(offset).padStart(8, '0')}`);
}

async function badInvocations(t: TestContext): Promise<void> {
  const f = makeFixture(t, 'usage');
  const missing = await walE(f, ['backup-push', join(f.workDir, 'nope')], {});
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /MSG: PG_CLUSTER_DIRECTORY is not a directory/);
  const noServer = await walE(f, ['backup-push', f.workDir], { PGHOST: join(f.workDir, 'nosock'), PGPORT: '1', PGPASSWORD: 'sekrit-pw' });
  assert.equal(noServer.code, 1, noServer.stderr);
  assert.match(noServer.stderr, /MSG: could not connect to PostgreSQL/);
  assert.ok(!noServer.stderr.includes('sekrit-pw'), 'the password is never logged');
  assert.ok(!/\n\s+at /.test(noServer.stderr), 'no stack trace');
  const rate = await walE(f, ['backup-push', '--cluster-read-rate-limit', '0', f.workDir], {});
  assert.equal(rate.code, 1);
  assert.match(rate.stderr, /MSG: --cluster-read-rate-limit must be a positive number/);
}

describe('backup-push against real PostgreSQL', { concurrency: 1 }, () => {
  for (const major of majorsUnderTest()) {
    it(`PostgreSQL ${major}: online backup-push during pgbench writes a WAL-E backup that restores`, { timeout: 300_000 }, (t) =>
      onlineBackupRoundTrip(t, major),
    );
  }
  for (const major of majorsUnderTest()) {
    it(`PostgreSQL ${major}: --while-offline names the backup from pg_control and refuses running or crashed clusters`, { timeout: 180_000 }, (t) =>
      offlineBackup(t, major),
    );
  }
  const waitMajor = majorsUnderTest().includes(15) ? 15 : majorsUnderTest()[0]!;
  it(`PostgreSQL ${waitMajor}: an archiver that never archives ends in a bounded wait, exit 1 and no sentinel`, { timeout: 180_000 }, (t) =>
    archiveWaitTimeout(t, waitMajor),
  );
  it(`PostgreSQL ${waitMajor}: a hot standby is backed up with the non-exclusive API`, { timeout: 180_000 }, (t) => standbyBackup(t, waitMajor));
  it('bad directories, unreachable servers and bad options give one clear error and exit 1', { timeout: 60_000 }, (t) => badInvocations(t));
});
