// The wabs:// store (spec §6.2, §3.7): Azure Blob Storage through @azure/storage-blob, loaded only
// when a wabs:// prefix is used. Blob names are PATH_PREFIX + key with no leading "/".
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlockBlobClient, BlockBlobUploadOptions, ContainerClient } from '@azure/storage-blob';
import type { Config } from '../../config/config';
import type { WabsSettings } from '../../config/credentials';
import { NotFoundError, StoreError } from '../../util/errors';
import { settleWithLimit } from '../../util/pool';
import type { BlobStore, ObjectInfo, PutIfAbsentResult, PutOptions, PutResult, StoreCapabilities } from '../blob-store';
import { retryPolicyFor, withRetries, type RetryPolicy } from '../http/retry-policy';
import { objectName, objectUrl, type StoreLocation } from '../location';
import { BLOCK_SIZE, blocksOf, firstBlock, stageAll } from './block-upload';
import { checkedDownload } from '../http/checked-download';
import { pythonUtcDatetimeText } from '../http/python-datetime';
import { containerClientFor } from './wabs-client';
import { azureCode, classifyAzure, statusOf, wabsStoreError } from './wabs-errors';

/** Blob Batch takes at most 256 sub-requests. */
const BATCH_LIMIT = 256;
const DELETE_CONCURRENCY = 8;
const LIST_PAGE = 5000;

export async function createWabsStore(location: StoreLocation, settings: WabsSettings, config: Config): Promise<BlobStore> {
  const policy = retryPolicyFor(config);
  return new WabsStore(location, await containerClientFor(settings, location.container, policy), policy);
}

export class WabsStore implements BlobStore {
  readonly capabilities: StoreCapabilities = { atomicPutIfAbsent: true, networkRequests: true };
  private batchUnsupported = false;

  constructor(
    readonly location: StoreLocation,
    private readonly container: ContainerClient,
    private readonly policy: RetryPolicy,
  ) {}

  url(key: string): string {
    return objectUrl(this.location, key);
  }

  blobName(key: string): string {
    return objectName(this.location, key);
  }

  private retry<T>(what: string, op: (signal: AbortSignal) => Promise<T>, userSignal?: AbortSignal): Promise<T> {
    return withRetries(
      what,
      this.policy,
      (attemptSignal) => op(userSignal ? AbortSignal.any([userSignal, attemptSignal]) : attemptSignal),
      (err) => classifyAzure(err, userSignal),
    );
  }

  put(key: string, body: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
    return this.write(key, body, false, opts);
  }

