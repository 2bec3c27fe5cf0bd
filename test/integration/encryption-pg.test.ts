// An encrypted archive on real PostgreSQL 15: archive_command = `envdir ENV wal-e wal-push %p` with
// WALE_GPG_KEY_ID set (recipient from the gpg keyring, as a WAL-E set-up has it), restore_command =
// `wal-e wal-fetch` with the secret key as a file (in-process decryption). Every archived object is
// also checked with GnuPG 2.2 and lzop, and the restored cluster must hold the primary's data.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import {
  PgCluster,
  assertPostgresCanAccess,
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
const SEGMENT_NAME = /^[0-9A-F]{24}$/;

function gpgAs(home: string, args: string[], input?: Buffer): Buffer {
  return execFileSync('gpg', args, { env: { ...process.env, GNUPGHOME: home }, input, maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'pipe'] });
}

function envDir(dir: string, vars: Record<string, string>): void {
  mkdirSync(dir);
  for (const [k, v] of Object.entries(vars)) writeFileSync(join(dir, k), `${v}\n`);
}

async function fingerprint(c: PgCluster): Promise<string[]> {
  return [
    await c.sql(`SELECT sum(abalance) || '/' || count(*) FROM pgbench_accounts`),
    await c.sql(`SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)) FROM wale_enc_check`),
  ];
}

