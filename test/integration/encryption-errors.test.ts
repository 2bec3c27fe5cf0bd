// Bad ciphertext and bad key configuration end in one clear log line and a non-zero exit, in both
// decryption modes: no stack trace, no destination or temp file left behind, no secret in the output.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../src/util/dist-path';
import { runWalE, type RunResult } from '../helpers/cli';

const FIX = join(packageRoot(), 'test', 'fixtures');
const KEYS = join(FIX, 'gpg-test-key');
const K1 = '1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8';
const K2 = '8E7EAABA2CDB423A1BBD9B6B3110A10D29C8CE83';
const SEG = '000000010000000000000002';
const K2_SEG = '000000010000000000000004';
const SECRET_PASSPHRASE = 'not-the-passphrase-31415';

const work = mkdtempSync(join(tmpdir(), 'wal-e-enc-errors-'));
const home = join(work, 'gnupg');
const store = join(work, 'store');

const FILE_MODE = { WALE_GPG_SECRET_KEY_FILE: join(KEYS, 'test-key-nopass.sec.asc') };
const MODES: [string, Record<string, string>][] = [
  ['key-file mode', FILE_MODE],
  ['gpg mode', {}],
];

function object(name: string): Buffer {
  return readFileSync(join(FIX, 'wale-store-gpg', 'wal_005', `${name}.lzo`));
}

/** Variants of a good encrypted object, each stored under its own segment name. */
const good = () => object(SEG);
const VARIANTS: Record<string, { seg: string; make: () => Buffer; msg: RegExp; code: number }> = {
  'a flipped MDC byte': {
    seg: '0000000100000000000000A1',
    make: () => { const b = Buffer.from(good()); b[b.length - 1]! ^= 1; return b; },
    msg: /MSG: corrupt encrypted object "wal_005\/0000000100000000000000A1\.lzo"/,
    code: 2,
  },
  'a flipped byte in the middle': {
    seg: '0000000100000000000000A2',
    make: () => { const b = Buffer.from(good()); b[b.length >> 1]! ^= 0x40; return b; },
    msg: /MSG: (corrupt encrypted object|lzop: corrupt object) "wal_005\/0000000100000000000000A2\.lzo"/,
    code: 2,
  },
  'the last 30 bytes cut off': {
    seg: '0000000100000000000000A3',
    make: () => good().subarray(0, good().length - 30),
    msg: /MSG: (corrupt encrypted object|lzop: corrupt object) "wal_005\/0000000100000000000000A3\.lzo"/,
    code: 2,
  },
  'only the first 1000 bytes': {
    seg: '0000000100000000000000A4',
    make: () => good().subarray(0, 1000),
    msg: /MSG: (corrupt encrypted object|lzop: corrupt object) "wal_005\/0000000100000000000000A4\.lzo"/,
    code: 2,
  },
  'bytes that are not OpenPGP at all': {
    seg: '0000000100000000000000A5',
    make: () => Buffer.from('this is not an OpenPGP message, just text\n'.repeat(50)),
    msg: /MSG: corrupt encrypted object "wal_005\/0000000100000000000000A5\.lzo"/,
    code: 2,
  },
  'a plain lzop object (archived without a key id)': {
    seg: '0000000100000000000000A6',
    make: () => readFileSync(join(FIX, 'lzop', 'small-a.lzo')),
    msg: /MSG: "wal_005\/0000000100000000000000A6\.lzo" is not encrypted\n.*\n\s+HINT: It was archived without WALE_GPG_KEY_ID/,
    code: 1,
  },
};

function env(extra: Record<string, string> = {}): Record<string, string> {
  return { GNUPGHOME: home, WALE_FILE_PREFIX: `file://${store}`, ...extra };
}

