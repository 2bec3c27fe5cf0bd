// LZO1X-1 style compressor: a greedy single-probe hash matcher that emits the LZO1X opcodes described
// in docs/lzop.md. Matches are at least 4 bytes long and at most 49151 bytes back (the M4 reach), every
// block is compressed on its own, and the output always ends with the 11 00 00 end-of-stream match.
// After each match, the position one byte further on is first tried at the same distance (no hash
// probe): records that differ from an earlier one in a single byte are common in WAL and heap pages, and
// the probe that would miss on the differing byte is the most expensive step of the loop. (Trying two
// bytes further on as well was 9% faster again but 13% bigger on index pages; inserting the skipped
// positions into the hash table made the output bigger, not smaller.)
import { HASH_BITS, HASH_TABLE } from './layout';

const M2_MAX_DIST: usize = 2048;
const M2_MAX_LEN: usize = 8;
const M3_MAX_DIST: usize = 16384;
const M4_MAX_DIST: usize = 49151;
/** Bytes at the end of a block that are always sent as literals, so 4- and 8-byte probes stay inside. */
const TAIL_GUARD: usize = 20;

/** Worst-case output size for `len` input bytes (all literals plus run-length and end overhead). */
export function compressBound(len: usize): usize {
  return len + (len >> 4) + 64 + 3;
}

/** Writes a run-length remainder in LZO's "zero bytes then a non-zero byte" form. */
@inline function putLengthTail(op: usize, rem: usize): usize {
  while (rem > 255) {
    store<u8>(op++, 0);
    rem -= 255;
  }
  store<u8>(op++, <u8>rem);
  return op;
}

/**
 * Emits `len` literals from `from`. `statePos` is where the previous match kept its two "S" bits
 * (0 when nothing was emitted yet), which carry runs of 1-3 literals for free.
 */
@inline function putLiterals(op: usize, from: usize, len: usize, statePos: usize): usize {
  if (statePos == 0) {
    if (len <= 238) {
      store<u8>(op++, <u8>(len + 17));
    } else {
      store<u8>(op++, 0);
      op = putLengthTail(op, len - 18);
    }
  } else if (len <= 3) {
    store<u8>(statePos, load<u8>(statePos) | <u8>len);
  } else if (len <= 18) {
    store<u8>(op++, <u8>(len - 3));
  } else {
    store<u8>(op++, 0);
    op = putLengthTail(op, len - 18);
  }
  // Short runs dominate; whole-vector copies beat a bulk-memory call for them. The host leaves slack after
  // the output bound, and reading past the run stays inside the kernel's memory.
  if (len <= 16) {
    v128.store(op, v128.load(from));
  } else if (len <= 128) {
    let o = op;
    let f = from;
    const stop = op + len;
    do {
      v128.store(o, v128.load(f));
      o += 16;
      f += 16;
    } while (o < stop);
  } else {
    memory.copy(op, from, len);
  }
  return op + len;
}

/** Compresses `srcLen` bytes at `src` into `dst` (room for compressBound(srcLen)); returns the output length. */
export function compress(src: usize, srcLen: usize, dst: usize): usize {
  memory.fill(HASH_TABLE, 0, (<usize>1 << HASH_BITS) << 2);
  const end = src + srcLen;
  let op = dst;
  let statePos: usize = 0;
  let anchor = src; // first byte not yet emitted
  if (srcLen > TAIL_GUARD) {
    const limit = end - TAIL_GUARD;
    let ip = src + 1;
    let dist: usize = 0;
    let repeat = false;
    while (ip < limit) {
      let cand: usize;
      if (repeat) {
        // The previous match's distance already matched 4 bytes here (checked below).
        repeat = false;
        cand = ip - dist;
      } else {
        const seq = load<u32>(ip);
        const slot = HASH_TABLE + (<usize>((seq * 0x1e35a7bd) >>> (32 - HASH_BITS)) << 2);
        cand = src + <usize>load<u32>(slot);
        store<u32>(slot, <u32>(ip - src));
        dist = ip - cand;
        if (load<u32>(cand) != seq || dist > M4_MAX_DIST) {
          // Skip faster through data that keeps failing to match (incompressible stretches).
          ip += 1 + ((ip - anchor) >> 5);
          continue;
        }
      }
      // Extend the match: one 8-byte compare (most matches are short), then 16 bytes at a time while
      // both sides stay inside the block, then byte by byte. ip < end - TAIL_GUARD keeps the first inside.
      let mp = ip + 4;
      let cp = cand + 4;
      const diff = load<u64>(mp) ^ load<u64>(cp);
      if (diff != 0) {
        mp += <usize>(ctz(diff) >> 3);
      } else {
        mp += 8;
        cp += 8;
        const fastEnd = end - 16;
        while (true) {
          if (mp > fastEnd) {
            while (mp < end && load<u8>(mp) == load<u8>(cp)) {
              mp++;
              cp++;
            }
            break;
          }
          const same = i8x16.bitmask(i8x16.eq(v128.load(mp), v128.load(cp)));
          if (same != 0xffff) {
            mp += <usize>ctz(~same);
            break;
          }
          mp += 16;
          cp += 16;
        }
      }
      const len = mp - ip;

      if (ip > anchor) op = putLiterals(op, anchor, ip - anchor, statePos);

      if (dist <= M2_MAX_DIST && len <= M2_MAX_LEN) {
        const d = dist - 1;
        statePos = op;
        store<u8>(op, <u8>(((len - 1) << 5) | ((d & 7) << 2)));
        store<u8>(op + 1, <u8>(d >> 3));
        op += 2;
      } else {
        let d: usize;
        if (dist <= M3_MAX_DIST) {
          d = dist - 1;
          const lenField = len - 2;
          if (lenField <= 31) {
            store<u8>(op++, <u8>(32 | lenField));
          } else {
            store<u8>(op++, 32);
            op = putLengthTail(op, lenField - 31);
          }
        } else {
          d = dist - 16384;
          const high = <u8>((d >> 11) & 8);
          const lenField = len - 2;
          if (lenField <= 7) {
            store<u8>(op++, 16 | high | <u8>lenField);
          } else {
            store<u8>(op++, 16 | high);
            op = putLengthTail(op, lenField - 7);
          }
          d &= 0x3fff;
        }
        statePos = op;
        store<u8>(op, <u8>(d << 2));
        store<u8>(op + 1, <u8>(d >> 6));
        op += 2;
      }

      ip = mp;
      anchor = mp;
      // The byte at ip differs from the one `dist` back (the match ended there, or at the block end).
      // When the 4 bytes after it repeat at the same distance, take that match without a hash probe; the
      // skipped byte rides as a literal in this match's spare bits.
      if (ip + 1 < limit && load<u32>(ip + 1) == load<u32>(ip + 1 - dist)) {
        ip++;
        repeat = true;
      }
    }
  }
  if (end > anchor) op = putLiterals(op, anchor, end - anchor, statePos);
  store<u8>(op, 0x11);
  store<u8>(op + 1, 0);
  store<u8>(op + 2, 0);
  return op + 3 - dst;
}
