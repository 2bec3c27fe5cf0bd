// adler32 and crc32 as lzop uses them: adler32 seeded with 1, crc32 (IEEE, reflected) seeded with 0,
// both computed per block. Callers pass the running value so a checksum can span several calls.
import { CRC_TABLES } from './layout';

const ADLER_MOD: u32 = 65521;

// b grows within a 32-byte chunk by sum (32 - i) * x_i. With p_j = x_2j + x_2j+1 that is
// sum (31 - 2j) * p_j + sum x_2j: pair sums weighted 31, 29, .. 1 plus the plain sum of the even bytes.
const WX: v128 = i16x8(31, 29, 27, 25, 23, 21, 19, 17);
const WY: v128 = i16x8(15, 13, 11, 9, 7, 5, 3, 1);
const ONES: v128 = i16x8(1, 1, 1, 1, 1, 1, 1, 1);
const EVEN: v128 = i16x8(255, 255, 255, 255, 255, 255, 255, 255);
/** Bytes per SIMD round: a multiple of 32 not above 5552 (zlib's NMAX), so no 32-bit lane can overflow. */
const SIMD_NMAX: usize = 5536;
/** The same for the 64-byte loop: a multiple of 64 not above 5552. */
const SIMD_NMAX64: usize = 5504;
// Pair weights for 64-byte steps: 63, 61, .. 1 over four vectors of pair sums.
const W0: v128 = i16x8(63, 61, 59, 57, 55, 53, 51, 49);
const W1: v128 = i16x8(47, 45, 43, 41, 39, 37, 35, 33);
const W2: v128 = i16x8(31, 29, 27, 25, 23, 21, 19, 17);
const W3: v128 = i16x8(15, 13, 11, 9, 7, 5, 3, 1);

@inline function hsum(v: v128): u64 {
  return <u64><u32>i32x4.extract_lane(v, 0) + <u64><u32>i32x4.extract_lane(v, 1) +
    <u64><u32>i32x4.extract_lane(v, 2) + <u64><u32>i32x4.extract_lane(v, 3);
}

export function adler32(seed: u32, ptr: usize, len: usize): u32 {
  let a: u64 = seed & 0xffff;
  let b: u64 = seed >>> 16;
  let p = ptr;
  let remaining = len;
  // Bulk: 64 bytes per step, the same scheme with pair weights 63, 61, .. 1 (fewer operations per byte:
  // one running-sum update and one even-byte dot product per 64 bytes instead of per 32).
  while (remaining >= 64) {
    const n = remaining < SIMD_NMAX64 ? remaining & ~(<usize>63) : SIMD_NMAX64;
    remaining -= n;
    let vs1 = i32x4.splat(0);
    let vps = i32x4.splat(0);
    let vs2 = i32x4.splat(0);
    const stop = p + n;
    while (p < stop) {
      const x = v128.load(p);
      const y = v128.load(p, 16);
      const z = v128.load(p, 32);
      const w = v128.load(p, 48);
      const px = i16x8.extadd_pairwise_i8x16_u(x);
      const py = i16x8.extadd_pairwise_i8x16_u(y);
      const pz = i16x8.extadd_pairwise_i8x16_u(z);
      const pw = i16x8.extadd_pairwise_i8x16_u(w);
      const even = i16x8.add(
        i16x8.add(v128.and(x, EVEN), v128.and(y, EVEN)),
        i16x8.add(v128.and(z, EVEN), v128.and(w, EVEN)),
      );
      vps = i32x4.add(vps, vs1);
      vs1 = i32x4.add(vs1, i32x4.dot_i16x8_s(i16x8.add(i16x8.add(px, py), i16x8.add(pz, pw)), ONES));
      vs2 = i32x4.add(vs2, i32x4.add(
        i32x4.add(i32x4.dot_i16x8_s(px, W0), i32x4.dot_i16x8_s(py, W1)),
        i32x4.add(i32x4.add(i32x4.dot_i16x8_s(pz, W2), i32x4.dot_i16x8_s(pw, W3)), i32x4.dot_i16x8_s(even, ONES)),
      ));
      p += 64;
    }
    b = (b + a * <u64>n + (hsum(vps) << 6) + hsum(vs2)) % ADLER_MOD;
    a = (a + hsum(vs1)) % ADLER_MOD;
  }
  // 32 bytes per step: a grows by the byte sum, b by 32 x the previous a plus the weighted byte sum.
  while (remaining >= 32) {
    let n = remaining < SIMD_NMAX ? remaining & ~(<usize>31) : SIMD_NMAX;
    remaining -= n;
    const chunks = <u64>(n >> 5);
    let vs1 = i32x4.splat(0); // byte sums so far, spread over four lanes
    let vps = i32x4.splat(0); // sum over chunks of the byte sums before each chunk
    let vs2 = i32x4.splat(0); // weighted sums within each chunk
    const stop = p + n;
    while (p < stop) {
      const x = v128.load(p);
      const y = v128.load(p, 16);
      const px = i16x8.extadd_pairwise_i8x16_u(x);
      const py = i16x8.extadd_pairwise_i8x16_u(y);
      const even = i16x8.add(v128.and(x, EVEN), v128.and(y, EVEN));
      vps = i32x4.add(vps, vs1);
      vs1 = i32x4.add(vs1, i32x4.dot_i16x8_s(i16x8.add(px, py), ONES));
      vs2 = i32x4.add(vs2, i32x4.add(
        i32x4.add(i32x4.dot_i16x8_s(px, WX), i32x4.dot_i16x8_s(py, WY)),
        i32x4.dot_i16x8_s(even, ONES),
      ));
      p += 32;
    }
    b = (b + a * (chunks << 5) + (hsum(vps) << 5) + hsum(vs2)) % ADLER_MOD;
    a = (a + hsum(vs1)) % ADLER_MOD;
  }
  while (remaining > 0) {
    a += <u64>load<u8>(p); b += a;
    p++;
    remaining--;
  }
  a %= ADLER_MOD;
  b %= ADLER_MOD;
  return <u32>((b << 16) | a);
}

let crcReady = false;

function buildCrcTables(): void {
  for (let i: u32 = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    store<u32>(CRC_TABLES + (<usize>i << 2), c);
  }
  for (let i: u32 = 0; i < 256; i++) {
    let c = load<u32>(CRC_TABLES + (<usize>i << 2));
    for (let t: usize = 1; t < 8; t++) {
      c = load<u32>(CRC_TABLES + ((<usize>(c & 0xff)) << 2)) ^ (c >>> 8);
      store<u32>(CRC_TABLES + (t << 10) + (<usize>i << 2), c);
    }
  }
  crcReady = true;
}

@inline function crcTab(table: usize, index: u32): u32 {
  return load<u32>(CRC_TABLES + (table << 10) + (<usize>(index & 0xff) << 2));
}

export function crc32(seed: u32, ptr: usize, len: usize): u32 {
  if (!crcReady) buildCrcTables();
  let c = ~seed;
  let p = ptr;
  let n = len;
  while (n >= 8) {
    const lo = load<u32>(p) ^ c;
    const hi = load<u32>(p + 4);
    c = crcTab(7, lo) ^ crcTab(6, lo >>> 8) ^ crcTab(5, lo >>> 16) ^ crcTab(4, lo >>> 24) ^
        crcTab(3, hi) ^ crcTab(2, hi >>> 8) ^ crcTab(1, hi >>> 16) ^ crcTab(0, hi >>> 24);
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = crcTab(0, c ^ load<u8>(p)) ^ (c >>> 8);
    p++;
    n--;
  }
  return ~c;
}
