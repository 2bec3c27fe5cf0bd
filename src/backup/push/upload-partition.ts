// One partition on its way to the store: tar -> lzop (worker pool) -> [OpenPGP] -> store.put, streamed with
// back-pressure, no temporary file (USER-PAINS 6, 17). Log lines as WAL-E's upload worker wrote them
// (spec §5.4.3 item 6).
import { pipeline, type Readable, type Writable } from 'node:stream';
import { partitionKey } from '../../layout/backup-name';
import { formatRate } from '../../log/format';
import { getLogger } from '../../log/logger';
import type { Encryption } from '../../pipeline/encryption';
import { createParallelLzopCompressor } from '../../pipeline/lzop/parallel-compressor';
import type { BlobStore } from '../../storage/blob-store';
import { StoreError } from '../../util/errors';
import type { Partition } from './partitioner';
import { tarPartition, type PartitionStreamOptions } from './tar-partition-stream';

const log = getLogger('wal_e.worker.upload');
const tarLog = getLogger('wal_e.tar_partition');

export interface UploadContext {
  store: BlobStore;
  backupName: string;
  encryption: Encryption | undefined;
  stream: Omit<PartitionStreamOptions, 'onVanished' | 'onResized'>;
  /** Whole-partition attempts when the store reports a transient failure (stores retry requests themselves). */
  attempts?: number;
  signal?: AbortSignal;
}

export async function uploadPartition(p: Partition, ctx: UploadContext): Promise<void> {
  const key = partitionKey(ctx.backupName, p.number);
  const url = ctx.store.url(key);
  log.info('beginning volume compression', { detail: `Building volume ${p.number}.` });
  const attempts = ctx.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    try {
      log.info('begin uploading a base backup volume', { detail: `Uploading to "${url}".` });
      const started = performance.now();
      const body = await storedForm(p, ctx);
      let size: number;
      try {
        ({ size } = await ctx.store.put(key, body, ctx.signal ? { signal: ctx.signal } : {}));
      } catch (err) {
        // A failed attempt's stream must not linger: its compressor holds pool slots that the retry and
        // the other partitions need.
        body.destroy();
        throw err;
      }
      const seconds = (performance.now() - started) / 1000;
      log.info('finish uploading a base backup volume', {
        detail: `Uploading to "${url}" complete at ${formatRate(size / 1024 / seconds)}KiB/s. `,
      });
      return;
    } catch (err) {
      if (!(err instanceof StoreError && err.retryable) || attempt >= attempts || ctx.signal?.aborted) throw err;
      log.warning('retrying after encountering exception', {
        detail: `Uploading volume ${p.number} to "${url}" failed (${err.message}); attempt ${attempt} of ${attempts}.`,
      });
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

async function storedForm(p: Partition, ctx: UploadContext): Promise<Readable> {
  const chunks = tarPartition(p.members, {
    ...ctx.stream,
    reuseReadBuffer: true,
    onVanished: (m) => tarLog.debug('tar member additions skipping an unlinked file', { detail: `Skipping ${m.path}.` }),
    onResized: (m, actual) =>
      tarLog.debug('file size changed while it was archived', {
        detail: `${m.path}: ${m.size} bytes were recorded and archived; it now has ${actual}. WAL replay restores it.`,
      }),
  });
  const lzop = createParallelLzopCompressor({});
  let out: Readable = lzop;
  if (ctx.encryption) {
    const encrypter = await ctx.encryption.encrypter();
    pipeline(lzop, encrypter, (err) => {
      if (err) encrypter.destroy(err);
    });
    out = encrypter as unknown as Readable;
  }
  feed(chunks, lzop).catch((err: unknown) => out.destroy(err as Error));
  // Destroying what the store reads (after a failed attempt) stops the compressor and the tar reader too.
  if (out !== lzop) out.once('close', () => lzop.destroy());
  return out;
}

/**
 * Writes the tar chunks into the compressor one at a time, each only after the previous one was taken
 * in (copied into a batch), as the reused read buffer requires; a destroyed compressor ends the loop,
 * which closes the file being read.
 */
async function feed(chunks: AsyncIterable<Buffer>, into: Writable): Promise<void> {
  for await (const chunk of chunks) {
    await new Promise<void>((resolve, reject) => {
      // A write in progress when the stream is destroyed never gets its callback: 'close' ends the wait.
      const closed = (): void => reject(into.errored ?? new Error('the lzop compressor closed before the tar stream ended'));
      if (into.destroyed) return closed();
      into.once('close', closed);
      into.write(chunk, (err) => {
        into.off('close', closed);
        if (err) reject(err);
        else resolve();
      });
    });
  }
  await new Promise<void>((resolve) => into.end(resolve));
}
