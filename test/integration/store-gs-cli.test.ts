// wal-push and wal-fetch through the built bin/wal-e against the GCS test server (driven by the real
// @google-cloud/storage SDK inside wal-e) with WAL-E's environment (WALE_GS_PREFIX, plus
// STORAGE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT): WAL-E's own objects read back byte-identical, round
// trips with the leading "/" in object names, exit codes, faults injected by a proxy, lazy loading.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { packageRoot } from '../../src/util/dist-path';
import { assertWalEShaped, logMessages, runWalE, runWalERecordingLoads, tempDir } from '../helpers/cli';
import { FaultProxy } from '../helpers/fault-proxy';
import { startGcsTestServer, type GcsTestServer } from '../helpers/gcs-server';
import { walFile } from '../helpers/wal-data';

const FIXTURE = join(packageRoot(), 'test', 'fixtures', 'wale-store-plain', 'wal_005');
const run = Date.now().toString(36);
const BUCKET = 'wale-test';
const work = tempDir('gscli');
let server: GcsTestServer;
let proxy: FaultProxy;

const viaProxy = () => `http://127.0.0.1:${proxy.port}`;

function walEnv(prefixPath: string, endpoint = server.endpoint, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WALE_GS_PREFIX: `gs://${BUCKET}/${prefixPath}`,
    STORAGE_EMULATOR_HOST: endpoint,
    GOOGLE_CLOUD_PROJECT: 'test-project',
    // Safety nets: nothing may reach a metadata server from a test.
    METADATA_SERVER_DETECTION: 'none',
    GCE_METADATA_HOST: '127.0.0.1:9',
    ...extra,
  };
}



function pgWalDir(label: string): string {
  const cwd = join(work.path, label);
  mkdirSync(join(cwd, 'pg_wal', 'archive_status'), { recursive: true });
  return cwd;
}

const objectNames = (prefix: string): string[] => server.names(BUCKET).filter((n) => n.startsWith(prefix));

before(async () => {
  server = await startGcsTestServer([BUCKET]);
  proxy = await FaultProxy.start(server.endpoint);
});

after(async () => {
  await proxy?.close();
  await server?.stop();
  work.remove();
});

