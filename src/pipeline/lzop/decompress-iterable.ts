// Pull-based lzop decoding: one block is decoded only when the consumer asks for the next chunk, so
// memory stays at one block plus one input chunk however well the data compressed, and back-pressure
// needs no bookkeeping (an async generator cannot run ahead of its reader).
import { Readable } from 'node:stream';
import { decodeBlock } from './block-codec';
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

export function lzopDecodeStream(source: AsyncIterable<Uint8Array>, objectName: string): Readable {
  return Readable.from(lzopDecode(source, objectName), { objectMode: false, highWaterMark: 1 << 20 });
}
