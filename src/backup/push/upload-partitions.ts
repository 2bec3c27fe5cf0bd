// Uploads partitions as the walk forms them, at most --pool-size at once; the first failure aborts the
// rest (spec §5.4.3 item 5). Memory stays bounded: at most pool-size partitions' member lists are held.
import type { Partition } from './partitioner';
import { uploadPartition, type UploadContext } from './upload-partition';

export interface UploadSummary {
  partitions: number;
  /** Sum of recorded member sizes (expanded_size_bytes, spec §3.4). */
  expandedBytes: number;
  /** The number the next partition would get. */
  nextNumber: number;
}

export async function uploadPartitions(
  partitions: AsyncIterable<Partition>,
  poolSize: number,
  ctx: Omit<UploadContext, 'signal'>,
): Promise<UploadSummary> {
  const abort = new AbortController();
  const running = new Set<Promise<void>>();
  let failure: { err: unknown } | undefined;
  const summary: UploadSummary = { partitions: 0, expandedBytes: 0, nextNumber: 0 };

  const settleOne = async () => {
    await Promise.race(running);
  };
  try {
    for await (const p of partitions) {
      while (running.size >= poolSize && !failure) await settleOne();
      if (failure) break;
      summary.partitions++;
      summary.expandedBytes += p.bytes;
      summary.nextNumber = p.number + 1;
      const task: Promise<void> = uploadPartition(p, { ...ctx, signal: abort.signal })
        .catch((err: unknown) => {
          if (!failure) {
            failure = { err };
            abort.abort();
          }
        })
        .finally(() => running.delete(task));
      running.add(task);
    }
  } catch (err) {
    failure ??= { err };
    abort.abort();
  }
  await Promise.all(running);
  if (failure) throw failure.err;
  return summary;
}
