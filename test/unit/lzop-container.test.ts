import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { CorruptObjectError } from '../../src/util/errors';
import { adler32, createLzopCompressor, createLzopDecompressor, crc32 } from '../../src/pipeline/lzop/index';
import { decodeLzopHeader, encodeLzopHeader, F_H_CRC32, F_H_EXTRA_FIELD, F_H_FILTER } from '../../src/pipeline/lzop/header';
import { filterBlock, unfilterBlock } from '../../src/pipeline/lzop/filter';
import { lzopFixture, randomBytes, runThrough } from '../helpers/lzop-helpers';

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');

async function decode(bytes: Uint8Array, name = 'test.lzo'): Promise<Buffer> {
  return runThrough(createLzopDecompressor(name), bytes, 4096);
}

async function rejects(bytes: Uint8Array, pattern: RegExp): Promise<void> {
  await assert.rejects(decode(bytes, 'wal_005/000000010000000000000001.lzo'), (e: unknown) => {
    assert.ok(e instanceof CorruptObjectError, `expected CorruptObjectError, got ${String(e)}`);
    assert.match(e.message, /^lzop: corrupt object "wal_005\/000000010000000000000001\.lzo": /);
    assert.match(e.message, pattern);
    return true;
  });
}

/** Rewrites the header checksum after a test has edited header bytes [9, end). */
function resealHeader(file: Uint8Array, end: number, useCrc = false): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset);
  view.setUint32(end, useCrc ? crc32(file.subarray(9, end)) : adler32(file.subarray(9, end)));
  return file;
}

test('the writer matches lzop -c byte for byte where the compressor choice matches', async () => {
  // `printf 'hello hello hello hello hello\n' | lzop -c`: liblzo left these 30 bytes stored.
  const hello = Buffer.from('hello hello hello hello hello\n');
  const header = '894c5a4f000d0a1a0a104020a009400105030000' + '0d000000006b03736b0000000000' + '28de02bc';
  const lzopBytes = Buffer.from(header + '0000001e0000001eadff0aef' + hello.toString('hex') + '00000000', 'hex');
  assert.ok((await decode(lzopBytes)).equals(hello));
  const ours = await runThrough(createLzopCompressor({ mtime: 0x6b03736b }), hello);
  assert.equal(ours.subarray(0, 38).toString('hex'), header);
  assert.ok((await decode(ours)).equals(hello));
  // Incompressible data is stored by both compressors, so the whole file is identical.
  const noise = randomBytes(30, 30);
  const expected = Buffer.alloc(38 + 12 + 30 + 4);
  Buffer.from(header, 'hex').copy(expected);
  expected.writeUInt32BE(30, 38);
  expected.writeUInt32BE(30, 42);
  expected.writeUInt32BE(adler32(noise), 46);
  noise.copy(expected, 50);
  assert.deepEqual(await runThrough(createLzopCompressor({ mtime: 0x6b03736b }), noise), expected);
});

test('the writer emits the 38-byte header WAL-E stored', () => {
  const h = encodeLzopHeader({ mtime: 1577836800, mode: 0o100644 });
  assert.equal(h.length, 38);
  const parsed = decodeLzopHeader(h);
  assert.ok('header' in parsed);
  assert.equal(parsed.header.flags, 0x0300000d);
  assert.equal(parsed.header.method, 1);
  assert.equal(parsed.header.level, 5);
  assert.equal(parsed.header.versionNeeded, 0x0940);
  assert.equal(parsed.header.mode, 0o100644);
  assert.equal(parsed.header.mtimeLow, 1577836800);
  // Same as the fixtures' header (same mode and mtime).
  assert.deepEqual(Buffer.from(h), lzopFixture('small-a.lzo').subarray(0, 38));
});

test('empty input gives a header and the end marker', async () => {
  const out = await runThrough(createLzopCompressor({ mtime: 1577836800, mode: 0o100644 }), new Uint8Array(0));
  assert.deepEqual(out, lzopFixture('empty.lzo'));
  assert.equal((await decode(out)).length, 0);
});

test('lzop-made fixtures decode to the original bytes', async () => {
  const smallA = lzopFixture('small-a.txt');
  const smallB = lzopFixture('small-b.bin');
  const mixed = lzopFixture('mixed.bin');
  for (const name of ['small-a.lzo', 'small-a.named.lzo', 'small-a.trailing-zeros.lzo']) {
    assert.ok((await decode(lzopFixture(name))).equals(smallA), name);
  }
  assert.ok((await decode(lzopFixture('small-b.lzo'))).equals(smallB));
  assert.ok((await decode(lzopFixture('concat-a-b.lzo'))).equals(Buffer.concat([smallA, smallB])), 'two members');
  for (const variant of ['l1', 'l9', 'CC', 'crc32-CC', 'F', 'filter1', 'filter3']) {
    assert.ok((await decode(lzopFixture(`mixed.${variant}.lzo`))).equals(mixed), variant);
  }
  assert.equal(md5(await decode(lzopFixture('wal-000000010000000000000001.first300k.lzo'))), 'af1551f82d2a1756c09655bb88cc0d15');
  assert.equal(md5(await decode(lzopFixture('wal-store-000000010000000000000005.lzo'))), 'a0ff96b2b3178393aedff68517bbab05');
  assert.equal((await decode(lzopFixture('wal-store-00000002.history.lzo'))).length, 41);
});

