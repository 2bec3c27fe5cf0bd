// Everything restored is on disk before backup-fetch exits 0 (spec §4.6): each file is fsynced by the
// extractor through its open handle; the directories whose entries changed are fsynced here at the
// end (concurrently, so the file system can merge journal commits).
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { LocalIoError } from '../../util/errors';
import { settleWithLimit } from '../../util/pool';

const CONCURRENCY = 16;

export async function fsyncPath(path: string, dir: boolean): Promise<void> {
  let fh;
  try {
    fh = await open(path, dir ? constants.O_RDONLY | constants.O_DIRECTORY : constants.O_RDONLY | constants.O_NOFOLLOW);
    await fh.sync();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new LocalIoError(`could not fsync "${path}"`, { detail: `${e.code ?? e.name}: ${e.message}` });
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

async function syncAll(paths: Iterable<string>, dir: boolean): Promise<void> {
  const results = await settleWithLimit([...paths].map((p) => () => fsyncPath(p, dir)), CONCURRENCY);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
}

/** Collects directories whose entries changed and syncs them once. */
export class SyncBatch {
  private dirs = new Set<string>();

  /** A directory whose entries changed (a new file, directory or link in it). */
  addDir(path: string): void {
    this.dirs.add(path);
  }

  async flush(): Promise<void> {
    const dirs = this.dirs;
    this.dirs = new Set();
    await syncAll(dirs, true);
  }
}
