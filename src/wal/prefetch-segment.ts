// One segment of a wal-prefetch run: download into running/<SEG>/tmpXXXXXXXX, verify (lzop checks
// every block), fsync, then hard-link as prefetch/<SEG>. A partial file never gets the complete name.
import { randomBytes } from 'node:crypto';
import { link, open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { walKey } from '../layout/wal-names';
import { getLogger } from '../log/logger';
import type { Encryption } from '../pipeline/encryption';
import { decompressedChunks } from '../pipeline/wal-codec';
import type { BlobStore } from '../storage/blob-store';
import { PG_FILE_MODE } from './fetch-to-file';
import type { PrefetchDir } from './prefetch-dir';

const log = getLogger('wal_e.worker.prefetch');

/** Rejects with NotFoundError when the archive has no such segment; the caller removes running/<SEG>. */
export async function prefetchSegment(dir: PrefetchDir, store: BlobStore, enc: Encryption | undefined, seg: string): Promise<void> {
  if (await dir.isComplete(seg)) return;
  const key = walKey(seg);
  const structured = { action: 'wal-prefetch', key: store.url(key), prefix: store.location.pathPrefix, seg };
  log.info('begin wal restore', { structured: { ...structured, state: 'begin' } });
  const body = await store.get(key);
  const tmp = join(dir.runningDir(seg), `tmp${randomBytes(6).toString('base64url').slice(0, 8)}`);
  let fh: FileHandle;
  try {
    fh = await open(tmp, 'wx', PG_FILE_MODE);
  } catch (err) {
    body.destroy();
    // wal-fetch withdrew the claim (it fetched the segment itself): nothing to do.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    try {
      for await (const chunk of await decompressedChunks(body, key, enc)) {
        for (let off = 0; off < chunk.length; ) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(tmp, dir.completePath(seg));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // ENOENT: wal-fetch withdrew the claim meanwhile and removed the download.
      if (code === 'ENOENT') return;
      if (code !== 'EEXIST') throw err;
    }
    log.info('complete wal restore', { structured: { ...structured, state: 'complete' } });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}
