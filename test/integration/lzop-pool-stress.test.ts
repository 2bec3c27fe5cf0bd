// Stress and regression tests for the lzop worker pool: many parallel compressors at once over the
// shared pool and over private pools (their output byte-identical to the serial compressor's and read
// back by the decompressor), streams failing or destroyed midway, pools closed with work in flight,
// tasks the worker cannot run, and a process that exits with workers busy (as the CLI does).
// None of that may kill the process: every failure must reach the streams as an error with a message.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import {
  closeSharedLzoPools,
  createLzopCompressor,
  createLzopDecompressor,
  createParallelLzopCompressor,
  LzoWorkerPool,
} from '../../src/pipeline/lzop/index';
import { seededRandom } from '../helpers/lzop-helpers';

const MiB = 1 << 20;

/** 1 MiB pieces of random, text-like and zero bytes, in a seeded order. */
function mixedBytes(size: number, seed: number): Buffer {
  const next = seededRandom(seed);
  const out = Buffer.allocUnsafe(size);
  const text = Buffer.from('checkpoint tuple page 0000000100000000 xlog segment WAL lzop\n'.repeat(200));
  for (let off = 0; off < size; off += MiB) {
    const piece = out.subarray(off, Math.min(size, off + MiB));
    const r = next();
    if (r < 0.4) randomFillSync(piece);
    else if (r < 0.8) for (let i = 0; i < piece.length; i += text.length) text.copy(piece, i);
    else piece.fill(0);
  }
  return out;
}

function source(data: Buffer, chunk: number, failAt = -1): Readable {
  let off = 0;
  return new Readable({
    read() {
      if (failAt >= 0 && off >= failAt) {
        this.destroy(new Error('source failed'));
        return;
      }
      if (off >= data.length) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk, data.length - off);
      this.push(data.subarray(off, off + n));
      off += n;
    },
  });
}

function hashingSink(stopAt = -1): { stream: Writable; digest: () => string } {
  const hash = createHash('sha1');
  let seen = 0;
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (stopAt >= 0 && seen >= stopAt) {
        callback(new Error('consumer stopped'));
        return;
      }
      hash.update(chunk);
      callback();
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

const sha1 = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex');

async function serialPack(data: Buffer): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(source(data, MiB), createLzopCompressor({ mtime: 0 }), new Writable({ write(c: Buffer, _e, cb) { out.push(c); cb(); } }));
  return Buffer.concat(out);
}

const EXPECTED = /consumer stopped|source failed|destroyed midway|pool closed|pool is closed|Premature close/;

/** The child side of the exit test: streams on fresh pools, then process.exit() while workers are busy. */
async function exitWhileBusy(delay: number): Promise<never> {
  const data = mixedBytes(8 * MiB, 7);
  const pools = [new LzoWorkerPool(2), new LzoWorkerPool(1)];
  for (const pool of [undefined, ...pools]) {
    for (let i = 0; i < 2; i++) {
      void pipeline(source(data, MiB), createParallelLzopCompressor(pool ? { pool } : { poolSize: 2 }), hashingSink().stream).catch(() => undefined);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, delay));
  if (delay % 2 === 1) void closeSharedLzoPools();
  process.exit(7);
}

