// The WebAssembly kernel's exports: LZO1X compression and decompression plus lzop's two checksums.
// Memory is managed by the host (see layout.ts); nothing here allocates.
export { compress, compressBound } from './compress';
export { decompress } from './decompress';
export { adler32, crc32 } from './checksum';
export { BUFFERS_BASE, HASH_TABLE } from './layout';
