// The encrypted store WAL-E 1.1.1 wrote (test/fixtures/wale-store-gpg: one offline-named backup and
// three WAL segments, all encrypted to the TEST-ONLY key K1) restores with the built wal-e and starts on
// PostgreSQL 15, the version that made it, with the table digests recorded when the fixture was made
// (queries in test/fixtures/sql/state.sql). Decryption is proven both ways users run it: in-process with
// the secret key as a file (and a keyring that is empty, so gpg cannot be what decrypts), and through
// gpg with the key in a GNUPGHOME keyring and gpg-agent.
import { strict as assert } from 'node:assert';
import { copyFileSync, cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { baseEnv, chownToPostgres, repoRoot, requireMajor, runAsPostgres, type PgCluster } from '../helpers/postgres';
import { makeArchive, restoreAndStart, runCleanups, walE, type Archive } from '../helpers/pitr';

const MAJOR = 15;
const BACKUP = 'base_000000010000000000000040_00000040';
const K1 = '1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8';

/** MANIFEST, fixture 2: at the backup (after phase 3). */
const AT_BACKUP = [
  'accounts|400|d7fb82ff0081eadfe36f0193f7d25fd4',
  'notes|258|0faf3c093425deb27e32445850c41da8',
  'ts_items|300|4c5ca508e6acb0b6056efdd4ff71c96f',
  'events|3|fbbf2799203cc3517b44396677b3fd34',
];
/** MANIFEST, fixture 2: end of archive (phase 4). */
const END_OF_ARCHIVE = [
  'accounts|450|93b8239eba65bd5b27919dcff04e9b66',
  'notes|258|0faf3c093425deb27e32445850c41da8',
  'ts_items|300|4c5ca508e6acb0b6056efdd4ff71c96f',
  'events|4|63c610a1e384c60b794cdbcdc9a9bef8',
];

const fixtures = () => join(repoRoot(), 'test', 'fixtures');

async function digests(cluster: PgCluster): Promise<string[]> {
  return (await cluster.sql(readFileSync(join(fixtures(), 'sql', 'state.sql'), 'utf8'))).split('\n');
}

/** A copy of the encrypted store inside a fresh archive whose envdir carries `env`. */
async function gpgArchive(label: string, env: (work: string) => Record<string, string>, cleanups: (() => unknown)[]): Promise<Archive> {
  requireMajor(MAJOR);
  // Paths inside the work directory are known only once makeArchive has made it: add them to the envdir.
  const a = await makeArchive(label);
  cleanups.push(() => a.remove());
  cpSync(join(fixtures(), 'wale-store-gpg'), a.store, { recursive: true });
  const extra = env(a.work);
  Object.assign(a.env, extra);
  for (const [k, v] of Object.entries(extra)) copyToEnvdir(a, k, v);
  chownToPostgres(a.work);
  return a;
}

function copyToEnvdir(a: Archive, name: string, value: string): void {
  writeFileSync(join(a.envDir, name), `${value}\n`);
}

async function gpgAsPostgres(home: string, args: string[]): Promise<string> {
  const r = await runAsPostgres('gpg', ['--batch', ...args], { env: baseEnv({ GNUPGHOME: home }), timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`gpg ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

describe('backup-fetch of WAL-E 1.1.1 encrypted backups, recovered by PostgreSQL 15', { concurrency: 1, timeout: 600_000 }, () => {
  const cleanups: (() => unknown)[] = [];
  after(() => runCleanups(cleanups));

  it('key-file mode (WALE_GPG_SECRET_KEY_FILE): backup and WAL decrypt in-process, end of archive reached', async () => {
    const a = await gpgArchive(
      'gpg-keyfile',
      (work) => {
        const keyFile = join(work, 'k1.sec.asc');
        copyFileSync(join(fixtures(), 'gpg-test-key', 'test-key-nopass.sec.asc'), keyFile);
        const emptyHome = join(work, 'empty-gnupg');
        mkdirSync(emptyHome, { mode: 0o700 });
        return { WALE_GPG_KEY_ID: K1, WALE_GPG_SECRET_KEY_FILE: keyFile, GNUPGHOME: emptyHome };
      },
      cleanups,
    );
    const { cluster, fetch } = await restoreAndStart(
      a,
      { major: MAJOR, backup: BACKUP, configFrom: join(fixtures(), 'gpg-cluster-config') },
      cleanups,
    );
    assert.doesNotMatch(fetch.stderr, /gpg:/, 'gpg was not involved');
    assert.equal(statSync(join(cluster.dataDir, 'PG_VERSION')).mode & 0o777, 0o600);
    assert.deepEqual(await digests(cluster), END_OF_ARCHIVE);
    assert.match(cluster.log(), /restored log file "000000010000000000000004" from archive/);
  });

  it('gpg-agent mode (K1 in a GNUPGHOME keyring): recovery to the backup itself (recovery_target = immediate)', async () => {
    let home = '';
    const a = await gpgArchive(
      'gpg-agent',
      (work) => {
        home = join(work, 'gnupg');
        mkdirSync(home, { mode: 0o700 });
        return { WALE_GPG_KEY_ID: K1, GNUPGHOME: home };
      },
      cleanups,
    );
    cleanups.push(() => runAsPostgres('gpgconf', ['--kill', 'gpg-agent'], { env: baseEnv({ GNUPGHOME: home }), timeoutMs: 30_000 }));
    const keyFile = join(a.work, 'k1.sec.asc');
    copyFileSync(join(fixtures(), 'gpg-test-key', 'test-key-nopass.sec.asc'), keyFile);
    chownToPostgres(keyFile);

    // Without the key in the keyring the same fetch must fail: the keyring is what makes it work below.
    const refused = await walE(a, ['backup-fetch', join(a.work, 'refused'), BACKUP]);
    assert.notEqual(refused.code, 0, `backup-fetch without the secret key succeeded:\n${refused.stderr}`);

    await gpgAsPostgres(home, ['--import', keyFile]);
    assert.match(await gpgAsPostgres(home, ['--list-secret-keys', '--with-colons']), new RegExp(`fpr:+${K1}:`));
    const { cluster } = await restoreAndStart(
      a,
      {
        major: MAJOR,
        backup: BACKUP,
        configFrom: join(fixtures(), 'gpg-cluster-config'),
        config: { recovery_target: 'immediate', recovery_target_action: 'promote' },
      },
      cleanups,
    );
    assert.deepEqual(await digests(cluster), AT_BACKUP);
  });
});
