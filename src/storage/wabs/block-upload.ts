// Streams a body of unknown length into a block blob (spec §6.2, USER-PAINS 6 and 17): fixed-size
// blocks staged a few at a time, so memory stays at (concurrency + 1) blocks; each block carries its
// MD5 (the service rejects a damaged block) and is retried on its own; the blob appears only when the
// block list is committed, with the whole body's MD5 stored so every later download can be checked.
import { createHash, randomBytes } from 'node:crypto';

export const BLOCK_SIZE = 4 * 1024 * 1024;
export const BLOCK_CONCURRENCY = 4;

/** Re-cuts a stream into blocks of exactly `size` bytes (the last may be shorter; none is empty). */
export async function* blocksOf(body: AsyncIterable<Uint8Array>, size: number): AsyncIterable<Buffer> {
  let buf = Buffer.allocUnsafe(size);
  let used = 0;
  for await (const chunk of body) {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(size - used, chunk.length - off);
      buf.set(chunk.subarray(off, off + n), used);
      used += n;
      off += n;
      if (used === size) {
        yield buf;
        buf = Buffer.allocUnsafe(size);
        used = 0;
      }
    }
  }
  if (used > 0) yield buf.subarray(0, used);
}

/** Block ids must be base64 and of one length within a blob; a random upload id keeps concurrent
 * writers of one name (two wal-push of the same segment) from overwriting each other's blocks. */
export function blockIdFactory(): (index: number) => string {
  const upload = randomBytes(8).toString('hex');
  return (index) => Buffer.from(`${upload}-${String(index).padStart(6, '0')}`).toString('base64');
}

export interface StagedUpload {
  ids: string[];
  size: number;
  md5: Buffer;
}

/** The first block, and whether it is the whole body (then one Put Blob request suffices). */
export async function firstBlock(blocks: AsyncIterator<Buffer>): Promise<{ first: Buffer; only: boolean; all: AsyncIterable<Buffer> }> {
  const a = await blocks.next();
  if (a.done) return { first: Buffer.alloc(0), only: true, all: (async function* () {})() };
  const b = await blocks.next();
  if (b.done) return { first: a.value, only: true, all: (async function* () { yield a.value; })() };
  return {
    first: a.value,
    only: false,
    all: (async function* () {
      yield a.value;
      yield b.value;
      for (let r = await blocks.next(); !r.done; r = await blocks.next()) yield r.value;
    })(),
  };
}

/** Stages every block; resolves once all are stored, rejects on the first failure. */
export async function stageAll(
  blocks: AsyncIterable<Buffer>,
  stage: (id: string, block: Buffer) => Promise<void>,
  opts: { concurrency?: number; signal?: AbortSignal } = {},
): Promise<StagedUpload> {
  const idFor = blockIdFactory();
  const whole = createHash('md5');
  const ids: string[] = [];
  let size = 0;
  const inflight = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  try {
    for await (const block of blocks) {
      opts.signal?.throwIfAborted();
      if (failure) break;
      whole.update(block);
      size += block.length;
      const id = idFor(ids.length);
      ids.push(id);
      const p: Promise<void> = stage(id, block).then(
        () => void inflight.delete(p),
        (err: unknown) => {
          inflight.delete(p);
          failure ??= { err };
        },
      );
      inflight.add(p);
      if (inflight.size >= (opts.concurrency ?? BLOCK_CONCURRENCY)) await Promise.race(inflight);
    }
  } finally {
    // Never leave a stage request running behind a failed upload.
    await Promise.allSettled([...inflight]);
  }
  if (failure) throw failure.err;
  return { ids, size, md5: whole.digest() };
}