  putIfAbsent(key: string, body: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutIfAbsentResult> {
    return this.write(key, body, true, opts);
  }

  private async write(key: string, body: AsyncIterable<Uint8Array>, ifAbsent: boolean, opts: PutOptions): Promise<PutIfAbsentResult> {
    const url = this.url(key);
    const blob = this.container.getBlockBlobClient(this.blobName(key));
    const conditions = ifAbsent ? { conditions: { ifNoneMatch: '*' } } : {};
    const contentType = opts.contentType ? { blobContentType: opts.contentType } : {};
    const { first, only, all } = await firstBlock(blocksOf(body, BLOCK_SIZE)[Symbol.asyncIterator]());
    let size = first.length;
    let bodyFailure: { err: unknown } | undefined;
    const watched = async function* (): AsyncIterable<Buffer> {
      try {
        yield* all;
      } catch (err) {
        bodyFailure = { err };
        throw err;
      }
    };
    try {
      if (only) {
        // One Put Blob: the service checks the Content-MD5 and stores the MD5 for later downloads.
        const md5 = createHash('md5').update(first).digest();
        const options = { transactionalContentMD5: md5, blobHTTPHeaders: { blobContentMD5: md5, ...contentType }, ...conditions };
        await this.retry(
          `upload of ${url}`,
          // transactionalContentMD5 is honoured by upload() although its options type omits it.
          (abortSignal) => blob.upload(first, first.length, { ...options, abortSignal } as BlockBlobUploadOptions),
          opts.signal,
        );
        return { size: first.length, created: true };
      }
      const staged = await stageAll(
        watched(),
        (id, block) => {
          const md5 = createHash('md5').update(block).digest();
          return this.retry(
            `upload of a block of ${url}`,
            (abortSignal) => blob.stageBlock(id, block, block.length, { transactionalContentMD5: md5, abortSignal }),
            opts.signal,
          ).then(() => undefined);
        },
        { signal: opts.signal },
      );
      size = staged.size;
      await this.retry(
        `commit of ${url}`,
        (abortSignal) => blob.commitBlockList(staged.ids, { abortSignal, blobHTTPHeaders: { blobContentMD5: staged.md5, ...contentType }, ...conditions }),
        opts.signal,
      );
      return { size: staged.size, created: true };
    } catch (err) {
      // The body's own failure (compression, a read error) is reported as it is; the blocks staged so
      // far are never committed, and the service discards them.
      if (bodyFailure) throw bodyFailure.err;
      if (ifAbsent && (await this.lostTheRace(blob, err))) return { size, created: false };
      throw wabsStoreError('upload', url, err);
    }
  }

  /** A conditional commit that failed because another writer's blob is there (spec §5.1). */
  private async lostTheRace(blob: BlockBlobClient, err: unknown): Promise<boolean> {
    const status = statusOf(err);
    if (status === 409 || status === 412) return true;
    // A writer that committed first discards our uncommitted blocks: our commit then names blocks the
    // service no longer has. That is the same race, lost.
    if (status === 400 && azureCode(err) === 'InvalidBlockList') return (await blob.exists().catch(() => false)) === true;
    return false;
  }

  async get(key: string, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    const url = this.url(key);
    const blob = this.container.getBlobClient(this.blobName(key));
    try {
      // Only the opening request is bounded by the per-request timeout; the body is watched for stalls.
      const res = await this.retry(
        `download of ${url}`,
        async (attemptSignal) => {
          const opening = new AbortController();
          const onTimeout = () => opening.abort(attemptSignal.reason);
          attemptSignal.addEventListener('abort', onTimeout, { once: true });
          try {
            const abortSignal = opts.signal ? AbortSignal.any([opts.signal, opening.signal]) : opening.signal;
            // The SDK resumes a body cut mid-way from the last byte received (maxRetryRequests).
            return await blob.download(0, undefined, { abortSignal, maxRetryRequests: Math.max(0, this.policy.maxAttempts - 1) });
          } finally {
            attemptSignal.removeEventListener('abort', onTimeout);
          }
        },
        opts.signal,
      );
      const stream = res.readableStreamBody as Readable | undefined;
      if (!stream) throw new StoreError(`download of "${url}" returned no body`);
      return checkedDownload(url, stream, { md5: res.contentMD5, length: res.contentLength }, this.policy.idleTimeoutMs, (err) =>
        wabsStoreError('download', url, err),
      );
    } catch (err) {
      if (statusOf(err) === 404 && azureCode(err) !== 'ContainerNotFound') throw new NotFoundError(url);
      throw wabsStoreError('download', url, err);
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const url = this.url(key);
    const blob = this.container.getBlobClient(this.blobName(key));
    try {
      const p = await this.retry(`metadata of ${url}`, (abortSignal) => blob.getProperties({ abortSignal }));
      const ms = p.lastModified?.getTime() ?? 0;
      return { key, size: p.contentLength ?? 0, lastModified: pythonUtcDatetimeText(ms), lastModifiedMs: ms };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw wabsStoreError('read the metadata of', url, err);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const base = this.blobName('');
    let token: string | undefined;
    do {
      const page = await this.retry(`listing of ${this.url(prefix)}`, async (abortSignal) => {
        const it = this.container.listBlobsFlat({ prefix: base + prefix, abortSignal }).byPage({ continuationToken: token, maxPageSize: LIST_PAGE });
        return (await it.next()).value;
      }).catch((err) => Promise.reject(wabsStoreError('list', this.url(prefix), err)));
      for (const item of page?.segment.blobItems ?? []) {
        if (!item.name.startsWith(base)) continue;
        const ms = item.properties.lastModified.getTime();
        yield {
          key: item.name.slice(base.length),
          size: item.properties.contentLength ?? 0,
          lastModified: pythonUtcDatetimeText(ms),
          lastModifiedMs: ms,
        };
      }
      token = page?.continuationToken || undefined;
    } while (token);
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += BATCH_LIMIT) {
      const group = keys.slice(i, i + BATCH_LIMIT);
      if (!this.batchUnsupported && group.length > 1 && (await this.deleteBatch(group))) continue;
      const results = await settleWithLimit(group.map((k) => () => this.deleteOne(k)), DELETE_CONCURRENCY);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    }
  }

  /** One Blob Batch request; false when the service refuses batches (then keys go one by one). */
  private async deleteBatch(keys: readonly string[]): Promise<boolean> {
    const batch = this.container.getBlobBatchClient();
    const clients = keys.map((k) => this.container.getBlobClient(this.blobName(k)));
    let res;
    try {
      res = await this.retry(`batch delete under ${this.url('')}`, (abortSignal) => batch.deleteBlobs(clients, { abortSignal }));
    } catch (err) {
      if (classifyAzure(err).retryable) throw wabsStoreError('delete objects under', this.url(''), err);
      // Emulators and some SAS scopes reject the batch endpoint itself; single deletes still work.
      this.batchUnsupported = true;
      return false;
    }
    for (const [i, sub] of res.subResponses.entries()) {
      if (sub.status < 300 || sub.status === 404) continue;
      throw new StoreError(`could not delete "${this.url(keys[i] ?? '')}"`, {
        detail: `HTTP ${sub.status} ${sub.errorCode ?? sub.statusMessage}`,
      });
    }
    return true;
  }

  private async deleteOne(key: string): Promise<void> {
    const blob = this.container.getBlobClient(this.blobName(key));
    try {
      await this.retry(`delete of ${this.url(key)}`, (abortSignal) => blob.deleteIfExists({ abortSignal }));
    } catch (err) {
      throw wabsStoreError('delete', this.url(key), err);
    }
  }
}
