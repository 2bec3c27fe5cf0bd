// Turning one parsed block into data (decode, verify, unfilter) and one chunk of data into a block
// (compress, apply the stored-block rule, frame). Shared by the serial streams and the pool workers.
import { encodeBlockHeader, WRITER_BLOCK_HEADER_LENGTH } from './block';
import type { BlockChecksums } from './block';
import { unfilterBlock } from './filter';
import { LzopFormatError } from './format-error';
import { LzoDataError } from './kernel';
import type { ChecksumKind, LzoKernel } from './kernel';
import type { LzopBlock } from './reader';

function hex8(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** Checks computed checksums against the stored ones; `computed` returns the value for one kind. */
export function verifyChecksums(
  index: number,
  expected: BlockChecksums,
  computedData: (kind: ChecksumKind) => number,
  computedCompressed: (kind: ChecksumKind) => number,
): void {
  for (const { kind, value } of expected.compressed) {
    const actual = computedCompressed(kind);
    if (actual !== value) {
      throw new LzopFormatError(`${kind} checksum mismatch in compressed block ${index} (stored ${hex8(value)}, computed ${hex8(actual)})`);
    }
  }
  for (const { kind, value } of expected.data) {
    const actual = computedData(kind);
    if (actual !== value) {
      throw new LzopFormatError(`${kind} checksum mismatch in block ${index} (stored ${hex8(value)}, computed ${hex8(actual)})`);
    }
  }
}

/**
 * Decodes `block` into a new buffer it owns (the kernel's memory is reused by the next call), verifying
 * every checksum the header asked for. Throws LzopFormatError on any mismatch or LZO data error.
 */
export function decodeBlock(kernel: LzoKernel, block: LzopBlock): Buffer {
  return decodeBlockImpl(kernel, block, false) as Buffer;
}

/**
 * As decodeBlock, but may return a view of the kernel's memory (or of the input) instead of a copy:
 * valid only until the next kernel call. For a consumer that writes each block out before it asks
 * for the next (restoring a WAL file), this saves a 256 KiB allocation and copy per block.
 */
export function decodeBlockBorrowed(kernel: LzoKernel, block: LzopBlock): Uint8Array {
  return decodeBlockImpl(kernel, block, true);
}

function decodeBlockImpl(kernel: LzoKernel, block: LzopBlock, borrow: boolean): Uint8Array {
  const firstData = block.checksums.data[0]?.kind;
  const firstCompressed = block.checksums.compressed[0]?.kind;
  let out: Buffer;
  if (block.stored) {
    if (borrow && !block.filter) {
      verifyChecksums(
        block.index,
        block.checksums,
        (kind) => kernel.checksum(kind, block.payload),
        (kind) => kernel.checksum(kind, block.payload),
      );
      return block.payload;
    }
    out = Buffer.from(block.payload);
  } else {
    let decoded: ReturnType<LzoKernel['decompressBlock']>;
    try {
      // The first checksum of each kind comes from the same pass that decodes; the rare second kind
      // (both adler32 and crc32 flagged) is computed afterwards.
      decoded = kernel.decompressBlock(block.payload, block.dstLen, block.filter ? undefined : firstData, firstCompressed);
    } catch (e) {
      if (e instanceof LzoDataError) throw new LzopFormatError(`${e.message} in block ${block.index}`);
      throw e;
    }
    // One checksum of each kind at most: the sums came from the decoding pass and nothing else
    // touches kernel memory before the view is handed out.
    if (borrow && !block.filter && block.checksums.data.length <= 1 && block.checksums.compressed.length <= 1) {
      verifyChecksums(
        block.index,
        block.checksums,
        () => decoded.outputChecksum,
        () => decoded.inputChecksum,
      );
      return decoded.data;
    }
    out = Buffer.allocUnsafe(block.dstLen);
    out.set(decoded.data);
    if (!block.filter) {
      const dataSum = decoded.outputChecksum;
      const compressedSum = decoded.inputChecksum;
      verifyChecksums(
        block.index,
        block.checksums,
        (kind) => (kind === firstData ? dataSum : kernel.checksum(kind, out)),
        (kind) => (kind === firstCompressed ? compressedSum : kernel.checksum(kind, block.payload)),
      );
      return out;
    }
  }
  if (block.filter) unfilterBlock(out, block.filter);
  verifyChecksums(
    block.index,
    block.checksums,
    (kind) => kernel.checksum(kind, out),
    (kind) => kernel.checksum(kind, block.payload),
  );
  return out;
}

/**
 * Frames `data` (at most one write block) as our writer does: the LZO1X stream when it is strictly
 * smaller, the raw bytes otherwise, after a 12-byte header with the adler32 of the data.
 */
export function encodeBlock(kernel: LzoKernel, data: Uint8Array): Buffer {
  const { compressed, checksum } = kernel.compressBlock(data, 'adler32');
  const payload = compressed.length < data.length ? compressed : data;
  const out = Buffer.allocUnsafe(WRITER_BLOCK_HEADER_LENGTH + payload.length);
  encodeBlockHeader(out, 0, data.length, payload.length, checksum);
  out.set(payload, WRITER_BLOCK_HEADER_LENGTH);
  return out;
}