/** Runs wal-fetch into an empty directory and checks the failure shape shared by every case. */
async function fetchFails(seg: string, extra: Record<string, string>): Promise<RunResult> {
  const outDir = mkdtempSync(join(work, 'restore-'));
  const r = await runWalE(['wal-fetch', '--prefetch', '0', seg, join(outDir, seg)], { env: env(extra) });
  assert.notEqual(r.code, 0, `wal-fetch of ${seg} must fail:\n${r.stderr}`);
  assert.deepEqual(readdirSync(outDir), [], 'no destination and no temp file left behind');
  const failures = r.stderr.split('\n').filter((l) => / (ERROR|CRITICAL) +MSG:/.test(l));
  assert.equal(failures.length, 1, `exactly one error line:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /^\s+at .*\(.*:\d+:\d+\)$/m, 'no stack trace');
  assert.doesNotMatch(r.stderr, /An unprocessed exception/);
  return r;
}

before(() => {
  mkdirSync(home, { mode: 0o700 });
  chmodSync(home, 0o700);
  const gpgEnv = { ...process.env, GNUPGHOME: home };
  execFileSync('gpg', ['--batch', '--quiet', '--import', join(KEYS, 'test-key-nopass.sec.asc')], { env: gpgEnv, stdio: 'pipe' });
  mkdirSync(join(store, 'wal_005'), { recursive: true });
  writeFileSync(join(store, 'wal_005', `${SEG}.lzo`), good());
  writeFileSync(join(store, 'wal_005', `${K2_SEG}.lzo`), readFileSync(join(FIX, 'wale-store-gpg-passphrase', 'wal_005', `${K2_SEG}.lzo`)));
  for (const v of Object.values(VARIANTS)) writeFileSync(join(store, 'wal_005', `${v.seg}.lzo`), v.make());
});

after(() => {
  try {
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home }, stdio: 'ignore' });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

describe('corrupt or mismatched objects', () => {
  for (const [mode, extra] of MODES) {
    for (const [what, v] of Object.entries(VARIANTS)) {
      it(`${what}: ${mode}`, async () => {
        const r = await fetchFails(v.seg, { WALE_GPG_KEY_ID: K1, ...extra });
        assert.equal(r.code, v.code, r.stderr);
        assert.match(r.stderr, v.msg);
      });
    }
  }

  it('the intact object still decrypts in both modes (the harness itself is sound)', async () => {
    for (const [mode, extra] of MODES) {
      const outDir = mkdtempSync(join(work, 'restore-'));
      const r = await runWalE(['wal-fetch', '--prefetch', '0', SEG, join(outDir, SEG)], { env: env({ WALE_GPG_KEY_ID: K1, ...extra }) });
      assert.equal(r.code, 0, `${mode}: ${r.stderr}`);
      assert.equal(readFileSync(join(outDir, SEG)).length, 16 << 20);
    }
  });
});

describe('key configuration problems', () => {
  it('an object encrypted to another key: key-file mode names both sides', async () => {
    const r = await fetchFails(K2_SEG, { WALE_GPG_KEY_ID: K1, ...FILE_MODE });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ERROR +MSG: no secret key for "wal_005\/000000010000000000000004\.lzo"\n\s+DETAIL: The object is encrypted to B047DF8748DD51F9; WALE_GPG_SECRET_KEY_FILE .* holds D058DD2E00A9D5A8, 43C878698F01D9B6\./);
  });

  it('an object encrypted to another key: gpg mode', async () => {
    const r = await fetchFails(K2_SEG, { WALE_GPG_KEY_ID: K1 });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ERROR +MSG: gpg found no usable secret key for "wal_005\/000000010000000000000004\.lzo"/);
  });

  it('a wrong passphrase is refused and never logged, from the variable or the file', async () => {
    const passFile = join(work, 'wrong-passphrase');
    writeFileSync(passFile, `${SECRET_PASSPHRASE}\n`);
    for (const pass of [{ WALE_GPG_PASSPHRASE: SECRET_PASSPHRASE }, { WALE_GPG_PASSPHRASE_FILE: passFile }] as Record<string, string>[]) {
      const r = await fetchFails(K2_SEG, { WALE_GPG_KEY_ID: K2, WALE_GPG_SECRET_KEY_FILE: join(KEYS, 'test-key-passphrase.sec.asc'), ...pass });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /ERROR +MSG: the passphrase does not unlock the secret key B047DF8748DD51F9 in WALE_GPG_SECRET_KEY_FILE/);
      assert.ok(!r.stderr.includes(SECRET_PASSPHRASE), 'the passphrase is not in the output');
      assert.ok(!r.stdout.includes(SECRET_PASSPHRASE));
    }
  });

  it('a protected key without any passphrase', async () => {
    const r = await fetchFails(K2_SEG, { WALE_GPG_KEY_ID: K2, WALE_GPG_SECRET_KEY_FILE: join(KEYS, 'test-key-passphrase.sec.asc') });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MSG: the secret key B047DF8748DD51F9 .* is protected by a passphrase\n\s+HINT: Set WALE_GPG_PASSPHRASE or WALE_GPG_PASSPHRASE_FILE/);
  });

  it('both passphrase settings at once', async () => {
    const r = await fetchFails(SEG, { WALE_GPG_KEY_ID: K1, ...FILE_MODE, WALE_GPG_PASSPHRASE: SECRET_PASSPHRASE, WALE_GPG_PASSPHRASE_FILE: '/nonexistent' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /MSG: both WALE_GPG_PASSPHRASE and WALE_GPG_PASSPHRASE_FILE are set/);
    assert.ok(!r.stderr.includes(SECRET_PASSPHRASE));
  });

  it('a missing or unreadable key file, and a file that holds no key', async () => {
    const missing = await fetchFails(SEG, { WALE_GPG_KEY_ID: K1, WALE_GPG_SECRET_KEY_FILE: join(work, 'no-such-key.asc') });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /MSG: could not read WALE_GPG_SECRET_KEY_FILE\n\s+DETAIL: ".*no-such-key\.asc": ENOENT/);
    const junk = join(work, 'junk.asc');
    writeFileSync(junk, '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nbm90IGEga2V5\n-----END PGP PRIVATE KEY BLOCK-----\n');
    const notKey = await fetchFails(SEG, { WALE_GPG_KEY_ID: K1, WALE_GPG_SECRET_KEY_FILE: junk });
    assert.equal(notKey.code, 1);
    assert.match(notKey.stderr, /MSG: WALE_GPG_SECRET_KEY_FILE holds no usable OpenPGP key/);
    // A public key where a secret key belongs.
    const pub = await fetchFails(SEG, { WALE_GPG_KEY_ID: K1, WALE_GPG_SECRET_KEY_FILE: join(KEYS, 'test-key-nopass.pub.asc') });
    assert.equal(pub.code, 1);
    assert.match(pub.stderr, /MSG: WALE_GPG_SECRET_KEY_FILE holds no usable OpenPGP key/);
  });

  it('a push with a key that cannot encrypt leaves no object', async () => {
    // The fixture's primary key is [SC]: forcing it with "!" leaves no encryption-capable key.
    const wal = join(work, '000000010000000000000077');
    writeFileSync(wal, Buffer.alloc(1 << 20, 7));
    const r = await runWalE(['wal-push', '--pool-size', '1', wal], {
      env: env({ WALE_GPG_KEY_ID: `${K1}!`, WALE_GPG_PUBLIC_KEY_FILE: join(KEYS, 'test-key-nopass.pub.asc') }),
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /ERROR +MSG: the key WALE_GPG_KEY_ID "1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8!" names cannot encrypt/);
    assert.equal(existsSync(join(store, 'wal_005', '000000010000000000000077.lzo')), false);
  });
});
