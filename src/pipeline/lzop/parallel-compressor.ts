// lzop compression spread over the worker pool, for large streams (base-backup partitions). Produces
// the same bytes as the serial compressor: blocks are cut identically and framed in order. Input is
// copied straight into slots of the workers' shared kernel memory (BATCH_BLOCKS blocks, ~1 MiB, per
// slot); a worker compresses and frames a slot in place, and the framed bytes are copied out and pushed
// downstream. At most `inFlight` blocks (rounded up to whole batches) are being compressed at once.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { END_MARKER, WRITE_BLOCK_SIZE } from './block';
import { encodeLzopHeader } from './header';
import type { HeaderOptions } from './header';
import { OrderedOutput } from './ordered-output';
import { defaultPoolSize, sharedLzoPool } from './pool';
import type { CompressSlot, LzoWorkerPool } from './pool';
import { BATCH_BLOCKS, SLOT_INPUT_BYTES, SLOTS_PER_WORKER } from './worker-protocol';

export interface ParallelLzopOptions {
  /** Worker threads; defaults to os.availableParallelism(). */
  poolSize?: number;
  /** Blocks being worked on at once (rounded up to whole batches); defaults to every slot of the pool. */
  inFlight?: number;
  /** Use this pool instead of the process-wide one. */
  pool?: LzoWorkerPool;
}

export type ParallelLzopCompressorOptions = ParallelLzopOptions & HeaderOptions;

/** Batches in flight for an `inFlight` given in blocks (default: one per slot of the pool). */
export function batchesInFlight(pool: LzoWorkerPool, inFlight: number | undefined): number {
  if (inFlight === undefined) return pool.size * SLOTS_PER_WORKER;
  return Math.max(1, Math.ceil(inFlight / BATCH_BLOCKS));
}

class ParallelLzopCompressStream extends Transform {
  private readonly pool: LzoWorkerPool;
  private readonly maxInFlight: number;
  private readonly order = new OrderedOutput<Buffer>();
  private current: CompressSlot | undefined;
  private filled = 0;
  private headerSent = false;
  /** A write or the final flush waiting for a free slot or for the last results. */
  private waiting: (() => void) | undefined;
  private cancelSlotWait: (() => void) | undefined;
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
    this.cancelSlotWait?.();
    this.current?.release();
    this.current = undefined;
    callback(error);
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    this.push(Buffer.from(encodeLzopHeader(this.options)));
  }

  /** Copies `chunk` from `pos` into slots, dispatching full ones; pauses while no slot is free. */
  private fill(chunk: Buffer, pos: number, callback: TransformCallback): void {
    while (pos < chunk.length) {
      if (this.current === undefined) {
        let slot: CompressSlot | undefined;
        try {
          slot = this.order.inFlight >= this.maxInFlight ? undefined : this.pool.acquireSlot();
        } catch (e) {
          callback(e as Error);
          return;
        }
        if (slot === undefined) {
          const resume = (): void => this.fill(chunk, pos, callback);
          this.waiting = resume;
          // All of the pool's slots may be lent to other streams: look again when one comes back.
          if (this.order.inFlight < this.maxInFlight) {
            this.cancelSlotWait = this.pool.onSlotFree(() => {
              this.cancelSlotWait = undefined;
              if (this.waiting === resume) {
                this.waiting = undefined;
                resume();
              }
            });
          }
          return;
        }
        this.current = slot;
        this.filled = 0;
      }
      const n = Math.min(SLOT_INPUT_BYTES - this.filled, chunk.length - pos);
      this.current.input.set(chunk.subarray(pos, pos + n), this.filled);
      this.filled += n;
      pos += n;
      if (this.filled === SLOT_INPUT_BYTES) this.dispatch();
    }
    callback();
  }

  private dispatch(): void {
    const slot = this.current!;
    const lengths: number[] = [];
    for (let left = this.filled; left > 0; left -= WRITE_BLOCK_SIZE) lengths.push(Math.min(left, WRITE_BLOCK_SIZE));
    this.current = undefined;
    this.filled = 0;
    const position = this.order.assign();
    slot.compress(lengths).then(
      (framed) => this.completed(position, framed),
      (e: Error) => this.destroy(e),
    );
  }

  private completed(position: number, framed: Buffer): void {
    if (this.failed || this.destroyed) return;
    this.order.complete(position, framed, (b) => this.push(b));
    const resume = this.waiting;
    if (resume !== undefined) {
      this.waiting = undefined;
      this.cancelSlotWait?.();
      this.cancelSlotWait = undefined;
      resume();
    }
  }
}

/** File bytes in, lzop bytes out, compressed by the worker pool; same output as createLzopCompressor. */
export function createParallelLzopCompressor(options: ParallelLzopCompressorOptions = {}): Transform {
  return new ParallelLzopCompressStream(options);
}
