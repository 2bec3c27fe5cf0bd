// wal-fetch WAL_SEGMENT WAL_DESTINATION (spec §5.2): promote a prefetched segment or download it, then
// keep background prefetches of the following segments going. Exit 0 once DEST is whole, 1 when the archive
// has no such file (every store), 2 for any other failure; DEST never exists after a failure.
import { realpath, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Invocation } from '../cli/program';
import type { Config } from '../config/config';
import { isSafeWalFileName, isSegmentName, nextSegmentNames, segmentSizeFromLength, walKey } from '../layout/wal-names';
import { getLogger } from '../log/logger';
import { encryptionFor } from '../pipeline/encryption';
import { openStore } from '../storage/open-store';
import { InvalidArgumentError, LocalIoError, NotFoundError, StoreError } from '../util/errors';
import { PrefetchDir } from '../wal/prefetch-dir';
import { refillWindow } from '../wal/prefetch-window';
import { promoteIfReady } from '../wal/promote-prefetched';

const log = getLogger('wal_e.worker.base');

export default async function walFetch(config: Config, inv: Invocation): Promise<number> {
  const [name, dest] = inv.args as [string, string];
  if (!isSafeWalFileName(name)) {
    throw new InvalidArgumentError('invalid WAL file name', {
      detail: `"${name}" is not a WAL file name (PostgreSQL passes %f, e.g. 000000010000000000000003).`,
    });
  }
  const prefetchCount = inv.options.prefetch as number;
  const store = await openStore(config);
  const url = store.url(walKey(name));
  const structured = { action: 'wal-fetch', key: url, prefix: store.location.pathPrefix, seg: name };

  let prefetch: PrefetchDir | undefined;
  if (prefetchCount > 0) {
    let destDir: string;
    try {
      destDir = await realpath(dirname(dest));
    } catch (err) {
      throw new LocalIoError(`could not resolve the directory of "${dest}"`, { detail: (err as Error).message });
    }
    prefetch = new PrefetchDir(destDir);
    if (await promoteIfReady(prefetch, name, dest)) {
      log.info('promoted prefetched wal segment', { structured });
      await afterFetch(prefetch, name, dest, prefetchCount);
      return 0;
    }
  }

  // Loaded only for a download: a promotion (most calls during replay) needs neither.
  const [encryption, { fetchWalToFile }] = await Promise.all([encryptionFor(config), import('../wal/fetch-to-file')]);
  log.info('begin wal restore', { structured: { ...structured, state: 'begin' } });
  try {
    await withRetries(config.retries, () => fetchWalToFile(store, name, dest, encryption), url, name);
  } catch (err) {
    if (err instanceof NotFoundError) {
      log.info('could no longer locate object while performing wal restore', {
        detail: `The absolute URI that could not be located is ${url}.`,
        hint: 'This can be normal when Postgres is trying to detect what timelines are available during restoration.',
        structured,
      });
      log.info('complete wal restore', { structured: { ...structured, state: 'complete' } });
      if (prefetch) await prefetch.clearExcept(futureNames(name, prefetchCount, undefined)).catch(() => undefined);
      return 1;
    }
    throw err;
  }
  log.info('completed download and decompression', { detail: `Downloaded and decompressed "${url}" to "${dest}"` });
  log.info('complete wal restore', { structured: { ...structured, state: 'complete' } });
  if (prefetch) await afterFetch(prefetch, name, dest, prefetchCount);
  return 0;
}

function futureNames(name: string, count: number, segmentSize: number | undefined): string[] {
  return isSegmentName(name) ? nextSegmentNames(name, count, segmentSize) : [];
}

/** Cleans entries outside the window and starts a detached prefetcher when the window runs low. */
async function afterFetch(prefetch: PrefetchDir, name: string, dest: string, count: number): Promise<void> {
  try {
    const size = (await stat(dest)).size;
    const future = futureNames(name, count, segmentSizeFromLength(size));
    await prefetch.clearExcept(future);
    await refillWindow(prefetch, future);
  } catch (err) {
    // Prefetching only saves time; it must never fail the requested segment.
    log.warning('could not start WAL prefetching', { detail: (err as Error).message });
  }
}

/** WAL-E retried wal-fetch downloads on transient errors (spec §6.6); corrupt objects are not retried. */
async function withRetries<T>(retries: number, op: () => Promise<T>, url: string, name: string): Promise<T> {
  const max = retries === 0 ? 5 : Math.min(retries, 5);
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (!(err instanceof StoreError) || !err.retryable || attempt >= max) throw err;
      log.info('Retrying fetch because of a socket error', {
        detail: `The socket error's message is '${err.message}'.  There have been ${attempt} attempts to fetch wal file ${url} so far.`,
        structured: { seg: name },
      });
      await new Promise((r) => setTimeout(r, Math.min(8000, 500 * 2 ** (attempt - 1))));
    }
  }
}

