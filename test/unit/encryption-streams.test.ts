// The streams behind encryptionFor(): they stream (output before input ends), and a decrypter ends only
// after the object's integrity was verified. openpgp hands out plaintext before it checks the MDC at the
// end, so a tampered or truncated object must surface as a stream error *instead of* 'end': wal-fetch
// renames its temp file only on 'end', and relies on this.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildConfig } from '../../src/config/config';
import { encryptionFor, type Encryption } from '../../src/pipeline/encryption';
import { packageRoot } from '../../src/util/dist-path';
import { CorruptObjectError } from '../../src/util/errors';
import { hexMatches, parseKeySpec, userIdMatches } from '../../src/pipeline/openpgp/key-spec';

const KEYS = join(packageRoot(), 'test', 'fixtures', 'gpg-test-key');
const K1 = '1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8';
const work = mkdtempSync(join(tmpdir(), 'wal-e-enc-streams-'));
const home = join(work, 'gnupg');
const savedHome = process.env.GNUPGHOME;

async function encryption(extra: Record<string, string>): Promise<Encryption> {
  const config = buildConfig({}, { WALE_FILE_PREFIX: `file://${work}/store`, WALE_GPG_KEY_ID: K1, ...extra });
  const enc = await encryptionFor(config);
  assert.ok(enc, 'a key id turns encryption on');
  return enc;
}

interface Outcome {
  data: Buffer;
  ended: boolean;
  error: Error | undefined;
}

/** Writes `input` in chunks and records what comes out, and whether it ended or failed. */
function drive(stream: Duplex, input: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    let ended = false;
    stream.on('data', (c: Buffer) => out.push(c));
    stream.on('end', () => {
      ended = true;
    });
    stream.on('error', () => undefined);
    stream.on('close', () => resolve({ data: Buffer.concat(out), ended, error: stream.errored ?? undefined }));
    const step = 1 << 16;
    (async () => {
      for (let off = 0; off < input.length; off += step) {
        if (!stream.write(input.subarray(off, off + step))) await new Promise((r) => stream.once('drain', r));
        if (stream.destroyed) return;
      }
      stream.end();
    })().catch(() => undefined);
  });
}

const payload = randomBytes(3 << 20);
let ciphertext: Buffer;

before(async () => {
  mkdirSync(home, { mode: 0o700 });
  chmodSync(home, 0o700);
  execFileSync('gpg', ['--batch', '--quiet', '--import', join(KEYS, 'test-key-nopass.sec.asc')], { env: { ...process.env, GNUPGHOME: home }, stdio: 'pipe' });
  process.env.GNUPGHOME = home; // the gpg child of gpg mode inherits it
  const enc = await encryption({ WALE_GPG_PUBLIC_KEY_FILE: join(KEYS, 'test-key-nopass.pub.asc') });
  const r = await drive(await enc.encrypter(), payload);
  assert.equal(r.error, undefined);
  ciphertext = r.data;
});

