// One partition on its way to the store: tar -> lzop (worker pool) -> [OpenPGP] -> store.put, streamed with
// back-pressure, no temporary file (USER-PAINS 6, 17). Log lines as WAL-E's upload worker wrote them
// (spec §5.4.3 item 6).
import { Readable, pipeline } from 'node:stream';
import { partitionKey } from '../../layout/backup-name';
import { formatRate } from '../../log/format';
import { getLogger } from '../../log/logger';
import type { Encryption } from '../../pipeline/encryption';
import { createParallelLzopCompressor } from '../../pipeline/lzop';
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
      const { size } = await ctx.store.put(key, body, ctx.signal ? { signal: ctx.signal } : {});
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
  const tar = Readable.from(
    tarPartition(p.members, {
      ...ctx.stream,
      onVanished: (m) => tarLog.debug('tar member additions skipping an unlinked file', { detail: `Skipping ${m.path}.` }),
      onResized: (m, actual) =>
        tarLog.debug('file size changed while it was archived', {
          detail: `${m.path}: ${m.size} bytes were recorded and archived; it now has ${actual}. WAL replay restores it.`,
        }),
    }),
    { highWaterMark: 4 },
  );
  const stages: NodeJS.ReadWriteStream[] = [createParallelLzopCompressor({})];
  if (ctx.encryption) stages.push(await ctx.encryption.encrypter());
  const out = stages[stages.length - 1] as unknown as Readable;
  pipeline([tar, ...stages] as unknown as [Readable, ...NodeJS.ReadWriteStream[]], (err) => {
    if (err) out.destroy(err);
  });
  return out;
}
