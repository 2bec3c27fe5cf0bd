// The s3:// store (spec §3.7, §6.1): WAL-E's keys (PATH_PREFIX + key, runs of "/" collapsed as boto
// did), streaming uploads (s3-upload.ts), resumable downloads (s3-download.ts), ListObjectsV2 with the
// pagination hidden, DeleteObjects in batches of 1000, and put-if-absent with If-None-Match where the
// server enforces it (s3-conditional-put notes below).
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../config/config';
import type { S3Settings } from '../../config/credentials';
import { NotFoundError, StoreError } from '../../util/errors';
import type { BlobStore, ObjectInfo, PutIfAbsentResult, PutOptions, PutResult, StoreCapabilities } from '../blob-store';
import { retryPolicyFor, withRetryLabel, type RetryPolicy } from '../http/retry-policy';
import { objectName, objectUrl, type StoreLocation } from '../location';
import { connectS3, type S3Sdk } from './s3-client';
import { resumableBody } from './s3-download';
import { PartialDeleteError, type DeleteFailure } from '../../util/errors';
import { S3RequestError, toStoreError } from './s3-errors';
import { resolveS3Options, type S3Options } from './s3-options';
import { SourceError, bufferStart, drain, putMultipart, putSingle, type ObjectParams } from './s3-upload';

/** S3's limit of keys per DeleteObjects request; WAL-E's batch size too (spec §5.7). */
export const DELETE_BATCH = 1000;

/**
 * What the server does with `If-None-Match: *` on PutObject, learnt once per process:
 * - 'enforced': it answered 412 at least once, so the header is trusted;
 * - 'unsupported': it answered 501 NotImplemented (Swift 2.30's s3api), so HEAD-then-PUT is used;
 * - 'unknown': not seen yet. AWS enforces it (since 2024); a custom endpoint might silently ignore it
 *   (older MinIO, s3rver), so there HEAD comes first until a 412 proves enforcement.
 * HEAD-then-PUT leaves a window in which two writers of one key both write. WAL-E's layout has one
 * archiver per prefix (spec §3.8), so WAL names are never raced in practice; wal-push compares contents
 * when a key is taken anyway.
 */
export type ConditionalPutSupport = 'unknown' | 'enforced' | 'unsupported';

export class S3Store implements BlobStore {
  conditionalPut: ConditionalPutSupport = 'unknown';
  /** PATH_PREFIX as a key prefix: runs of "/" collapsed, no leading "/" (what boto wrote, spec §3.7). */
  private readonly base: string;

  constructor(
    readonly location: StoreLocation,
    private readonly sdk: S3Sdk,
    readonly client: S3Client,
    private readonly options: S3Options,
    private readonly policy: RetryPolicy,
  ) {
    this.base = this.objectKey('');
  }

  get capabilities(): StoreCapabilities {
    const atomicPutIfAbsent = this.conditionalPut === 'enforced' || (this.conditionalPut === 'unknown' && !this.options.customEndpoint);
    return { atomicPutIfAbsent, networkRequests: true };
  }

  url(key: string): string {
    return objectUrl(this.location, key);
  }

  objectKey(key: string): string {
    return objectName(this.location, key).replace(/\/{2,}/g, '/').replace(/^\//, '');
  }

  private get bucket(): string {
    return this.location.container;
  }

  private params(key: string, opts: PutOptions): ObjectParams {
    const o = this.options;
    return {
      Bucket: this.bucket,
      Key: this.objectKey(key),
      ContentType: opts.contentType ?? 'application/octet-stream',
      // Not validated, as WAL-E (spec §1.4): the server judges the value.
      StorageClass: o.storageClass as ObjectParams['StorageClass'],
      ...(o.serverSideEncryption ? { ServerSideEncryption: o.serverSideEncryption } : {}),
      ...(o.sseKmsKeyId ? { SSEKMSKeyId: o.sseKmsKeyId } : {}),
    };
  }

  private signal(opts: { signal?: AbortSignal | undefined }): AbortSignal {
    const deadline = AbortSignal.timeout(this.policy.deadlineMs);
    return opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  }

  /** Runs one SDK call under a retry label and turns its failure into a typed error. */
  private async call<T>(verb: string, action: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await withRetryLabel(`${verb} ${this.url(key)}`, fn);
    } catch (err) {
      if (err instanceof SourceError) throw err.original;
      throw toStoreError(err, action, this.url(key));
    }
  }

  put(key: string, body: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
    return this.write(key, body, opts, false);
  }

