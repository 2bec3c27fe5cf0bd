// Encrypted point-in-time recovery on real PostgreSQL 15. The primary archives through
// `envdir ENV wal-e wal-push %p` with WALE_GPG_KEY_ID set and only the public key in the postgres user's
// keyring; `wal-e backup-push` runs during pgbench traffic. Every partition must be OpenPGP that GnuPG
// 2.2 opens (`gpg -d | lzop -d | tar -t`). The backup is then fetched twice into empty directories:
// with WALE_GPG_SECRET_KEY_FILE (in-process) and through gpg and its agent (secret key in a keyring);
// both trees must be identical, and the first recovers through `wal-e wal-fetch` to a target time
// between two marker rows, giving the primary's data as it was at that time.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
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

const MAJOR = 15;
const K1 = '1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8';
const K1_ENCRYPTION_SUBKEY = '43C878698F01D9B6';

const FINGERPRINT = [
  `SELECT sum(abalance) || '/' || count(*) FROM pgbench_accounts`,
  `SELECT coalesce(sum(delta), 0) || '/' || count(*) FROM pgbench_history`,
  `SELECT coalesce(string_agg(note, ',' ORDER BY note), '') FROM markers`,
];

async function fingerprint(c: PgCluster): Promise<string[]> {
  const out: string[] = [];
  for (const q of FINGERPRINT) out.push(await c.sql(q));
  return out;
}

