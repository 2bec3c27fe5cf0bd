// Whole-buffer LZO1X entry points, for tests and tools: one raw LZO1X stream, no lzop container.
import { lzoKernel } from './kernel';

/** Compresses `src` into one LZO1X stream (ending with the 11 00 00 end marker). */
export function lzo1xCompress(src: Uint8Array): Uint8Array {
  return lzoKernel().compressBlock(src).compressed.slice();
}

/** Decodes one LZO1X stream that must produce exactly `expectedLen` bytes; throws LzoDataError otherwise. */
export function lzo1xDecompress(src: Uint8Array, expectedLen: number): Uint8Array {
  return lzoKernel().decompressBlock(src, expectedLen).data.slice();
}
