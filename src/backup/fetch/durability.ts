// Everything restored is on disk before backup-fetch exits 0 (spec §4.6): files are fsynced in batches
// (concurrently, so the file system can merge journal commits), then the directories holding them.
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LocalIoError } from '../../util/errors';
import { settleWithLimit } from '../../util/pool';

const BATCH = 512;
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

/** Collects written paths and syncs them in bounded batches. */
export class SyncBatch {
  private files: string[] = [];
  private dirs = new Set<string>();

  async addFile(path: string): Promise<void> {
    this.files.push(path);
    this.dirs.add(dirname(path));
    if (this.files.length >= BATCH) await this.flush();
  }

  /** A directory whose entries changed (a new file, directory or link in it). */
  addDir(path: string): void {
    this.dirs.add(path);
  }

  async flush(): Promise<void> {
    const files = this.files;
    const dirs = this.dirs;
    this.files = [];
    this.dirs = new Set();
    await syncAll(files, false);
    await syncAll(dirs, true);
  }
}
