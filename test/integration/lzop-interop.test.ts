import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  closeSharedLzoPools,
  createLzopCompressor,
  createLzopDecompressor,
  createParallelLzopCompressor,
} from '../../src/pipeline/lzop/index';
import { compressibleBytes, lzopAvailable, lzopFixture, randomBytes, runLzop, runThrough } from '../helpers/lzop-helpers';

// The real lzop is the reference these tests compare against: without it they fail, never skip.
test('the lzop binary is installed (Debian package lzop)', () => {
  assert.ok(lzopAvailable(), 'lzop is not on PATH: install it (apt-get install lzop) to run the interop tests');
});
after(() => closeSharedLzoPools());

const KiB = 1024;
const workDir = mkdtempSync(join(tmpdir(), 'lzop-interop-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

/** Checks `packed` with `lzop -t` and `lzop -dc` (stdin, as WAL-E runs it) against `data`. */
function lzopAccepts(packed: Uint8Array, data: Uint8Array, label: string): void {
  const file = join(workDir, 'check.lzo');
  writeFileSync(file, packed);
  const t = runLzop(['-t', file], new Uint8Array(0));
  assert.equal(t.status, 0, `${label}: lzop -t: ${t.stderr}`);
  const d = runLzop(['-d', '-c', '-'], packed);
  assert.equal(d.status, 0, `${label}: lzop -d: ${d.stderr}`);
  assert.ok(d.stdout.equals(Buffer.from(data)), `${label}: lzop -d gives back the data`);
}

const realWal = (): Buffer => {
  const d = runLzop(['-dc'], lzopFixture('wal-store-000000010000000000000005.lzo'));
  return d.stdout;
};

test('lzop -t and lzop -d accept what we write', async () => {
  const sizes = [0, 1, 2, 3, 4, 20, 21, 238, 239, 256 * KiB - 1, 256 * KiB, 256 * KiB + 1, 1100 * KiB];
  for (const size of sizes) {
    for (const [kind, data] of [
      ['random', randomBytes(size, size + 1)],
      ['text', compressibleBytes(size, size + 2)],
      ['zeros', Buffer.alloc(size)],
    ] as const) {
      lzopAccepts(await runThrough(createLzopCompressor(), data), data, `${kind} ${size}`);
    }
  }
  const wal = realWal();
  assert.equal(wal.length, 16 * 1024 * KiB);
  lzopAccepts(await runThrough(createLzopCompressor(), wal), wal, 'WAL segment');
  lzopAccepts(await runThrough(createParallelLzopCompressor({ poolSize: 2 }), wal), wal, 'WAL segment, pool');
  const walStart = runLzop(['-dc'], lzopFixture('wal-000000010000000000000001.first300k.lzo')).stdout;
  lzopAccepts(await runThrough(createLzopCompressor(), walStart), walStart, 'busy WAL start');
});

test('the container matches lzop -c exactly apart from the time stamp', async () => {
  // Random blocks are stored by both compressors, so every byte but the mtime and header checksum agrees;
  // for compressible blocks the block headers agree in dst_len and adler32.
  for (const data of [randomBytes(600 * KiB, 1), Buffer.concat([randomBytes(300 * KiB, 2), compressibleBytes(300 * KiB, 3)])]) {
    const theirs = runLzop(['-c'], data).stdout;
    const ours = await runThrough(createLzopCompressor({ mtime: theirs.readUInt32BE(25) }), data);
    assert.equal(ours.subarray(0, 38).toString('hex'), theirs.subarray(0, 38).toString('hex'), 'header');
    let a = 38;
    let b = 38;
    for (;;) {
      const dst = ours.readUInt32BE(a);
      assert.equal(dst, theirs.readUInt32BE(b), 'dst_len');
      if (dst === 0) break;
      const srcOurs = ours.readUInt32BE(a + 4);
      const srcTheirs = theirs.readUInt32BE(b + 4);
      assert.equal(ours.readUInt32BE(a + 8), theirs.readUInt32BE(b + 8), 'adler32');
      if (srcTheirs === dst) {
        assert.equal(srcOurs, dst, 'both store incompressible blocks');
        assert.ok(ours.subarray(a + 12, a + 12 + dst).equals(theirs.subarray(b + 12, b + 12 + dst)));
      }
      a += 12 + srcOurs;
      b += 12 + srcTheirs;
    }
    assert.equal(a + 4, ours.length);
    assert.equal(b + 4, theirs.length);
  }
});

test('files written by lzop with every option decode to identical bytes', async () => {
  const inputs = [
    lzopFixture('mixed.bin'),
    Buffer.concat([compressibleBytes(700 * KiB, 11), randomBytes(100 * KiB, 12), Buffer.alloc(300 * KiB)]),
    Buffer.from('x'),
    realWal().subarray(0, 2 * 1024 * KiB),
  ];
  const options = [['-1'], [], ['-3'], ['-5'], ['-7'], ['-9'], ['--crc32'], ['-CC'], ['--crc32', '-CC'], ['-F'], ['--filter=1'], ['--filter=2'], ['--filter=4'], ['--filter=16'], ['-9', '--filter=3', '-CC']];
  for (const data of inputs) {
    for (const opts of options) {
      const r = runLzop([...opts, '-c'], data);
      assert.equal(r.status, 0, r.stderr);
      const label = `lzop ${opts.join(' ')} (${data.length} bytes)`;
      assert.ok((await runThrough(createLzopDecompressor('o.lzo'), r.stdout, 10_000)).equals(data), label);
    }
  }
  // Concatenated members and trailing zeros.
  const a = runLzop(['-c'], inputs[0]!).stdout;
  const b = runLzop(['-9', '-c'], inputs[1]!).stdout;
  const joined = Buffer.concat([a, b, Buffer.alloc(777)]);
  assert.ok((await runThrough(createLzopDecompressor('cat.lzo'), joined, 3333)).equals(Buffer.concat([inputs[0]!, inputs[1]!])));
});

test('a named file compressed by lzop (mode, mtime, name in the header) decodes', async () => {
  const file = join(workDir, 'named-input.bin');
  const data = compressibleBytes(400 * KiB, 77);
  writeFileSync(file, data);
  const r = runLzop(['-c', file], new Uint8Array(0));
  assert.equal(r.status, 0);
  assert.ok((await runThrough(createLzopDecompressor('named.lzo'), r.stdout)).equals(data));
});
