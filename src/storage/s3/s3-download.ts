// GET as a stream that survives a broken connection: when the body fails (reset, stall, a body shorter
// than Content-Length) the rest is requested with a Range from the last byte received and If-Match on
// the ETag, so a WAL file is never mistaken for a corrupt object because the network cut it short
// (USER-PAINS 4, 7). Attempts, delays and deadline come from the shared retry policy.
import { Readable } from 'node:stream';
import type { GetObjectCommandOutput, S3Client } from '@aws-sdk/client-s3';
import { backoffMs, classify, logRetry, withRetryLabel, type RetryPolicy } from '../http/retry-policy';
import type { S3Sdk } from './s3-client';
import { toStoreError } from './s3-errors';

export interface DownloadTarget {
  readonly bucket: string;
  readonly objectKey: string;
  /** For messages. */
  readonly url: string;
}

function truncated(got: number, want: number): Error {
  return Object.assign(new Error(`response body ended after ${got} of ${want} bytes`), { code: 'ECONNRESET' });
}

export function resumableBody(
  sdk: S3Sdk,
  client: S3Client,
  target: DownloadTarget,
  first: GetObjectCommandOutput,
  policy: RetryPolicy,
  signal: AbortSignal | undefined,
): Readable {
  const total = first.ContentLength;
  const etag = first.ETag;
  const deadline = Date.now() + policy.deadlineMs;
  async function* chunks(): AsyncGenerator<Buffer> {
    let body = first.Body as Readable;
    let offset = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        for await (const chunk of body) {
          offset += chunk.length;
          yield chunk as Buffer;
        }
        if (total !== undefined && offset < total) throw truncated(offset, total);
        return;
      } catch (err) {
        body.destroy();
        signal?.throwIfAborted();
        const c = classify(err);
        const delay = backoffMs(policy, attempt);
        if (!c.retryable || attempt >= policy.maxAttempts || Date.now() + delay >= deadline) {
          throw toStoreError(err, 'read', target.url);
        }
        logRetry(`GET ${target.url} from byte ${offset}`, c.reason, attempt, policy.maxAttempts, delay);
        await new Promise((r) => setTimeout(r, delay));
        try {
          const next = await withRetryLabel(`GET ${target.url}`, () =>
            client.send(
              new sdk.GetObjectCommand({
                Bucket: target.bucket,
                Key: target.objectKey,
                Range: `bytes=${offset}-`,
                ...(etag ? { IfMatch: etag } : {}),
              }),
              signal ? { abortSignal: signal } : {},
            ),
          );
          body = next.Body as Readable;
        } catch (resumeErr) {
          // 412: the object was replaced meanwhile; the caller starts over (wal-fetch retries whole).
          throw toStoreError(resumeErr, 'read', target.url);
        }
      }
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
