// Temporary files of the file store. They live in a ".wal-e-tmp" folder inside the destination
// directory (same filesystem, so rename/link is atomic) and are named after the writer's host and pid,
// so that the next writer in that directory can tell a dead writer's leftovers (kill -9, power loss)
// from a live writer's work and remove them without a scan of the (possibly huge) directory itself.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isProcessAlive } from '../../util/process-alive';

export const TEMP_DIR_NAME = '.wal-e-tmp';
/** Leftovers of another host's writer are swept only after this long without a write. */
const FOREIGN_STALE_MS = 24 * 3600 * 1000;

const host = hostname().replace(/[^A-Za-z0-9-]/g, '_');

export function tempPathFor(dir: string, baseName: string): string {
  return join(dir, TEMP_DIR_NAME, `${baseName}.${host}.${process.pid}.${randomBytes(6).toString('hex')}`);
}


/** Removes temp files in dir's temp folder whose writer is gone. Never throws. */
export async function sweepStaleTemps(dir: string): Promise<void> {
  const tmpDir = join(dir, TEMP_DIR_NAME);
  let names: string[];
  try {
    names = await readdir(tmpDir);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    const m = /\.([A-Za-z0-9_-]+)\.(\d+)\.[0-9a-f]{12}$/.exec(name);
    const p = join(tmpDir, name);
    try {
      if (m && m[1] === host) {
        const pid = Number(m[2]);
        if (pid !== process.pid && !isProcessAlive(pid)) await unlink(p);
      } else if (now - (await stat(p)).mtimeMs > FOREIGN_STALE_MS) {
        await unlink(p);
      }
    } catch {
      // raced with its owner or another sweeper: fine
    }
  }
}
