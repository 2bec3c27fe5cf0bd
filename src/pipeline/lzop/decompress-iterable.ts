// Pull-based lzop decoding: one block is decoded only when the consumer asks for the next chunk, so
// memory stays at one block plus one input chunk however well the data compressed, and back-pressure
// needs no bookkeeping (an async generator cannot run ahead of its reader).
import { Readable } from 'node:stream';
import { decodeBlock, decodeBlockBorrowed } from './block-codec';
import { corruptObject } from './corrupt';
import { lzoKernel } from './kernel';
import { LzopReader } from './reader';

export async function* lzopDecode(source: AsyncIterable<Uint8Array>, objectName: string): AsyncGenerator<Buffer> {
  const reader = new LzopReader();
  const kernel = lzoKernel();
  try {
    for await (const chunk of source) {
      reader.push(chunk as Buffer);
      for (let block = reader.next(); block !== undefined; block = reader.next()) yield decodeBlock(kernel, block);
    }
    reader.finish();
  } catch (err) {
    throw corruptObject(objectName, err);
  }
}

/**
 * As lzopDecode, but each chunk may be a view of the kernel's memory, valid only until the consumer
 * asks for the next one: for consumers that write a chunk out completely before asking again.
 */
export async function* lzopDecodeBorrowed(source: AsyncIterable<Uint8Array>, objectName: string): AsyncGenerator<Uint8Array> {
  const reader = new LzopReader();
  const kernel = lzoKernel();
  try {
    for await (const chunk of source) {
      reader.push(chunk as Buffer);
      for (let block = reader.next(); block !== undefined; block = reader.next()) yield decodeBlockBorrowed(kernel, block);
    }
    reader.finish();
  } catch (err) {
    throw corruptObject(objectName, err);
  }
}

export function lzopDecodeStream(source: AsyncIterable<Uint8Array>, objectName: string): Readable {
  return Readable.from(lzopDecode(source, objectName), { objectMode: false, highWaterMark: 1 << 20 });
}
