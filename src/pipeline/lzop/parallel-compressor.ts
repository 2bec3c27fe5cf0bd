// lzop compression spread over the worker pool, for large streams (base-backup partitions). Produces
// the same bytes as the serial compressor: blocks are cut identically and framed in order. At most
// `inFlight` blocks are being compressed at once, each owning one reused input and output buffer.
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { encodeBlockHeader, END_MARKER, WRITE_BLOCK_SIZE, WRITER_BLOCK_HEADER_LENGTH } from './block';
import { encodeLzopHeader } from './header';
import type { HeaderOptions } from './header';
import { OrderedOutput } from './ordered-output';
import { defaultPoolSize, sharedLzoPool } from './pool';
import type { LzoWorkerPool } from './pool';
import type { CompressResult } from './worker-protocol';

export interface ParallelLzopOptions {
  /** Worker threads; defaults to os.availableParallelism(). */
  poolSize?: number;
  /** Blocks being worked on at once; defaults to two per worker. */
  inFlight?: number;
  /** Use this pool instead of the process-wide one. */
  pool?: LzoWorkerPool;
}

export type ParallelLzopCompressorOptions = ParallelLzopOptions & HeaderOptions;

interface BufferPair {
  input: ArrayBuffer;
  output: ArrayBuffer;
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
    this.maxInFlight = Math.max(1, options.inFlight ?? this.pool.size * 2);
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

  /** Copies `chunk` from `pos` into block buffers, dispatching full ones; pauses while all are busy. */
  private fill(chunk: Buffer, pos: number, callback: TransformCallback): void {
    while (pos < chunk.length) {
      if (this.current === undefined) {
        const pair = this.acquire();
        if (pair === undefined) {
          this.waiting = () => this.fill(chunk, pos, callback);
          return;
        }
        this.current = pair;
        this.filled = 0;
      }
      const n = Math.min(WRITE_BLOCK_SIZE - this.filled, chunk.length - pos);
      new Uint8Array(this.current.input, this.filled, n).set(chunk.subarray(pos, pos + n));
      this.filled += n;
      pos += n;
      if (this.filled === WRITE_BLOCK_SIZE) this.dispatch();
    }
    callback();
  }

  private acquire(): BufferPair | undefined {
    if (this.order.inFlight >= this.maxInFlight) return undefined;
    const pair = this.free.pop();
    if (pair !== undefined) return pair;
    return { input: new ArrayBuffer(WRITE_BLOCK_SIZE), output: new ArrayBuffer(WRITE_BLOCK_SIZE) };
  }

  private dispatch(): void {
    const pair = this.current!;
    const length = this.filled;
    this.current = undefined;
    this.filled = 0;
    const position = this.order.assign();
    this.pool
      .run({ op: 'compress', input: pair.input, length, output: pair.output }, [pair.input, pair.output])
      .then(
        (r) => this.completed(position, length, r as CompressResult),
        (e: Error) => this.destroy(e),
      );
  }

  private completed(position: number, length: number, r: CompressResult): void {
    if (this.failed || this.destroyed) return;
    const stored = r.compressedLength >= length;
    const payloadLength = stored ? length : r.compressedLength;
    const framed = Buffer.allocUnsafe(WRITER_BLOCK_HEADER_LENGTH + payloadLength);
    encodeBlockHeader(framed, 0, length, payloadLength, r.adler32);
    framed.set(new Uint8Array(stored ? r.input : r.output, 0, payloadLength), WRITER_BLOCK_HEADER_LENGTH);
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
