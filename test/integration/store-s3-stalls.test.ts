// Stalled servers: a request that gets no answer, and a body that stops half way, are dropped after the
// policy's idle timeout and retried (the download resumes where it stopped). In process, with a 1 s idle
// timeout instead of the default 30 s, so the test takes seconds.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../../src/storage/http/retry-policy';
import { parseStoreLocation } from '../../src/storage/location';
import { openS3Store, type S3Store } from '../../src/storage/s3/s3-store';
import { Secret } from '../../src/util/secret';
import { FaultProxy } from '../helpers/fault-proxy';
import { startService } from '../helpers/services';
import { chunksOf, readAll } from '../helpers/store-contract';

const POLICY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, idleTimeoutMs: 1000, requestTimeoutMs: 5000, maxAttempts: 4 };
let proxy: FaultProxy;
let store: S3Store;

before(async () => {
  const svc = startService('s3rver');
  proxy = await FaultProxy.start(svc.S3_ENDPOINT!);
  store = await openS3Store(
    parseStoreLocation(`s3://${svc.S3_BUCKET}/stalls-${Date.now().toString(36)}`),
    {
      accessKeyId: svc.AWS_ACCESS_KEY_ID!,
      secretAccessKey: new Secret(svc.AWS_SECRET_ACCESS_KEY!),
      sessionToken: undefined,
      instanceProfile: false,
      region: undefined,
      endpoint: `http+path://127.0.0.1:${proxy.port}`,
      storageClass: undefined,
      serverSideEncryption: undefined,
      sseKmsKeyId: undefined,
    },
    POLICY,
  );
});

after(async () => {
  store?.client.destroy();
  await proxy?.close();
});

describe('S3 store behind a stalling server', () => {
  it('a PUT that gets no answer is abandoned after the timeout and retried', async () => {
    proxy.clearRules();
    proxy.addRule({ match: { method: 'PUT' }, fault: { kind: 'stall', ms: 30_000 }, times: 1 });
    const t0 = Date.now();
    const data = randomBytes(200_000);
    await store.put('wal_005/stalled-put.lzo', chunksOf(data));
    assert.ok(Date.now() - t0 < 15_000);
    assert.deepEqual(proxy.faultCounts(), { stall: 1 });
    assert.ok((await readAll(await store.get('wal_005/stalled-put.lzo'))).equals(data));
  });

  it('a GET whose body stops half way resumes from the last byte received', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    await store.put('wal_005/stalled-get.lzo', chunksOf(data));
    proxy.clearRules();
    proxy.clearRequests();
    proxy.addRule({ match: { method: 'GET' }, fault: { kind: 'stall-body', afterBytes: 1024 * 1024, ms: 30_000 }, times: 1 });
    const t0 = Date.now();
    const back = await readAll(await store.get('wal_005/stalled-get.lzo'));
    assert.ok(Date.now() - t0 < 15_000);
    assert.ok(back.equals(data));
    const gets = proxy.requests.filter((r) => r.method === 'GET');
    assert.equal(gets.length, 2, 'one stalled GET, one ranged GET for the rest');
    assert.equal(gets[0]!.fault, 'stall-body');
  });

  it('a server that never answers fails within the policy\'s bounds', async () => {
    proxy.clearRules();
    proxy.addRule({ fault: { kind: 'stall', ms: 60_000 } });
    const t0 = Date.now();
    await assert.rejects(store.head('wal_005/never.lzo'), (err: Error) => /could not read metadata of/.test(err.message));
    const took = Date.now() - t0;
    proxy.clearRules();
    // 4 attempts x 1 s idle timeout + backoff
    assert.ok(took >= 3000 && took < 20_000, `took ${took} ms`);
  });
});
