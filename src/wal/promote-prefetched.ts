// wal-fetch's first step (spec §5.2): rename a prefetched segment into place, waiting a bounded time
// for a prefetch of it that is under way, so that a segment is not downloaded twice. Every wait ends
// in a promotion of a whole file or in `false` (the caller downloads the segment itself).
import { rename } from 'node:fs/promises';
import { isSegmentName } from '../layout/wal-names';
import { isProcessAlive } from '../util/process-alive';
import type { PrefetchDir } from './prefetch-dir';

const POLL_MS = 15;
/** A download that has not grown for this long is taken as stalled (WAL-E waited 0.5 s). */
const STALL_MS = 1000;
/** How long a live batch prefetcher may take to reach a segment it has claimed. */
const UNSTARTED_MAX_MS = 5000;
/** A claim without an owner yet (wal-fetch writes it just after the spawn) counts as live this long. */
const OWNERLESS_GRACE_MS = 3000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function promoteIfReady(prefetch: PrefetchDir, name: string, dest: string): Promise<boolean> {
  if (!isSegmentName(name)) return false;
  const t0 = Date.now();
  let lastBytes = -1;
  let lastGrowth = t0;
  for (;;) {
    if (await prefetch.isComplete(name)) {
      try {
        await rename(prefetch.completePath(name), dest);
        return true;
      } catch {
        return false;
      }
    }
    const s = await prefetch.runningState(name);
    if (!s.exists) {
      // The prefetcher links the complete file before it removes running/<SEG>.
      if (await prefetch.isComplete(name)) continue;
      return false;
    }
    const now = Date.now();
    if (s.owner !== undefined && !isProcessAlive(s.owner)) {
      await prefetch.release(name).catch(() => undefined);
      return false;
    }
    if (s.started) {
      if (s.bytes > lastBytes) {
        lastBytes = s.bytes;
        lastGrowth = now;
      } else if (now - lastGrowth >= STALL_MS) {
        // A stalled prefetcher would hold up the next wal-fetch too: take its other claims back.
        if (s.owner !== undefined) await prefetch.withdrawUnstarted(s.owner).catch(() => undefined);
        return false;
      }
    } else if (s.owner !== undefined) {
      if (now - t0 >= UNSTARTED_MAX_MS) {
        await prefetch.withdrawUnstarted(s.owner).catch(() => undefined);
        return false;
      }
    } else if (now - s.newestMs >= OWNERLESS_GRACE_MS) {
      return false;
    }
    await sleep(POLL_MS);
  }
}
