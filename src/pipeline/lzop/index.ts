// lzop streams: the container in TypeScript, LZO1X in a WebAssembly kernel, serial and pooled.
export { createLzopCompressor } from './compressor';
export type { LzopCompressorOptions } from './compressor';
export { createLzopDecompressor } from './decompressor';
export { lzopDecode, lzopDecodeBorrowed, lzopDecodeStream } from './decompress-iterable';
export { createParallelLzopCompressor } from './parallel-compressor';
export type { ParallelLzopCompressorOptions, ParallelLzopOptions } from './parallel-compressor';
export { closeSharedLzoPools, defaultPoolSize, LzoWorkerPool } from './pool';
export { lzo1xCompress, lzo1xDecompress } from './lzo1x';
export { adler32, crc32 } from './checksums';
export { LzoDataError } from './kernel';
