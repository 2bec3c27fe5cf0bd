// Streaming uploads with bounded memory and no temp files (USER-PAINS 6, 17). The first
// SINGLE_PUT_LIMIT bytes are buffered: a body that ends within them (every WAL segment, even an
// incompressible one) goes up as one PutObject whose Buffer the SDK can retry and whose Content-MD5 the
// server checks; a longer body is a multipart upload (lib-storage: PART_SIZE parts, QUEUE_SIZE in
// flight, each part retried on its own with its own Content-MD5) that is aborted on any failure so no
// parts are left behind, and that becomes visible only at CompleteMultipartUpload.
import { Readable } from 'node:stream';
import type { S3Client, ServerSideEncryption, StorageClass } from '@aws-sdk/client-s3';
import { getLogger } from '../../log/logger';
import type { S3Sdk } from './s3-client';

const log = getLogger('wal_e.worker.upload');

export const SINGLE_PUT_LIMIT = 17 * 1024 * 1024;
export const PART_SIZE = 8 * 1024 * 1024;
export const QUEUE_SIZE = 2;

export interface ObjectParams {
  readonly Bucket: string;
  readonly Key: string;
  readonly ContentType?: string;
  readonly StorageClass?: StorageClass;
  readonly ServerSideEncryption?: ServerSideEncryption;
  readonly SSEKMSKeyId?: string;
}

/** The start of a body: whole (when it ended within the limit) or the head of a longer stream. */
export interface BufferedStart {
  readonly chunks: Buffer[];
  readonly size: number;
  /** The rest of the source when it did not end within the limit. */
  readonly rest: AsyncIterator<Uint8Array> | undefined;
}

/** The error the caller's body raised, kept apart from storage errors so it reaches the caller as is. */
export class SourceError extends Error {
  constructor(readonly original: unknown) {
    super((original as Error)?.message ?? String(original));
  }
}

async function pull(it: AsyncIterator<Uint8Array>): Promise<IteratorResult<Uint8Array>> {
  try {
    return await it.next();
  } catch (err) {
    throw new SourceError(err);
  }
}

export async function bufferStart(body: AsyncIterable<Uint8Array>, limit = SINGLE_PUT_LIMIT): Promise<BufferedStart> {
  const it = body[Symbol.asyncIterator]();
  const chunks: Buffer[] = [];
  let size = 0;
  while (size <= limit) {
    const r = await pull(it);
    if (r.done) return { chunks, size, rest: undefined };
    chunks.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
    size += r.value.byteLength;
  }
  return { chunks, size, rest: it };
}

/** Reads and discards the rest of a body, so that whatever taps it (digests) sees every byte. */
export async function drain(body: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  try {
    for await (const c of body) n += c.byteLength;
  } catch (err) {
    throw new SourceError(err);
  }
  return n;
}

export async function putSingle(sdk: S3Sdk, client: S3Client, params: ObjectParams, data: Buffer, extra: { IfNoneMatch?: string }, signal: AbortSignal): Promise<void> {
  await client.send(new sdk.PutObjectCommand({ ...params, ...extra, Body: data, ContentLength: data.length }), { abortSignal: signal });
}

interface UploadInternals {
  uploadId?: string;
}

/**
 * Multipart upload of `start` followed by the rest of the source. Returns the bytes sent. On failure the
 * multipart upload is aborted (AbortMultipartUpload) and the first error is rethrown.
 */
export async function putMultipart(
  sdk: S3Sdk,
  client: S3Client,
  params: ObjectParams,
  start: BufferedStart,
  extra: { IfNoneMatch?: string },
  signal: AbortSignal,
): Promise<number> {
  const { Upload } = await import('@aws-sdk/lib-storage');
  let size = 0;
  const replay = async function* (): AsyncGenerator<Buffer> {
    // Hand over the buffered chunks one by one, dropping each reference as it goes.
    while (start.chunks.length > 0) {
      const c = start.chunks.shift()!;
      size += c.length;
      yield c;
    }
    if (!start.rest) return;
    for (;;) {
      const r = await pull(start.rest);
      if (r.done) return;
      size += r.value.byteLength;
      yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    }
  };
  const upload = new Upload({
    client,
    params: { ...params, ...extra, Body: Readable.from(replay(), { objectMode: false }) },
    partSize: PART_SIZE,
    queueSize: QUEUE_SIZE,
    // Aborted below, so that a failing abort (s3rver has none) cannot hide the error that caused it.
    leavePartsOnError: true,
  });
  const onAbort = () => void upload.abort().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await upload.done();
    return size;
  } catch (err) {
    const uploadId = (upload as unknown as UploadInternals).uploadId;
    if (uploadId !== undefined) {
      await client
        .send(new sdk.AbortMultipartUploadCommand({ Bucket: params.Bucket, Key: params.Key, UploadId: uploadId }))
        .catch((abortErr: Error) => {
          log.warning('could not abort a failed multipart upload', {
            detail: `Upload ${uploadId} of "${params.Key}": ${abortErr.name}: ${abortErr.message.split('\n')[0]}. A bucket lifecycle rule (AbortIncompleteMultipartUpload) removes such parts.`,
          });
        });
    }
    // The rest of the source is not read any more: end it, so its producer (a compressor holding
    // pool slots, a file) is released rather than left waiting for a reader.
    await start.rest?.return?.(undefined).catch(() => undefined);
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
