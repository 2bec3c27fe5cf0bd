// wal-push and wal-fetch through the built bin/wal-e against Swift's S3 API (a real server that checks
// signatures), with WAL-E's environment (WALE_S3_PREFIX, WALE_S3_ENDPOINT, AWS_*): WAL-E's own objects
// read back byte-identical, round trips, exit codes, faults injected by a proxy, and failures that
// must end quickly with one clear line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { packageRoot } from '../../src/util/dist-path';
import { assertWalEShaped, logMessages, runWalE, tempDir } from '../helpers/cli';
import { FaultProxy } from '../helpers/fault-proxy';
import { startService } from '../helpers/services';
import { walFile } from '../helpers/wal-data';

const BUCKET = 'wale-s3-cli';
const FIXTURE = join(packageRoot(), 'test', 'fixtures', 'wale-store-plain', 'wal_005');
const run = Date.now().toString(36);
const work = tempDir('s3cli');
let svc: Record<string, string>;
let raw: S3Client;
let proxy: FaultProxy;

function walEnv(prefixPath: string, endpointHostPort: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WALE_S3_PREFIX: `s3://${BUCKET}/${prefixPath}`,
    WALE_S3_ENDPOINT: `http+path://${endpointHostPort}`,
    AWS_ACCESS_KEY_ID: svc.SWIFT_S3_ACCESS_KEY_ID!,
    AWS_SECRET_ACCESS_KEY: svc.SWIFT_S3_SECRET_ACCESS_KEY!,
    ...extra,
  };
}

const direct = () => new URL(svc.SWIFT_S3_ENDPOINT!).host;
const viaProxy = () => `127.0.0.1:${proxy.port}`;



