// wal-push and wal-fetch through the built bin/wal-e against Azurite with WAL-E's environment
// (WALE_WABS_PREFIX, WABS_ACCOUNT_NAME, WABS_ACCESS_KEY / WABS_SAS_TOKEN, plus WALE_WABS_ENDPOINT):
// WAL-E's own objects read back byte-identical, round trips, exit codes, faults injected by a proxy,
// and lazy loading of the Azure SDK alone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerClient } from '@azure/storage-blob';
import { packageRoot } from '../../src/util/dist-path';
import { assertWalEShaped, logMessages, runWalE, runWalERecordingLoads, tempDir } from '../helpers/cli';
import { FaultProxy } from '../helpers/fault-proxy';
import { startService } from '../helpers/services';
import { walFile } from '../helpers/wal-data';

const FIXTURE = join(packageRoot(), 'test', 'fixtures', 'wale-store-plain', 'wal_005');
const run = Date.now().toString(36);
const work = tempDir('wabscli');
let svc: Record<string, string>;
let container: ContainerClient;
let proxy: FaultProxy;

/** The blob endpoint with its host swapped for the proxy's (Azurite is path-style: /account/...). */
const viaProxy = () => svc.AZURE_STORAGE_BLOB_ENDPOINT!.replace(/\/\/[^/]+/, `//127.0.0.1:${proxy.port}`);

function walEnv(prefixPath: string, endpoint = svc.AZURE_STORAGE_BLOB_ENDPOINT!, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WALE_WABS_PREFIX: `wabs://${svc.AZURE_STORAGE_CONTAINER}/${prefixPath}`,
    WABS_ACCOUNT_NAME: svc.AZURE_STORAGE_ACCOUNT!,
    WABS_ACCESS_KEY: svc.AZURE_STORAGE_KEY!,
    WALE_WABS_ENDPOINT: endpoint,
    ...extra,
  };
}



function pgWalDir(label: string): string {
  const cwd = join(work.path, label);
  mkdirSync(join(cwd, 'pg_wal', 'archive_status'), { recursive: true });
  return cwd;
}

async function blobNames(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const b of container.listBlobsFlat({ prefix })) out.push(b.name);
  return out.sort();
}

