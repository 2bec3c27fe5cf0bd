// adler32 and crc32 as lzop uses them: adler32 seeded with 1, crc32 (IEEE, reflected) seeded with 0,
// both computed per block. Callers pass the running value so a checksum can span several calls.
import { CRC_TABLES } from './layout';

const ADLER_MOD: u32 = 65521;
// Largest n such that 255*n*(n+1)/2 + (n+1)*(ADLER_MOD-1) fits in 32 bits: sums can wait that long for a modulo.
const ADLER_NMAX: usize = 5552;

export function adler32(seed: u32, ptr: usize, len: usize): u32 {
  let a = seed & 0xffff;
  let b = seed >>> 16;
  let p = ptr;
  let remaining = len;
  while (remaining > 0) {
    let n = remaining < ADLER_NMAX ? remaining : ADLER_NMAX;
    remaining -= n;
    while (n >= 8) {
      const w = load<u64>(p);
      a += <u32>(w & 0xff); b += a;
      a += <u32>((w >> 8) & 0xff); b += a;
      a += <u32>((w >> 16) & 0xff); b += a;
      a += <u32>((w >> 24) & 0xff); b += a;
      a += <u32>((w >> 32) & 0xff); b += a;
      a += <u32>((w >> 40) & 0xff); b += a;
      a += <u32>((w >> 48) & 0xff); b += a;
      a += <u32>(w >> 56); b += a;
      p += 8;
      n -= 8;
    }
    while (n > 0) {
      a += <u32>load<u8>(p); b += a;
      p++;
      n--;
    }
    a %= ADLER_MOD;
    b %= ADLER_MOD;
  }
  return (b << 16) | a;
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