  putIfAbsent(key: string, body: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutIfAbsentResult> {
    return this.write(key, body, opts, true);
  }

  private async write(key: string, body: AsyncIterable<Uint8Array>, opts: PutOptions, ifAbsent: boolean): Promise<PutIfAbsentResult> {
    const params = this.params(key, opts);
    const signal = this.signal(opts);
    const taken = async (): Promise<PutIfAbsentResult> => ({ created: false, size: await this.call('PUT', 'upload', key, () => drain(body)) });
    if (ifAbsent && this.needsHeadFirst() && (await this.head(key)) !== undefined) return taken();
    const start = await this.call('PUT', 'upload', key, () => bufferStart(body));
    if (start.rest === undefined) {
      const data = Buffer.concat(start.chunks, start.size);
      if (ifAbsent && this.conditionalPut !== 'unsupported') {
        try {
          await this.call('PUT', 'upload', key, () => putSingle(this.sdk, this.client, params, data, { IfNoneMatch: '*' }, signal));
          return { created: true, size: data.length };
        } catch (err) {
          if (preconditionOf(err)) {
            this.conditionalPut = 'enforced';
            return { created: false, size: data.length };
          }
          if (!notImplementedOf(err)) throw err;
          this.conditionalPut = 'unsupported';
          if (!this.options.customEndpoint && (await this.head(key)) !== undefined) return { created: false, size: data.length };
        }
      }
      await this.call('PUT', 'upload', key, () => putSingle(this.sdk, this.client, params, data, {}, signal));
      return { created: true, size: data.length };
    }
    // Multipart: If-None-Match goes on CompleteMultipartUpload, where the server is known to honour it.
    const conditional = ifAbsent && (this.conditionalPut === 'enforced' || (this.conditionalPut === 'unknown' && !this.options.customEndpoint));
    try {
      const size = await this.call('PUT', 'upload', key, () =>
        putMultipart(this.sdk, this.client, params, start, conditional ? { IfNoneMatch: '*' } : {}, signal),
      );
      return { created: true, size };
    } catch (err) {
      if (conditional && preconditionOf(err)) return { created: false, size: 0 };
      throw err;
    }
  }

  private needsHeadFirst(): boolean {
    return this.conditionalPut === 'unsupported' || (this.conditionalPut === 'unknown' && this.options.customEndpoint);
  }

  async get(key: string, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    const target = { bucket: this.bucket, objectKey: this.objectKey(key), url: this.url(key) };
    const first = await this.call('GET', 'read', key, () =>
      this.client.send(new this.sdk.GetObjectCommand({ Bucket: target.bucket, Key: target.objectKey }), opts.signal ? { abortSignal: opts.signal } : {}),
    );
    return resumableBody(this.sdk, this.client, target, first, this.policy, opts.signal);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.call('HEAD', 'read metadata of', key, () =>
        this.client.send(new this.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }), { abortSignal: this.signal({}) }),
      );
      const lm = out.LastModified ?? new Date(0);
      return { key, size: out.ContentLength ?? 0, lastModified: lm.toISOString(), lastModifiedMs: lm.getTime() };
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const listPrefix = this.objectKey(prefix);
    let token: string | undefined;
    do {
      const page = await this.call('LIST', 'list', prefix, () =>
        this.client.send(
          new this.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: listPrefix, ...(token ? { ContinuationToken: token } : {}) }),
          { abortSignal: this.signal({}) },
        ),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key?.startsWith(this.base)) continue;
        const lm = o.LastModified ?? new Date(0);
        // boto's listing text is S3's own ISO form with milliseconds, which toISOString reproduces.
        yield { key: o.Key.slice(this.base.length), size: o.Size ?? 0, lastModified: lm.toISOString(), lastModifiedMs: lm.getTime() };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token) {
        throw new StoreError(`could not list "${this.url(prefix)}"`, { detail: 'The server said the listing is truncated but gave no continuation token.' });
      }
    } while (token);
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    const failures: DeleteFailure[] = [];
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const out = await this.call('DELETE', 'delete objects under', '', () =>
        this.client.send(
          new this.sdk.DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((k) => ({ Key: this.objectKey(k) })), Quiet: true },
          }),
          { abortSignal: this.signal({}) },
        ),
      );
      for (const e of out.Errors ?? []) {
        if (e.Code === 'NoSuchKey') continue;
        failures.push({ key: e.Key ?? '', code: e.Code ?? 'Unknown', message: e.Message ?? '' });
      }
    }
    if (failures.length > 0) throw new PartialDeleteError(failures);
  }
}

function preconditionOf(err: unknown): boolean {
  return err instanceof S3RequestError && (err.httpStatus === 412 || err.s3Code === 'PreconditionFailed');
}

function notImplementedOf(err: unknown): boolean {
  return err instanceof S3RequestError && (err.httpStatus === 501 || err.s3Code === 'NotImplemented');
}


export async function createS3Store(location: StoreLocation, settings: S3Settings, config: Config, policy?: RetryPolicy): Promise<BlobStore> {
  return openS3Store(location, settings, policy ?? retryPolicyFor(config));
}

/** As createS3Store, with an explicit retry policy (tests use short timeouts). */
export async function openS3Store(location: StoreLocation, settings: S3Settings, policy: RetryPolicy): Promise<S3Store> {
  const options = resolveS3Options(location.container, settings);
  const conn = await connectS3(location.container, settings, options, policy);
  return new S3Store(location, conn.sdk, conn.client, options, policy);
}