const childDelay = process.env.WALE_LZOP_POOL_EXIT_CHILD;
if (childDelay !== undefined) {
  await exitWhileBusy(Number(childDelay));
} else {
  after(() => closeSharedLzoPools());

  test('parallel compressors at once, over shared and private pools, with streams failing midway', async () => {
    const next = seededRandom(20240611);
    const inputs = [0, 1, 2].map((i) => mixedBytes(12 * MiB + i * 77_777, 100 + i));
    const packed = await Promise.all(inputs.map(serialPack));
    const sums = inputs.map(sha1);
    for (let round = 0; round < 3; round++) {
      const privatePools = [new LzoWorkerPool(2), new LzoWorkerPool(1)];
      const poolOption = (k: number): { pool?: LzoWorkerPool; poolSize?: number } =>
        [{}, { pool: privatePools[0]! }, { pool: privatePools[1]! }, { poolSize: 3 }][k % 4]!;
      const jobs: Promise<string>[] = [];
      let verified = 0;
      inputs.forEach((data, i) => {
        const k = round * 3 + i;
        const inFlight = k % 2 === 0 ? undefined : 1 + (k % 9);
        // The parallel compressor's output (two streams per input, odd chunk sizes) is the serial
        // compressor's byte for byte, and decodes back to the input.
        for (const chunk of [65_536 + Math.floor(next() * 900_000), 1 + Math.floor(next() * 70_000)]) {
          jobs.push(
            (async () => {
              const out: Buffer[] = [];
              await pipeline(
                source(data, chunk),
                createParallelLzopCompressor({ ...poolOption(k), inFlight, mtime: 0 }),
                new Writable({ write(c: Buffer, _e, cb) { out.push(c); cb(); } }),
              );
              const packedHere = Buffer.concat(out);
              assert.ok(packedHere.equals(packed[i]!), `same bytes as the serial compressor (${k}, chunks of ${chunk})`);
              const sink = hashingSink();
              await pipeline(source(packedHere, 300_000), createLzopDecompressor(`r${k}.lzo`), sink.stream);
              assert.equal(sink.digest(), sums[i], `round trip ${k}`);
              verified++;
              return 'ok';
            })(),
          );
        }
        // Failing midway: the consumer, the source, or the stream itself.
        const stopAt = Math.floor(next() * 4 * MiB);
        jobs.push(pipeline(source(data, MiB), createParallelLzopCompressor(poolOption(k)), hashingSink(stopAt).stream).then(() => 'ok', (e: Error) => e.message));
        jobs.push(pipeline(source(data, 200_000, Math.floor(data.length / 3)), createParallelLzopCompressor(poolOption(k + 3)), hashingSink().stream).then(() => 'ok', (e: Error) => e.message));
        const doomed = createParallelLzopCompressor(poolOption(k));
        jobs.push(pipeline(source(data, MiB), doomed, hashingSink().stream).then(() => 'ok', (e: Error) => e.message));
        setTimeout(() => doomed.destroy(new Error('destroyed midway')), Math.floor(next() * 40));
      });
      const outcomes = await Promise.allSettled(jobs);
      for (const o of outcomes) {
        if (o.status === 'rejected') throw o.reason;
        if (o.value !== 'ok') assert.match(o.value, EXPECTED);
      }
      assert.equal(verified, 6);
      await Promise.all(privatePools.map((p) => p.close()));
    }
  });

  test('closing a pool with streams in flight fails those streams with a message and never hangs', async () => {
    const data = mixedBytes(16 * MiB, 5);
    for (const delay of [0, 1, 5, 20]) {
      const pool = new LzoWorkerPool(2);
      const jobs = [
        pipeline(source(data, MiB), createParallelLzopCompressor({ pool }), hashingSink().stream),
        pipeline(source(data, 300_000), createParallelLzopCompressor({ pool }), hashingSink().stream),
      ].map((p) => p.then(() => 'ok', (e: Error) => e.message));
      await new Promise((resolve) => setTimeout(resolve, delay));
      await pool.close();
      for (const outcome of await Promise.all(jobs)) if (outcome !== 'ok') assert.match(outcome, /lzop worker pool (closed with work in flight|is closed)/);
      await assert.rejects(pool.run({ op: 'compress', slot: 0, lengths: [] }), /pool is closed/);
      assert.throws(() => pool.acquireSlot(), /pool is closed/);
    }
  });

  test('a task the worker cannot run fails alone; the pool keeps working', async () => {
    const pool = new LzoWorkerPool(1);
    try {
      // A slot outside the worker's memory: the kernel traps, which must come back as an error.
      await assert.rejects(pool.run({ op: 'compress', slot: 100, lengths: [1 << 18] }), /lzop worker could not run a task: RuntimeError/);
      // Something that cannot be cloned fails at the sender.
      await assert.rejects(pool.run({ op: 'compress', slot: 0, lengths: [() => 1] as unknown as number[] }), /lzop task could not be sent/);
      const data = mixedBytes(3 * MiB, 9);
      const out: Buffer[] = [];
      await pipeline(source(data, MiB), createParallelLzopCompressor({ pool }), new Writable({ write(c: Buffer, _e, cb) { out.push(c); cb(); } }));
      const sink = hashingSink();
      await pipeline(source(Buffer.concat(out), MiB), createLzopDecompressor('k.lzo'), sink.stream);
      assert.equal(sink.digest(), sha1(data));
    } finally {
      await pool.close();
    }
  });

  test('process.exit() with every pool busy ends the process with its own code, never a signal', () => {
    const self = fileURLToPath(import.meta.url);
    for (const delay of [0, 1, 3, 8, 15, 30]) {
      const r = spawnSync(process.execPath, [self], {
        env: { ...process.env, WALE_LZOP_POOL_EXIT_CHILD: String(delay) },
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.signal, null, `delay ${delay}: killed by ${r.signal}; stderr: ${r.stderr}`);
      assert.equal(r.status, 7, `delay ${delay}: stderr: ${r.stderr}`);
    }
  });
}
