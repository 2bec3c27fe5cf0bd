// Encrypted archives are interchangeable with WAL-E's: what `wal-e wal-push` encrypts, GnuPG 2.2 reads
// (`gpg -d`, then `lzop -d`), and what `lzop -c | gpg -e -z 0 -r KEY` (WAL-E's pipeline) or WAL-E
// itself wrote, `wal-e wal-fetch` reads, both with a key file (in-process) and through gpg and its agent.
// Every test uses its own GNUPGHOME holding the TEST-ONLY fixture keys, never the machine's keyring.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../src/util/dist-path';
import { runWalE, type RunResult } from '../helpers/cli';

const FIX = join(packageRoot(), 'test', 'fixtures');
const KEYS = join(FIX, 'gpg-test-key');
const K1 = '1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8';
const K1_SUBKEY_ID = '43C878698F01D9B6';
const K2 = '8E7EAABA2CDB423A1BBD9B6B3110A10D29C8CE83';
const K2_SUBKEY_ID = 'B047DF8748DD51F9';
const K2_PASSPHRASE = 'wal-e-test';
const K2_PAYLOAD_MD5 = 'ff77f5c9aedc5d81ceb1ed7cbb46c969';
const SEGMENT = '000000010000000000000005';

const work = mkdtempSync(join(tmpdir(), 'wal-e-enc-interop-'));
const home = join(work, 'gnupg');
const noGpgPath = join(work, 'empty-path');
let walFile: string;

function gpg(args: string[], input?: Buffer | string): Buffer {
  return execFileSync('gpg', args, { env: { ...process.env, GNUPGHOME: home }, input, maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'pipe'] });
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const lzopDecompress = (b: Buffer) => execFileSync('lzop', ['-d', '-c'], { input: b, maxBuffer: 64 << 20 });
/** GnuPG 2.2 then lzop, WAL-E's read path: the oracle for every object. */
const gpgThenLzop = (path: string) => lzopDecompress(gpg(['-d', '-q', '--batch', path]));

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { GNUPGHOME: home, ...extra };
}

function assertOk(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /ERROR|CRITICAL/, what);
}

/** One packet header of a new-format OpenPGP packet stream: tag, header length, body length (undefined when partial). */
function packetAt(b: Buffer, off: number): { tag: number; hlen: number; len: number | undefined } {
  const ctb = b[off]!;
  assert.equal(ctb & 0xc0, 0xc0, `new-format packet at ${off}`);
  const l0 = b[off + 1]!;
  if (l0 < 192) return { tag: ctb & 0x3f, hlen: 2, len: l0 };
  if (l0 < 224) return { tag: ctb & 0x3f, hlen: 3, len: ((l0 - 192) << 8) + b[off + 2]! + 192 };
  if (l0 === 255) return { tag: ctb & 0x3f, hlen: 6, len: b.readUInt32BE(off + 2) };
  return { tag: ctb & 0x3f, hlen: 2, len: undefined };
}

/** Asserts WAL-E's packet layout (spec §4.3): PKESK v3 to the subkey, SEIPD v1, literal "b" without name, no compression. */
function assertGnupg22Layout(path: string, subkeyId: string): void {
  const b = readFileSync(path);
  const p1 = packetAt(b, 0);
  assert.equal(p1.tag, 1, 'first packet is a public-key encrypted session key');
  assert.equal(b[p1.hlen], 3, 'PKESK version 3');
  assert.equal(b.subarray(p1.hlen + 1, p1.hlen + 9).toString('hex').toUpperCase(), subkeyId);
  const p2 = packetAt(b, p1.hlen + p1.len!);
  assert.equal(p2.tag, 18, 'then a symmetrically encrypted integrity protected data packet');
  assert.equal(b[p1.hlen + p1.len! + p2.hlen], 1, 'SEIPD version 1 (MDC), which GnuPG 2.2 reads; not v2/AEAD');
  const listing = gpg(['--list-packets', path]).toString();
  assert.match(listing, /:pubkey enc packet: version 3, algo 1, keyid /);
  assert.match(listing, /mdc_method: 2/);
  assert.match(listing, /:literal data packet:\s+mode b \(62\), created \d+, name="",/);
  assert.doesNotMatch(listing, /compressed packet/, 'no compression inside OpenPGP (gpg -z 0)');
  assert.doesNotMatch(listing, /aead/i);
}

