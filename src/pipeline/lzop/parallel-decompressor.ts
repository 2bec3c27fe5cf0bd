// lzop decompression spread over the worker pool. The container is parsed here on the main thread
// (cheap), compressed blocks (independent of each other) go to the workers in batches of BATCH_BLOCKS,
// and the results are verified and released in block order. Each decoded block comes back in its own
// fresh buffer, which is pushed downstream without another copy. Stored blocks are checked right here.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { WRITE_BLOCK_SIZE } from './block';
import { decodeBlock, verifyChecksums } from './block-codec';
import { corruptObject } from './corrupt';
import { unfilterBlock } from './filter';
import { LzopFormatError } from './format-error';
import { lzoErrorText, lzoKernel } from './kernel';
import { OrderedOutput } from './ordered-output';
import { batchesInFlight } from './parallel-compressor';
import type { ParallelLzopOptions } from './parallel-compressor';
import { defaultPoolSize, sharedLzoPool } from './pool';
import type { LzoWorkerPool } from './pool';
import type { LzopBlock } from './reader';
import { LzopReader } from './reader';
import { BATCH_BLOCKS } from './worker-protocol';
import type { DecompressResult } from './worker-protocol';

class ParallelLzopDecompressStream extends Transform {
  private readonly reader = new LzopReader();
  private readonly pool: LzoWorkerPool;
  /** Batches (and stored blocks) not yet released downstream. */
  private readonly maxInFlight: number;
  private readonly free: ArrayBuffer[] = [];
  private readonly order = new OrderedOutput<Buffer[]>();
  /** Compressed blocks gathered for the next batch. */
  private pending: LzopBlock[] = [];
  /** A stored block parsed but not yet released because every slot was busy. */
  private held: LzopBlock | undefined;
  private waiting: (() => void) | undefined;
  private failed = false;

  constructor(private readonly objectName: string, options: ParallelLzopOptions) {
    super();
    this.pool = options.pool ?? sharedLzoPool(options.poolSize ?? defaultPoolSize());
    this.maxInFlight = batchesInFlight(this.pool, options.inFlight);
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

  private get full(): boolean {
    return this.order.inFlight >= this.maxInFlight;
  }

  /**
   * Batches the parsed blocks and dispatches them while slots are free; calls `callback` once the input
   * is consumed and every gathered block was dispatched, or parks itself until a slot frees up.
   */
  private pump(callback: TransformCallback): void {
    if (this.failed) return;
    const park = (): void => {
      this.waiting = () => this.pump(callback);
    };
    try {
      for (;;) {
        if (this.pending.length >= BATCH_BLOCKS) {
          if (this.full) return park();
          this.dispatch();
        }
        const block = this.held ?? this.reader.next();
        this.held = undefined;
        if (block === undefined) break;
        if (!block.stored) {
          this.pending.push(block);
          continue;
        }
        // A stored block keeps its place in the order: the blocks gathered before it go first.
        if (this.pending.length > 0 && !this.full) this.dispatch();
        if (this.pending.length > 0 || this.full) {
          this.held = block;
          return park();
        }
        this.order.complete(this.order.assign(), [decodeBlock(lzoKernel(), block)], (bs) => this.release(bs));
      }
      if (this.pending.length > 0) {
        if (this.full) return park();
        this.dispatch();
      }
    } catch (e) {
      callback(corruptObject(this.objectName, e));
      return;
    }
    callback();
  }

  private release(buffers: Buffer[]): void {
    for (const b of buffers) this.push(b);
  }

  private dispatch(): void {
    const blocks = this.pending;
    this.pending = [];
    let total = 0;
    for (const b of blocks) total += b.payload.length;
    let input = this.free.pop() ?? new ArrayBuffer(BATCH_BLOCKS * WRITE_BLOCK_SIZE);
    // Blocks larger than lzop's 256 KiB are legal up to 64 MiB; grow the buffer for them only.
    if (input.byteLength < total) input = new ArrayBuffer(total);
    const bytes = new Uint8Array(input);
    let pos = 0;
    for (const b of blocks) {
      bytes.set(b.payload, pos);
      pos += b.payload.length;
    }
    const position = this.order.assign();
    this.pool
      .run(
        {
          op: 'decompress',
          input,
          blocks: blocks.map((b) => ({
            srcLen: b.payload.length,
            dstLen: b.dstLen,
            dataChecksum: b.filter ? undefined : b.checksums.data[0]?.kind,
            compressedChecksum: b.checksums.compressed[0]?.kind,
          })),
        },
        [input],
      )
      .then(
        (r) => this.completed(position, blocks, r as DecompressResult),
        (e: Error) => this.destroy(e),
      );
  }

  private completed(position: number, blocks: LzopBlock[], r: DecompressResult): void {
    if (this.failed || this.destroyed) return;
    if (r.input.byteLength <= BATCH_BLOCKS * WRITE_BLOCK_SIZE) this.free.push(r.input);
    const out: Buffer[] = [];
    try {
      const kernel = lzoKernel();
      blocks.forEach((block, i) => {
        const code = r.codes[i]!;
        if (code !== 0) throw new LzopFormatError(`${lzoErrorText(code)} in block ${block.index}`);
        const data = Buffer.from(r.outputs[i]!);
        const firstData = block.checksums.data[0]?.kind;
        const firstCompressed = block.checksums.compressed[0]?.kind;
        if (block.filter) unfilterBlock(data, block.filter);
        verifyChecksums(
          block.index,
          block.checksums,
          (kind) => (kind === firstData && !block.filter ? r.dataChecksums[i]! : kernel.checksum(kind, data)),
          (kind) => (kind === firstCompressed ? r.compressedChecksums[i]! : kernel.checksum(kind, block.payload)),
        );
        out.push(data);
      });
      this.order.complete(position, out, (bs) => this.release(bs));
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
