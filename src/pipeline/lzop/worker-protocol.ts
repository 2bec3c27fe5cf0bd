// Messages between the stream side and the pool workers. A task carries a batch of several blocks so the
// per-message cost (structured clone, wake-ups, promise resolution) is paid once per ~1 MiB. Input buffers
// travel by transfer and come back with the reply to be reused. Compressed output comes back in a reused
// buffer too (the main thread copies the few framed bytes out); decoded blocks come back in fresh
// ArrayBuffers of exactly the block size that the stream hands downstream without copying.
import type { ChecksumKind } from './kernel';

/** Blocks per task. */
export const BATCH_BLOCKS = 4;

export interface CompressTask {
  op: 'compress';
  id: number;
  /** The blocks' data back to back: lengths[i] bytes each (all but the last a full write block). */
  input: ArrayBuffer;
  lengths: number[];
  /** Receives the framed blocks; at least BATCH_OUTPUT_BYTES long. */
  output: ArrayBuffer;
}

/** Room for the framed blocks of one full batch (every block stored, plus its header). */
export const BATCH_OUTPUT_BYTES = BATCH_BLOCKS * (256 * 1024 + 12);

export interface DecodeBlockSpec {
  srcLen: number;
  dstLen: number;
  dataChecksum: ChecksumKind | undefined;
  compressedChecksum: ChecksumKind | undefined;
}

export interface DecompressTask {
  op: 'decompress';
  id: number;
  /** The blocks' LZO1X streams back to back (blocks[i].srcLen bytes each). */
  input: ArrayBuffer;
  blocks: DecodeBlockSpec[];
}

export type WorkerTask = CompressTask | DecompressTask;

export interface CompressResult {
  op: 'compress';
  id: number;
  input: ArrayBuffer;
  /** The framed lzop blocks (block header + payload, stored-block rule applied), back to back. */
  output: ArrayBuffer;
  outputLength: number;
}

export interface DecompressResult {
  op: 'decompress';
  id: number;
  input: ArrayBuffer;
  /** Per block: the decoded bytes (dstLen), or an empty buffer when decoding failed. */
  outputs: ArrayBuffer[];
  /** Per block: 0 on success, else the kernel's negative error code. */
  codes: number[];
  dataChecksums: number[];
  compressedChecksums: number[];
}

/**
 * A task the worker could not run (anything but an LZO data error, e.g. memory exhausted). The worker
 * catches it and stays alive; the pool rejects the task's promise with `message`. Nothing is transferred
 * back with it: the task's buffers are dropped, never reused.
 */
export interface TaskFailure {
  op: 'failed';
  id: number;
  message: string;
}

export type WorkerResult = CompressResult | DecompressResult;

/** Everything a worker posts. */
export type WorkerReply = WorkerResult | TaskFailure;

/** A task before the pool gives it an id. */
export type WorkerTaskInput = Omit<CompressTask, 'id'> | Omit<DecompressTask, 'id'>;