function storeWith(name: string, objects: Record<string, Buffer | string>): string {
  const dir = join(work, name);
  mkdirSync(join(dir, 'wal_005'), { recursive: true });
  for (const [seg, data] of Object.entries(objects)) {
    const target = join(dir, 'wal_005', `${seg}.lzo`);
    if (typeof data === 'string') copyFileSync(data, target);
    else writeFileSync(target, data);
  }
  return dir;
}

async function fetchTo(store: string, seg: string, extra: Record<string, string>): Promise<{ r: RunResult; out: string; data: Buffer | undefined }> {
  const outDir = mkdtempSync(join(work, 'restore-'));
  const out = join(outDir, seg);
  const r = await runWalE(['wal-fetch', '--prefetch', '0', seg, out], { env: env({ WALE_FILE_PREFIX: `file://${store}`, ...extra }) });
  const data = existsSync(out) ? readFileSync(out) : undefined;
  if (r.code !== 0) assert.deepEqual(readdirSync(outDir), [], `a failed wal-fetch leaves nothing behind:\n${r.stderr}`);
  return { r, out, data };
}

const FILE_MODE = { WALE_GPG_SECRET_KEY_FILE: join(KEYS, 'test-key-nopass.sec.asc') };
const MODES: [string, Record<string, string>][] = [
  ['key-file mode (in-process)', FILE_MODE],
  ['gpg mode (gpg -d and its agent)', {}],
];

before(() => {
  mkdirSync(home, { mode: 0o700 });
  chmodSync(home, 0o700);
  writeFileSync(join(home, 'gpg-agent.conf'), 'allow-preset-passphrase\n');
  gpg(['--batch', '--quiet', '--import', join(KEYS, 'test-key-nopass.sec.asc'), join(KEYS, 'test-key-passphrase.sec.asc')]);
  gpg(['--batch', '--quiet', '--import-ownertrust'], readFileSync(join(KEYS, 'ownertrust.txt')));
  mkdirSync(noGpgPath);
  walFile = join(work, SEGMENT);
  writeFileSync(walFile, lzopDecompress(readFileSync(join(FIX, 'lzop', `wal-store-${SEGMENT}.lzo`))));
  assert.equal(readFileSync(walFile).length, 16 << 20);
});

