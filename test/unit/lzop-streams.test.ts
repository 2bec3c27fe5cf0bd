import assert from 'node:assert/strict';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, test } from 'node:test';
import { CorruptObjectError } from '../../src/util/errors';
import {
  closeSharedLzoPools,
  createLzopCompressor,
  createLzopDecompressor,
  createParallelLzopCompressor,
  lzopDecode,
  lzopDecodeBorrowed,
} from '../../src/pipeline/lzop/index';
import { compressibleBytes, lzopFixture, randomBytes, runThrough } from '../helpers/lzop-helpers';

after(() => closeSharedLzoPools());

const KiB = 1024;
const edgeSizes = [0, 1, 2, 3, 4, 20, 21, 238, 239, 256 * KiB - 1, 256 * KiB, 256 * KiB + 1, 1300 * KiB];

test('serial compressor and decompressor round trip edge sizes in any chunking', async () => {
  for (const size of edgeSizes) {
    for (const data of [randomBytes(size, size), compressibleBytes(size, size + 9)]) {
      const packed = await runThrough(createLzopCompressor(), data, 65536);
      const repacked = await runThrough(createLzopCompressor(), data, 1 + (size % 7919));
      assert.equal(packed.subarray(38).toString('hex'), repacked.subarray(38).toString('hex'), `${size}: chunking changes nothing`);
      const back = await runThrough(createLzopDecompressor('x.lzo'), packed, size > 100_000 ? 8191 : 1);
      assert.ok(back.equals(data), `size ${size}`);
    }
  }
});

test('the parallel compressor writes the same bytes as the serial one', async () => {
  for (const size of [0, 5, 256 * KiB, 256 * KiB + 1, 3 * 1024 * KiB + 17]) {
    const data = compressibleBytes(size, 99 + size);
    const serial = await runThrough(createLzopCompressor({ mtime: 1234 }), data, 100_000);
    const parallel = await runThrough(createParallelLzopCompressor({ poolSize: 2, mtime: 1234 }), data, 100_000);
    assert.ok(parallel.equals(serial), `size ${size}`);
  }
});

test('the decompressor reads every lzop variant and rejects damage with the object named', async () => {
  const mixed = lzopFixture('mixed.bin');
  for (const variant of ['l1', 'l9', 'CC', 'crc32-CC', 'F', 'filter3']) {
    const out = await runThrough(createLzopDecompressor(`mixed.${variant}.lzo`), lzopFixture(`mixed.${variant}.lzo`), 77_777);
    assert.ok(out.equals(mixed), variant);
  }
  const damaged = Buffer.from(lzopFixture('mixed.CC.lzo'));
  damaged[5000] ^= 0x40;
  await assert.rejects(runThrough(createLzopDecompressor('base/part_00000000.tar.lzo'), damaged), (e: unknown) => {
    assert.ok(e instanceof CorruptObjectError);
    assert.match(e.message, /^lzop: corrupt object "base\/part_00000000\.tar\.lzo": adler32 checksum mismatch in compressed block 1/);
    return true;
  });
  const truncated = lzopFixture('mixed.l9.lzo').subarray(0, 60_000);
  await assert.rejects(runThrough(createLzopDecompressor('t.lzo'), truncated), CorruptObjectError);
});

test('decompression stops producing while the reader does not read', async () => {
  const data = Buffer.alloc(64 * 1024 * KiB, 7); // 256 blocks that compress to almost nothing
  const packed = await runThrough(createLzopCompressor(), data);
  assert.ok(packed.length < 600 * KiB);
  const stream = createLzopDecompressor('zeros.lzo');
  stream.end(packed);
  await new Promise((resolve) => setTimeout(resolve, 50));
  // Only up to the high-water mark plus one block is decoded while nobody reads.
  assert.ok(stream.readableLength <= 512 * KiB, `buffered ${stream.readableLength}`);
  let total = 0;
  await pipeline(stream, new Writable({ write(c: Buffer, _e, cb) { total += c.length; cb(); } }));
  assert.equal(total, data.length);
});

test('a source error reaches the caller of the parallel compressor', async () => {
  const source = Readable.from([Buffer.from('abc')]);
  const failing = async function* (input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const c of input) yield c;
    throw new Error('source failed');
  };
  await assert.rejects(
    pipeline(source, failing, createParallelLzopCompressor({ poolSize: 2 }), new Writable({ write(_c, _e, cb) { cb(); } })),
    /source failed/,
  );
});

test('decompressing highly compressible data through a pipeline never stalls (regression)', { timeout: 20_000 }, async () => {
  const { PassThrough, Readable, pipeline } = await import('node:stream');
  const data = Buffer.concat([Buffer.alloc(8 << 20), Buffer.from('hello wal '.repeat(800_000))]);
  const packed = await runThrough(createLzopCompressor(), data, 1 << 20);
  const chunks: Buffer[] = [];
  for (let off = 0; off < packed.length; off += 1 << 20) chunks.push(packed.subarray(off, off + (1 << 20)));
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  pipeline(Readable.from(chunks), createLzopDecompressor('big.lzo'), out, () => undefined);
  const parts: Buffer[] = [];
  for await (const c of out) parts.push(c as Buffer);
  assert.ok(Buffer.concat(parts).equals(data));
});

test('decoders running at once in one thread never see each other\'s blocks (borrowed and owned, with compression in between)', async () => {
  // Consumers that wait between taking a block and using it, as wal-fetch's and wal-prefetch's file
  // writes do, while other decoders and a compressor use the kernel in the meantime.
  const inputs = [0, 1, 2].map((i) => compressibleBytes(1300 * KiB + i * 4099, 500 + i));
  const packed = await Promise.all(inputs.map((d) => runThrough(createLzopCompressor(), d, 65536)));
  const consume = async (blocks: AsyncIterable<Uint8Array>): Promise<Buffer> => {
    const parts: Buffer[] = [];
    for await (const block of blocks) {
      await new Promise((resolve) => setImmediate(resolve));
      parts.push(Buffer.from(block));
    }
    return Buffer.concat(parts);
  };
  const chunked = (b: Buffer) => Readable.from([b.subarray(0, 100_000), b.subarray(100_000)]);
  const results = await Promise.all([
    consume(lzopDecodeBorrowed(chunked(packed[0]!), 'a.lzo')),
    consume(lzopDecodeBorrowed(chunked(packed[1]!), 'b.lzo')),
    consume(lzopDecode(chunked(packed[2]!), 'c.lzo')),
    runThrough(createLzopCompressor(), randomBytes(900 * KiB, 77), 65536),
  ]);
  for (let i = 0; i < 3; i++) assert.ok(results[i]!.equals(inputs[i]!), `stream ${i}`);
});
