// One partition (returns the bytes of file data it restored): GET -> [OpenPGP] -> lzop -> tar -> safe extractor, streamed end to end (memory stays at
// a few blocks whatever the partition size; no temp files). A failed download is retried as a whole,
// a bounded number of times; corrupt data, unsafe members and local errors are never retried.
import { Transform, pipeline, type Readable } from 'node:stream';
import { getLogger } from '../../log/logger';
import type { Encryption } from '../../pipeline/encryption';
import { decompressedObject } from '../../pipeline/wal-codec';
import type { BlobStore } from '../../storage/blob-store';
import { objectName } from '../../storage/location';
import { CorruptObjectError, StoreError, WalEError } from '../../util/errors';
import type { SafeExtractor } from './extractor';
import type { PartitionRef } from './partitions';

const log = getLogger('wal_e.worker.base');

const KEY_WORDING: Record<string, string> = {
  s3: 'The absolute S3 key is',
  file: 'The absolute file key is',
  gs: 'The absolute GCS object is',
  wabs: 'The absolute WABS blob is',
  swift: 'The absolute Swift object name is',
};

const NETWORK_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** A transfer fault worth another attempt: never corrupt data or anything local. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof StoreError) return err.retryable;
  if (err instanceof WalEError) return false;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** Reads a plain tar stream member by member into the extractor; tar format errors mean a corrupt object. */
export async function extractTarStream(plain: Readable, extractor: SafeExtractor, objectName: string, signal?: AbortSignal): Promise<number> {
  const { extract } = await import('tar-stream');
  const tar = extract();
  plain.on('error', (err) => tar.destroy(err));
  tar.on('error', () => plain.destroy());
  plain.pipe(tar);
  let bytes = 0;
  try {
    for await (const entry of tar) {
      signal?.throwIfAborted();
      const h = entry.header;
      if (h.type === 'file' || h.type === 'contiguous-file') {
        bytes += await extractor.member(h, entry as AsyncIterable<Uint8Array>, objectName);
      } else {
        entry.resume();
        await extractor.member(h, [], objectName);
      }
    }
    return bytes;
  } catch (err) {
    plain.destroy();
    if (err instanceof WalEError || isRetryable(err) || signal?.aborted) throw err;
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === 'string' && e.syscall) throw err;
    // tar-stream's own complaints ("Invalid tar header", "Unexpected end of data") mean a bad partition.
    throw new CorruptObjectError(`the tar partition is corrupt: ${objectName}`, { detail: e.message });
  }
}

/** Passes bytes through, reporting how many went by. */
function byteCounter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

/** The plain tar stream of a stored partition: [count ->] [OpenPGP ->] lzop. */
async function plainTar(body: Readable, url: string, encryption: Encryption | undefined, onBytes: ((n: number) => void) | undefined): Promise<Readable> {
  if (!onBytes) return decompressedObject(body, url, encryption);
  const counter = byteCounter(onBytes);
  // A failure of either stage destroys both with that error; the decoder reads it from `counter`.
  pipeline(body, counter, () => undefined);
  return decompressedObject(counter, url, encryption);
}

async function extractOnce(
  store: BlobStore,
  part: PartitionRef,
  encryption: Encryption | undefined,
  extractor: SafeExtractor,
  signal: AbortSignal,
  onBytes: ((n: number) => void) | undefined,
): Promise<number> {
  const url = store.url(part.key);
  const body = await store.get(part.key, { signal });
  try {
    return await extractTarStream(await plainTar(body, url, encryption, onBytes), extractor, url, signal);
  } finally {
    body.destroy();
  }
}

export async function fetchPartition(
  store: BlobStore,
  part: PartitionRef,
  encryption: Encryption | undefined,
  extractor: SafeExtractor,
  retries: number,
  signal: AbortSignal,
  /** Stored (compressed) bytes downloaded, for the progress line; a retried attempt's bytes are taken back. */
  onBytes?: (n: number) => void,
): Promise<number> {
  log.info('beginning partition download', {
    detail: `The partition being downloaded is ${part.fileName}.`,
    hint: `${KEY_WORDING[store.location.kind] ?? 'The absolute key is'} ${objectName(store.location, part.key)}.`,
  });
  const max = retries === 0 ? 5 : Math.min(retries, 5);
  for (let attempt = 1; ; attempt++) {
    let counted = 0;
    const count = onBytes
      ? (n: number) => {
          counted += n;
          onBytes(n);
        }
      : undefined;
    try {
      return await extractOnce(store, part, encryption, extractor, signal, count);
    } catch (err) {
      if (signal.aborted || !isRetryable(err) || attempt >= max) throw err;
      onBytes?.(-counted);
      log.warning('retrying after encountering exception', {
        detail: `Exception information dump: \n${(err as Error).message}`,
        hint: `Attempt ${attempt} of ${max} to download and extract ${part.fileName} failed; the whole partition is fetched again.`,
      });
      await new Promise((r) => setTimeout(r, Math.min(8000, 500 * 2 ** (attempt - 1))));
    }
  }
}