async function encryptedRoundTrip(t: TestContext): Promise<void> {
  requireMajor(MAJOR);
  const root = repoRoot();
  const walE = join(root, 'bin', 'wal-e');
  await assertPostgresCanAccess([walE, join(root, 'dist', 'wal-e.mjs')]);
  const keys = join(root, 'test', 'fixtures', 'gpg-test-key');

  const workDir = makePostgresTempDir(`wale-enc-pg${MAJOR}-`);
  const verifyHome = mkdtempSync(join(tmpdir(), 'wal-e-enc-verify-'));
  const cleanups: Array<() => Promise<unknown> | void> = [() => removeTempDir(workDir), () => rmSync(verifyHome, { recursive: true, force: true })];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  // The postgres user's keyring holds the public key (all a primary needs); the restore gets a key file.
  const gnupg = join(workDir, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  gpgAs(gnupg, ['--batch', '--quiet', '--import', join(keys, 'test-key-nopass.pub.asc')]);
  const secretFile = join(workDir, 'restore-key.asc');
  copyFileSync(join(keys, 'test-key-nopass.sec.asc'), secretFile);
  chmodSync(secretFile, 0o600);
  const store = join(workDir, 'store');
  mkdirSync(store);
  const common = { WALE_FILE_PREFIX: `file://localhost${store}`, WALE_LOG_DESTINATION: 'stderr', WALE_GPG_KEY_ID: K1 };
  envDir(join(workDir, 'env'), { ...common, GNUPGHOME: gnupg });
  envDir(join(workDir, 'env-restore'), { ...common, WALE_GPG_SECRET_KEY_FILE: secretFile });
  chownToPostgres(workDir);
  cleanups.push(() => runAsPostgres('gpgconf', ['--kill', 'gpg-agent'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GNUPGHOME: gnupg } }));

  // Root's own keyring, with the secret key, to read the archive back the way WAL-E would.
  chmodSync(verifyHome, 0o700);
  gpgAs(verifyHome, ['--batch', '--quiet', '--import', join(keys, 'test-key-nopass.sec.asc')]);
  cleanups.push(() => {
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: verifyHome }, stdio: 'ignore' });
  });
  const readObject = (path: string) => execFileSync('lzop', ['-d', '-c'], { input: gpgAs(verifyHome, ['-d', '-q', '--batch', path]), maxBuffer: 64 << 20 });

  const archiveCommand = `envdir ${shellQuote(join(workDir, 'env'))} ${shellQuote(walE)} wal-push %p`;
  const restoreCommand = `envdir ${shellQuote(join(workDir, 'env-restore'))} ${shellQuote(walE)} wal-fetch %f %p`;

  const primary = await PgCluster.create({
    major: MAJOR,
    config: { wal_level: 'replica', archive_mode: 'on', archive_command: archiveCommand, max_wal_size: '1GB' },
  });
  cleanups.push(() => primary.destroy());
  await primary.start();
  const backup = await PgCluster.baseBackup(primary);
  cleanups.push(() => backup.destroy());

  await primary.pgbench(['-i', '-s', '2', '-q', 'postgres']);
  await primary.sql(`CREATE TABLE wale_enc_check AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g`);
  let lastSwitchStart = '';
  let lastSegment = '';
  for (let i = 0; i < 2; i++) {
    await primary.sql(`INSERT INTO wale_enc_check SELECT g, md5((g * ${i + 3})::text) FROM generate_series(${30000 + i * 1000}, ${30999 + i * 1000}) g`);
    lastSwitchStart = await primary.sql('SELECT pg_current_wal_insert_lsn()');
    lastSegment = await primary.sql('SELECT pg_walfile_name(pg_switch_wal())');
  }
  assert.match(lastSegment, SEGMENT_NAME);

  const walDir = join(store, 'wal_005');
  const objectOf = (name: string) => join(walDir, `${name}.lzo`);
  await waitFor(
    async () => {
      const s = await primary.archiverStats();
      return s.failedCount > 0 || existsSync(objectOf(lastSegment)) ? s : undefined;
    },
    { timeoutMs: 90_000, describe: async () => `PostgreSQL did not archive ${lastSegment}: ${JSON.stringify(await primary.archiverStats())}\n${primary.logTail()}` },
  );
  await new Promise((r) => setTimeout(r, 1000));
  const stats = await primary.archiverStats();
  assert.equal(stats.failedCount, 0, `archive_command failed (${JSON.stringify(stats)})\n${primary.logTail()}`);

  // Every object is OpenPGP (never plain lzop), and GnuPG 2.2 + lzop give back pg_wal's bytes.
  const objects = readdirSync(walDir);
  assert.ok(objects.length >= 3, `archived: ${objects.join(' ')}`);
  let compared = 0;
  for (const o of objects) {
    const path = join(walDir, o);
    assert.equal(readFileSync(path)[0], 0xc1, `${o} starts with a public-key encrypted session key packet`);
    const plain = readObject(path);
    const local = join(primary.dataDir, 'pg_wal', basename(o, '.lzo'));
    if (SEGMENT_NAME.test(basename(o, '.lzo')) && existsSync(local)) {
      assert.ok(plain.equals(readFileSync(local)), `${o} decrypts to pg_wal's bytes`);
      compared++;
    }
  }
  assert.ok(compared > 0, 'no archived segment left in pg_wal to compare against');

  const want = await fingerprint(primary);
  const restored = await PgCluster.fromBaseBackup(backup, { restoreCommand, mode: 'archive' });
  cleanups.push(() => restored.destroy());
  await restored.start();
  await restored.waitForRecoveryEnd(90_000);
  assert.equal(await restored.sql(`SELECT pg_last_wal_replay_lsn() >= '${lastSwitchStart}'::pg_lsn`), 't', restored.logTail());
  assert.match(restored.log(), new RegExp(`restored log file "${lastSegment}" from archive`));
  assert.deepEqual(await fingerprint(restored), want, 'restored data differs from the primary');
  t.diagnostic(`${objects.length} encrypted objects through ${lastSegment}, ${compared} compared with pg_wal; data ${want.join(' ')}`);
}

describe('encrypted WAL archiving against real PostgreSQL', () => {
  it(`PostgreSQL ${MAJOR}: wal-push with WALE_GPG_KEY_ID, wal-fetch with the secret key file`, { timeout: 180_000 }, (t) => encryptedRoundTrip(t));
});
