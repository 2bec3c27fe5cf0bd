// lzop compression spread over the worker pool, for large streams (base-backup partitions). Produces
// the same bytes as the serial compressor: blocks are cut identically and framed in order. Blocks travel
// in batches of BATCH_BLOCKS (one message per ~1 MiB); the worker frames them and replies with a fresh
// buffer that is pushed downstream as is, so the main thread only copies input into a reused batch buffer.
// At most `inFlight` blocks (rounded up to whole batches) are being compressed at once.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { END_MARKER, WRITE_BLOCK_SIZE } from './block';
import { encodeLzopHeader } from './header';
import type { HeaderOptions } from './header';
import { OrderedOutput } from './ordered-output';
import { defaultPoolSize, sharedLzoPool } from './pool';
import type { LzoWorkerPool } from './pool';
import { BATCH_BLOCKS, BATCH_OUTPUT_BYTES } from './worker-protocol';
import type { CompressResult } from './worker-protocol';

export interface ParallelLzopOptions {
  /** Worker threads; defaults to os.availableParallelism(). */
  poolSize?: number;
  /** Blocks being worked on at once (rounded up to whole batches); defaults to one batch (BATCH_BLOCKS) per worker. */
  inFlight?: number;
  /** Use this pool instead of the process-wide one. */
  pool?: LzoWorkerPool;
}

export type ParallelLzopCompressorOptions = ParallelLzopOptions & HeaderOptions;

const BATCH_BYTES = BATCH_BLOCKS * WRITE_BLOCK_SIZE;

interface BufferPair {
  input: ArrayBuffer;
  output: ArrayBuffer;
}

/** Batches in flight for an `inFlight` given in blocks. */
export function batchesInFlight(pool: LzoWorkerPool, inFlight: number | undefined): number {
  if (inFlight === undefined) return pool.size;
  return Math.max(1, Math.ceil(inFlight / BATCH_BLOCKS));
}

class ParallelLzopCompressStream extends Transform {
  private readonly pool: LzoWorkerPool;
  private readonly maxInFlight: number;
  private readonly free: BufferPair[] = [];
  private readonly order = new OrderedOutput<Buffer>();
  private current: BufferPair | undefined;
  private filled = 0;
  private headerSent = false;
  /** A write or the final flush waiting for a free buffer pair or for the last results. */
  private waiting: (() => void) | undefined;
  private failed = false;

  constructor(private readonly options: ParallelLzopCompressorOptions) {
    super();
    this.pool = options.pool ?? sharedLzoPool(options.poolSize ?? defaultPoolSize());
    this.maxInFlight = batchesInFlight(this.pool, options.inFlight);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.sendHeader();
    this.fill(chunk, 0, callback);
  }

  override _flush(callback: TransformCallback): void {
    this.sendHeader();
    if (this.current !== undefined && this.filled > 0) this.dispatch();
    const finish = (): void => {
      if (this.order.inFlight > 0) {
        this.waiting = finish;
        return;
      }
      this.push(Buffer.from(END_MARKER));
      callback();
    };
    finish();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.failed = true;
    this.waiting = undefined;
    callback(error);
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.push(Buffer.from(encodeLzopHeader(this.options)));
  }

  /** Copies `chunk` from `pos` into batch buffers, dispatching full ones; pauses while all are busy. */
  private fill(chunk: Buffer, pos: number, callback: TransformCallback): void {
    while (pos < chunk.length) {
      if (this.current === undefined) {
        const buffer = this.acquire();
        if (buffer === undefined) {
          this.waiting = () => this.fill(chunk, pos, callback);
          return;
        }
        this.current = buffer;
        this.filled = 0;
      }
      const n = Math.min(BATCH_BYTES - this.filled, chunk.length - pos);
      new Uint8Array(this.current.input, this.filled, n).set(chunk.subarray(pos, pos + n));
      this.filled += n;
      pos += n;
      if (this.filled === BATCH_BYTES) this.dispatch();
    }
    callback();
  }

  private acquire(): BufferPair | undefined {
    if (this.order.inFlight >= this.maxInFlight) return undefined;
    return this.free.pop() ?? { input: new ArrayBuffer(BATCH_BYTES), output: new ArrayBuffer(BATCH_OUTPUT_BYTES) };
  }

  private dispatch(): void {
    const { input, output } = this.current!;
    const lengths: number[] = [];
    for (let left = this.filled; left > 0; left -= WRITE_BLOCK_SIZE) lengths.push(Math.min(left, WRITE_BLOCK_SIZE));
    this.current = undefined;
    this.filled = 0;
    const position = this.order.assign();
    this.pool.run({ op: 'compress', input, lengths, output }, [input, output]).then(
      (r) => this.completed(position, r as CompressResult),
      (e: Error) => this.destroy(e),
    );
  }

  private completed(position: number, r: CompressResult): void {
    if (this.failed || this.destroyed) return;
    // Copy the framed bytes out (about a tenth of the input on typical data) so both buffers are reused.
    const framed = Buffer.allocUnsafe(r.outputLength);
    framed.set(new Uint8Array(r.output, 0, r.outputLength));
    this.free.push({ input: r.input, output: r.output });
    this.order.complete(position, framed, (b) => this.push(b));
    const resume = this.waiting;
    if (resume !== undefined) {
      this.waiting = undefined;
      resume();
    }
  }
}

/** File bytes in, lzop bytes out, compressed by the worker pool; same output as createLzopCompressor. */
export function createParallelLzopCompressor(options: ParallelLzopCompressorOptions = {}): Transform {
  return new ParallelLzopCompressStream(options);
}
