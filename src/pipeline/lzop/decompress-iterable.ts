// Pull-based lzop decoding: one block is decoded only when the consumer asks for the next chunk, so
// memory stays at one block plus one input chunk however well the data compressed, and back-pressure
// needs no bookkeeping (an async generator cannot run ahead of its reader).
import { Readable } from 'node:stream';
import { decodeBlock, decodeBlockBorrowed } from './block-codec';
import { corruptObject } from './corrupt';
import { LzoKernel, lzoKernel } from './kernel';
import { LzopReader, type LzopBlock } from './reader';

async function* decodeWith<T extends Uint8Array>(
  source: AsyncIterable<Uint8Array>,
  objectName: string,
  decode: (kernel: LzoKernel, block: LzopBlock) => T,
  kernel: LzoKernel,
): AsyncGenerator<T> {
  const reader = new LzopReader();
  try {
    for await (const chunk of source) {
      reader.push(chunk as Buffer);
      for (let block = reader.next(); block !== undefined; block = reader.next()) yield decode(kernel, block);
    }
    reader.finish();
  } catch (err) {
    throw corruptObject(objectName, err);
  }
}

/** Decoded blocks, each a buffer the consumer owns. */
export function lzopDecode(source: AsyncIterable<Uint8Array>, objectName: string): AsyncGenerator<Buffer> {
  return decodeWith(source, objectName, decodeBlock, lzoKernel());
}

/**
 * As lzopDecode, but each chunk may be a view of the kernel's memory, valid only until the consumer
 * asks for the next one: for consumers that write a chunk out completely before asking again.
 * The decoder has a kernel of its own: while its consumer waits (on a write, say), other decoders and
 * compressors of the same thread run, and with the thread's shared kernel they would overwrite the
 * chunk it holds (several segments are prefetched, or compared and uploaded, in one process).
 */
export function lzopDecodeBorrowed(source: AsyncIterable<Uint8Array>, objectName: string): AsyncGenerator<Uint8Array> {
  return decodeWith(source, objectName, decodeBlockBorrowed, new LzoKernel());
}

export function lzopDecodeStream(source: AsyncIterable<Uint8Array>, objectName: string): Readable {
  return Readable.from(lzopDecode(source, objectName), { objectMode: false, highWaterMark: 1 << 20 });
}
