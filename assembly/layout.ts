// Fixed memory layout shared with the TypeScript host (src/pipeline/lzop/kernel.ts mirrors these numbers).
// The kernel allocates nothing: tables live at fixed offsets and the host places its input and output
// buffers from BUFFERS_BASE upwards, growing the memory itself when a block needs more room.

/** crc32 slicing-by-8 tables: 8 x 256 u32. */
export const CRC_TABLES: usize = 4096;
/** Compressor hash table: 2^HASH_BITS u32 positions relative to the block start. */
export const HASH_TABLE: usize = 16384;
export const HASH_BITS: u32 = 14;
/** First byte the host may use for buffers. */
export const BUFFERS_BASE: usize = 131072;
