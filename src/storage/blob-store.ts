// The one storage interface every store adapter implements (file now; S3, Azure, GCS, Swift later).
// Keys are relative to the prefix's PATH_PREFIX ("wal_005/X.lzo"); adapters apply their own naming
// rules (spec §3.7). Callers ask for capabilities, never for a store kind.
import type { Readable } from 'node:stream';
import type { StoreLocation } from './location';

export interface ObjectInfo {
  /** Relative key, as passed to put/get. */
  readonly key: string;
  readonly size: number;
  /** The store's native last-modified text, which WAL-E compares as a string for LATEST (spec §3.6). */
  readonly lastModified: string;
  readonly lastModifiedMs: number;
}

export interface StoreCapabilities {
  /** putIfAbsent is atomic in the store itself (file: link; S3: If-None-Match; ...). */
  readonly atomicPutIfAbsent: boolean;
  /** Each request waits on the network (not the local disk), so overlapping downloads pays off. */
  readonly networkRequests: boolean;
}

export interface PutOptions {
  readonly contentType?: string;
  readonly signal?: AbortSignal;
}

export interface PutResult {
  /** Bytes stored. */
  readonly size: number;
}

export interface PutIfAbsentResult extends PutResult {
  /** false when the key already held an object; that object was left untouched. */
  readonly created: boolean;
}

export interface BlobStore {
  readonly location: StoreLocation;
  readonly capabilities: StoreCapabilities;
  /** The object's URL as WAL-E prints it in logs. */
  url(key: string): string;
  /** Streams a body of unknown length; the object becomes visible whole or not at all. */
  put(key: string, body: AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<PutResult>;
  /** As put, but never replaces an existing object. */
  putIfAbsent(key: string, body: AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<PutIfAbsentResult>;
  /** Opens an object for reading; rejects with NotFoundError when it does not exist. */
  get(key: string, opts?: { signal?: AbortSignal }): Promise<Readable>;
  /** Metadata, or undefined when the object does not exist. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** Every object whose key starts with prefix, pagination hidden. */
  list(prefix: string): AsyncIterable<ObjectInfo>;
  /** Deletes the keys; keys that do not exist are not an error. */
  deleteMany(keys: readonly string[]): Promise<void>;
}
