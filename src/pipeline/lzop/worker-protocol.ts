// Messages between the stream side and the pool workers. Buffers travel by transfer and come back with
// the reply, so a stream keeps reusing the same few ArrayBuffers instead of allocating per block.
import type { ChecksumKind } from './kernel';

export interface CompressTask {
  op: 'compress';
  id: number;
  /** `length` bytes of data at the start. */
  input: ArrayBuffer;
  length: number;
  /** Receives the LZO1X stream when it is smaller than the data; at least `length` bytes. */
  output: ArrayBuffer;
}

export interface DecompressTask {
  op: 'decompress';
  id: number;
  /** `srcLen` bytes of LZO1X stream at the start. */
  input: ArrayBuffer;
  srcLen: number;
  dstLen: number;
  /** Receives the `dstLen` decoded bytes. */
  output: ArrayBuffer;
  dataChecksum: ChecksumKind | undefined;
  compressedChecksum: ChecksumKind | undefined;
}

export type WorkerTask = CompressTask | DecompressTask;

export interface CompressResult {
  op: 'compress';
  id: number;
  input: ArrayBuffer;
  output: ArrayBuffer;
  /** Bytes of LZO1X stream in `output`; not smaller than the input length means "store raw". */
  compressedLength: number;
  adler32: number;
}

export interface DecompressResult {
  op: 'decompress';
  id: number;
  input: ArrayBuffer;
  output: ArrayBuffer;
  /** 0 on success, else the kernel's negative error code. */
  code: number;
  dataChecksum: number;
  compressedChecksum: number;
}

export type WorkerResult = CompressResult | DecompressResult;

/** A task before the pool gives it an id. */
export type WorkerTaskInput = Omit<CompressTask, 'id'> | Omit<DecompressTask, 'id'>;
