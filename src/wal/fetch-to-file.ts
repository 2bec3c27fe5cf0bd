// Restoring one WAL object to a local path: download, decompress (lzop checks every block's checksum),
// write to a temp file beside the destination, fsync, rename. The destination exists only when whole.
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { walKey } from '../layout/wal-names';
import { decompressedChunks } from '../pipeline/wal-codec';
import type { Encryption } from '../pipeline/encryption';
import type { BlobStore } from '../storage/blob-store';
import { registerCleanup } from '../util/cleanup';
import { LocalIoError } from '../util/errors';
import { isProcessAlive } from '../util/process-alive';

/** PostgreSQL's file mode for the files it restores and reads back. */
export const PG_FILE_MODE = 0o600;

function localError(action: string, path: string, err: unknown): LocalIoError {
  const e = err as NodeJS.ErrnoException;
  return new LocalIoError(`could not ${action} "${path}"`, { detail: `${e.code ?? e.name}: ${e.message}` });
}


/** Removes temp files a killed wal-fetch left beside this destination (their pid is gone). */
async function sweepDeadTemps(dest: string): Promise<void> {
  const prefix = `.${basename(dest)}.wal-e-tmp.`;
  let names: string[];
  try {
    names = await readdir(dirname(dest));
  } catch {
    return;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(n.slice(prefix.length).split('.')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !isProcessAlive(pid)) await unlink(join(dirname(dest), n)).catch(() => undefined);
  }
}

/**
 * Writes the WAL file `name` to `dest` (whole or not at all). Returns the number of bytes written.
 * Rejects with NotFoundError when the object does not exist.
 */
export async function fetchWalToFile(store: BlobStore, name: string, dest: string, enc: Encryption | undefined): Promise<number> {
  const key = walKey(name);
  const body = await store.get(key);
  await sweepDeadTemps(dest);
  const tmp = join(dirname(dest), `.${basename(dest)}.wal-e-tmp.${process.pid}.${randomBytes(4).toString('hex')}`);
  const unregister = registerCleanup(() => {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  });
  let fh: FileHandle | undefined;
  let done = false;
  try {
    try {
      fh = await open(tmp, 'wx', PG_FILE_MODE);
    } catch (err) {
      body.destroy();
      throw localError('create a file beside', dest, err);
    }
    let size = 0;
    for await (const chunk of await decompressedChunks(body, key, enc)) {
      let off = 0;
      while (off < chunk.length) {
        try {
          off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        } catch (err) {
          throw localError('write', tmp, err);
        }
      }
      size += chunk.length;
    }
    try {
      await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, dest);
    } catch (err) {
      throw localError('complete', dest, err);
    }
    done = true;
    return size;
  } finally {
    if (fh) await fh.close().catch(() => undefined);
    if (!done) await unlink(tmp).catch(() => undefined);
    unregister();
  }
}
