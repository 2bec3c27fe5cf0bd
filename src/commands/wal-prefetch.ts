// wal-prefetch BASE_DIRECTORY SEGMENT [SEGMENT ...] (spec §5.3): download segments ahead of
// PostgreSQL's requests, each into BASE/.wal-e/prefetch/running/SEG/tmpXXXXXXXX, then hard-link it as
// BASE/.wal-e/prefetch/SEG (only a whole, verified, fsynced file ever gets that name) and remove the
// running folder. WAL-E took exactly one SEGMENT; more are a superset: wal-fetch starts one detached
// process for a batch (the process start is the expensive part), which takes them in order. Callable
// by hand.
import { rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { Invocation } from '../cli/program';
import type { Config } from '../config/config';
import { isSegmentName } from '../layout/wal-names';
import { getLogger } from '../log/logger';
import { encryptionFor } from '../pipeline/encryption';
import { openStore } from '../storage/open-store';
import { registerCleanup } from '../util/cleanup';
import { InvalidArgumentError, LocalIoError, NotFoundError } from '../util/errors';
import { PrefetchDir } from '../wal/prefetch-dir';
import { prefetchSegment } from '../wal/prefetch-segment';

const log = getLogger('wal_e.worker.prefetch');

export default async function walPrefetch(config: Config, inv: Invocation): Promise<number> {
  const [base, ...segs] = inv.args as [string, ...string[]];
  for (const seg of segs) {
    if (!isSegmentName(seg)) {
      throw new InvalidArgumentError('invalid WAL segment name', { detail: `"${seg}" is not a WAL segment name.` });
    }
  }
  const encryption = await encryptionFor(config);
  const dir = new PrefetchDir(base);
  const noDir = await makeDirs(dir, segs);
  const pending = new Set(segs);
  /** Removes running/<seg> unless another prefetcher has claimed it since. */
  const releaseOwn = async (seg: string): Promise<void> => {
    if (!dir.claimedByOther(seg, process.pid)) await dir.release(seg).catch(() => undefined);
  };
  // A stopped prefetcher leaves no running folder behind (kill -9 cannot be caught: wal-fetch sees
  // the owner is gone).
  const unregister = registerCleanup(() => {
    for (const seg of pending) {
      if (!dir.claimedByOther(seg, process.pid)) rmSync(dir.runningDir(seg), { recursive: true, force: true });
    }
  });
  const store = await openStore(config);
  let missing = false;
  let failure: unknown;
  let next = 0;
  const worker = async (): Promise<void> => {
    // In order: PostgreSQL asks for the lowest segment first. After a segment the archive does not
    // have, the rest (normally the end of the archive) are given back unclaimed.
    while (next < segs.length && !missing) {
      const seg = segs[next++]!;
      if (dir.claimedByOther(seg, process.pid)) {
        pending.delete(seg);
        continue;
      }
      try {
        if (noDir.has(seg)) throw new LocalIoError('could not create prefetch directory', { detail: dir.runningDir(seg) });
        await prefetchSegment(dir, store, encryption, seg);
      } catch (err) {
        if (err instanceof NotFoundError) {
          process.stderr.write(`Failed to prefetch ${seg}\n`);
          missing = true;
        } else if (failure === undefined) {
          failure = err;
        } else {
          log.warning('could not prefetch WAL segment', { detail: `${seg}: ${(err as Error).message}` });
        }
      } finally {
        await releaseOwn(seg);
        pending.delete(seg);
      }
    }
  };
  try {
    // Overlapping two downloads hides request latency; a local store only competes for the CPU.
    const width = store.capabilities.networkRequests ? 2 : 1;
    await Promise.all(Array.from({ length: Math.min(width, segs.length) }, worker));
  } finally {
    for (const seg of pending) await releaseOwn(seg);
    pending.clear();
    unregister();
  }
  if (failure !== undefined) throw failure;
  return missing ? 1 : 0;
}

/** As WAL-E's os.makedirs: the folders may not exist yet when run by hand. */
async function makeDirs(dir: PrefetchDir, segs: readonly string[]): Promise<Set<string>> {
  const failed = new Set<string>();
  for (const d of [dir.prefetch, dir.running, ...segs.map((s) => dir.runningDir(s))]) {
    try {
      await mkdir(d, { recursive: true, mode: 0o700 });
    } catch (err) {
      log.warning('could not create prefetch directory', { detail: `Prefetch directory creation target: ${d}, ${(err as Error).message}` });
      for (const s of segs) if (d === dir.prefetch || d === dir.running || d === dir.runningDir(s)) failed.add(s);
    }
  }
  return failed;
}
