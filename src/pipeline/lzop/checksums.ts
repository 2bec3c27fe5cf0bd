// lzop's two checksums, computed by the WebAssembly kernel: adler32 seeded with 1, crc32 seeded with 0.
import { lzoKernel } from './kernel';

export function adler32(data: Uint8Array, seed = 1): number {
  return lzoKernel().checksum('adler32', data, seed);
}

export function crc32(data: Uint8Array, seed = 0): number {
  return lzoKernel().checksum('crc32', data, seed);
}
