// The swift:// store (spec §3.7, §6.4) on a small Swift client over Node's fetch. Object names begin
// with "/" exactly as WAL-E wrote them; bodies up to one segment are buffered and sent as one PUT with
// their MD5 as ETag (Swift rejects a mismatch with 422; we also compare its answer), bigger bodies
// become static large objects whose segments are uploaded and retried one by one (USER-PAINS 17).
// Listings page through every object (WAL-E stopped at 10,000: wal-e#373); deletes use the bulk
// middleware when the cluster offers it.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Config } from '../../config/config';
import type { SwiftSettings } from '../../config/credentials';
import { NotFoundError, StoreError } from '../../util/errors';
import { settleWithLimit } from '../../util/pool';
import type { BlobStore, ObjectInfo, PutIfAbsentResult, PutOptions, PutResult, StoreCapabilities } from '../blob-store';
import { retryPolicyFor } from '../http/retry-policy';
import { objectName, objectUrl, type StoreLocation } from '../location';
import { bulkDelete, bulkDeleteLimit } from './bulk-delete';
import { SwiftConnection } from './swift-connection';
import { drain } from './swift-http-error';
import {
  SEGMENTS_PREFIX,
  containerPath,
  lastModifiedFromTimestamp,
  lastModifiedMs,
  objectPath,
  segmentName,
  segmentsPrefixFor,
} from './swift-names';
import { pieces, type Piece } from './segmenter';
import { chunksUntilStall } from './stall-reader';

export interface SwiftStoreOptions {
  /** Bodies up to this size are one object; bigger ones are cut into segments of this size. */
  readonly segmentBytes: number;
  /** Objects asked for per listing page (Swift's default and maximum is 10,000). */
  readonly listingLimit: number;
  /** DELETE requests in flight when the cluster has no bulk-delete middleware. */
  readonly deleteConcurrency: number;
}

/**
 * 64 MiB: a WAL segment (16 MiB before compression) is always one object; a 1.5 GiB base-backup
 * partition becomes 24 segments, each retried alone. Memory per upload in flight is one segment.
 */
export const DEFAULT_SWIFT_OPTIONS: SwiftStoreOptions = {
  segmentBytes: 64 * 1024 * 1024,
  listingLimit: 10_000,
  deleteConcurrency: 8,
};

interface ListedObject {
  name?: string;
  subdir?: string;
  bytes?: number;
  last_modified?: string;
}

interface SegmentRef {
  path: string;
  etag: string;
  size_bytes: number;
}

const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');
const unquote = (etag: string | null): string => (etag ?? '').replace(/^"|"$/g, '').toLowerCase();

export class SwiftStore implements BlobStore {
  /** Swift honours If-None-Match: * but two PUTs racing past the check can both succeed (last one wins). */
  readonly capabilities: StoreCapabilities = { atomicPutIfAbsent: false, networkRequests: true };
  private readonly root: string;
  private readonly options: SwiftStoreOptions;
  private bulkLimit: Promise<number | undefined> | undefined;

  constructor(
    readonly location: StoreLocation,
    readonly connection: SwiftConnection,
    options: Partial<SwiftStoreOptions> = {},
  ) {
    this.root = objectName(location, '');
    this.options = { ...DEFAULT_SWIFT_OPTIONS, ...options };
  }

  url(key: string): string {
    return objectUrl(this.location, key);
  }

  private path(name: string): string {
    return objectPath(this.location.container, name);
  }

