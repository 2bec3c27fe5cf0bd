// openpgp is large: archive_command starts one process per WAL segment, so a run without a key id must
// not load it, and neither must an encrypted push to, or a key-file fetch with, a plain RSA key (Node's
// crypto does those), so these checks also show that the native paths, not openpgp, did the work.
// A module-resolution hook records what each run loads.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { packageRoot } from '../../src/util/dist-path';
import { runWalERecordingLoads } from '../helpers/cli';

const OPENPGP = /\/node_modules\/openpgp\//;
const work = mkdtempSync(join(tmpdir(), 'wal-e-enc-lazy-'));
after(() => rmSync(work, { recursive: true, force: true }));


async function pushLoads(seg: string, env: Record<string, string>): Promise<string[]> {
  const wal = join(work, seg);
  writeFileSync(wal, Buffer.alloc(1 << 16, 1));
  const r = await runWalERecordingLoads(['wal-push', '--pool-size', '1', wal], {
    env: { WALE_FILE_PREFIX: `file://${join(work, 'store')}`, ...env },
  });
  assert.equal(r.code, 0, r.stderr);
  return r.loaded;
}

async function fetchLoads(store: string, seg: string, env: Record<string, string>): Promise<string[]> {
  const out = join(work, `fetched-${seg}-${Object.keys(env).length}`);
  const r = await runWalERecordingLoads(['wal-fetch', '--prefetch', '0', seg, out], {
    env: { WALE_FILE_PREFIX: `file://${store}`, ...env },
  });
  assert.equal(r.code, 0, r.stderr);
  return r.loaded;
}

describe('openpgp is loaded only when a key id is set', () => {
  it('wal-push without WALE_GPG_KEY_ID does not load openpgp', async () => {
    const loaded = await pushLoads('000000010000000000000001', {});
    assert.ok(loaded.some((u) => u.endsWith('/dist/wal-e.mjs')), 'the hook saw the bundle load');
    assert.deepEqual(loaded.filter((u) => OPENPGP.test(u)), []);
  });

  const publicKeyFile = join(packageRoot(), 'test', 'fixtures', 'gpg-test-key', 'test-key-nopass.pub.asc');

  it('wal-push with WALE_GPG_KEY_ID naming an RSA key does not load it either', async () => {
    const loaded = await pushLoads('000000010000000000000002', {
      WALE_GPG_KEY_ID: '1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8',
      WALE_GPG_PUBLIC_KEY_FILE: publicKeyFile,
    });
    assert.ok(readFileSync(join(work, 'store', 'wal_005', '000000010000000000000002.lzo'))[0] === 0xc1, 'the object is encrypted');
    assert.deepEqual(loaded.filter((u) => OPENPGP.test(u)), []);
  });

  it('wal-push with a case left to openpgp (a forced "KEY!" subkey) loads it (so the checks above can fail)', async () => {
    const loaded = await pushLoads('000000010000000000000003', {
      WALE_GPG_KEY_ID: '43C878698F01D9B6!',
      WALE_GPG_PUBLIC_KEY_FILE: publicKeyFile,
    });
    assert.ok(loaded.some((u) => OPENPGP.test(u)), `openpgp among: ${loaded.join(', ')}`);
  });

  const keys = join(packageRoot(), 'test', 'fixtures', 'gpg-test-key');

  it('wal-fetch with WALE_GPG_SECRET_KEY_FILE (RSA) does not load it: for what wal-e and WAL-E (gpg) wrote', async () => {
    const env = { WALE_GPG_KEY_ID: '1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8', WALE_GPG_SECRET_KEY_FILE: join(keys, 'test-key-nopass.sec.asc') };
    const own = await fetchLoads(join(work, 'store'), '000000010000000000000002', env);
    assert.deepEqual(own.filter((u) => OPENPGP.test(u)), []);
    const wale = await fetchLoads(join(packageRoot(), 'test', 'fixtures', 'wale-store-gpg'), '000000010000000000000003', env);
    assert.deepEqual(wale.filter((u) => OPENPGP.test(u)), []);
  });

  it('nor for a passphrase-protected key as GnuPG exports it', async () => {
    const loaded = await fetchLoads(join(packageRoot(), 'test', 'fixtures', 'wale-store-gpg-passphrase'), '000000010000000000000004', {
      WALE_GPG_KEY_ID: '8E7EAABA2CDB423A1BBD9B6B3110A10D29C8CE83',
      WALE_GPG_SECRET_KEY_FILE: join(keys, 'test-key-passphrase.sec.asc'),
      WALE_GPG_PASSPHRASE: 'wal-e-test',
    });
    assert.deepEqual(loaded.filter((u) => OPENPGP.test(u)), []);
  });

  it('but a wrong passphrase is explained by openpgp (so the checks above can fail)', async () => {
    const r = await runWalERecordingLoads(['wal-fetch', '--prefetch', '0', '000000010000000000000004', join(work, 'never')], {
      env: {
        WALE_FILE_PREFIX: `file://${join(packageRoot(), 'test', 'fixtures', 'wale-store-gpg-passphrase')}`,
        WALE_GPG_KEY_ID: '8E7EAABA2CDB423A1BBD9B6B3110A10D29C8CE83',
        WALE_GPG_SECRET_KEY_FILE: join(keys, 'test-key-passphrase.sec.asc'),
        WALE_GPG_PASSPHRASE: 'not it',
      },
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /the passphrase does not unlock the secret key B047DF8748DD51F9/);
    assert.ok(r.loaded.some((u) => OPENPGP.test(u)));
  });
});
