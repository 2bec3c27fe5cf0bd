// The SDK retry hook follows the shared policy: which errors are retried, how often, and the deadline.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RETRY_POLICY } from '../../src/storage/http/retry-policy';
import { PolicyRetryStrategy } from '../../src/storage/s3/s3-retry-strategy';
import { toStoreError } from '../../src/storage/s3/s3-errors';
import { NotFoundError, PartialDeleteError, StoreError } from '../../src/util/errors';

const sdkError = (status: number | undefined, name: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: status === undefined ? {} : { httpStatusCode: status }, ...extra });

async function retries(err: Error, policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 3 }): Promise<number> {
  const s = new PolicyRetryStrategy(policy);
  let token = await s.acquireInitialRetryToken();
  let n = 0;
  for (;;) {
    try {
      token = await s.refreshRetryTokenForRetry(token, { error: err as never, errorType: 'SERVER_ERROR' });
      n++;
    } catch (thrown) {
      assert.equal(thrown, err);
      return n;
    }
  }
}

describe('S3 retry strategy', () => {
  it('retries throttling, 5xx and connection errors up to maxAttempts', async () => {
    assert.equal(await retries(sdkError(503, 'SlowDown')), 2);
    assert.equal(await retries(sdkError(500, 'InternalError')), 2);
    assert.equal(await retries(sdkError(undefined, 'Error', { code: 'ECONNRESET' })), 2);
    assert.equal(await retries(sdkError(409, 'ConditionalRequestConflict')), 2);
  });

  it('never retries 401, 403, 404, 412 or 501', async () => {
    for (const [s, n] of [[401, 'Unauthorized'], [403, 'SignatureDoesNotMatch'], [404, 'NoSuchKey'], [412, 'PreconditionFailed'], [501, 'NotImplemented']] as const) {
      assert.equal(await retries(sdkError(s, n)), 0, `${s} ${n}`);
    }
  });

  it('stops at the deadline', async () => {
    assert.equal(await retries(sdkError(503, 'SlowDown'), { ...DEFAULT_RETRY_POLICY, maxAttempts: 100, deadlineMs: 0 }), 0);
  });
});

describe('S3 errors', () => {
  it('404 is NotFoundError, except a missing bucket', () => {
    assert.ok(toStoreError(sdkError(404, 'NoSuchKey'), 'read', 's3://b/k') instanceof NotFoundError);
    const nb = toStoreError(sdkError(404, 'NoSuchBucket'), 'read', 's3://b/k');
    assert.ok(nb instanceof StoreError);
    assert.match(nb.message, /the bucket does not exist/);
  });

  it('403 says what is wrong and is not retryable', () => {
    const e = toStoreError(sdkError(403, 'SignatureDoesNotMatch'), 'upload', 's3://b/k') as StoreError;
    assert.equal(e.message, 'could not upload "s3://b/k": the secret access key is wrong');
    assert.equal(e.retryable, false);
    assert.equal((toStoreError(sdkError(503, 'SlowDown'), 'read', 's3://b/k') as StoreError).retryable, true);
  });

  it('multi-delete failures: WAL-E\'s message and TSV table (spec §5.7)', () => {
    const e = new PartialDeleteError([
      { key: 'p/wal_005/A.lzo', code: 'AccessDenied', message: 'Access\nDenied' },
      { key: 'p/wal_005/B.lzo', code: 'InternalError', message: 'oops' },
    ]);
    assert.equal(e.message, 'Some keys were not deleted');
    assert.equal(e.level, 'CRITICAL');
    assert.equal(e.detail, 'Failed keys: first p/wal_005/A.lzo (AccessDenied: Access\nDenied), last p/wal_005/B.lzo (InternalError: oops), 2 total');
    assert.equal(e.failuresTsv(), 'key\terror_code\terror_message\r\np/wal_005/A.lzo\tAccessDenied\tAccess Denied\r\np/wal_005/B.lzo\tInternalError\toops\r\n');
  });
});