after(() => {
  try {
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home }, stdio: 'ignore' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

describe('wal-push encrypts what GnuPG 2.2 decrypts', () => {
  it('with the recipient from the gpg keyring (WAL-E set-up unchanged)', async () => {
    const store = join(work, 'push-keyring');
    const r = await runWalE(['wal-push', '--pool-size', '1', walFile], { env: env({ WALE_FILE_PREFIX: `file://${store}`, WALE_GPG_KEY_ID: K1 }) });
    assertOk(r, 'wal-push');
    const object = join(store, 'wal_005', `${SEGMENT}.lzo`);
    assertGnupg22Layout(object, K1_SUBKEY_ID);
    assert.ok(gpgThenLzop(object).equals(readFileSync(walFile)), 'gpg -d | lzop -d gives the WAL file back');
  });

  it('with WALE_GPG_PUBLIC_KEY_FILE and no gpg installed, for every key name gpg -r accepts', async () => {
    const names = [K1, K1.slice(-16), K1.slice(-8), `0x${K1.slice(-16).toLowerCase()}`, 'F4555CC145CB7D3F1E5AE5AF43C878698F01D9B6!',
      '<wal-e-fixture-nopass@example.invalid>', 'no passphrase'];
    for (const [i, keyId] of names.entries()) {
      const store = join(work, `push-file-${i}`);
      const r = await runWalE(['wal-push', '--pool-size', '1', walFile], {
        env: env({ PATH: noGpgPath, WALE_FILE_PREFIX: `file://${store}`, WALE_GPG_KEY_ID: keyId, WALE_GPG_PUBLIC_KEY_FILE: join(KEYS, 'test-key-nopass.pub.asc') }),
      });
      assertOk(r, `wal-push with WALE_GPG_KEY_ID=${keyId}`);
      const object = join(store, 'wal_005', `${SEGMENT}.lzo`);
      assertGnupg22Layout(object, K1_SUBKEY_ID);
      assert.ok(gpgThenLzop(object).equals(readFileSync(walFile)), `round trip through gpg for ${keyId}`);
    }
  });

  it('refuses a key id the key file does not hold, and stores nothing', async () => {
    const store = join(work, 'push-nomatch');
    const r = await runWalE(['wal-push', '--pool-size', '1', walFile], {
      env: env({ PATH: noGpgPath, WALE_FILE_PREFIX: `file://${store}`, WALE_GPG_KEY_ID: K2, WALE_GPG_PUBLIC_KEY_FILE: join(KEYS, 'test-key-nopass.pub.asc') }),
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /ERROR +MSG: no OpenPGP key in WALE_GPG_PUBLIC_KEY_FILE .* matches WALE_GPG_KEY_ID "8E7EAABA/);
    assert.equal(existsSync(join(store, 'wal_005', `${SEGMENT}.lzo`)), false);
  });

  it('refuses a key id missing from the keyring, and one gpg cannot be found for', async () => {
    const store = join(work, 'push-missing');
    const missing = await runWalE(['wal-push', '--pool-size', '1', walFile], {
      env: env({ WALE_FILE_PREFIX: `file://${store}`, WALE_GPG_KEY_ID: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01' }),
    });
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(missing.stderr, /MSG: no public key for WALE_GPG_KEY_ID "ABCDEF01.*" in the gpg keyring/);
    const noGpg = await runWalE(['wal-push', '--pool-size', '1', walFile], {
      env: env({ PATH: noGpgPath, WALE_FILE_PREFIX: `file://${store}`, WALE_GPG_KEY_ID: K1 }),
    });
    assert.equal(noGpg.code, 1, noGpg.stderr);
    assert.match(noGpg.stderr, /MSG: could not run one or more external programs WAL-E depends upon\n\s+DETAIL: Could not run the following programs, are they installed\? gpg/);
    assert.equal(existsSync(join(store, 'wal_005', `${SEGMENT}.lzo`)), false);
  });
});

describe('wal-fetch decrypts what gpg and WAL-E encrypted', () => {
  for (const [mode, extra] of MODES) {
    it(`objects made by "lzop -c | gpg -e -z 0 -r KEY", in ${mode}`, async () => {
      const object = gpg(['-e', '-z', '0', '-r', K1], execFileSync('lzop', ['-c', walFile], { maxBuffer: 64 << 20 }));
      const store = storeWith(`gpg-made-${mode.split(' ')[0]}`, { [SEGMENT]: object });
      const { r, data } = await fetchTo(store, SEGMENT, { WALE_GPG_KEY_ID: K1, ...extra });
      assertOk(r, 'wal-fetch');
      assert.ok(data!.equals(readFileSync(walFile)), 'identical WAL bytes');
    });

    it(`WAL-E's encrypted fixture store, in ${mode}`, async () => {
      const store = join(FIX, 'wale-store-gpg');
      for (const seg of ['000000010000000000000002', '000000010000000000000003', '000000010000000000000004']) {
        const expected = gpgThenLzop(join(store, 'wal_005', `${seg}.lzo`));
        const { r, data } = await fetchTo(store, seg, { WALE_GPG_KEY_ID: K1, ...extra });
        assertOk(r, `wal-fetch ${seg}`);
        assert.ok(data!.equals(expected), `${seg} matches gpg -d | lzop -d`);
        if (seg.endsWith('4')) assert.equal(md5(data!), K2_PAYLOAD_MD5);
      }
    });
  }

  it('the passphrase-protected fixture with a key file and WALE_GPG_PASSPHRASE or WALE_GPG_PASSPHRASE_FILE, without gpg', async () => {
    const store = join(FIX, 'wale-store-gpg-passphrase');
    const seg = '000000010000000000000004';
    const passFile = join(work, 'passphrase.txt');
    writeFileSync(passFile, `${K2_PASSPHRASE}\nsecond line is ignored\n`, { mode: 0o600 });
    const secret = join(KEYS, 'test-key-passphrase.sec.asc');
    for (const pass of [{ WALE_GPG_PASSPHRASE: K2_PASSPHRASE }, { WALE_GPG_PASSPHRASE_FILE: passFile }] as Record<string, string>[]) {
      const { r, data } = await fetchTo(store, seg, { PATH: noGpgPath, WALE_GPG_KEY_ID: K2, WALE_GPG_SECRET_KEY_FILE: secret, ...pass });
      assertOk(r, `wal-fetch with ${Object.keys(pass)[0]}`);
      assert.equal(md5(data!), K2_PAYLOAD_MD5);
      assert.ok(!r.stderr.includes(K2_PASSPHRASE), 'the passphrase is never logged');
    }
  });

  it('the passphrase-protected fixture through gpg-agent: fails cleanly until the passphrase is cached, then works', async () => {
    const store = join(FIX, 'wale-store-gpg-passphrase');
    const seg = '000000010000000000000004';
    const uncached = await fetchTo(store, seg, { WALE_GPG_KEY_ID: K2 });
    assert.equal(uncached.r.code, 1, uncached.r.stderr);
    assert.equal(uncached.data, undefined);
    assert.match(uncached.r.stderr, new RegExp(`ERROR +MSG: gpg found no usable secret key for "wal_005/${seg}.lzo"\\n\\s+DETAIL: The object is encrypted to ${K2_SUBKEY_ID}\\.`));
    assert.doesNotMatch(uncached.r.stderr, /^\s+at /m, 'no stack trace');

    // Cache the passphrase in this GNUPGHOME's agent, as an operator would before a restore.
    const colons = gpg(['--with-colons', '--with-keygrip', '-K', K2]).toString().split('\n');
    const at = colons.findIndex((l) => l.startsWith(`ssb:`) && l.split(':')[4] === K2_SUBKEY_ID);
    const keygrip = colons.slice(at).find((l) => l.startsWith('grp:'))!.split(':')[9]!;
    const libexec = execFileSync('gpgconf', ['--list-dirs', 'libexecdir']).toString().trim();
    execFileSync('gpg-connect-agent', ['/bye'], { env: { ...process.env, GNUPGHOME: home }, stdio: 'ignore' });
    execFileSync(join(libexec, 'gpg-preset-passphrase'), ['--preset', keygrip], { env: { ...process.env, GNUPGHOME: home }, input: K2_PASSPHRASE });

    const cached = await fetchTo(store, seg, { WALE_GPG_KEY_ID: K2 });
    assertOk(cached.r, 'wal-fetch with the passphrase in gpg-agent');
    assert.equal(md5(cached.data!), K2_PAYLOAD_MD5);
  });

  it('key-file mode needs no gpg; gpg mode reports a missing gpg the way WAL-E did', async () => {
    const store = join(FIX, 'wale-store-gpg');
    const seg = '000000010000000000000002';
    const ok = await fetchTo(store, seg, { PATH: noGpgPath, WALE_GPG_KEY_ID: K1, ...FILE_MODE });
    assertOk(ok.r, 'wal-fetch without gpg in key-file mode');
    const missing = await fetchTo(store, seg, { PATH: noGpgPath, WALE_GPG_KEY_ID: K1 });
    assert.equal(missing.r.code, 1, missing.r.stderr);
    assert.equal(missing.data, undefined);
    assert.match(missing.r.stderr, /MSG: could not run one or more external programs WAL-E depends upon\n\s+DETAIL: Could not run the following programs, are they installed\? gpg/);
  });
});
