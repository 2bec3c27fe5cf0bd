// The gs:// store (spec §6.3, §3.7): Google Cloud Storage through @google-cloud/storage, loaded only
// when a gs:// prefix is used. Object names are "/" + PATH_PREFIX + key: WAL-E wrote that leading "/".
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bucket } from '@google-cloud/storage';
import type { Config } from '../../config/config';
import type { GsSettings } from '../../config/credentials';
import { NotFoundError } from '../../util/errors';
import { settleWithLimit } from '../../util/pool';
import type { BlobStore, ObjectInfo, PutIfAbsentResult, PutOptions, PutResult, StoreCapabilities } from '../blob-store';
import { retryPolicyFor, withRetryLabel, type RetryPolicy } from '../http/retry-policy';
import { objectName, objectUrl, type StoreLocation } from '../location';
import { checkedDownload } from '../http/checked-download';
import { pythonUtcDatetimeText } from '../http/python-datetime';
import { storageFor } from './gs-client';
import { gsStoreError, isMissingBucket, statusOf } from './gs-errors';

/** Resumable-upload chunk (a multiple of 256 KiB): the SDK keeps one chunk to resend after a failure,
 * so a broken connection costs one chunk, not the object (USER-PAINS 17). Smaller bodies go in one
 * multipart request. */
export const UPLOAD_CHUNK = 8 * 1024 * 1024;
const DELETE_CONCURRENCY = 8;
const LIST_PAGE = 1000;

export async function createGsStore(location: StoreLocation, settings: GsSettings, config: Config): Promise<BlobStore> {
  const policy = retryPolicyFor(config);
  const storage = await storageFor(settings, policy);
  return new GsStore(location, storage.bucket(location.container), policy);
}

/** Reads up to `limit` bytes; `rest` continues the same body. */
async function head(body: AsyncIterable<Uint8Array>, limit: number): Promise<{ first: Buffer; ended: boolean; rest: AsyncIterator<Uint8Array> }> {
  const it = body[Symbol.asyncIterator]();
  const parts: Uint8Array[] = [];
  let n = 0;
  while (n <= limit) {
    const r = await it.next();
    if (r.done) return { first: Buffer.concat(parts, n), ended: true, rest: it };
    parts.push(r.value);
    n += r.value.length;
  }
  return { first: Buffer.concat(parts, n), ended: false, rest: it };
}

async function* continued(first: Buffer, rest: AsyncIterator<Uint8Array>): AsyncIterable<Uint8Array> {
  yield first;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}

export class GsStore implements BlobStore {
  readonly capabilities: StoreCapabilities = { atomicPutIfAbsent: true, networkRequests: true };

  constructor(
    readonly location: StoreLocation,
    private readonly bucket: Bucket,
    private readonly policy: RetryPolicy,
  ) {}

  url(key: string): string {
    return objectUrl(this.location, key);
  }

  objectName(key: string): string {
    return objectName(this.location, key);
  }

  put(key: string, body: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
    return this.write(key, body, false, opts);
  }

