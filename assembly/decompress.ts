// Bounds-checked LZO1X decoder (reads the output of every LZO1X compression level). Every length is
// checked against the input and output ends before it is used and every match distance against the
// bytes produced so far, so hostile input can only produce an error code.
//
// The host leaves SLACK spare bytes after both buffers: short copies move whole 8- or 16-byte words and
// may touch up to 15 bytes beyond the checked length; those bytes are rewritten or ignored later.

export const E_INPUT_OVERRUN: i32 = -1;
export const E_OUTPUT_OVERRUN: i32 = -2;
export const E_LOOKBEHIND_OVERRUN: i32 = -3;
/** The end-of-stream marker came before the expected output length was reached. */
export const E_OUTPUT_UNDERRUN: i32 = -4;
/** Bytes follow the end-of-stream marker. */
export const E_INPUT_NOT_CONSUMED: i32 = -5;

export const SLACK: usize = 32;

// What the next opcode below 16 means depends on what came before it.
const AFTER_MATCH: i32 = 0; // a literal run
const AFTER_LONG_LITERALS: i32 = 1; // a 3-byte match 2049+ back
const AFTER_SHORT_LITERALS: i32 = 2; // a 2-byte match up to 1024 back

/** Copies `n` literal bytes; the caller has checked both ends (so at most 15 bytes of slack are touched). */
@inline function copyLiterals(op: usize, ip: usize, n: usize): void {
  if (n <= 16) {
    v128.store(op, v128.load(ip));
  } else if (n <= 256) {
    const stop = op + n;
    do {
      v128.store(op, v128.load(ip));
      op += 16;
      ip += 16;
    } while (op < stop);
  } else {
    memory.copy(op, ip, n);
  }
}

/** Copies an LZ match that may overlap its own output (distance < length repeats a pattern). */
@inline function copyMatch(op: usize, dist: usize, n: usize): void {
  let from = op - dist;
  const stop = op + n;
  if (dist >= 16) {
    // Each 16-byte read ends at or before the write it feeds, so overlapping matches still repeat.
    if (n > 512 && dist >= n) {
      memory.copy(op, from, n);
      return;
    }
    do {
      v128.store(op, v128.load(from));
      op += 16;
      from += 16;
    } while (op < stop);
  } else if (dist >= 8) {
    do {
      store<u64>(op, load<u64>(from));
      op += 8;
      from += 8;
    } while (op < stop);
  } else if (dist == 1) {
    if (n > 256) {
      memory.fill(op, load<u8>(from), n);
      return;
    }
    const v = i8x16.splat(load<u8>(from));
    do {
      v128.store(op, v);
      op += 16;
    } while (op < stop);
  } else {
    while (op < stop) {
      store<u8>(op, load<u8>(from));
      op++;
      from++;
    }
  }
}

/**
 * Reads a zero-extended length: each 0 byte adds 255, then a non-zero byte adds itself plus `base`.
 * Returns the length, or -1 when the input ends or the length cannot fit the remaining output.
 */
@inline function readLongLength(ip: usize, ipEnd: usize, base: usize, room: usize): i64 {
  let zeros: usize = 0;
  while (ip < ipEnd && load<u8>(ip) == 0) {
    ip++;
    zeros++;
  }
  if (ip >= ipEnd) return -1;
  const n = <u64>zeros * 255 + <u64>base + <u64>load<u8>(ip);
  if (n > <u64>room + 3) return -2;
  return <i64>((n << 32) | <u64>(zeros + 1));
}

/**
 * Decodes the LZO1X stream at src[0, srcLen) into dst, which must become exactly dstLen bytes long.
 * Returns dstLen, or one of the negative E_* codes.
 */