async function objectExists(key: string): Promise<boolean> {
  try {
    await raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch {
    return false;
  }
}

before(async () => {
  svc = startService('swift');
  raw = new S3Client({
    endpoint: svc.SWIFT_S3_ENDPOINT!,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: svc.SWIFT_S3_ACCESS_KEY_ID!, secretAccessKey: svc.SWIFT_S3_SECRET_ACCESS_KEY! },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await raw.send(new CreateBucketCommand({ Bucket: BUCKET })).catch((e: Error) => {
    if (!/BucketAlready/.test(e.name)) throw e;
  });
  proxy = await FaultProxy.start(svc.SWIFT_S3_ENDPOINT!);
});

after(async () => {
  raw?.destroy();
  await proxy?.close();
  work.remove();
});

describe('wal-e on s3:// (Swift s3api)', () => {
  it('reads WAL-E\'s own objects, uploaded as they are, byte-identical to lzop -dc', async () => {
    const prefix = `fixture-${run}/pg`;
    const names = readdirSync(FIXTURE).sort();
    for (const f of names) {
      await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/wal_005/${f}`, Body: readFileSync(join(FIXTURE, f)) }));
    }
    const dest = join(work.path, 'fixture-restore');
    mkdirSync(dest);
    for (const f of names) {
      const seg = f.replace(/\.lzo$/, '');
      const r = await runWalE(['wal-fetch', seg, join(dest, seg), '--prefetch', '0'], { env: walEnv(prefix, direct()) });
      assert.equal(r.code, 0, `wal-fetch ${seg}: ${r.stderr}`);
      assertWalEShaped(r.stderr);
      const want = execFileSync('lzop', ['-dc', join(FIXTURE, f)], { maxBuffer: 64 << 20 });
      assert.ok(readFileSync(join(dest, seg)).equals(want), `${seg} differs from lzop -dc`);
    }
  });

  it('wal-push then wal-fetch round-trips through WAL-E\'s key layout; a miss exits 1', async () => {
    const prefix = `roundtrip-${run}/a/b`;
    const pgWal = join(work.path, 'rt', 'pg_wal');
    mkdirSync(join(pgWal, 'archive_status'), { recursive: true });
    const seg = '000000010000000000000042';
    const data = walFile(pgWal, seg);
    const push = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], { env: walEnv(prefix, direct()), cwd: join(work.path, 'rt') });
    assert.equal(push.code, 0, push.stderr);
    assertWalEShaped(push.stderr);
    assert.ok(logMessages(push.stderr).some((m) => m.msg === 'completed archiving to a file'));
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `roundtrip-${run}/` }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), [`${prefix}/wal_005/${seg}.lzo`]);

    const dest = join(work.path, 'rt', 'restored');
    const fetch = await runWalE(['wal-fetch', seg, dest, '--prefetch', '0'], { env: walEnv(prefix, direct()) });
    assert.equal(fetch.code, 0, fetch.stderr);
    assert.ok(readFileSync(dest).equals(data));

    const missDest = join(work.path, 'rt', 'missing');
    const miss = await runWalE(['wal-fetch', '0000000100000000000000FF', missDest, '--prefetch', '0'], { env: walEnv(prefix, direct()) });
    assert.equal(miss.code, 1, miss.stderr);
    assertWalEShaped(miss.stderr);
    assert.ok(logMessages(miss.stderr).some((m) => m.msg === 'could no longer locate object while performing wal restore'));
    assert.equal(existsSync(missDest), false);

    // Pushing the same file again is a success that uploads nothing (PostgreSQL may retry after a crash).
    const again = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], { env: walEnv(prefix, direct()), cwd: join(work.path, 'rt') });
    assert.equal(again.code, 0, again.stderr);
  });

  it('rides out 503 SlowDown, 500, resets and truncated bodies within the retry budget', async () => {
    const prefix = `faults-${run}/pg`;
    const cwd = join(work.path, 'faults');
    const pgWal = join(cwd, 'pg_wal');
    mkdirSync(join(pgWal, 'archive_status'), { recursive: true });
    const seg = '000000010000000000000007';
    const data = walFile(pgWal, seg);
    proxy.clearRules();
    proxy.clearRequests();
    proxy.addRule({ match: { method: 'PUT' }, fault: { kind: 'status', status: 503, code: 'SlowDown', message: 'Please reduce your request rate.' }, times: 1 });
    proxy.addRule({ match: { method: 'PUT' }, fault: { kind: 'status', status: 500, code: 'InternalError' }, times: 1 });
    proxy.addRule({ match: { method: 'PUT' }, fault: { kind: 'reset' }, times: 1 });
    const push = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], { env: walEnv(prefix, viaProxy()), cwd });
    assert.equal(push.code, 0, push.stderr);
    assertWalEShaped(push.stderr);
    const retries = logMessages(push.stderr).filter((m) => m.msg === 'retrying a storage request after a transient error');
    assert.equal(retries.length, 3, push.stderr);
    assert.deepEqual(proxy.faultCounts(), { status: 2, reset: 1 });

    proxy.clearRules();
    proxy.clearRequests();
    proxy.addRule({ match: { method: 'GET' }, fault: { kind: 'status', status: 503, code: 'SlowDown' }, times: 1 });
    proxy.addRule({ match: { method: 'GET' }, fault: { kind: 'truncate', afterBytes: 100_000 }, times: 1 });
    proxy.addRule({ match: { method: 'GET' }, fault: { kind: 'reset' }, times: 1 });
    proxy.addRule({ match: { method: 'GET' }, fault: { kind: 'truncate', afterBytes: 10 }, times: 1 });
    const dest = join(cwd, 'restored');
    const fetch = await runWalE(['wal-fetch', seg, dest, '--prefetch', '0'], { env: walEnv(prefix, viaProxy()) });
    assert.equal(fetch.code, 0, fetch.stderr);
    assertWalEShaped(fetch.stderr);
    assert.ok(readFileSync(dest).equals(data));
    assert.deepEqual(proxy.faultCounts(), { status: 1, truncate: 2, reset: 1 });
    // The truncated bodies were resumed with a Range request, not downloaded again from the start.
    assert.ok(/from byte [1-9]/.test(fetch.stderr), fetch.stderr);
    proxy.clearRules();
  });

  it('a server that always answers 503 fails wal-push within a bounded time, with one clear error and no object', async () => {
    const prefix = `always503-${run}/pg`;
    const cwd = join(work.path, 'a503');
    mkdirSync(join(cwd, 'pg_wal', 'archive_status'), { recursive: true });
    const seg = '000000010000000000000009';
    walFile(join(cwd, 'pg_wal'), seg);
    proxy.clearRules();
    proxy.addRule({ fault: { kind: 'status', status: 503, code: 'ServiceUnavailable', message: 'Service is down' } });
    const t0 = Date.now();
    const push = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], {
      env: walEnv(prefix, viaProxy(), { WALE_RETRIES: '3' }),
      cwd,
      timeoutMs: 60_000,
    });
    const took = Date.now() - t0;
    proxy.clearRules();
    assert.notEqual(push.code, 0);
    assert.equal(push.signal, null);
    assert.ok(took < 30_000, `took ${took} ms`);
    assertWalEShaped(push.stderr);
    const errors = logMessages(push.stderr).filter((m) => m.level === 'ERROR' || m.level === 'CRITICAL');
    assert.equal(errors.length, 1, push.stderr);
    assert.match(errors[0]!.msg, /could not (upload|read metadata of) "s3:\/\/wale-s3-cli\/always503-.*\/wal_005\/000000010000000000000009\.lzo"/);
    assert.match(push.stderr, /HTTP 503/);
    assert.equal(await objectExists(`${prefix}/wal_005/${seg}.lzo`), false);
  });

  it('a wrong secret key fails at once (403 is never retried), wal-fetch exits 2 rather than "not found"', async () => {
    const prefix = `badcreds-${run}/pg`;
    const cwd = join(work.path, 'bad');
    mkdirSync(join(cwd, 'pg_wal', 'archive_status'), { recursive: true });
    const seg = '00000001000000000000000A';
    walFile(join(cwd, 'pg_wal'), seg);
    const env = walEnv(prefix, direct(), { AWS_SECRET_ACCESS_KEY: 'not-the-secret' });
    const push = await runWalE(['wal-push', `pg_wal/${seg}`, '--pool-size', '1'], { env, cwd });
    assert.equal(push.code, 2, push.stderr);
    assertWalEShaped(push.stderr);
    assert.equal(logMessages(push.stderr).filter((m) => m.level === 'WARNING').length, 0, 'no retries');
    assert.match(push.stderr, /MSG: could not (upload|read metadata of) ".*": (the secret access key is wrong|access denied: check the credentials)/);
    assert.doesNotMatch(push.stderr, /not-the-secret/);
    const fetch = await runWalE(['wal-fetch', seg, join(cwd, 'x'), '--prefetch', '0'], { env });
    assert.equal(fetch.code, 2, fetch.stderr);
    assert.equal(await objectExists(`${prefix}/wal_005/${seg}.lzo`), false);
  });

  it('a malformed WALE_S3_ENDPOINT is one WAL-E error line and exit 1', async () => {
    const r = await runWalE(['wal-fetch', '000000010000000000000001', join(work.path, 'y'), '--prefetch', '0'], {
      env: { ...walEnv('x', direct()), WALE_S3_ENDPOINT: 'ftp+path://127.0.0.1:8080' },
    });
    assert.equal(r.code, 1, r.stderr);
    assertWalEShaped(r.stderr);
    assert.deepEqual(logMessages(r.stderr), [{ level: 'ERROR', msg: 'WALE_S3_ENDPOINT URI scheme is invalid' }]);
    assert.match(r.stderr, /DETAIL: The scheme defined is 'ftp\+path'/);
  });
});