  put(key: string, body: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutResult> {
    return this.upload(key, body, false, opts);
  }

  putIfAbsent(key: string, body: AsyncIterable<Uint8Array>, opts: PutOptions = {}): Promise<PutIfAbsentResult> {
    return this.upload(key, body, true, opts);
  }

  private async upload(key: string, body: AsyncIterable<Uint8Array>, ifAbsent: boolean, opts: PutOptions): Promise<PutIfAbsentResult> {
    const name = objectName(this.location, key);
    const source = pieces(body, this.options.segmentBytes);
    try {
      const first = await source.next();
      const piece = first.value as Piece;
      if (piece.last) {
        const created = await this.putWhole(key, name, piece.data, ifAbsent, opts);
        return { size: piece.data.length, created };
      }
      return await this.putLarge(key, name, piece, source, ifAbsent, opts);
    } finally {
      await source.return(undefined);
    }
  }

  private containerMissing(): StoreError {
    return new StoreError(`the Swift container "${this.location.container}" does not exist`, {
      hint: `Create it first (e.g. "swift post ${this.location.container}"); wal-e does not create containers.`,
    });
  }

  /** One PUT of a whole body with its MD5; returns false when If-None-Match found the name taken. */
  private async putWhole(key: string, name: string, data: Buffer, ifAbsent: boolean, opts: PutOptions): Promise<boolean> {
    const etag = md5(data);
    const headers: Record<string, string> = { 'Content-Type': opts.contentType ?? 'application/octet-stream', ETag: etag };
    if (ifAbsent) headers['If-None-Match'] = '*';
    const status = await this.connection.request(
      `PUT ${this.url(key)}`,
      { method: 'PUT', path: this.path(name), headers, body: data, accept: [404, 412, 422] },
      async (res, attempt) => {
        await drain(res, 0);
        if (res.status === 422) {
          // Swift computed another MD5 than ours: the body was damaged on the way. Send it again.
          throw new StoreError(`the upload of ${this.url(key)} arrived damaged`, { retryable: true, detail: 'Swift answered 422 (ETag mismatch).' });
        }
        if (res.status === 201) this.checkEtag(key, etag, res.headers.get('etag'));
        return { status: res.status, retried: attempt > 1 };
      },
      { signal: opts.signal },
    );
    if (status.status === 404) throw this.containerMissing();
    if (status.status === 412) return status.retried && (await this.sameContentStored(name, etag));
    return true;
  }

  private checkEtag(key: string, expected: string, got: string | null): void {
    if (unquote(got) !== expected) {
      throw new StoreError(`integrity check failed for ${this.url(key)}`, {
        detail: `Swift reported ETag ${got ?? '(none)'} for a body whose MD5 is ${expected}.`,
      });
    }
  }

  /**
   * A 412 after a retry may answer our own earlier attempt whose response was lost; the stored object
   * then has our MD5 and counts as created by us. On a first attempt a 412 always means "taken".
   */
  private async sameContentStored(name: string, etag: string): Promise<boolean> {
    const head = await this.headName(name);
    return head !== undefined && head.etag === etag;
  }

  /** A static large object: segments first (each retried alone), the manifest last, so the object appears whole. */
  private async putLarge(
    key: string,
    name: string,
    first: Piece,
    rest: AsyncGenerator<Piece>,
    ifAbsent: boolean,
    opts: PutOptions,
  ): Promise<PutIfAbsentResult> {
    // No point uploading gigabytes only to be refused at the manifest.
    if (ifAbsent && (await this.headName(name)) !== undefined) return { size: 0, created: false };
    const uploadId = `${Date.now()}-${randomBytes(4).toString('hex')}`;
    const refs: SegmentRef[] = [];
    let size = 0;
    let done = false;
    try {
      for (let piece: Piece | undefined = first; piece; ) {
        refs.push(await this.putSegment(key, name, uploadId, piece, opts));
        size += piece.data.length;
        if (piece.last) break;
        const next = await rest.next();
        piece = next.done ? undefined : next.value;
      }
      const manifest = Buffer.from(JSON.stringify(refs));
      const headers: Record<string, string> = { 'Content-Type': opts.contentType ?? 'application/octet-stream' };
      if (ifAbsent) headers['If-None-Match'] = '*';
      const status = await this.connection.request(
        `PUT ${this.url(key)} (manifest of ${refs.length} segments)`,
        { method: 'PUT', path: `${this.path(name)}?multipart-manifest=put`, headers, body: manifest, accept: [404, 412] },
        async (res) => {
          await drain(res, 0);
          if (res.status === 201) {
            // The SLO's ETag is the MD5 of its segments' ETags: Swift checked every segment against them.
            this.checkEtag(key, md5(Buffer.from(refs.map((r) => r.etag).join(''))), res.headers.get('etag'));
          }
          return res.status;
        },
        { signal: opts.signal },
      );
      if (status === 404) throw this.containerMissing();
      if (status === 412) return { size, created: false };
      done = true;
      if (!ifAbsent) await this.deleteOtherUploads(name, uploadId).catch(() => undefined);
      return { size, created: true };
    } finally {
      // A failed or refused upload leaves nothing behind: its segments go too.
      if (!done && refs.length > 0) await this.deleteNames(refs.map((r) => r.path.slice(this.location.container.length + 2))).catch(() => undefined);
    }
  }

  private async putSegment(key: string, name: string, uploadId: string, piece: Piece, opts: PutOptions): Promise<SegmentRef> {
    const seg = segmentName(name, uploadId, piece.index);
    const etag = md5(piece.data);
    const status = await this.connection.request(
      `PUT ${this.url(key)} (segment ${piece.index + 1})`,
      {
        method: 'PUT',
        path: this.path(seg),
        headers: { 'Content-Type': 'application/octet-stream', ETag: etag },
        body: piece.data,
        accept: [404, 422],
      },
      async (res) => {
        await drain(res, 0);
        if (res.status === 422) {
          throw new StoreError(`segment ${piece.index + 1} of ${this.url(key)} arrived damaged`, { retryable: true });
        }
        if (res.status === 201) this.checkEtag(key, etag, res.headers.get('etag'));
        return res.status;
      },
      { signal: opts.signal },
    );
    if (status === 404) throw this.containerMissing();
    return { path: `/${this.location.container}/${seg}`, etag, size_bytes: piece.data.length };
  }

  /** Segments of earlier uploads of the same name, orphaned when this upload replaced their manifest. */
  private async deleteOtherUploads(name: string, keepUploadId: string): Promise<void> {
    const stale: string[] = [];
    for await (const o of this.listNames(segmentsPrefixFor(name))) {
      if (!o.name.startsWith(`${segmentsPrefixFor(name)}${keepUploadId}/`)) stale.push(o.name);
    }
    await this.deleteNames(stale);
  }

  async get(key: string, opts: { signal?: AbortSignal } = {}): Promise<Readable> {
    const url = this.url(key);
    const res = await this.connection.request(
      `GET ${url}`,
      { method: 'GET', path: this.path(objectName(this.location, key)), accept: [404] },
      async (r) => {
        if (r.status === 404) {
          await drain(r, 0);
          throw new NotFoundError(url);
        }
        return r;
      },
      { signal: opts.signal, streaming: true },
    );
    const length = res.headers.get('content-length');
    // Plain objects carry their MD5 as ETag; large objects (quoted ETag, manifest headers) do not.
    const etag = res.headers.get('etag');
    const plain = etag !== null && /^[0-9a-f]{32}$/i.test(etag) && !res.headers.has('x-static-large-object') && !res.headers.has('x-object-manifest');
    return Readable.from(
      bodyOf(res, url, this.connection.policy.requestTimeoutMs, length === null ? undefined : Number(length), plain ? etag.toLowerCase() : undefined),
      { objectMode: false },
    );
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const h = await this.headName(objectName(this.location, key));
    return h && { key, size: h.size, lastModified: h.lastModified, lastModifiedMs: h.lastModifiedMs };
  }

  private async headName(name: string): Promise<{ size: number; etag: string; lastModified: string; lastModifiedMs: number } | undefined> {
    return this.connection.request(
      `HEAD ${this.url(name.slice(this.root.length))}`,
      { method: 'HEAD', path: this.path(name), accept: [404] },
      async (res) => {
        await drain(res, 0);
        if (res.status === 404) return undefined;
        const ts = lastModifiedFromTimestamp(res.headers.get('x-timestamp') ?? '');
        const httpDate = Date.parse(res.headers.get('last-modified') ?? '');
        return {
          size: Number(res.headers.get('content-length') ?? 0),
          etag: unquote(res.headers.get('etag')),
          lastModified: ts?.text ?? new Date(Number.isNaN(httpDate) ? 0 : httpDate).toISOString().slice(0, 19),
          lastModifiedMs: ts?.ms ?? (Number.isNaN(httpDate) ? 0 : httpDate),
        };
      },
    );
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for await (const o of this.listNames(this.root + prefix)) {
      yield { key: o.name.slice(this.root.length), size: o.bytes, lastModified: o.lastModified, lastModifiedMs: lastModifiedMs(o.lastModified) };
    }
  }

  /** Every object whose name starts with `prefix`, page after page until an empty page (as swiftclient's full_listing). */
  private async *listNames(prefix: string): AsyncIterable<{ name: string; bytes: number; lastModified: string }> {
    let marker = '';
    for (;;) {
      const query = `format=json&limit=${this.options.listingLimit}&prefix=${encodeURIComponent(prefix)}${marker ? `&marker=${encodeURIComponent(marker)}` : ''}`;
      const page = await this.connection.request(
        `GET ${this.location.url} (listing${marker ? ' after ' + marker : ''})`,
        { method: 'GET', path: `${containerPath(this.location.container)}?${query}`, headers: { Accept: 'application/json' }, accept: [404] },
        async (res): Promise<ListedObject[]> => {
          if (res.status === 404 || res.status === 204) {
            await drain(res, 0);
            return [];
          }
          const parsed = (await res.json()) as unknown;
          if (!Array.isArray(parsed)) throw new StoreError('Swift returned a container listing that is not a JSON array');
          return parsed as ListedObject[];
        },
      );
      if (page.length === 0) return;
      for (const o of page) {
        if (typeof o.name !== 'string') continue;
        yield { name: o.name, bytes: Number(o.bytes ?? 0), lastModified: o.last_modified ?? '' };
      }
      marker = page[page.length - 1]!.name ?? page[page.length - 1]!.subdir ?? '';
      if (marker === '') return;
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    const names = [...new Set(keys.map((k) => objectName(this.location, k)))];
    // Segments of large objects (and of replaced uploads) under the deleted names, found in one listing.
    const wanted = new Set(names);
    const segments: string[] = [];
    for await (const o of this.listNames(SEGMENTS_PREFIX + this.root)) {
      const m = /^(.*)\/slo\/[^/]+\/\d{8}$/.exec(o.name.slice(SEGMENTS_PREFIX.length));
      if (m && wanted.has(m[1]!)) segments.push(o.name);
    }
    // Manifests first: an object never points at segments that are already gone.
    await this.deleteNames(names);
    await this.deleteNames(segments);
  }

  /** Deletes object names in this container; names that do not exist are not an error. */
  private async deleteNames(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    const limit = await this.bulkDeleteLimit();
    if (limit !== undefined) {
      for (let i = 0; i < names.length; i += limit) {
        await bulkDelete(this.connection, names.slice(i, i + limit).map((n) => this.path(n)));
      }
      return;
    }
    const results = await settleWithLimit(
      names.map((n) => () =>
        this.connection.request(`DELETE swift://${this.location.container}/${n}`, { method: 'DELETE', path: this.path(n), accept: [404] }, (res) => drain(res, 0)),
      ),
      this.options.deleteConcurrency,
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }

  private bulkDeleteLimit(): Promise<number | undefined> {
    this.bulkLimit ??= this.connection.auth().then((a) => bulkDeleteLimit(a.storageUrl)).catch(() => undefined);
    return this.bulkLimit;
  }
}

/**
 * The response body as a byte stream that fails with a retryable StoreError (which wal-fetch retries,
 * spec §6.6) when the connection drops, stalls for `stallMs`, ends short of Content-Length or does not
 * match the object's MD5.
 */
async function* bodyOf(res: Response, url: string, stallMs: number, length: number | undefined, md5Hex: string | undefined): AsyncGenerator<Buffer> {
  const hash = md5Hex ? createHash('md5') : undefined;
  let got = 0;
  for await (const chunk of chunksUntilStall(res, `download of ${url}`, stallMs)) {
    got += chunk.length;
    hash?.update(chunk);
    yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  }
  if (length !== undefined && got !== length) {
    throw new StoreError(`download of ${url} ended early`, { retryable: true, detail: `Got ${got} of ${length} bytes.` });
  }
  if (hash && hash.digest('hex') !== md5Hex) {
    throw new StoreError(`download of ${url} does not match its MD5`, { retryable: true, detail: `Swift's ETag is ${md5Hex}.` });
  }
}

export async function createSwiftStore(location: StoreLocation, settings: SwiftSettings, config: Config): Promise<BlobStore> {
  return new SwiftStore(location, new SwiftConnection(settings, retryPolicyFor(config)));
}

