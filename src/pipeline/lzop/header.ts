// The lzop file header: encoding the one shape we write (what `lzop -c` from a pipe writes) and decoding
// every shape lzop 1.04 and its predecessors since 0.90 write. Pure format code: no I/O.
import { adler32, crc32 } from './checksums';
import { LzopFormatError } from './format-error';

export const LZOP_MAGIC = Uint8Array.of(0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a);

export const F_ADLER32_D = 0x1;
export const F_ADLER32_C = 0x2;
export const F_STDIN = 0x4;
export const F_STDOUT = 0x8;
export const F_H_EXTRA_FIELD = 0x40;
export const F_CRC32_D = 0x100;
export const F_CRC32_C = 0x200;
export const F_H_FILTER = 0x800;
export const F_H_CRC32 = 0x1000;
export const F_OS_UNIX = 0x03000000;
/** Everything outside the known flags, the character set (bits 20-23) and the OS (bits 24-31). */
export const F_RESERVED = ~(0x3fff | 0xff000000 | 0x00f00000) >>> 0;

export const M_LZO1X_1 = 1;
export const M_LZO1X_1_15 = 2;
export const M_LZO1X_999 = 3;

/** The lzop version we claim and the newest format version we can read. */
export const LZOP_VERSION = 0x1040;
export const LZO_LIB_VERSION = 0x20a0;
export const VERSION_NEEDED_TO_EXTRACT = 0x0940;
/** Versions before this used a different header layout that lzop itself no longer reads. */
const OLDEST_VERSION = 0x0900;
/** Fields added in 0.94: version_needed, level and mtime_high. */
const VERSION_WITH_LEVEL = 0x0940;
/** An extra field is never written by lzop; anything this large is damage, not data. */
const MAX_EXTRA_FIELD = 1 << 20;

/** What WAL-E's `lzop -c` wrote when reading a pipe: F_OS_UNIX | F_STDOUT | F_STDIN | F_ADLER32_D. */
export const WRITER_FLAGS = F_OS_UNIX | F_STDOUT | F_STDIN | F_ADLER32_D;
export const WRITER_METHOD = M_LZO1X_1;
export const WRITER_LEVEL = 5;

export interface LzopHeader {
  version: number;
  libVersion: number;
  versionNeeded: number;
  method: number;
  level: number;
  flags: number;
  /** 0 when F_H_FILTER is absent. */
  filter: number;
  mode: number;
  mtimeLow: number;
  mtimeHigh: number;
  name: Uint8Array;
  /** Bytes from the magic up to and including the header checksum and any extra field. */
  length: number;
}

export interface HeaderOptions {
  /** st_mode of the input: 0 for a pipe (what base-backup partitions carry). */
  mode?: number;
  /** Modification time in seconds since the epoch; the current time by default, as from a pipe. */
  mtime?: number;
}

/** The 38-byte header `lzop -c` writes when compressing a pipe. */
export function encodeLzopHeader(options: HeaderOptions = {}): Uint8Array {
  const out = new Uint8Array(38);
  const view = new DataView(out.buffer);
  out.set(LZOP_MAGIC, 0);
  view.setUint16(9, LZOP_VERSION);
  view.setUint16(11, LZO_LIB_VERSION);
  view.setUint16(13, VERSION_NEEDED_TO_EXTRACT);
  out[15] = WRITER_METHOD;
  out[16] = WRITER_LEVEL;
  view.setUint32(17, WRITER_FLAGS);
  view.setUint32(21, (options.mode ?? 0) >>> 0);
  const mtime = options.mtime ?? Math.floor(Date.now() / 1000);
  view.setUint32(25, mtime >>> 0);
  view.setUint32(29, Math.floor(mtime / 0x100000000) >>> 0);
  out[33] = 0;
  view.setUint32(34, adler32(out.subarray(9, 34)));
  return out;
}

export function hasMagic(bytes: Uint8Array): boolean {
  if (bytes.length < LZOP_MAGIC.length) return false;
  for (let i = 0; i < LZOP_MAGIC.length; i++) if (bytes[i] !== LZOP_MAGIC[i]) return false;
  return true;
}

export type HeaderParse = { header: LzopHeader } | { needBytes: number };

function hex(n: number, digits = 4): string {
  return `0x${n.toString(16).padStart(digits, '0')}`;
}

