// wal-push WAL_SEGMENT (spec §5.1): archive the file PostgreSQL names, and upload other .ready segments
// ahead of time without ever touching their archive_status files (see docs/commands/wal-push.md).
import { basename, dirname } from 'node:path';
import type { Invocation } from '../cli/program';
import type { Config } from '../config/config';
import { isSafeWalFileName, walKey } from '../layout/wal-names';
import { getLogger } from '../log/logger';
import { encryptionFor, type Encryption } from '../pipeline/encryption';
import { openStore } from '../storage/open-store';
import type { BlobStore } from '../storage/blob-store';
import { InvalidArgumentError, UserError } from '../util/errors';
import { settleWithLimit } from '../util/pool';
import { readySegments } from '../wal/lookahead';
import { PushedRecords, fileIdentity, sameFile } from '../wal/pushed-records';
import { WalFileMissing, pushWalFile } from '../wal/push-file';
import { join } from 'node:path';

const log = getLogger('wal_e.worker.upload');

export default async function walPush(config: Config, inv: Invocation): Promise<number> {
  const path = inv.args[0]!;
  const poolSize = inv.options.poolSize as number;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new UserError('--pool-size must be at least 1', { detail: `The value given was ${poolSize}.` });
  }
  const encryption = await encryptionFor(config);
  const walDir = dirname(path);
  const name = basename(path);
  if (!isSafeWalFileName(name)) {
    throw new InvalidArgumentError('invalid WAL file name', {
      detail: `"${path}" does not name a WAL file (PostgreSQL passes %p, e.g. pg_wal/000000010000000000000003).`,
    });
  }
  const store = await openStore(config);
  const records = new PushedRecords(walDir);

  try {
    if (await confirmedAhead(store, records, path, name, config.store.url)) {
      await records.remove(name);
      await records.sweep();
      return 0;
    }

    const tasks: (() => Promise<unknown>)[] = [() => pushWalFile(store, path, { wantDigest: false, encryption })];
    if (poolSize > 1) {
      const recorded = await records.names();
      const extras = (await readySegments(walDir)).filter((s) => s !== name && !recorded.has(s)).slice(0, poolSize - 1);
      for (const seg of extras) tasks.push(() => pushAhead(store, records, join(walDir, seg), config.store.url, encryption));
    }
    const [explicit] = await settleWithLimit(tasks, poolSize);
    await records.sweep();
    if (explicit!.status === 'rejected') throw explicit!.reason;
    return 0;
  } catch (err) {
    if (err instanceof WalFileMissing) {
      // WAL-E printed the OS error on stdout before logging (spec §1.10); scripts may match it.
      process.stdout.write(`[Errno 2] No such file or directory: '${path}'\n`);
      throw new UserError('could not find file for wal-push', {
        detail: `The operating system reported: No such file or directory '${path}'`,
      });
    }
    throw err;
  }
}

/** True when a look-ahead upload of this very file is recorded and its object is in the store. */
async function confirmedAhead(store: BlobStore, records: PushedRecords, path: string, name: string, prefix: string): Promise<boolean> {
  const rec = await records.read(name);
  if (!rec || rec.prefix !== prefix) return false;
  try {
    if (!sameFile(await fileIdentity(path), rec.file)) return false;
  } catch {
    return false;
  }
  const key = walKey(name);
  if ((await store.head(key)) === undefined) return false;
  log.info('WAL file was archived ahead of time', {
    detail: `"${path}" was uploaded to "${store.url(key)}" by an earlier wal-push; the file is unchanged since.`,
    structured: { action: 'push-wal', key: store.url(key), prefix: store.location.pathPrefix, seg: name, state: 'complete' },
  });
  return true;
}

/** Uploads a segment ahead of PostgreSQL's request and records it; failures only cost the head start. */
async function pushAhead(
  store: BlobStore,
  records: PushedRecords,
  path: string,
  prefix: string,
  encryption: Encryption | undefined,
): Promise<void> {
  const name = basename(path);
  try {
    const before = await fileIdentity(path).catch(() => undefined);
    const r = await pushWalFile(store, path, { wantDigest: true, encryption });
    const after = await fileIdentity(path).catch(() => undefined);
    // Only a file that did not change while it was read may vouch for itself later.
    if (r.digest && before && after && sameFile(before, after) && after.size === r.digest.size) {
      await records.write({ name, size: r.digest.size, sha256: r.digest.sha256, file: after, prefix, pushedAt: new Date().toISOString() });
    }
  } catch (err) {
    if (err instanceof WalFileMissing) {
      log.info('skip parallel archiving of a file', {
        detail: `The segment ${path} did not exist.`,
        structured: { action: 'push-wal', key: store.url(walKey(name)), prefix: store.location.pathPrefix, seg: name, state: 'skip' },
      });
      return;
    }
    log.warning('look-ahead archiving of a file failed', {
      detail: `"${path}": ${(err as Error).message}. PostgreSQL will archive it when it asks for it.`,
    });
  }
}
