// wal-prefetch BASE_DIRECTORY SEGMENT (spec §5.3): download one segment into
// BASE/.wal-e/prefetch/running/SEG/tmpXXXXXXXX, then hard-link it as BASE/.wal-e/prefetch/SEG (only a
// whole, verified file ever gets that name) and remove the running folder. Started detached by
// wal-fetch; callable by hand.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Invocation } from '../cli/program';
import type { Config } from '../config/config';
import { isSegmentName, walKey } from '../layout/wal-names';
import { getLogger } from '../log/logger';
import { encryptionFor } from '../pipeline/encryption';
import { decompressedChunks } from '../pipeline/wal-codec';
import { openStore } from '../storage/open-store';
import { InvalidArgumentError, NotFoundError } from '../util/errors';
import { registerCleanup } from '../util/cleanup';
import { PrefetchDir } from '../wal/prefetch-dir';
import { PG_FILE_MODE } from '../wal/fetch-to-file';

const log = getLogger('wal_e.worker.prefetch');

export default async function walPrefetch(config: Config, inv: Invocation): Promise<number> {
  const encryption = await encryptionFor(config);
  const [base, seg] = inv.args as [string, string];
  if (!isSegmentName(seg)) {
    throw new InvalidArgumentError('invalid WAL segment name', { detail: `"${seg}" is not a WAL segment name.` });
  }
  const dir = new PrefetchDir(base);
  for (const d of [dir.prefetch, dir.running, dir.runningDir(seg)]) {
    try {
      await mkdir(d, { mode: 0o700 });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'EEXIST') {
        log.warning('could not create prefetch directory', { detail: `Prefetch directory creation target: ${d}, ${e.message}` });
      }
    }
  }
  const unregister = registerCleanup(() => {
    rmSync(dir.runningDir(seg), { recursive: true, force: true });
  });
  const store = await openStore(config);
  const key = walKey(seg);
  const url = store.url(key);
  const structured = { action: 'wal-prefetch', key: url, prefix: store.location.pathPrefix, seg };
  const tmp = join(dir.runningDir(seg), `tmp${randomBytes(6).toString('base64url').slice(0, 8)}`);
  try {
    log.info('begin wal restore', { structured: { ...structured, state: 'begin' } });
    const fh = await open(tmp, 'wx', PG_FILE_MODE);
    try {
      const body = await store.get(key);
      for await (const chunk of await decompressedChunks(body, key, encryption)) await fh.write(chunk);
      await fh.sync();
    } finally {
      await fh.close();
    }
    log.info('complete wal restore', { structured: { ...structured, state: 'complete' } });
    try {
      await link(tmp, dir.completePath(seg));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return 0;
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    if (err instanceof NotFoundError) {
      process.stderr.write(`Failed to prefetch ${seg}\n`);
      return 1;
    }
    throw err;
  } finally {
    await dir.release(seg);
    unregister();
  }
}
