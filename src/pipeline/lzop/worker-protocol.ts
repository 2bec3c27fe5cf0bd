// Messages between the stream side and the pool workers. A task carries a batch of several blocks so the
// per-message cost (structured clone, wake-ups, promise resolution) is paid once per ~1 MiB.
//
// Compression goes through slots: each worker's WebAssembly memory is shared with the main thread, and
// SLOTS_PER_WORKER regions of it (input + framed output) are lent to streams. The main thread copies
// file bytes straight into a slot's input, the worker compresses them in place and frames the result in
// the slot's output, and the main thread copies the framed bytes out: one copy in, one copy out, and
// messages that carry only numbers. Two slots per worker let the main thread fill one while the worker
// compresses the other. (Decompression stays on the calling thread: it runs faster than the pool's
// messaging would let it scale, see docs/lzop.md.)
import { WRITE_BLOCK_SIZE, WRITER_BLOCK_HEADER_LENGTH } from './block';

/** Blocks per task. */
export const BATCH_BLOCKS = 4;

/** Where the kernel's tables end (assembly/layout.ts BUFFERS_BASE); slots start here. */
export const KERNEL_BUFFERS_BASE = 131072;
export const SLOTS_PER_WORKER = 2;
/** Spare bytes after each region: the kernel's word-sized copies may touch a few beyond a length. */
const SLACK = 64;
const align64 = (n: number): number => Math.ceil(n / 64) * 64;
/** Input bytes of a full batch. */
export const SLOT_INPUT_BYTES = BATCH_BLOCKS * WRITE_BLOCK_SIZE;
/**
 * Framed output of a full batch when every block is stored, plus the most the compressor may write past
 * the last block's payload before the stored-block rule is applied (compressBound - length), plus slack.
 */
export const SLOT_OUTPUT_BYTES =
  BATCH_BLOCKS * (WRITE_BLOCK_SIZE + WRITER_BLOCK_HEADER_LENGTH) + (WRITE_BLOCK_SIZE >> 4) + 67 + SLACK;
const SLOT_BYTES = align64(SLOT_INPUT_BYTES + SLACK) + align64(SLOT_OUTPUT_BYTES);
/** Bytes after the kernel's tables that the slots occupy (the worker's kernel works above them). */
export const SLOT_AREA_BYTES = SLOTS_PER_WORKER * SLOT_BYTES;

export function slotInputOffset(slot: number): number {
  return KERNEL_BUFFERS_BASE + slot * SLOT_BYTES;
}

export function slotOutputOffset(slot: number): number {
  return slotInputOffset(slot) + align64(SLOT_INPUT_BYTES + SLACK);
}

/** A worker's whole memory (fixed): the kernel's tables and the slots (at most the shared build's 4096 pages). */
export const WORKER_MEMORY_PAGES = Math.ceil((KERNEL_BUFFERS_BASE + SLOT_AREA_BYTES) / 65536);

/** What a pool worker is started with. */
export interface LzoWorkerData {
  /** The worker's kernel memory (shared), created by the main thread. */
  memory: unknown;
}

export interface CompressTask {
  op: 'compress';
  id: number;
  /** Which of the worker's slots holds the blocks: lengths[i] bytes each, back to back. */
  slot: number;
  lengths: number[];
}

export interface CompressResult {
  op: 'compress';
  id: number;
  /** Bytes of framed lzop blocks (block header + payload, stored-block rule applied) in the slot's output. */
  outputLength: number;
}

/**
 * A task the worker could not run (e.g. a slot outside its memory). The worker catches it and stays
 * alive; the pool rejects the task's promise with `message`.
 */
export interface TaskFailure {
  op: 'failed';
  id: number;
  message: string;
}

export type WorkerTask = CompressTask;

export type WorkerResult = CompressResult;

/** Everything a worker posts. */
export type WorkerReply = WorkerResult | TaskFailure;

/** A task before the pool gives it an id. */
export type WorkerTaskInput = Omit<CompressTask, 'id'>;