/**
 * Decodes the header at the start of `bytes` (which begins with the magic). Returns how many bytes are
 * needed when `bytes` is too short to tell; throws LzopFormatError when the header is invalid.
 */
export function decodeLzopHeader(bytes: Uint8Array): HeaderParse {
  if (bytes.length < LZOP_MAGIC.length) return { needBytes: LZOP_MAGIC.length };
  if (!hasMagic(bytes)) throw new LzopFormatError('not an lzop file (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = LZOP_MAGIC.length;
  // Each step first checks that the bytes it reads are there; `need` reports the shortfall.
  const need = (n: number): boolean => pos + n <= bytes.length;

  if (!need(4)) return { needBytes: pos + 4 };
  const version = view.getUint16(pos);
  const libVersion = view.getUint16(pos + 2);
  pos += 4;
  if (version < OLDEST_VERSION) throw new LzopFormatError(`unsupported lzop header version ${hex(version)}`);
  const modern = version >= VERSION_WITH_LEVEL;
  let versionNeeded = 0;
  if (modern) {
    if (!need(2)) return { needBytes: pos + 2 };
    versionNeeded = view.getUint16(pos);
    pos += 2;
    if (versionNeeded > LZOP_VERSION) {
      throw new LzopFormatError(`needs lzop version ${hex(versionNeeded)} to extract, newer than ${hex(LZOP_VERSION)}`);
    }
    if (versionNeeded < OLDEST_VERSION) throw new LzopFormatError(`invalid version_needed_to_extract ${hex(versionNeeded)}`);
  }
  if (!need(modern ? 6 : 5)) return { needBytes: pos + (modern ? 6 : 5) };
  const method = bytes[pos++]!;
  const level = modern ? bytes[pos++]! : 0;
  const flags = view.getUint32(pos);
  pos += 4;
  if (method !== M_LZO1X_1 && method !== M_LZO1X_1_15 && method !== M_LZO1X_999) {
    throw new LzopFormatError(`unsupported compression method ${method}`);
  }
  if (level > 9) throw new LzopFormatError(`invalid compression level ${level}`);
  if ((flags & F_RESERVED) !== 0) throw new LzopFormatError(`reserved header flags set (${hex(flags >>> 0, 8)})`);

  let filter = 0;
  if (flags & F_H_FILTER) {
    if (!need(4)) return { needBytes: pos + 4 };
    filter = view.getUint32(pos);
    pos += 4;
    if (filter < 1 || filter > 16) throw new LzopFormatError(`unsupported filter ${filter}`);
  }
  const fixed = modern ? 13 : 9; // mode, mtime_low, [mtime_high], name length
  if (!need(fixed)) return { needBytes: pos + fixed };
  const mode = view.getUint32(pos);
  const mtimeLow = view.getUint32(pos + 4);
  const mtimeHigh = modern ? view.getUint32(pos + 8) : 0;
  pos += fixed - 1;
  const nameLength = bytes[pos++]!;
  if (!need(nameLength + 4)) return { needBytes: pos + nameLength + 4 };
  const name = bytes.slice(pos, pos + nameLength);
  pos += nameLength;

  const headerSum = flags & F_H_CRC32 ? crc32 : adler32;
  const expected = view.getUint32(pos);
  const actual = headerSum(bytes.subarray(LZOP_MAGIC.length, pos));
  pos += 4;
  if (expected !== actual) throw new LzopFormatError('header checksum mismatch');

  if (flags & F_H_EXTRA_FIELD) {
    if (!need(4)) return { needBytes: pos + 4 };
    const extraLength = view.getUint32(pos);
    if (extraLength > MAX_EXTRA_FIELD) throw new LzopFormatError(`extra header field too large (${extraLength} bytes)`);
    if (!need(4 + extraLength + 4)) return { needBytes: pos + 4 + extraLength + 4 };
    const extraSum = headerSum(bytes.subarray(pos, pos + 4 + extraLength));
    const extraExpected = view.getUint32(pos + 4 + extraLength);
    if (extraSum !== extraExpected) throw new LzopFormatError('extra header field checksum mismatch');
    pos += 4 + extraLength + 4;
  }

  return {
    header: { version, libVersion, versionNeeded, method, level, flags, filter, mode, mtimeLow, mtimeHigh, name, length: pos },
  };
}
