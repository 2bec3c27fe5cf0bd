// The OpenPGP pieces wal-e does with Node's crypto instead of openpgp (native-*.ts, rsa-session-key.ts):
// what they write, openpgp and GnuPG 2.2 read; what openpgp and GnuPG write, they read; the recipient
// they pick is the one openpgp picks, and in every case they do not fully understand they decline
// (undefined), so openpgp decides. Each test uses its own GNUPGHOME.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as openpgp from 'openpgp';
import { buildConfig } from '../../src/config/config';
import { encryptionFor } from '../../src/pipeline/encryption';
import { nativeEncrypter, rsaPkesk, type RsaRecipientKey } from '../../src/pipeline/openpgp/native-encrypter';
import { nativeRecipient } from '../../src/pipeline/openpgp/native-recipient';
import { storedRsaKeys, unlockRsa } from '../../src/pipeline/openpgp/native-secret-keys';
import { dearmor, readPackets } from '../../src/pipeline/openpgp/packets';
import { rsaSessionKey } from '../../src/pipeline/openpgp/rsa-session-key';
import { packageRoot } from '../../src/util/dist-path';

const KEYS = join(packageRoot(), 'test', 'fixtures', 'gpg-test-key');
const K1 = '1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8';
const K1_SUBKEY = '43c878698f01d9b6';
const K2 = '8E7EAABA2CDB423A1BBD9B6B3110A10D29C8CE83';
const K2_SUBKEY = 'b047df8748dd51f9';
const work = mkdtempSync(join(tmpdir(), 'wal-e-enc-native-'));
const home = join(work, 'gnupg');
const pub = (f: string) => dearmor(readFileSync(join(KEYS, f)));

function gpg(args: string[], input?: Buffer): Buffer {
  return execFileSync('gpg', args, { env: { ...process.env, GNUPGHOME: home }, input, maxBuffer: 64 << 20, stdio: ['pipe', 'pipe', 'pipe'] });
}

before(() => {
  mkdirSync(home, { mode: 0o700 });
  chmodSync(home, 0o700);
  gpg(['--batch', '--quiet', '--import', join(KEYS, 'test-key-nopass.sec.asc'), join(KEYS, 'test-key-passphrase.pub.asc')]);
  gpg(['--batch', '--quiet', '--import-ownertrust'], readFileSync(join(KEYS, 'ownertrust.txt')));
});