describe('wal-e on gs:// (GCS test server)', () => {
  it("reads WAL-E's own objects, uploaded as they are, byte-identical to lzop -dc", async () => {
    const prefix = `fixture-${run}/pg`;
    const names = readdirSync(FIXTURE).sort();
    for (const f of names) {
      // As WAL-E stored them: a literal leading "/" in the object name (spec §3.7).
      server.putObject(BUCKET, `/${prefix}/wal_005/${f}`, readFileSync(join(FIXTURE, f)));
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

  it("wal-push then wal-fetch round-trips through WAL-E's object names; a miss exits 1", async () => {
    const prefix = `roundtrip-${run}/a/b`;
    const cwd = pgWalDir('rt');
    const seg = '000000010000000000000042';
    const data = walFile(join(cwd, 'pg_wal'), seg);
    const push = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], { env: walEnv(prefix), cwd });
    assert.equal(push.code, 0, push.stderr);
    assertWalEShaped(push.stderr);
    assert.ok(logMessages(push.stderr).some((m) => m.msg === 'completed archiving to a file'));
    assert.deepEqual(objectNames(`/roundtrip-${run}/`), [`/${prefix}/wal_005/${seg}.lzo`]);

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

  it('rides out 503, 500 and resets within the retry budget, one WARNING per retry', async () => {
    const prefix = `faults-${run}/pg`;
    const cwd = pgWalDir('faults');
    const seg = '000000010000000000000007';
    const data = walFile(join(cwd, 'pg_wal'), seg);
    proxy.clearRules();
    proxy.clearRequests();
    const gcsError = (code: number) => JSON.stringify({ error: { code, message: 'Backend Error', errors: [{ reason: 'backendError' }] } });
    const json = { 'content-type': 'application/json' };
    proxy.addRule({ match: { method: 'POST' }, fault: { kind: 'status', status: 503, body: gcsError(503), headers: json }, times: 1 });
    proxy.addRule({ match: { method: 'POST' }, fault: { kind: 'status', status: 500, body: gcsError(500), headers: json }, times: 1 });
    proxy.addRule({ match: { method: 'POST' }, fault: { kind: 'reset' }, times: 1 });
    const push = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], { env: walEnv(prefix, viaProxy()), cwd });
    assert.equal(push.code, 0, push.stderr);
    assertWalEShaped(push.stderr);
    assert.equal(logMessages(push.stderr).filter((m) => m.msg === 'retrying a storage request after a transient error').length, 3, push.stderr);
    assert.deepEqual(proxy.faultCounts(), { status: 2, reset: 1 });

    proxy.clearRules();
    proxy.addRule({ match: { method: 'GET' }, fault: { kind: 'status', status: 503, body: gcsError(503), headers: json }, times: 1 });
    // A truncated body is not in this list: the GCS SDK drops a cut connection without an error, so
    // only the 30 s stall guard ends such a download (see docs/stores/gcs.md).
    proxy.addRule({ match: { method: 'GET' }, fault: { kind: 'reset' }, times: 1 });
    proxy.addRule({ match: { method: 'GET' }, fault: { kind: 'status', status: 500, body: gcsError(500), headers: json }, times: 1 });
    const dest = join(cwd, 'restored');
    const fetch = await runWalE(['wal-fetch', seg, dest, '--prefetch', '0'], { env: walEnv(prefix, viaProxy()) });
    proxy.clearRules();
    assert.equal(fetch.code, 0, fetch.stderr);
    assertWalEShaped(fetch.stderr);
    assert.ok(readFileSync(dest).equals(data));
  });

  it('a server that always answers 503 fails wal-push within a bounded time, with one clear error and no object', async () => {
    const prefix = `always503-${run}/pg`;
    const cwd = pgWalDir('a503');
    const seg = '000000010000000000000009';
    walFile(join(cwd, 'pg_wal'), seg);
    proxy.clearRules();
    proxy.addRule({ fault: { kind: 'status', status: 503, body: JSON.stringify({ error: { code: 503, message: 'Service Unavailable' } }), headers: { 'content-type': 'application/json' } } });
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
    assert.match(errors[0]!.msg, /could not upload "gs:\/\/.*\/always503-.*\/wal_005\/000000010000000000000009\.lzo"/);
    assert.match(push.stderr, /HTTP 503/);
    assert.deepEqual(objectNames(`/always503-${run}/`), []);
  });

  it('a missing bucket fails wal-fetch with exit 2 and a hint, not "not found"', async () => {
    const env = { ...walEnv(`x-${run}/pg`), WALE_GS_PREFIX: 'gs://no-such-bucket/pg' };
    const r = await runWalE(['wal-fetch', '000000010000000000000001', join(work.path, 'nb-dest'), '--prefetch', '0'], { env });
    assert.equal(r.code, 2, r.stderr);
    assertWalEShaped(r.stderr);
    assert.match(r.stderr, /bucket does not exist/);
  });

  it('a gs:// wal-push loads the Google Cloud Storage SDK and no other cloud SDK', async () => {
    const cwd = pgWalDir('lazy');
    walFile(join(cwd, 'pg_wal'), '000000010000000000000003');
    const r = await runWalERecordingLoads(['wal-push', 'pg_wal/000000010000000000000003', '--pool-size', '1'], {
      env: walEnv(`lazy-${run}/pg`),
      cwd,
    });
    assert.equal(r.code, 0, r.stderr);
    const loaded = r.loaded;
    assert.ok(loaded.some((u) => /@google-cloud\/storage/.test(u)), 'the GCS SDK was loaded');
    assert.deepEqual(loaded.filter((u) => /@aws-sdk|@smithy|@azure/.test(u)), []);
  });
});
