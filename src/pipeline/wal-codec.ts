// The WAL object pipelines: file -> lzop [-> gpg] on the way out, object -> [gpg ->] lzop -> bytes on
// the way in. One WAL segment is compressed on the main thread (a worker would cost more to start).
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Transform, pipeline, type Readable } from 'node:stream';
import { createLzopCompressor } from './lzop/compressor';
import { lzopDecodeBorrowed, lzopDecodeStream } from './lzop/decompress-iterable';
import type { Encryption } from './encryption';

export interface HashTap {
  readonly stream: Transform;
  /** sha256 hex and byte count of what went through; valid once the stream ended. */
  result(): { sha256: string; size: number };
}

export function hashTap(): HashTap {
  const hash: Hash = createHash('sha256');
  let size = 0;
  let digest: string | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return {
    stream,
    result: () => {
      digest ??= hash.digest('hex');
      return { sha256: digest, size };
    },
  };
}

/** The stored form of an open file: lzop [-> OpenPGP]; the tap (when given) sees the plain bytes. */
export async function compressedFile(fh: FileHandle, enc: Encryption | undefined, tap?: HashTap): Promise<Readable> {
  const source = createReadStream('', { fd: fh.fd, autoClose: false, highWaterMark: 1 << 20 });
  const stages: NodeJS.ReadWriteStream[] = [];
  if (tap) stages.push(tap.stream);
  stages.push(createLzopCompressor());
  if (enc) stages.push(await enc.encrypter());
  pipeline([source, ...stages] as unknown as [Readable, ...NodeJS.ReadWriteStream[]], () => undefined);
  return stages[stages.length - 1] as unknown as Readable;
}

/**
 * Plain bytes of a stored object as the decoder produces them, one lzop block at a time:
 * [OpenPGP ->] lzop; errors name the object. Iterating this directly avoids a stream's buffering
 * and re-concatenation of the 16 MiB a WAL segment decodes to. Each chunk is only valid until the
 * next one is asked for (it may be a view of the decoder's memory): use it up (write it, hash it)
 * before continuing the loop.
 */
export async function decompressedChunks(body: Readable, objectName: string, enc: Encryption | undefined): Promise<AsyncIterable<Uint8Array>> {
  if (!enc) return lzopDecodeBorrowed(body, objectName);
  const decrypter = await enc.decrypter(objectName);
  pipeline(body, decrypter, () => undefined);
  return lzopDecodeBorrowed(decrypter, objectName);
}

/** The same as a Readable, for consumers that pipe (the tar extractor). */
export async function decompressedObject(body: Readable, objectName: string, enc: Encryption | undefined): Promise<Readable> {
  if (!enc) return lzopDecodeStream(body, objectName);
  const decrypter = await enc.decrypter(objectName);
  pipeline(body, decrypter, () => undefined);
  return lzopDecodeStream(decrypter, objectName);
}

/** sha256 and size of a stream's bytes. */
export async function digestOf(stream: AsyncIterable<Uint8Array>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}