before(async () => {
  svc = startService('azurite');
  const { ContainerClient: CC, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  container = new CC(`${svc.AZURE_STORAGE_BLOB_ENDPOINT}/${svc.AZURE_STORAGE_CONTAINER}`, new StorageSharedKeyCredential(svc.AZURE_STORAGE_ACCOUNT!, svc.AZURE_STORAGE_KEY!));
  proxy = await FaultProxy.start(new URL(svc.AZURE_STORAGE_BLOB_ENDPOINT!).origin);
});

after(async () => {
  await proxy?.close();
  work.remove();
});

describe('wal-e on wabs:// (Azurite)', () => {
  it("reads WAL-E's own objects, uploaded as they are, byte-identical to lzop -dc", async () => {
    const prefix = `fixture-${run}/pg`;
    const names = readdirSync(FIXTURE).sort();
    for (const f of names) {
      const data = readFileSync(join(FIXTURE, f));
      await container.getBlockBlobClient(`${prefix}/wal_005/${f}`).upload(data, data.length);
    }
    const dest = join(work.path, 'fixture-restore');
    mkdirSync(dest);
    for (const f of names) {
      const seg = f.replace(/\.lzo$/, '');
      const r = await runWalE(['wal-fetch', seg, join(dest, seg), '--prefetch', '0'], { env: walEnv(prefix) });
      assert.equal(r.code, 0, `wal-fetch ${seg}: ${r.stderr}`);
      assertWalEShaped(r.stderr);
      const want = execFileSync('lzop', ['-dc', join(FIXTURE, f)], { maxBuffer: 64 << 20 });
      assert.ok(readFileSync(join(dest, seg)).equals(want), `${seg} differs from lzop -dc`);
    }
  });

  it("wal-push then wal-fetch round-trips through WAL-E's blob names; a miss exits 1", async () => {
    const prefix = `roundtrip-${run}/a/b`;
    const cwd = pgWalDir('rt');
    const seg = '000000010000000000000042';
    const data = walFile(join(cwd, 'pg_wal'), seg);
    const push = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], { env: walEnv(prefix), cwd });
    assert.equal(push.code, 0, push.stderr);
    assertWalEShaped(push.stderr);
    assert.ok(logMessages(push.stderr).some((m) => m.msg === 'completed archiving to a file'));
    assert.deepEqual(await blobNames(`roundtrip-${run}/`), [`${prefix}/wal_005/${seg}.lzo`]);

    const dest = join(cwd, 'restored');
    const fetch = await runWalE(['wal-fetch', seg, dest, '--prefetch', '0'], { env: walEnv(prefix) });
    assert.equal(fetch.code, 0, fetch.stderr);
    assert.ok(readFileSync(dest).equals(data));

    const missDest = join(cwd, 'missing');
    const miss = await runWalE(['wal-fetch', '0000000100000000000000FF', missDest, '--prefetch', '0'], { env: walEnv(prefix) });
    assert.equal(miss.code, 1, miss.stderr);
    assertWalEShaped(miss.stderr);
    assert.ok(logMessages(miss.stderr).some((m) => m.msg === 'could no longer locate object while performing wal restore'));
    assert.equal(existsSync(missDest), false);

    const again = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], { env: walEnv(prefix), cwd });
    assert.equal(again.code, 0, again.stderr);
  });

  it('works with a SAS token instead of the account key', async () => {
    const { generateBlobSASQueryParameters, ContainerSASPermissions, SASProtocol, StorageSharedKeyCredential } = await import('@azure/storage-blob');
    const sas = generateBlobSASQueryParameters(
      { containerName: svc.AZURE_STORAGE_CONTAINER!, permissions: ContainerSASPermissions.parse('rwdl'), expiresOn: new Date(Date.now() + 3600_000), protocol: SASProtocol.HttpsAndHttp },
      new StorageSharedKeyCredential(svc.AZURE_STORAGE_ACCOUNT!, svc.AZURE_STORAGE_KEY!),
    ).toString();
    const prefix = `sas-${run}/pg`;
    const cwd = pgWalDir('sas');
    const seg = '000000010000000000000011';
    const data = walFile(join(cwd, 'pg_wal'), seg);
    const { WABS_ACCESS_KEY: _unused, ...keyless } = walEnv(prefix);
    const env = { ...keyless, WABS_SAS_TOKEN: `?${sas}` };
    const push = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], { env, cwd });
    assert.equal(push.code, 0, push.stderr);
    assert.ok(!push.stderr.includes(/sig=([^&]+)/.exec(sas)![1]!));
    const fetch = await runWalE(['wal-fetch', seg, join(cwd, 'restored'), '--prefetch', '0'], { env });
    assert.equal(fetch.code, 0, fetch.stderr);
    assert.ok(readFileSync(join(cwd, 'restored')).equals(data));
  });

  it('rides out 503 ServerBusy, 500 and resets within the retry budget, one WARNING per retry', async () => {
    const prefix = `faults-${run}/pg`;
    const cwd = pgWalDir('faults');
    const seg = '000000010000000000000007';
    const data = walFile(join(cwd, 'pg_wal'), seg);
    proxy.clearRules();
    proxy.clearRequests();
    proxy.addRule({ match: { method: 'PUT' }, fault: { kind: 'status', status: 503, code: 'ServerBusy', message: 'The server is busy.' }, times: 1 });
    proxy.addRule({ match: { method: 'PUT' }, fault: { kind: 'status', status: 500, code: 'InternalError' }, times: 1 });
    proxy.addRule({ match: { method: 'PUT' }, fault: { kind: 'reset' }, times: 1 });
    const push = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], { env: walEnv(prefix, viaProxy()), cwd });
    assert.equal(push.code, 0, push.stderr);
    assertWalEShaped(push.stderr);
    assert.equal(logMessages(push.stderr).filter((m) => m.msg === 'retrying a storage request after a transient error').length, 3, push.stderr);
    assert.deepEqual(proxy.faultCounts(), { status: 2, reset: 1 });

    proxy.clearRules();
    proxy.addRule({ match: { method: 'GET' }, fault: { kind: 'status', status: 503, code: 'ServerBusy' }, times: 1 });
    proxy.addRule({ match: { method: 'GET' }, fault: { kind: 'truncate', afterBytes: 100_000 }, times: 1 });
    proxy.addRule({ match: { method: 'GET' }, fault: { kind: 'reset' }, times: 1 });
    const dest = join(cwd, 'restored');
    const fetch = await runWalE(['wal-fetch', seg, dest, '--prefetch', '0'], { env: walEnv(prefix, viaProxy()) });
    proxy.clearRules();
    assert.equal(fetch.code, 0, fetch.stderr);
    assertWalEShaped(fetch.stderr);
    assert.ok(readFileSync(dest).equals(data));
  });

  it('a server that always answers 503 fails wal-push within a bounded time, with one clear error and no blob', async () => {
    const prefix = `always503-${run}/pg`;
    const cwd = pgWalDir('a503');
    const seg = '000000010000000000000009';
    walFile(join(cwd, 'pg_wal'), seg);
    proxy.clearRules();
    proxy.addRule({ fault: { kind: 'status', status: 503, code: 'ServerBusy', message: 'The server is busy.' } });
    const t0 = Date.now();
    const push = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], { env: walEnv(prefix, viaProxy(), { WALE_RETRIES: '3' }), cwd, timeoutMs: 60_000 });
    const took = Date.now() - t0;
    proxy.clearRules();
    assert.notEqual(push.code, 0);
    assert.equal(push.signal, null);
    assert.ok(took < 30_000, `took ${took} ms`);
    assertWalEShaped(push.stderr);
    const errors = logMessages(push.stderr).filter((m) => m.level === 'ERROR' || m.level === 'CRITICAL');
    assert.equal(errors.length, 1, push.stderr);
    assert.match(errors[0]!.msg, /could not upload "wabs:\/\/.*\/always503-.*\/wal_005\/000000010000000000000009\.lzo"/);
    assert.match(push.stderr, /HTTP 503/);
    assert.deepEqual(await blobNames(`always503-${run}/`), []);
  });

  it('a wrong account key fails at once (403 is never retried); wal-fetch exits 2, not "not found"', async () => {
    const env = walEnv(`bad-${run}/pg`, undefined, { WABS_ACCESS_KEY: randomBytes(64).toString('base64') });
    const t0 = Date.now();
    const r = await runWalE(['wal-fetch', '000000010000000000000001', join(work.path, 'bad-dest'), '--prefetch', '0'], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.ok(Date.now() - t0 < 20_000);
    assertWalEShaped(r.stderr);
    assert.match(r.stderr, /HTTP 403/);
    assert.ok(!r.stderr.includes(env.WABS_ACCESS_KEY!));
  });

  it('a wabs:// wal-push loads the Azure SDK and no other cloud SDK', async () => {
    const cwd = pgWalDir('lazy');
    walFile(join(cwd, 'pg_wal'), '000000010000000000000003');
    const r = await runWalERecordingLoads(['wal-push', 'pg_wal/000000010000000000000003', '--pool-size', '1'], {
      env: walEnv(`lazy-${run}/pg`),
      cwd,
    });
    assert.equal(r.code, 0, r.stderr);
    const loaded = r.loaded;
    assert.ok(loaded.some((u) => /@azure\/storage-blob/.test(u)), 'the Azure SDK was loaded');
    assert.deepEqual(loaded.filter((u) => /@aws-sdk|@smithy|@google-cloud|google-auth-library|gaxios/.test(u)), []);
  });
});