after(() => {
  if (savedHome === undefined) delete process.env.GNUPGHOME;
  else process.env.GNUPGHOME = savedHome;
  try {
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home }, stdio: 'ignore' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

describe('no encryption without a key id', () => {
  it('encryptionFor is undefined', async () => {
    assert.equal(await encryptionFor(buildConfig({}, { WALE_FILE_PREFIX: `file://${work}/store` })), undefined);
  });
});

describe('encrypter', () => {
  it('streams: ciphertext comes out before the input has ended', async () => {
    const enc = await encryption({ WALE_GPG_PUBLIC_KEY_FILE: join(KEYS, 'test-key-nopass.pub.asc') });
    const s = await enc.encrypter();
    s.on('error', () => undefined); // destroying it below aborts the pipeline inside
    const first = new Promise<void>((resolve) => s.once('data', () => resolve()));
    s.write(randomBytes(4 << 20));
    await Promise.race([first, new Promise((_, reject) => setTimeout(() => reject(new Error('no output before end()')), 20_000))]);
    s.destroy();
  });

  it('writes what gpg decrypts to the same bytes', () => {
    const plain = execFileSync('gpg', ['-d', '-q', '--batch'], { input: ciphertext, env: { ...process.env, GNUPGHOME: home }, maxBuffer: 64 << 20 });
    assert.ok(plain.equals(payload));
  });
});

for (const [mode, extra] of [
  ['key-file mode', { WALE_GPG_SECRET_KEY_FILE: join(KEYS, 'test-key-nopass.sec.asc') }],
  ['gpg mode', {}],
] as [string, Record<string, string>][]) {
  describe(`decrypter, ${mode}`, () => {
    it('round trip, and output starts before all input is in', async () => {
      const enc = await encryption(extra);
      assert.equal(enc.decryptionMode, mode === 'gpg mode' ? 'gpg' : 'key-file');
      const s = await enc.decrypter('wal_005/x.lzo');
      let sawOutputEarly = false;
      let written = 0;
      s.once('data', () => (sawOutputEarly = written < ciphertext.length));
      const origWrite = s.write.bind(s);
      (s as { write: typeof s.write }).write = ((chunk: Buffer, ...rest: never[]) => {
        written += chunk.length;
        return origWrite(chunk, ...rest);
      }) as typeof s.write;
      const r = await drive(s, ciphertext);
      assert.equal(r.error, undefined);
      assert.ok(r.ended);
      assert.ok(r.data.equals(payload));
      assert.ok(sawOutputEarly, 'plaintext flowed before the whole object was written');
    });

    const cases: [string, () => Buffer][] = [
      ['the MDC tampered with', () => { const b = Buffer.from(ciphertext); b[b.length - 3]! ^= 0x10; return b; }],
      ['a byte in the middle tampered with', () => { const b = Buffer.from(ciphertext); b[b.length >> 1]! ^= 0x01; return b; }],
      ['the end cut off', () => ciphertext.subarray(0, ciphertext.length - 10)],
      ['cut in half', () => ciphertext.subarray(0, ciphertext.length >> 1)],
    ];
    for (const [what, make] of cases) {
      it(`${what}: errors with CorruptObjectError and never ends`, async () => {
        const enc = await encryption(extra);
        const r = await drive(await enc.decrypter('wal_005/x.lzo'), make());
        assert.equal(r.ended, false, `'end' must not be emitted (got ${r.data.length} of ${payload.length} bytes)`);
        assert.ok(r.error instanceof CorruptObjectError, `got ${r.error?.name}: ${r.error?.message}`);
        assert.match(r.error.message, /wal_005\/x\.lzo/);
      });
    }
  });
}

describe('key names as gpg -r accepts them', () => {
  const fpr = 'f4555cc145cb7d3f1e5ae5af43c878698f01d9b6';
  const keyId = '43c878698f01d9b6';
  it('fingerprints, long and short ids, 0x prefixes, spaces and the "!" suffix', () => {
    for (const s of [fpr.toUpperCase(), 'F455 5CC1 45CB 7D3F 1E5A  E5AF 43C8 7869 8F01 D9B6', keyId, `0x${keyId.toUpperCase()}`, '8F01D9B6', '0x8f01d9b6']) {
      assert.ok(hexMatches(parseKeySpec(s), fpr, keyId), s);
    }
    assert.deepEqual(parseKeySpec(`${fpr}!`), { kind: 'fingerprint', hex: fpr, exact: true });
    assert.equal(hexMatches(parseKeySpec('00A9D5A8'), fpr, keyId), false);
  });
  it('user ids: substring, <email>, @part and =exact', () => {
    const uid = 'WAL-E fixture TEST-ONLY key, no passphrase <wal-e-fixture-nopass@example.invalid>';
    for (const s of ['no passphrase', '<wal-e-fixture-nopass@example.invalid>', '@fixture-nopass', `=${uid}`, 'test-only']) {
      assert.ok(userIdMatches(parseKeySpec(s), uid), s);
    }
    for (const s of ['<wal-e-fixture-pass@example.invalid>', '=WAL-E fixture', 'absent']) assert.equal(userIdMatches(parseKeySpec(s), uid), false, s);
  });
});
