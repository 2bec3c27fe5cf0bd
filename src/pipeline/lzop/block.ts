// lzop block framing: the per-block header (sizes and checksums) and its validity rules. Pure format code.
import { F_ADLER32_C, F_ADLER32_D, F_CRC32_C, F_CRC32_D } from './header';
import { LzopFormatError } from './format-error';
import type { ChecksumKind } from './kernel';

/** The block size `lzop` writes and the largest one `lzop -d` 1.04 accepts. */
export const WRITE_BLOCK_SIZE = 256 * 1024;
/** Larger blocks are damage (lzop's own limit for "corrupted"), not just a different build. */
export const MAX_READ_BLOCK_SIZE = 64 * 1024 * 1024;
/** dst_len of a split file, which lzop never supported reading. */
const SPLIT_FILE_MARK = 0xffffffff;

export interface BlockChecksums {
  /** Checksums of the uncompressed (unfiltered) data, in the order they are stored. */
  data: { kind: ChecksumKind; value: number }[];
  /** Checksums of the compressed bytes; empty for stored blocks. */
  compressed: { kind: ChecksumKind; value: number }[];
}

export interface BlockHeader {
  dstLen: number;
  srcLen: number;
  /** src_len == dst_len: the payload is the raw data. */
  stored: boolean;
  checksums: BlockChecksums;
  /** Bytes taken by this block header (not the payload). */
  length: number;
}

export type BlockParse = { end: true; length: 4 } | { block: BlockHeader } | { needBytes: number };

function dataChecksumKinds(flags: number): ChecksumKind[] {
  const kinds: ChecksumKind[] = [];
  if (flags & F_ADLER32_D) kinds.push('adler32');
  if (flags & F_CRC32_D) kinds.push('crc32');
  return kinds;
}

function compressedChecksumKinds(flags: number): ChecksumKind[] {
  const kinds: ChecksumKind[] = [];
  if (flags & F_ADLER32_C) kinds.push('adler32');
  if (flags & F_CRC32_C) kinds.push('crc32');
  return kinds;
}

/** Decodes the block header at the start of `bytes` for a member with header flags `flags`. */
export function decodeBlockHeader(bytes: Uint8Array, flags: number): BlockParse {
  if (bytes.length < 4) return { needBytes: 4 };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dstLen = view.getUint32(0);
  if (dstLen === 0) return { end: true, length: 4 };
  if (dstLen === SPLIT_FILE_MARK) throw new LzopFormatError('split lzop files are not supported');
  if (dstLen > MAX_READ_BLOCK_SIZE) throw new LzopFormatError(`block size ${dstLen} exceeds ${MAX_READ_BLOCK_SIZE}`);
  if (bytes.length < 8) return { needBytes: 8 };
  const srcLen = view.getUint32(4);
  if (srcLen === 0) throw new LzopFormatError('compressed block size is 0');
  if (srcLen > dstLen) throw new LzopFormatError(`compressed block size ${srcLen} exceeds uncompressed size ${dstLen}`);
  const stored = srcLen === dstLen;
  const dataKinds = dataChecksumKinds(flags);
  const compressedKinds = stored ? [] : compressedChecksumKinds(flags);
  const length = 8 + 4 * (dataKinds.length + compressedKinds.length);
  if (bytes.length < length) return { needBytes: length };
  let pos = 8;
  const checksums: BlockChecksums = { data: [], compressed: [] };
  for (const kind of dataKinds) {
    checksums.data.push({ kind, value: view.getUint32(pos) });
    pos += 4;
  }
  for (const kind of compressedKinds) {
    checksums.compressed.push({ kind, value: view.getUint32(pos) });
    pos += 4;
  }
  return { block: { dstLen, srcLen, stored, checksums, length } };
}

/** The block header our writer emits (flags F_ADLER32_D only): dst_len, src_len, adler32 of the data. */
export function encodeBlockHeader(target: Uint8Array, offset: number, dstLen: number, srcLen: number, dataAdler32: number): number {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  view.setUint32(offset, dstLen);
  view.setUint32(offset + 4, srcLen);
  view.setUint32(offset + 8, dataAdler32);
  return offset + 12;
}

export const WRITER_BLOCK_HEADER_LENGTH = 12;
export const END_MARKER = new Uint8Array(4);
