// Shared helpers for the lzop tests: fixture paths, running bytes through a stream, deterministic data.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { packageRoot } from '../../src/util/dist-path';

export function lzopFixture(name: string): Buffer {
  return readFileSync(join(packageRoot(), 'test', 'fixtures', 'lzop', name));
}

/** Feeds `input` to `stream` in pieces of `chunkSize` bytes and collects everything it outputs. */
export async function runThrough(stream: Duplex, input: Uint8Array, chunkSize = 65536): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let off = 0; off < input.length; off += chunkSize) {
    pieces.push(Buffer.from(input.subarray(off, Math.min(input.length, off + chunkSize))));
  }
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    stream,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(out);
}

/** Small, fast, seeded PRNG (mulberry32): the same seed always gives the same test inputs. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBytes(length: number, seed: number): Buffer {
  const next = seededRandom(seed);
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (next() * 256) | 0;
  return out;
}

/** Text-like data with repeats at every distance class the LZO1X opcodes distinguish. */
export function compressibleBytes(length: number, seed: number): Buffer {
  const next = seededRandom(seed);
  const words = ['lzop ', 'WAL ', 'segment ', 'checkpoint ', 'tuple ', 'page ', '0000000100000000 ', '\n', 'xlog '];
  const out = Buffer.allocUnsafe(length);
  let i = 0;
  while (i < length) {
    const r = next();
    if (r < 0.6 || i < 64) {
      const w = words[(next() * words.length) | 0]!;
      for (let k = 0; k < w.length && i < length; k++) out[i++] = w.charCodeAt(k);
    } else if (r < 0.9) {
      // Copy an earlier run from near, medium or far back (M2, M3 and M4 distances).
      const maxBack = Math.min(i, [2048, 16384, 49151][(next() * 3) | 0]!);
      const back = 1 + ((next() * maxBack) | 0);
      const len = 3 + ((next() * 300) | 0);
      for (let k = 0; k < len && i < length; k++, i++) out[i] = out[i - back]!;
    } else {
      const len = 1 + ((next() * 40) | 0);
      for (let k = 0; k < len && i < length; k++) out[i++] = (next() * 256) | 0;
    }
  }
  return out;
}

export function lzopAvailable(): boolean {
  return spawnSync('lzop', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Runs the real lzop binary with `args`, feeding `input` on stdin. */
export function runLzop(args: string[], input: Uint8Array): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync('lzop', args, { input, maxBuffer: 1 << 30 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}