after(() => {
  try {
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home }, stdio: 'ignore' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

/** Pushes `input` through a stream in pieces of `step` bytes and collects the output. */
async function through(stream: NodeJS.ReadWriteStream, input: Buffer, step: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => out.push(c));
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  for (let off = 0; off < input.length; off += step) {
    if (!stream.write(input.subarray(off, off + step))) await new Promise((r) => stream.once('drain', r));
  }
  stream.end();
  await done;
  return Buffer.concat(out);
}

function k1Recipient(): RsaRecipientKey {
  const r = nativeRecipient(pub('test-key-nopass.pub.asc'), K1);
  assert.ok(r);
  return r;
}

async function keyFileDecrypt(ciphertext: Buffer, step: number, secretFile = join(KEYS, 'test-key-nopass.sec.asc'), extra: Record<string, string> = {}): Promise<Buffer> {
  const enc = await encryptionFor(buildConfig({}, { WALE_FILE_PREFIX: `file://${work}/store`, WALE_GPG_KEY_ID: K1, WALE_GPG_SECRET_KEY_FILE: secretFile, ...extra }));
  return through(await enc!.decrypter('wal_005/x.lzo'), ciphertext, step);
}

describe('native encrypter', () => {
  const sizes = [0, 1, 511, 65_536, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 << 20];
  for (const size of sizes) {
    it(`${size} bytes: GnuPG 2.2 and openpgp decrypt it, and so does the native decrypter`, async () => {
      const plain = randomBytes(size);
      const ct = await through(nativeEncrypter(k1Recipient()), plain, size > 100_000 ? 77_777 : 7);
      const packets = readPackets(ct);
      assert.deepEqual(packets.map((p) => p.tag), [1, 18]);
      assert.equal(packets[0]!.body.subarray(1, 9).toString('hex'), K1_SUBKEY);
      assert.ok(gpg(['-d', '-q', '--batch'], ct).equals(plain), 'gpg -d');
      const key = await openpgp.readPrivateKey({ armoredKey: readFileSync(join(KEYS, 'test-key-nopass.sec.asc'), 'utf8') });
      const { data } = await openpgp.decrypt({
        message: await openpgp.readMessage({ binaryMessage: ct }),
        decryptionKeys: key,
        format: 'binary',
        config: { minRSABits: 1024 },
      });
      assert.ok(Buffer.from(data as Uint8Array).equals(plain), 'openpgp');
      assert.ok((await keyFileDecrypt(ct, 1000)).equals(plain), 'native decrypter');
    });
  }

  it('gpg --list-packets sees what gpg -e -z 0 writes', async () => {
    const ct = await through(nativeEncrypter(k1Recipient()), randomBytes(3 << 20), 65536);
    const listing = gpg(['--batch', '--list-packets'], ct).toString();
    assert.match(listing, /:pubkey enc packet: version 3, algo 1, keyid 43C878698F01D9B6/);
    assert.match(listing, /:encrypted data packet:\s*\n\s*length: unknown\s*\n\s*mdc_method: 2/);
    assert.match(listing, /:literal data packet:\s*\n\s*mode b \(62\), created \d+, name="",/);
    const status = gpg(['--batch', '--status-fd', '1', '-d', '-o', '/dev/null'], ct).toString();
    assert.match(status, /DECRYPTION_INFO 2 9\b/, 'MDC, AES-256');
  });
});

describe('native decrypter', () => {
  const plain = randomBytes(150_000);

  it('reads what gpg -e -z 0 writes, fed a byte at a time', async () => {
    const ct = gpg(['--batch', '-e', '-z', '0', '-r', K1], plain);
    assert.ok((await keyFileDecrypt(ct, 1)).equals(plain));
  });

  it('reads what openpgp writes (other partial-length chunking)', async () => {
    const key = await openpgp.readKey({ armoredKey: readFileSync(join(KEYS, 'test-key-nopass.pub.asc'), 'utf8') });
    const ct = Buffer.from(
      (await openpgp.encrypt({
        message: await openpgp.createMessage({ binary: Readable.toWeb(Readable.from([plain])) as unknown as ReadableStream<Uint8Array> }),
        encryptionKeys: key,
        format: 'binary',
        config: { aeadProtect: false, preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed, minRSABits: 1024 },
      }).then(async (s) => Buffer.concat(await Readable.fromWeb(s as never).toArray()))) as Buffer,
    );
    assert.ok((await keyFileDecrypt(ct, 4096)).equals(plain));
  });

  it('hands compressed messages (gpg without -z 0) to openpgp with the session key it found', async () => {
    const text = Buffer.from('compressible '.repeat(10_000));
    const ct = gpg(['--batch', '-e', '-z', '6', '-r', K1], text);
    assert.ok((await keyFileDecrypt(ct, 999)).equals(text));
  });

  it('unlocks a passphrase-protected key as GnuPG exports it', async () => {
    const ct = await through(nativeEncrypter(nativeRecipient(pub('test-key-passphrase.pub.asc'), K2)!), plain, 65536);
    const out = await keyFileDecrypt(ct, 65536, join(KEYS, 'test-key-passphrase.sec.asc'), { WALE_GPG_KEY_ID: K2, WALE_GPG_PASSPHRASE: 'wal-e-test' });
    assert.ok(out.equals(plain));
  });
});

describe('native secret keys and the RSA step', () => {
  it('K2 unlocks with its passphrase only', () => {
    const stored = storedRsaKeys(pub('test-key-passphrase.sec.asc')).get(K2_SUBKEY)!;
    assert.ok(stored);
    assert.ok(unlockRsa(stored, 'wal-e-test'));
    assert.equal(unlockRsa(stored, 'wrong'), undefined);
    assert.equal(unlockRsa(stored, undefined), undefined);
  });

  it('a damaged RSA ciphertext gives a random session key, not an error', () => {
    const stored = storedRsaKeys(pub('test-key-nopass.sec.asc')).get(K1_SUBKEY)!;
    const key = unlockRsa(stored, undefined)!;
    assert.equal(key.asymmetricKeyType, 'rsa');
    const sk = randomBytes(32);
    const body = (packet: Buffer) => readPackets(packet)[0]!.body;
    const good = rsaPkesk(k1Recipient(), sk);
    assert.deepEqual(rsaSessionKey(body(good), key, stored.n.length), { algo: 9, key: sk });
    const bad = Buffer.from(good);
    bad[bad.length - 5]! ^= 0xff;
    const r1 = rsaSessionKey(body(bad), key, stored.n.length);
    const r2 = rsaSessionKey(body(bad), key, stored.n.length);
    assert.equal(r1.key.length, 32);
    assert.notDeepEqual(r1.key, sk);
    assert.notDeepEqual(r1.key, r2.key, 'random each time');
  });
});

describe('native recipient selection agrees with openpgp', () => {
  const config = { ...openpgp.config, minRSABits: 1024 };
  const day = 86_400;

  async function openpgpChoice(armored: string): Promise<string | undefined> {
    const key = await openpgp.readKey({ armoredKey: armored });
    try {
      return (await key.getEncryptionKey(undefined, new Date(), undefined, config)).getKeyID().toHex();
    } catch {
      return undefined;
    }
  }

  async function check(armored: string, spec: string, expectNative: boolean) {
    const n = nativeRecipient(dearmor(Buffer.from(armored)), spec);
    if (!expectNative) {
      assert.equal(n, undefined, 'declines');
      return;
    }
    assert.ok(n, 'the plain RSA case is handled natively');
    assert.equal(n.keyId.toString('hex'), await openpgpChoice(armored));
  }

  const past = (days: number) => new Date(Date.now() - days * day * 1000);

  it('fixtures K1 and K2, by fingerprint, key id, subkey id and user id', async () => {
    for (const [f, id, sub] of [['test-key-nopass.pub.asc', K1, K1_SUBKEY], ['test-key-passphrase.pub.asc', K2, K2_SUBKEY]] as const) {
      const armored = readFileSync(join(KEYS, f), 'utf8');
      for (const spec of [id, id.slice(-16), `0x${id.slice(-8)}`, sub.toUpperCase(), 'wal-e fixture']) {
        await check(armored, spec, true);
        assert.equal(nativeRecipient(dearmor(Buffer.from(armored)), spec)!.keyId.toString('hex'), sub);
      }
      assert.equal(nativeRecipient(dearmor(Buffer.from(armored)), `${sub}!`), undefined, '"!" is left to openpgp');
      assert.equal(nativeRecipient(dearmor(Buffer.from(armored)), 'nobody@example.invalid'), undefined);
    }
    const both = Buffer.concat([pub('test-key-nopass.pub.asc'), pub('test-key-passphrase.pub.asc')]);
    assert.equal(nativeRecipient(both, 'wal-e fixture'), undefined, 'several matching keys: openpgp decides');
    assert.equal(nativeRecipient(both, K2)!.keyId.toString('hex'), K2_SUBKEY);
  });

  it('the newest encryption subkey; expired and signing-only subkeys are passed over', async () => {
    const { publicKey } = await openpgp.generateKey({
      type: 'rsa',
      rsaBits: 2048,
      userIDs: [{ name: 'rotating', email: 'r@example.invalid' }],
      date: past(30),
      subkeys: [{}, { sign: true }],
      format: 'armored',
    });
    await check(publicKey, 'r@example.invalid', true);
    const key = await openpgp.readKey({ armoredKey: publicKey });
    assert.equal(nativeRecipient(dearmor(Buffer.from(publicKey)), 'rotating')!.keyId.toString('hex'), key.subkeys[0]!.getKeyID().toHex());
  });

  it('an expired key, and a key whose only encryption subkey expired, are left to openpgp', async () => {
    const expired = await openpgp.generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ name: 'old' }], date: past(10), keyExpirationTime: day, format: 'armored' });
    await check(expired.publicKey, 'old', false);
    const subExpired = await openpgp.generateKey({
      type: 'rsa',
      rsaBits: 2048,
      userIDs: [{ name: 'subold' }],
      date: past(10),
      subkeys: [{ keyExpirationTime: day }],
      format: 'armored',
    });
    await check(subExpired.publicKey, 'subold', false);
    assert.equal(await openpgpChoice(subExpired.publicKey), undefined, 'openpgp refuses it too');
  });

  it('a revoked subkey, and ECC keys, are left to openpgp', async () => {
    const g = await openpgp.generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ name: 'rev' }], date: past(2), format: 'object' });
    const revoked = await g.privateKey.subkeys[0]!.revoke(g.privateKey.keyPacket as openpgp.SecretKeyPacket, undefined, new Date(), config);
    g.privateKey.subkeys[0] = revoked;
    await check(g.privateKey.toPublic().armor(), 'rev', false);
    const ecc = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'ecc' }], format: 'armored' });
    await check(ecc.publicKey, 'ecc', false);
  });

  it('damaged self-signatures: the key is left to openpgp', () => {
    const bytes = Buffer.from(pub('test-key-nopass.pub.asc'));
    const packets = readPackets(bytes);
    const sig = packets.find((p) => p.tag === 2)!;
    sig.body[sig.body.length - 3]! ^= 0x01; // inside the user id certification's RSA value
    assert.equal(nativeRecipient(bytes, K1), undefined);
  });

  it('the public half of a secret key file (WALE_GPG_SECRET_KEY_FILE on a pushing host)', () => {
    assert.equal(nativeRecipient(pub('test-key-nopass.sec.asc'), K1)!.keyId.toString('hex'), K1_SUBKEY);
    assert.equal(nativeRecipient(pub('test-key-passphrase.sec.asc'), K2)!.keyId.toString('hex'), K2_SUBKEY);
  });

  it('armor with headers and CRC', () => {
    const armored = readFileSync(join(KEYS, 'test-key-nopass.pub.asc'), 'utf8').replace('\n\n', '\nComment: test\n\n');
    writeFileSync(join(work, 'k.asc'), armored);
    assert.equal(nativeRecipient(dearmor(readFileSync(join(work, 'k.asc'))), K1)!.keyId.toString('hex'), K1_SUBKEY);
  });
});
