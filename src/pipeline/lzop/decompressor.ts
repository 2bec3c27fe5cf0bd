// Serial lzop decompression stream (main thread). Decodes block by block as the bytes arrive and stops
// decoding while the reader is not keeping up, so memory stays at about one block plus one input chunk.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { decodeBlock } from './block-codec';
import { corruptObject } from './corrupt';
import { lzoKernel } from './kernel';
import { LzopReader } from './reader';

class LzopDecompressStream extends Transform {
  private readonly reader = new LzopReader();
  private paused: TransformCallback | undefined;

  constructor(private readonly objectName: string) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.reader.push(chunk);
    this.pump(callback);
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.reader.finish();
      callback();
    } catch (e) {
      callback(corruptObject(this.objectName, e));
    }
  }

  override _read(size: number): void {
    const resume = this.paused;
    if (resume !== undefined) {
      this.paused = undefined;
      this.pump(resume);
      return;
    }
    super._read(size);
  }

  /** Decodes the blocks available; parks `callback` when the readable side is full. */
  private pump(callback: TransformCallback): void {
    try {
      const kernel = lzoKernel();
      for (;;) {
        const block = this.reader.next();
        if (block === undefined) break;
        if (!this.push(decodeBlock(kernel, block))) {
          this.paused = callback;
          return;
        }
      }
    } catch (e) {
      callback(corruptObject(this.objectName, e));
      return;
    }
    callback();
  }
}

/** lzop bytes in, original bytes out; errors with CorruptObjectError naming `objectName`. */
export function createLzopDecompressor(objectName: string): Transform {
  return new LzopDecompressStream(objectName);
}
