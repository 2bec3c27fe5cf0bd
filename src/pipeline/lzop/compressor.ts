// Serial lzop compression stream (main thread): gathers input into 256 KiB blocks, compresses each with
// the kernel and frames it exactly like `lzop -c` reading a pipe. Used for single WAL segments, where a
// worker's start-up would cost more than it saves.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { END_MARKER, WRITE_BLOCK_SIZE } from './block';
import { encodeBlock } from './block-codec';
import { encodeLzopHeader } from './header';
import type { HeaderOptions } from './header';
import { lzoKernel } from './kernel';

export type LzopCompressorOptions = HeaderOptions;

/** Cuts a byte stream into WRITE_BLOCK_SIZE blocks, copying into one reused staging buffer. */
export class BlockSplitter {
  private staging = Buffer.allocUnsafe(WRITE_BLOCK_SIZE);
  private filled = 0;

  /** Calls `onBlock` for every full block; the view is only valid during the call. */
  write(chunk: Uint8Array, onBlock: (block: Uint8Array) => void): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.filled === 0 && chunk.length - pos >= WRITE_BLOCK_SIZE) {
        onBlock(chunk.subarray(pos, pos + WRITE_BLOCK_SIZE));
        pos += WRITE_BLOCK_SIZE;
        continue;
      }
      const n = Math.min(WRITE_BLOCK_SIZE - this.filled, chunk.length - pos);
      this.staging.set(chunk.subarray(pos, pos + n), this.filled);
      this.filled += n;
      pos += n;
      if (this.filled === WRITE_BLOCK_SIZE) {
        onBlock(this.staging);
        this.filled = 0;
      }
    }
  }

  /** Whether writing `n` more bytes hands out at least one block. */
  completesBlock(n: number): boolean {
    return this.filled + n >= WRITE_BLOCK_SIZE;
  }

  /** The last, partial block (possibly empty). */
  rest(): Uint8Array {
    const out = this.staging.subarray(0, this.filled);
    this.filled = 0;
    return out;
  }

  /** A fresh staging buffer, for consumers that keep the blocks they were handed. */
  detach(): void {
    this.staging = Buffer.allocUnsafe(WRITE_BLOCK_SIZE);
  }
}

export function createLzopCompressor(options: LzopCompressorOptions = {}): Transform {
  const splitter = new BlockSplitter();
  let headerSent = false;
  const header = (stream: Transform): void => {
    if (!headerSent) {
      stream.push(Buffer.from(encodeLzopHeader(options)));
      headerSent = true;
    }
  };
  return new Transform({
    transform(this: Transform, chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      const work = (): void => {
        try {
          header(this);
          const kernel = lzoKernel();
          splitter.write(chunk, (block) => this.push(encodeBlock(kernel, block)));
          callback();
        } catch (e) {
          callback(e as Error);
        }
      };
      // A chunk that completes a block is compressed on the next turn of the event loop: the source
      // (a file stream) then gets to start its next read first, and that read overlaps this block's
      // compression instead of following it.
      if (splitter.completesBlock(chunk.length)) setImmediate(work);
      else work();
    },
    flush(this: Transform, callback: TransformCallback): void {
      try {
        header(this);
        const last = splitter.rest();
        if (last.length > 0) this.push(encodeBlock(lzoKernel(), last));
        this.push(Buffer.from(END_MARKER));
        callback();
      } catch (e) {
        callback(e as Error);
      }
    },
  });
}