function gpgAs(home: string, args: string[], input?: Buffer): Buffer {
  return execFileSync('gpg', args, { env: { ...process.env, GNUPGHOME: home }, input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
}

function envDir(dir: string, vars: Record<string, string>): void {
  mkdirSync(dir);
  for (const [k, v] of Object.entries(vars)) writeFileSync(join(dir, k), `${v}\n`);
}

/** Every file, link and directory under root with its content digest, for comparing two restores. */
function treeDigest(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = lstatSync(p);
      const rel = relative(root, p);
      if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/`);
        walk(p);
      } else out.push(`${rel} ${(st.mode & 0o7777).toString(8)} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(root);
  return out;
}

async function encryptedPitr(t: TestContext): Promise<void> {
  requireMajor(MAJOR);
  const root = repoRoot();
  const walEPath = join(root, 'bin', 'wal-e');
  await assertPostgresCanAccess([walEPath, join(root, 'dist', 'wal-e.mjs')]);
  const keys = join(root, 'test', 'fixtures', 'gpg-test-key');

  const work = makePostgresTempDir(`wale-enc-pitr-pg${MAJOR}-`);
  const verifyHome = mkdtempSync(join(tmpdir(), 'wal-e-enc-pitr-verify-'));
  const cleanups: Array<() => Promise<unknown> | void> = [() => removeTempDir(work), () => rmSync(verifyHome, { recursive: true, force: true })];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  // Pushing host: the public key only, in the postgres user's keyring (WAL-E's set-up).
  const pushHome = join(work, 'gnupg-push');
  mkdirSync(pushHome, { mode: 0o700 });
  gpgAs(pushHome, ['--batch', '--quiet', '--import', join(keys, 'test-key-nopass.pub.asc')]);
  // Restoring host, gpg mode: the secret key in a keyring, used through gpg-agent.
  const agentHome = join(work, 'gnupg-agent');
  mkdirSync(agentHome, { mode: 0o700 });
  gpgAs(agentHome, ['--batch', '--quiet', '--import', join(keys, 'test-key-nopass.sec.asc')]);
  // Restoring host, key-file mode.
  const secretFile = join(work, 'restore-key.asc');
  copyFileSync(join(keys, 'test-key-nopass.sec.asc'), secretFile);
  chmodSync(secretFile, 0o600);

  const store = join(work, 'store');
  mkdirSync(store);
  const common = { WALE_FILE_PREFIX: `file://localhost${store}`, WALE_LOG_DESTINATION: 'stderr', WALE_GPG_KEY_ID: K1 };
  const pushEnv = { ...common, GNUPGHOME: pushHome };
  const keyFileEnv = { ...common, WALE_GPG_SECRET_KEY_FILE: secretFile };
  const agentEnv = { ...common, GNUPGHOME: agentHome };
  envDir(join(work, 'env-push'), pushEnv);
  envDir(join(work, 'env-restore'), keyFileEnv);
  chownToPostgres(work);
  for (const home of [pushHome, agentHome]) {
    const gpgEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', GNUPGHOME: home };
    cleanups.push(() => runAsPostgres('gpgconf', ['--kill', 'gpg-agent'], { env: gpgEnv }));
  }

  // GnuPG 2.2 with the secret key, to read objects back the way WAL-E would.
  chmodSync(verifyHome, 0o700);
  gpgAs(verifyHome, ['--batch', '--quiet', '--import', join(keys, 'test-key-nopass.sec.asc')]);
  cleanups.push(() => {
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: verifyHome }, stdio: 'ignore' });
  });

  const walE = (args: string[], env: Record<string, string>, extra: Record<string, string> = {}) =>
    runAsPostgres(process.execPath, [walEPath, ...args], { env: baseEnv({ ...env, ...extra }), timeoutMs: 150_000 });

  const primary = await PgCluster.create({
    major: MAJOR,
    config: {
      wal_level: 'replica',
      archive_mode: 'on',
      archive_command: `envdir ${shellQuote(join(work, 'env-push'))} ${shellQuote(walEPath)} wal-push %p`,
      max_wal_size: '1GB',
    },
  });
  cleanups.push(() => primary.destroy());
  await primary.start();
  await primary.pgbench(['-i', '-s', '3', '-q', 'postgres']);
  await primary.sql(`CREATE TABLE markers (note text)`);
  await primary.sql(`INSERT INTO markers VALUES ('before backup')`);

  // The backup is taken while pgbench writes.
  const t0 = Date.now();
  const [push] = await Promise.all([
    walE(['backup-push', primary.dataDir], pushEnv, { WALE_BACKUP_FAST_CHECKPOINT: '1', ...primary.env() }),
    primary.pgbench(['-c', '2', '-T', '4', '-n', 'postgres']),
  ]);
  const pushMs = Date.now() - t0;
  assert.equal(push.code, 0, `backup-push failed:\n${push.stderr}`);

  const backupsDir = join(store, 'basebackups_005');
  const names = readdirSync(backupsDir).filter((n) => !n.endsWith('.json'));
  assert.equal(names.length, 1, `backups: ${names.join(' ')}`);
  const backupName = names[0]!;
  const sentinel = JSON.parse(readFileSync(join(backupsDir, `${backupName}_backup_stop_sentinel.json`), 'utf8')) as Record<string, unknown>;
  assert.ok(typeof sentinel.wal_segment_backup_stop === 'string', 'the sentinel is plain JSON');
  assert.match(readFileSync(join(backupsDir, backupName, 'extended_version.txt'), 'utf8'), /PostgreSQL 15/);

  // Every partition is OpenPGP for K1's encryption subkey: PKESK v3 (RSA), then SEIPD with MDC, then a
  // binary literal packet; GnuPG 2.2 + lzop + tar read it back.
  const partsDir = join(backupsDir, backupName, 'tar_partitions');
  const parts = readdirSync(partsDir).sort();
  assert.ok(parts.length >= 1, 'no partitions');
  let members = 0;
  for (const part of parts) {
    const path = join(partsDir, part);
    assert.equal(readFileSync(path).subarray(0, 1)[0], 0xc1, `${part} starts with a public-key encrypted session key packet`);
    const packets = gpgAs(verifyHome, ['--batch', '--list-packets', path]).toString();
    assert.match(packets, new RegExp(`:pubkey enc packet: version 3, algo 1, keyid ${K1_ENCRYPTION_SUBKEY}`), `${part}:\n${packets}`);
    assert.match(packets, /:encrypted data packet:\s*\n\s*length: (unknown|\d+)\s*\n\s*mdc_method: 2/, `${part}: SEIPD with MDC`);
    assert.match(packets, /:literal data packet:\s*\n\s*mode b \(62\), created \d+, name="",/, `${part}: a binary literal packet`);
    assert.doesNotMatch(packets, /compressed packet/, `${part}: no OpenPGP compression`);
    const tar = execFileSync('lzop', ['-d', '-c'], { input: gpgAs(verifyHome, ['-d', '-q', '--batch', path]), maxBuffer: 1 << 30 });
    // stderr: GNU tar notes that it strips the leading '/' of the first member, the data directory (spec §4.4.2).
    const listing = execFileSync('tar', ['-tf', '-'], { input: tar, maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'ignore'] }).toString().split('\n').filter(Boolean);
    members += listing.length;
  }
  assert.ok(members > 100, `only ${members} members in the partitions`);

  // More traffic after the backup, then the recovery target between two markers.
  await primary.pgbench(['-c', '2', '-t', '300', '-n', 'postgres']);
  await primary.sql(`INSERT INTO markers VALUES ('after backup, before target')`);
  await new Promise((r) => setTimeout(r, 1100));
  const target = await primary.sql(`SELECT now()::timestamptz(6)::text`);
  const want = await fingerprint(primary);
  await new Promise((r) => setTimeout(r, 1100));
  await primary.sql(`INSERT INTO markers VALUES ('after target')`);
  await primary.pgbench(['-c', '1', '-t', '100', '-n', 'postgres']);
  const lastSegment = await primary.sql('SELECT pg_walfile_name(pg_switch_wal())');
  await waitFor(async () => (existsSync(join(store, 'wal_005', `${lastSegment}.lzo`)) ? true : undefined), {
    timeoutMs: 90_000,
    describe: async () => `${lastSegment} was not archived: ${JSON.stringify(await primary.archiverStats())}\n${primary.logTail()}`,
  });
  const stats = await primary.archiverStats();
  assert.equal(stats.failedCount, 0, `archive_command failed (${JSON.stringify(stats)})\n${primary.logTail()}`);
  for (const o of readdirSync(join(store, 'wal_005'))) {
    assert.equal(readFileSync(join(store, 'wal_005', o)).subarray(0, 1)[0], 0xc1, `${o} is encrypted`);
  }
  const final = await fingerprint(primary);
  assert.notDeepEqual(final, want, 'the primary changed after the target');
  await primary.stop('fast');

  // Fetch into empty directories: key-file mode, then gpg-agent mode.
  const restoreBase = makePostgresTempDir(`wale-enc-pitr-pg${MAJOR}-restore-`);
  const agentBase = makePostgresTempDir(`wale-enc-pitr-pg${MAJOR}-agent-`);
  cleanups.push(() => removeTempDir(agentBase));
  const dataDir = join(restoreBase, 'data');
  const agentDir = join(agentBase, 'data');
  const t1 = Date.now();
  const fetched = await walE(['backup-fetch', dataDir, 'LATEST'], keyFileEnv);
  const fetchMs = Date.now() - t1;
  assert.equal(fetched.code, 0, `backup-fetch (key file) failed:\n${fetched.stderr}`);
  const t2 = Date.now();
  const viaAgent = await walE(['backup-fetch', agentDir, backupName], agentEnv);
  const agentMs = Date.now() - t2;
  assert.equal(viaAgent.code, 0, `backup-fetch (gpg-agent) failed:\n${viaAgent.stderr}`);
  const digest = treeDigest(dataDir);
  assert.ok(digest.some((l) => l.startsWith('backup_label ')), 'backup_label restored');
  assert.deepEqual(treeDigest(agentDir), digest, 'key-file and gpg-agent fetches restore identical trees');

  for (const f of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) {
    if (!existsSync(join(dataDir, f))) cpSync(join(primary.dataDir, f), join(dataDir, f));
  }
  chownToPostgres(restoreBase);
  const restoreCommand = `envdir ${shellQuote(join(work, 'env-restore'))} ${shellQuote(walEPath)} wal-fetch %f %p`;
  const restored = await PgCluster.fromBaseBackup(
    { major: MAJOR, baseDir: restoreBase, dataDir, startLsn: '', stopLsn: '', destroy: () => removeTempDir(restoreBase) },
    { restoreCommand, config: { recovery_target_time: target, recovery_target_action: 'promote' } },
  );
  cleanups.push(() => restored.destroy());
  await restored.start();
  await restored.waitForRecoveryEnd(120_000);
  assert.match(restored.log(), /recovery stopping before commit of transaction \d+, time /, restored.logTail());
  assert.deepEqual(await fingerprint(restored), want, `restored data differs from the primary at ${target}`);
  t.diagnostic(
    `${parts.length} encrypted partitions (${members} members); backup-push ${pushMs} ms, backup-fetch key-file ${fetchMs} ms, ` +
      `gpg-agent ${agentMs} ms; recovered to ${target}: ${want.join(' ')}`,
  );
}

describe('encrypted point-in-time recovery against real PostgreSQL', () => {
  it(`PostgreSQL ${MAJOR}: encrypted backup-push and WAL, backup-fetch by key file and by gpg-agent, recovery to a target time`, { timeout: 170_000 }, (t) =>
    encryptedPitr(t));
});
