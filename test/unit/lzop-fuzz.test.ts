import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CorruptObjectError } from '../../src/util/errors';
import { createLzopDecompressor, lzo1xCompress, lzo1xDecompress, LzoDataError } from '../../src/pipeline/lzop/index';
import { decodeBlock } from '../../src/pipeline/lzop/block-codec';
import { lzoKernel } from '../../src/pipeline/lzop/kernel';
import { LzopFormatError } from '../../src/pipeline/lzop/format-error';
import { LzopReader } from '../../src/pipeline/lzop/reader';
import { compressibleBytes, lzopFixture, runThrough, seededRandom } from '../helpers/lzop-helpers';

const BUDGET_MS = 20_000;

/** One random edit: bit flips, byte overwrites, truncation, duplication or deletion of a range. */
function mutate(input: Uint8Array, next: () => number): Uint8Array {
  const b = Buffer.from(input);
  const at = (next() * b.length) | 0;
  switch ((next() * 6) | 0) {
    case 0:
      b[at] ^= 1 << ((next() * 8) | 0);
      return b;
    case 1:
      for (let i = 0; i < 1 + next() * 8; i++) b[(next() * b.length) | 0] = (next() * 256) | 0;
      return b;
    case 2:
      return b.subarray(0, at);
    case 3:
      return Buffer.concat([b.subarray(0, at), b.subarray((next() * b.length) | 0)]);
    case 4:
      return Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + ((next() * 64) | 0))]);
    default:
      // Sizes are the interesting fields: set one of the first block's words to an extreme.
      b.writeUInt32BE([0, 1, 0xffff, 0x40000, 0x4000001, 0xffffffff][(next() * 6) | 0]!, 38 + 4 * ((next() * 3) | 0));
      return b;
  }
}

function decodeAll(bytes: Uint8Array): number {
  const reader = new LzopReader();
  const kernel = lzoKernel();
  reader.push(bytes);
  let total = 0;
  for (let block = reader.next(); block !== undefined; block = reader.next()) total += decodeBlock(kernel, block).length;
  reader.finish();
  return total;
}

test('thousands of mutated lzop files fail cleanly and deterministically', () => {
  const started = Date.now();
  const seeds = [lzopFixture('small-a.lzo'), lzopFixture('mixed.l9.lzo').subarray(0, 120_000), lzopFixture('mixed.crc32-CC.lzo'), lzopFixture('concat-a-b.lzo')];
  const next = seededRandom(20261122);
  let rejected = 0;
  let accepted = 0;
  for (let i = 0; i < 6000; i++) {
    const input = mutate(seeds[i % seeds.length]!, next);
    try {
      decodeAll(input);
      accepted++;
    } catch (e) {
      assert.ok(e instanceof LzopFormatError, `mutation ${i}: unexpected ${String(e)}`);
      rejected++;
    }
  }
  assert.ok(rejected > 5000, `rejected ${rejected}, accepted ${accepted}`);
  assert.ok(Date.now() - started < BUDGET_MS, 'within the time budget');
});

test('mutated raw LZO1X streams never escape the bounds checks', () => {
  const started = Date.now();
  const next = seededRandom(7);
  const original = compressibleBytes(20_000, 5);
  const packed = lzo1xCompress(original);
  for (let i = 0; i < 20_000; i++) {
    const input = mutate(packed, next);
    const len = next() < 0.8 ? original.length : (next() * 40_000) | 0;
    try {
      const out = lzo1xDecompress(input, len);
      assert.equal(out.length, len);
    } catch (e) {
      assert.ok(e instanceof LzoDataError, `mutation ${i}: unexpected ${String(e)}`);
    }
  }
  // Pure noise as a stream.
  for (let i = 0; i < 2000; i++) {
    const noise = new Uint8Array(1 + ((next() * 300) | 0)).map(() => (next() * 256) | 0);
    try {
      lzo1xDecompress(noise, (next() * 2000) | 0);
    } catch (e) {
      assert.ok(e instanceof LzoDataError);
    }
  }
  assert.ok(Date.now() - started < BUDGET_MS, 'within the time budget');
});

test('mutated files through the stream API end in CorruptObjectError', async () => {
  const next = seededRandom(99);
  const seed = lzopFixture('small-a.lzo');
  for (let i = 0; i < 300; i++) {
    const input = mutate(seed, next);
    try {
      await runThrough(createLzopDecompressor('fuzz.lzo'), input, 1 + ((next() * 5000) | 0));
    } catch (e) {
      assert.ok(e instanceof CorruptObjectError, `mutation ${i}: ${String(e)}`);
      assert.match(e.message, /^lzop: corrupt object "fuzz\.lzo": /);
    }
  }
});