  putIfAbsent(key: string, body: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutIfAbsentResult> {
    return this.write(key, body, true, opts);
  }

  private async write(key: string, body: AsyncIterable<Uint8Array>, ifAbsent: boolean, opts: PutOptions): Promise<PutIfAbsentResult> {
    const url = this.url(key);
    const file = this.bucket.file(this.objectName(key));
    const common = {
      // The SDK checks the stored object's CRC32C against what it sent; a mismatch deletes it and fails.
      validation: 'crc32c' as const,
      ...(opts.contentType ? { contentType: opts.contentType } : {}),
      ...(ifAbsent ? { preconditionOpts: { ifGenerationMatch: 0 } } : {}),
    };
    const { first, ended, rest } = await head(body, UPLOAD_CHUNK);
    let size = first.length;
    let bodyFailure: { err: unknown } | undefined;
    try {
      await withRetryLabel(`upload of ${url}`, async () => {
        if (ended) {
          await file.save(first, { ...common, resumable: false });
          return;
        }
        const counted = async function* (): AsyncIterable<Uint8Array> {
          try {
            for await (const c of continued(first, rest)) {
              opts.signal?.throwIfAborted();
              size += c === first ? 0 : c.length;
              yield c;
            }
          } catch (err) {
            bodyFailure = { err };
            throw err;
          }
        };
        const sink: Writable = file.createWriteStream({ ...common, resumable: true, chunkSize: UPLOAD_CHUNK });
        // A failing body destroys the upload before it is finalised: no object becomes visible.
        await pipeline(Readable.from(counted(), { objectMode: false }), sink, ...(opts.signal ? [{ signal: opts.signal }] as const : []));
      });
      return { size, created: true };
    } catch (err) {
      if (ifAbsent && statusOf(err) === 412) return { size, created: false };
      // The body's own failure (compression, a read error) is reported as it is, not as a store error.
      if (bodyFailure) throw bodyFailure.err;
      throw gsStoreError('upload', url, err);
    }
  }

  async get(key: string, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    const url = this.url(key);
    const file = this.bucket.file(this.objectName(key));
    const stream = file.createReadStream({ validation: 'crc32c' });
    try {
      // The SDK sends the request on the first read and reports a 404 as an error after its
      // 'response' event, so wait for a 2xx response or that error before handing the body out.
      await withRetryLabel(`download of ${url}`, () =>
        new Promise<void>((resolve, reject) => {
          stream.on('response', (res: { statusCode?: number; status?: number }) => {
            const status = res.statusCode ?? res.status ?? 0;
            if (status >= 200 && status < 300) resolve();
          });
          stream.once('error', reject);
          opts.signal?.addEventListener('abort', () => reject(opts.signal!.reason), { once: true });
          stream.read(0);
        }),
      );
    } catch (err) {
      stream.destroy();
      if (statusOf(err) === 404 && !isMissingBucket(err)) throw new NotFoundError(url);
      throw gsStoreError('download', url, err);
    }
    return checkedDownload(url, stream, {}, this.policy.idleTimeoutMs, (err) => gsStoreError('download', url, err));
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const url = this.url(key);
    try {
      const [md] = await withRetryLabel(`metadata of ${url}`, () => this.bucket.file(this.objectName(key)).getMetadata());
      const ms = Date.parse(String(md.updated ?? ''));
      return { key, size: Number(md.size ?? 0), lastModified: pythonUtcDatetimeText(ms), lastModifiedMs: ms };
    } catch (err) {
      if (statusOf(err) === 404 && !isMissingBucket(err)) return undefined;
      throw gsStoreError('read the metadata of', url, err);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const base = this.objectName('');
    let pageToken: string | undefined;
    do {
      let files;
      let next: { pageToken?: string } | null | undefined;
      try {
        [files, next] = await withRetryLabel(`listing of ${this.url(prefix)}`, () =>
          this.bucket.getFiles({ prefix: base + prefix, autoPaginate: false, maxResults: LIST_PAGE, ...(pageToken ? { pageToken } : {}) }),
        );
      } catch (err) {
        throw gsStoreError('list', this.url(prefix), err);
      }
      for (const f of files) {
        if (!f.name.startsWith(base)) continue;
        const ms = Date.parse(String(f.metadata.updated ?? ''));
        yield { key: f.name.slice(base.length), size: Number(f.metadata.size ?? 0), lastModified: pythonUtcDatetimeText(ms), lastModifiedMs: ms };
      }
      pageToken = next?.pageToken;
    } while (pageToken);
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    // The JSON API's batch endpoint is not in the SDK; WAL-E also deleted one object per request (§6.3).
    const results = await settleWithLimit(
      keys.map((k) => async () => {
        try {
          await withRetryLabel(`delete of ${this.url(k)}`, () => this.bucket.file(this.objectName(k)).delete({ ignoreNotFound: true }));
        } catch (err) {
          throw gsStoreError('delete', this.url(k), err);
        }
      }),
      DELETE_CONCURRENCY,
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
}
