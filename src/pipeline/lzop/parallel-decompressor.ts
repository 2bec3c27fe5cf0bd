// lzop decompression spread over the worker pool. The container is parsed here on the main thread
// (cheap), each compressed block is decoded by a worker (blocks are independent), and the results are
// verified and released in block order. Stored blocks need no decoding and are checked right here.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { WRITE_BLOCK_SIZE } from './block';
import { decodeBlock, verifyChecksums } from './block-codec';
import { corruptObject } from './corrupt';
import { unfilterBlock } from './filter';
import { LzopFormatError } from './format-error';
import { lzoErrorText, lzoKernel } from './kernel';
import { OrderedOutput } from './ordered-output';
import type { ParallelLzopOptions } from './parallel-compressor';
import { defaultPoolSize, sharedLzoPool } from './pool';
import type { LzoWorkerPool } from './pool';
import type { LzopBlock } from './reader';
import { LzopReader } from './reader';
import type { DecompressResult } from './worker-protocol';

interface BufferPair {
  input: ArrayBuffer;
  output: ArrayBuffer;
}

class ParallelLzopDecompressStream extends Transform {
  private readonly reader = new LzopReader();
  private readonly pool: LzoWorkerPool;
  private readonly maxInFlight: number;
  private readonly free: BufferPair[] = [];
  private readonly order = new OrderedOutput<Buffer>();
  /** The block parsed but not yet dispatched because every slot was busy. */
  private held: LzopBlock | undefined;
  private waiting: (() => void) | undefined;
  private failed = false;

  constructor(private readonly objectName: string, options: ParallelLzopOptions) {
    super();
    this.pool = options.pool ?? sharedLzoPool(options.poolSize ?? defaultPoolSize());
    this.maxInFlight = Math.max(1, options.inFlight ?? this.pool.size * 2);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.reader.push(chunk);
    this.pump(callback);
  }

  override _flush(callback: TransformCallback): void {
    const finish = (): void => {
      if (this.order.inFlight > 0) {
        this.waiting = finish;
        return;
      }
      try {
        this.reader.finish();
      } catch (e) {
        callback(corruptObject(this.objectName, e));
        return;
      }
      callback();
    };
    finish();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.failed = true;
    this.waiting = undefined;
    callback(error);
  }

  private fail(e: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.destroy(corruptObject(this.objectName, e));
  }

  /** Dispatches parsed blocks while slots are free; calls `callback` once the input is consumed. */
  private pump(callback: TransformCallback): void {
    if (this.failed) return;
    try {
      for (;;) {
        const block = this.held ?? this.reader.next();
        this.held = undefined;
        if (block === undefined) break;
        if (this.order.inFlight >= this.maxInFlight) {
          this.held = block;
          this.waiting = () => this.pump(callback);
          return;
        }
        this.dispatch(block);
      }
    } catch (e) {
      callback(corruptObject(this.objectName, e));
      return;
    }
    callback();
  }

  private acquire(srcLen: number, dstLen: number): BufferPair {
    const pair = this.free.pop() ?? {
      input: new ArrayBuffer(WRITE_BLOCK_SIZE),
      output: new ArrayBuffer(WRITE_BLOCK_SIZE),
    };
    // Blocks larger than lzop's 256 KiB are legal up to 64 MiB; grow the pair for them only.
    if (pair.input.byteLength < srcLen) pair.input = new ArrayBuffer(srcLen);
    if (pair.output.byteLength < dstLen) pair.output = new ArrayBuffer(dstLen);
    return pair;
  }

  private dispatch(block: LzopBlock): void {
    const position = this.order.assign();
    if (block.stored) {
      this.order.complete(position, decodeBlock(lzoKernel(), block), (b) => this.push(b));
      return;
    }
    const pair = this.acquire(block.payload.length, block.dstLen);
    new Uint8Array(pair.input).set(block.payload);
    this.pool
      .run(
        {
          op: 'decompress',
          input: pair.input,
          srcLen: block.payload.length,
          dstLen: block.dstLen,
          output: pair.output,
          dataChecksum: block.filter ? undefined : block.checksums.data[0]?.kind,
          compressedChecksum: block.checksums.compressed[0]?.kind,
        },
        [pair.input, pair.output],
      )
      .then(
        (r) => this.completed(position, block, r as DecompressResult),
        (e: Error) => this.destroy(e),
      );
  }

  private completed(position: number, block: LzopBlock, r: DecompressResult): void {
    if (this.failed || this.destroyed) return;
    this.free.push({ input: r.input, output: r.output });
    try {
      if (r.code !== 0) throw new LzopFormatError(`${lzoErrorText(r.code)} in block ${block.index}`);
      const out = Buffer.allocUnsafe(block.dstLen);
      out.set(new Uint8Array(r.output, 0, block.dstLen));
      const kernel = lzoKernel();
      const firstData = block.checksums.data[0]?.kind;
      const firstCompressed = block.checksums.compressed[0]?.kind;
      if (block.filter) unfilterBlock(out, block.filter);
      verifyChecksums(
        block.index,
        block.checksums,
        (kind) => (kind === firstData && !block.filter ? r.dataChecksum : kernel.checksum(kind, out)),
        (kind) => (kind === firstCompressed ? r.compressedChecksum : kernel.checksum(kind, block.payload)),
      );
      this.order.complete(position, out, (b) => this.push(b));
    } catch (e) {
      this.fail(e);
      return;
    }
    const resume = this.waiting;
    if (resume !== undefined) {
      this.waiting = undefined;
      resume();
    }
  }
}

/** lzop bytes in, original bytes out, blocks decoded by the worker pool. */
export function createParallelLzopDecompressor(objectName: string, options: ParallelLzopOptions = {}): Transform {
  return new ParallelLzopDecompressStream(objectName, options);
}
