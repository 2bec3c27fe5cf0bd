// WAL-E's prefetch folder beside the restore destination (spec §5.3), shared with WAL-E's own
// wal-fetch/wal-prefetch:
//   <base>/.wal-e/prefetch/<SEG>                complete segments, ready to promote by rename
//   <base>/.wal-e/prefetch/running/<SEG>/tmp*   a download in progress
//   <base>/.wal-e/prefetch/running/<SEG>/owner-<PID>   (wal-e only, empty) the prefetcher holding the
//       claim, so a waiting wal-fetch can tell a batch prefetcher that has not reached <SEG> yet from a
//       dead one. WAL-E sums the sizes in running/<SEG>, and an empty file adds nothing.
import { readdirSync } from 'node:fs';
import { lstat, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSegmentName } from '../layout/wal-names';
import { isProcessAlive } from '../util/process-alive';

/** A running entry that has not changed for this long is taken as dead. */
const STALE_RUNNING_MS = 60_000;
const OWNER_PREFIX = 'owner-';

export interface RunningState {
  exists: boolean;
  /** Bytes downloaded so far (the sum over the tmp files). */
  bytes: number;
  /** A download file exists: the prefetcher has reached this segment. */
  started: boolean;
  /** The pid in owner-<PID>, when a wal-e prefetcher holds the claim. */
  owner: number | undefined;
  /** Newest change of the folder or its files. */
  newestMs: number;
}

export class PrefetchDir {
  readonly prefetch: string;
  readonly running: string;

  constructor(readonly base: string) {
    this.prefetch = join(base, '.wal-e', 'prefetch');
    this.running = join(this.prefetch, 'running');
  }

  completePath(seg: string): string {
    return join(this.prefetch, seg);
  }

  runningDir(seg: string): string {
    return join(this.running, seg);
  }

  async isComplete(seg: string): Promise<boolean> {
    try {
      return (await lstat(this.completePath(seg))).isFile();
    } catch {
      return false;
    }
  }

  async runningState(seg: string): Promise<RunningState> {
    const dir = this.runningDir(seg);
    let names: string[];
    let newestMs = 0;
    try {
      names = await readdir(dir);
      newestMs = (await stat(dir)).mtimeMs;
    } catch {
      return { exists: false, bytes: 0, started: false, owner: undefined, newestMs: 0 };
    }
    let bytes = 0;
    let started = false;
    let owner: number | undefined;
    for (const n of names) {
      if (n.startsWith(OWNER_PREFIX)) {
        const pid = Number(n.slice(OWNER_PREFIX.length));
        if (Number.isInteger(pid) && pid > 0) owner = pid;
        continue;
      }
      started = true;
      try {
        const st = await stat(join(dir, n));
        bytes += st.size;
        newestMs = Math.max(newestMs, st.mtimeMs);
      } catch {
        // finished and removed meanwhile
      }
    }
    return { exists: true, bytes, started, owner, newestMs };
  }

  /** Whether running/<seg> is held by a prefetcher that may still deliver it. */
  isLive(s: RunningState): boolean {
    if (!s.exists) return false;
    if (s.owner !== undefined && !isProcessAlive(s.owner)) return false;
    return Date.now() - s.newestMs < STALE_RUNNING_MS;
  }

  /**
   * Claims running/<seg> for a new prefetcher: false when a live download holds it. A claim is one
   * mkdir, so two wal-fetch processes never start duplicate prefetchers (WAL-E's race).
   */
  async claim(seg: string): Promise<boolean> {
    await mkdir(this.running, { recursive: true, mode: 0o700 });
    try {
      await mkdir(this.runningDir(seg), { mode: 0o700 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (this.isLive(await this.runningState(seg))) return false;
    // A dead prefetcher's leftovers: take the place over.
    await rm(this.runningDir(seg), { recursive: true, force: true });
    try {
      await mkdir(this.runningDir(seg), { mode: 0o700 });
      return true;
    } catch {
      return false;
    }
  }

  /** Records which process holds the claim on <seg> (false when the claim is gone). */
  async setOwner(seg: string, pid: number): Promise<boolean> {
    try {
      await writeFile(join(this.runningDir(seg), `${OWNER_PREFIX}${pid}`), '', { mode: 0o600 });
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Whether another process now holds the claim on <seg>: wal-fetch took it back from `pid` and a new
   * prefetcher claimed it. Such a segment is no longer `pid`'s to download or to clean up. Synchronous
   * (one directory listing) so that a signal handler can ask too.
   */
  claimedByOther(seg: string, pid: number): boolean {
    try {
      return readdirSync(this.runningDir(seg)).some((n) => n.startsWith(OWNER_PREFIX) && n !== `${OWNER_PREFIX}${pid}`);
    } catch {
      return false;
    }
  }

  async release(seg: string): Promise<void> {
    await rm(this.runningDir(seg), { recursive: true, force: true });
  }

  /**
   * Withdraws every claim of `pid` that it has not started downloading, so a stalled prefetcher holds
   * up no further wal-fetch and the next one claims the segments afresh.
   */
  async withdrawUnstarted(pid: number): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.running);
    } catch {
      return;
    }
    for (const n of names) {
      if (!isSegmentName(n)) continue;
      const s = await this.runningState(n);
      if (s.owner === pid && !s.started) await this.release(n).catch(() => undefined);
    }
  }

  /** Removes every segment-named entry of running/ and prefetch/ not in `keep` (spec §5.2 step 3.5). */
  async clearExcept(keep: readonly string[]): Promise<void> {
    const keepSet = new Set(keep);
    for (const dir of [this.running, this.prefetch]) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue;
      }
      for (const n of names) {
        if (isSegmentName(n.slice(0, 24)) && n.length === 24 && !keepSet.has(n)) {
          await rm(join(dir, n), { recursive: true, force: true }).catch(() => undefined);
        }
      }
    }
  }
}