export function decompress(src: usize, srcLen: usize, dst: usize, dstLen: usize): i32 {
  let ip = src;
  const ipEnd = src + srcLen;
  let op = dst;
  const opEnd = dst + dstLen;
  let state = AFTER_MATCH;

  if (srcLen == 0) return E_INPUT_OVERRUN;
  let first = <usize>load<u8>(ip);
  if (first > 17) {
    ip++;
    const n = first - 17;
    if (n > ipEnd - ip) return E_INPUT_OVERRUN;
    if (n > opEnd - op) return E_OUTPUT_OVERRUN;
    copyLiterals(op, ip, n);
    op += n;
    ip += n;
    state = n < 4 ? AFTER_SHORT_LITERALS : AFTER_LONG_LITERALS;
  }

  while (true) {
    if (ip >= ipEnd) return E_INPUT_OVERRUN;
    const t = <usize>load<u8>(ip++);
    let dist: usize;
    let len: usize;
    let s: usize;

    // Opcodes in order of frequency on real data: M3, M2, then literal runs / M1, then M4.
    if (t >= 32) {
      if (t >= 64) {
        if (ip >= ipEnd) return E_INPUT_OVERRUN;
        dist = 1 + ((t >> 2) & 7) + (<usize>load<u8>(ip++) << 3);
        len = (t >> 5) + 1;
        s = t & 3;
        if (dist > op - dst) return E_LOOKBEHIND_OVERRUN;
        if (len > opEnd - op) return E_OUTPUT_OVERRUN;
        if (dist >= 8) {
          // len <= 8: one 8-byte word that ends at or before the bytes it feeds.
          store<u64>(op, load<u64>(op - dist));
          op += len;
        } else {
          copyMatch(op, dist, len);
          op += len;
        }
      } else {
        len = t & 31;
        if (len == 0) {
          const r = readLongLength(ip, ipEnd, 31, opEnd - op);
          if (r == -1) return E_INPUT_OVERRUN;
          if (r == -2) return E_OUTPUT_OVERRUN;
          ip += <usize>(r & 0xffffffff);
          len = <usize>(r >>> 32);
        }
        if (ipEnd - ip < 2) return E_INPUT_OVERRUN;
        const d = <usize>load<u16>(ip);
        ip += 2;
        dist = 1 + (d >> 2);
        len += 2;
        s = d & 3;
        if (dist > op - dst) return E_LOOKBEHIND_OVERRUN;
        if (len > opEnd - op) return E_OUTPUT_OVERRUN;
        if (dist >= 16 && len <= 16) {
          v128.store(op, v128.load(op - dist));
        } else {
          copyMatch(op, dist, len);
        }
        op += len;
      }
    } else {
      if (t >= 16) {
        len = t & 7;
        if (len == 0) {
          const r = readLongLength(ip, ipEnd, 7, opEnd - op);
          if (r == -1) return E_INPUT_OVERRUN;
          if (r == -2) return E_OUTPUT_OVERRUN;
          ip += <usize>(r & 0xffffffff);
          len = <usize>(r >>> 32);
        }
        if (ipEnd - ip < 2) return E_INPUT_OVERRUN;
        const d = <usize>load<u16>(ip);
        ip += 2;
        dist = ((t & 8) << 11) + (d >> 2);
        if (dist == 0) {
          if (op != opEnd) return E_OUTPUT_UNDERRUN;
          if (ip != ipEnd) return E_INPUT_NOT_CONSUMED;
          return <i32>dstLen;
        }
        dist += 0x4000;
        len += 2;
        s = d & 3;
      } else if (state == AFTER_MATCH) {
        let n = t;
        if (n == 0) {
          const r = readLongLength(ip, ipEnd, 15, opEnd - op);
          if (r == -1) return E_INPUT_OVERRUN;
          if (r == -2) return E_OUTPUT_OVERRUN;
          ip += <usize>(r & 0xffffffff);
          n = <usize>(r >>> 32);
        }
        n += 3;
        if (n > ipEnd - ip) return E_INPUT_OVERRUN;
        if (n > opEnd - op) return E_OUTPUT_OVERRUN;
        copyLiterals(op, ip, n);
        op += n;
        ip += n;
        state = AFTER_LONG_LITERALS;
        continue;
      } else {
        if (ip >= ipEnd) return E_INPUT_OVERRUN;
        const b = <usize>load<u8>(ip++);
        if (state == AFTER_LONG_LITERALS) {
          dist = 2049 + (t >> 2) + (b << 2);
          len = 3;
        } else {
          dist = 1 + (t >> 2) + (b << 2);
          len = 2;
        }
        s = t & 3;
      }
      if (dist > op - dst) return E_LOOKBEHIND_OVERRUN;
      if (len > opEnd - op) return E_OUTPUT_OVERRUN;
      copyMatch(op, dist, len);
      op += len;
    }

    // 0-3 literals ride on every match. Copied without a branch on their count: with none, the 4-byte
    // word lands in bytes the next step rewrites (or in the slack), and is read from the input or its slack.
    if (s > ipEnd - ip) return E_INPUT_OVERRUN;
    if (s > opEnd - op) return E_OUTPUT_OVERRUN;
    store<u32>(op, load<u32>(ip));
    op += s;
    ip += s;
    state = select<i32>(AFTER_SHORT_LITERALS, AFTER_MATCH, s != 0);
  }
}