test('damaged lzop-made fixtures are rejected with a message naming the object', async () => {
  await rejects(lzopFixture('corrupt-flipped-byte.lzo'), /(checksum mismatch|LZO) .*block 1/);
  await rejects(lzopFixture('corrupt-no-end-marker.lzo'), /before block 2 \(no end marker\)/);
  await rejects(lzopFixture('corrupt-truncated.lzo'), /in block 1 \(truncated\)/);
  await rejects(lzopFixture('small-a.trailing-garbage.lzo'), /trailing garbage/);
  await rejects(new Uint8Array(0), /empty object/);
  await rejects(Buffer.from('this is not lzop data at all'), /not an lzop file/);
});

test('header violations are rejected', async () => {
  const base = await runThrough(createLzopCompressor({ mtime: 1 }), Buffer.from('some data some data some data'));
  const edit = (f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(base);
    f(b);
    resealHeader(b, 34);
    return b;
  };
  await rejects(edit((b) => b.writeUInt32BE(0x0300400d, 17)), /reserved header flags/);
  await rejects(edit((b) => b.writeUInt16BE(0x1050, 13)), /needs lzop version 0x1050/);
  await rejects(edit((b) => (b[15] = 4)), /unsupported compression method 4/);
  await rejects(edit((b) => b.writeUInt32BE(0x0300080d, 17)), /unsupported filter|checksum|block/);
  const badSum = Buffer.from(base);
  badSum[30] ^= 1;
  await rejects(badSum, /header checksum mismatch/);
  // A crc32 header checksum is honoured when F_H_CRC32 says so.
  const crcHeader = Buffer.from(base);
  crcHeader.writeUInt32BE(0x0300000d | F_H_CRC32, 17);
  resealHeader(crcHeader, 34, true);
  assert.equal((await decode(crcHeader)).toString(), 'some data some data some data');
});

test('an extra header field is read and checked', async () => {
  const body = await runThrough(createLzopCompressor({ mtime: 1 }), Buffer.from('extra field payload'));
  const extra = Buffer.from('hello extra');
  const extraBlock = Buffer.alloc(4 + extra.length + 4);
  extraBlock.writeUInt32BE(extra.length, 0);
  extra.copy(extraBlock, 4);
  extraBlock.writeUInt32BE(adler32(extraBlock.subarray(0, 4 + extra.length)), 4 + extra.length);
  const header = Buffer.from(body.subarray(0, 38));
  header.writeUInt32BE(0x0300000d | F_H_EXTRA_FIELD, 17);
  resealHeader(header, 34);
  const file = Buffer.concat([header, extraBlock, body.subarray(38)]);
  assert.equal((await decode(file)).toString(), 'extra field payload');
  file[38 + 5] ^= 0x20;
  await rejects(file, /extra header field checksum mismatch/);
});

test('block size violations are rejected', async () => {
  const base = await runThrough(createLzopCompressor({ mtime: 1 }), randomBytes(1000, 3));
  const edit = (f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(base);
    f(b);
    return b;
  };
  await rejects(edit((b) => b.writeUInt32BE(64 * 1024 * 1024 + 1, 38)), /block size 67108865 exceeds/);
  await rejects(edit((b) => b.writeUInt32BE(0xffffffff, 38)), /split lzop files/);
  await rejects(edit((b) => b.writeUInt32BE(1001, 42)), /compressed block size 1001 exceeds uncompressed size 1000/);
  await rejects(edit((b) => b.writeUInt32BE(0, 42)), /compressed block size is 0/);
  await rejects(edit((b) => b.writeUInt32BE(999, 42)), /LZO|checksum|block/);
  await rejects(edit((b) => (b[60] ^= 0x10)), /checksum mismatch in block 1/);
});

test('filters invert exactly, lane by lane', () => {
  for (const lanes of [1, 2, 3, 4, 16]) {
    const data = randomBytes(1000, lanes);
    const copy = Buffer.from(data);
    filterBlock(copy, lanes);
    assert.ok(!copy.equals(data));
    unfilterBlock(copy, lanes);
    assert.ok(copy.equals(data), `filter ${lanes}`);
  }
  const tiny = Buffer.from([5, 6, 7]);
  unfilterBlock(tiny, 3);
  assert.deepEqual([...tiny], [5, 6, 7], 'no-op when the block is not longer than the lane count');
  assert.ok(F_H_FILTER > 0);
});
