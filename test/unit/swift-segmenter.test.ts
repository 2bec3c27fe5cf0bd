// Cutting an upload into segments: exact sizes, "last" known only when the body has ended, and a body
// of at most one segment (empty included) arriving as one piece.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pieces } from '../../src/storage/swift/segmenter';

async function* chunks(sizes: number[]): AsyncIterable<Uint8Array> {
  let n = 0;
  for (const s of sizes) {
    yield Buffer.from(Array.from({ length: s }, () => n++ % 251));
  }
}

async function cut(sizes: number[], size: number): Promise<{ len: number; index: number; last: boolean }[]> {
  const out = [];
  for await (const p of pieces(chunks(sizes), size)) out.push({ len: p.data.length, index: p.index, last: p.last });
  return out;
}

describe('segmenter', () => {
  it('gives an empty body as one empty last piece', async () => {
    assert.deepEqual(await cut([], 10), [{ len: 0, index: 0, last: true }]);
  });

  it('gives a body of exactly one segment as one piece', async () => {
    assert.deepEqual(await cut([4, 6], 10), [{ len: 10, index: 0, last: true }]);
  });

  it('cuts across chunk boundaries into full pieces and a shorter last one', async () => {
    assert.deepEqual(await cut([7, 7, 7, 4], 10), [
      { len: 10, index: 0, last: false },
      { len: 10, index: 1, last: false },
      { len: 5, index: 2, last: true },
    ]);
  });

  it('keeps the bytes in order', async () => {
    const all: Buffer[] = [];
    for await (const p of pieces(chunks([3, 50, 1, 20]), 16)) all.push(p.data);
    const joined = Buffer.concat(all);
    assert.equal(joined.length, 74);
    assert.ok(joined.every((b, i) => b === i % 251));
  });

  it('a body of two exact segments ends with a full last piece', async () => {
    assert.deepEqual(await cut([10, 10], 10), [
      { len: 10, index: 0, last: false },
      { len: 10, index: 1, last: true },
    ]);
  });
});
