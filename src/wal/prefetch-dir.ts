// WAL-E's prefetch folder beside the restore destination (spec §5.3), shared with WAL-E's own
// wal-fetch/wal-prefetch:
//   <base>/.wal-e/prefetch/<SEG>              complete segments, ready to promote by rename
//   <base>/.wal-e/prefetch/running/<SEG>/tmp* a download in progress
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isSegmentName } from '../layout/wal-names';

/** A running download that has not written for this long is taken as dead. */
const STALE_RUNNING_MS = 60_000;

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

  /** Total bytes in running/<seg>/ (0 when absent), and the newest write time. */
  async runningProgress(seg: string): Promise<{ exists: boolean; bytes: number; newestMs: number }> {
    const dir = this.runningDir(seg);
    let names: string[];
    let newestMs = 0;
    try {
      names = await readdir(dir);
      newestMs = (await stat(dir)).mtimeMs;
    } catch {
      return { exists: false, bytes: 0, newestMs: 0 };
    }
    let bytes = 0;
    for (const n of names) {
      try {
        const st = await stat(join(dir, n));
        bytes += st.size;
        newestMs = Math.max(newestMs, st.mtimeMs);
      } catch {
        // finished and removed meanwhile
      }
    }
    return { exists: true, bytes, newestMs };
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
    const p = await this.runningProgress(seg);
    if (Date.now() - p.newestMs < STALE_RUNNING_MS) return false;
    // A dead prefetcher's leftovers: take the place over.
    await rm(this.runningDir(seg), { recursive: true, force: true });
    try {
      await mkdir(this.runningDir(seg), { mode: 0o700 });
      return true;
    } catch {
      return false;
    }
  }

  async release(seg: string): Promise<void> {
    await rm(this.runningDir(seg), { recursive: true, force: true });
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
