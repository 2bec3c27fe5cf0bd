import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adler32, crc32, lzo1xCompress, lzo1xDecompress, LzoDataError } from '../../src/pipeline/lzop/index';
import { compressibleBytes, randomBytes } from '../helpers/lzop-helpers';

const ascii = (s: string): Uint8Array => Buffer.from(s, 'latin1');

test('adler32 and crc32 match their reference values', () => {
  assert.equal(adler32(ascii('Wikipedia')), 0x11e60398);
  assert.equal(adler32(new Uint8Array(0)), 1);
  assert.equal(crc32(ascii('123456789')), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  // Seeds continue a checksum across pieces.
  const data = randomBytes(100_000, 7);
  assert.equal(adler32(data.subarray(60_000), adler32(data.subarray(0, 60_000))), adler32(data));
  assert.equal(crc32(data.subarray(33), crc32(data.subarray(0, 33))), crc32(data));
  // Long runs of 0xff stress adler32's deferred modulo.
  assert.equal(adler32(new Uint8Array(3_000_000).fill(0xff)), adler32Reference(new Uint8Array(3_000_000).fill(0xff)));
});

function adler32Reference(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (const x of data) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

test('LZO1X round trip over edge sizes and data kinds', () => {
  const sizes = [1, 2, 3, 4, 5, 17, 18, 20, 21, 22, 237, 238, 239, 240, 1000, 4096, 65535, 65536, 262143, 262144, 262145, 600_000];
  for (const size of sizes) {
    for (const [kind, data] of [
      ['zeros', new Uint8Array(size)],
      ['random', randomBytes(size, size)],
      ['text', compressibleBytes(size, size + 1)],
    ] as const) {
      const packed = lzo1xCompress(data);
      assert.ok(packed.length <= size + (size >> 4) + 67, `${kind} ${size}: bound`);
      assert.deepEqual(packed.subarray(packed.length - 3), Uint8Array.of(0x11, 0, 0), `${kind} ${size}: end marker`);
      const back = lzo1xDecompress(packed, size);
      assert.ok(Buffer.from(back).equals(Buffer.from(data)), `${kind} ${size}: round trip`);
    }
  }
  assert.ok(lzo1xCompress(new Uint8Array(262144)).length < 2000, 'zeros compress well');
});

test('the LZO1X decoder reports every malformed stream as an error code', () => {
  const code = (src: number[], len: number): number => {
    try {
      lzo1xDecompress(Uint8Array.from(src), len);
      return 0;
    } catch (e) {
      assert.ok(e instanceof LzoDataError);
      return e.code;
    }
  };
  const oneLiteral = [0x12, 0x61, 0x11, 0x00, 0x00];
  assert.equal(code(oneLiteral, 1), 0);
  assert.equal(code([], 1), -1, 'empty input');
  assert.equal(code([0x12, 0x61, 0x44], 4), -1, 'input ends inside a match');
  assert.equal(code([0x20], 4), -1, 'input ends inside a literal run');
  assert.equal(code(oneLiteral, 0), -2, 'more literals than output');
  assert.equal(code([0x12, 0x61, 0x44, 0x00, 0x11, 0x00, 0x00], 4), -3, 'match before the start');
  assert.equal(code(oneLiteral, 2), -4, 'end marker too early');
  assert.equal(code([...oneLiteral, 0x00], 1), -5, 'bytes after the end marker');
  assert.equal(code([0x00, ...new Array<number>(5000).fill(0), 0x05], 100), -2, 'long zero run beyond the output');
  assert.equal(code(new Array<number>(5000).fill(0), 100_000_000), -1, 'zero run to the end of the input');
  // A 2-byte M2 match with distance 1 repeats the literal: "a" then "aaa" (length 3).
  assert.deepEqual(Buffer.from(lzo1xDecompress(Uint8Array.from([0x12, 0x61, 0x40, 0x00, 0x11, 0x00, 0x00]), 4)).toString(), 'aaaa');
});
