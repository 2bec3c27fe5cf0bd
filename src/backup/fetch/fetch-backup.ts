// backup-fetch's algorithm (spec §5.5), with the checks WAL-E lacked: a live-cluster refusal, a complete
// set of partitions, safe extraction, tablespace_map matching the restored layout, fsync before success.
import { access, lstat, readFile, realpath, rename, writeFile, open, chown } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { invalidQuery, listCatalog, parseQuery, readSentinel, selectBackups } from '../catalog';
import { getLogger } from '../../log/logger';
import type { Progress } from '../../log/progress';
import type { Encryption } from '../../pipeline/encryption';
import type { BlobStore } from '../../storage/blob-store';
import { LocalIoError, UserError } from '../../util/errors';
import { fsyncPath } from './durability';
import { SafeExtractor } from './extractor';
import { fetchPartition } from './fetch-partition';
import { listPartitions, type PartitionRef } from './partitions';
import { prepareLayout, resolveRoots } from './restore-layout';
import { planRestore } from './restore-spec';
import { formatTablespaceMap, parseTablespaceMap, rewriteTablespaceMap } from './tablespace-map';

const log = getLogger('wal_e.worker.base');

export interface FetchRequest {
  readonly dest: string;
  readonly query: string;
  readonly restoreSpec: string | undefined;
  readonly blindRestore: boolean;
  readonly poolSize: number;
  readonly retries: number;
  /** Stored bytes downloaded of the partitions' total (a progress line on a terminal). */
  readonly progress?: Progress;
}

/** The partitions' stored sizes, from the listing, as the progress line's total. */
async function addPartitionSizes(store: BlobStore, partitions: readonly PartitionRef[], progress: Progress): Promise<void> {
  const keys = new Set(partitions.map((p) => p.key));
  const dir = partitions[0]!.key.slice(0, partitions[0]!.key.lastIndexOf('/') + 1);
  for await (const o of store.list(dir)) if (keys.has(o.key)) progress.total(o.size);
  progress.totalFinal();
}

async function refuseLiveCluster(dir: string): Promise<void> {
  if (await access(join(dir, 'postmaster.pid')).then(() => true, () => false)) {
    throw new UserError('attempting to overwrite a live data directory', {
      detail: 'Found a postmaster.pid lockfile, and aborting',
      hint: 'Shut down postgres. If there is a stale lockfile, then remove it after being very sure postgres is not running.',
    });
  }
}

/** Runs tasks with at most `limit` at once; the first failure aborts the rest and is rethrown. */
async function runPool(tasks: readonly ((signal: AbortSignal) => Promise<number>)[], limit: number): Promise<number> {
  const ctl = new AbortController();
  let next = 0;
  let total = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < tasks.length && failure === undefined) {
      const task = tasks[next++]!;
      try {
        // Not `total += await ...`: that reads `total` before the await and loses other workers' sums.
        const bytes = await task(ctl.signal);
        total += bytes;
      } catch (err) {
        if (failure === undefined) {
          failure = err;
          ctl.abort(err);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
  if (failure !== undefined) throw failure;
  return total;
}

async function rewriteMapFile(dest: string, restoredAt: ReadonlyMap<string, string>): Promise<void> {
  const path = join(dest, 'tablespace_map');
  const st = await lstat(path).catch(() => undefined);
  if (!st?.isFile()) return;
  const before = await readFile(path, 'utf8');
  const { lines, dropped } = rewriteTablespaceMap(parseTablespaceMap(before), restoredAt);
  const after = formatTablespaceMap(lines);
  for (const oid of dropped) {
    log.warning('removed a tablespace from tablespace_map', {
      detail: `Tablespace ${oid} was restored inside the data directory, not through a symlink.`,
      hint: 'Otherwise PostgreSQL would recreate its symlink to the original location at start-up.',
    });
  }
  if (after === before) return;
  const tmp = `${path}.wal-e-tmp`;
  try {
    await writeFile(tmp, after, { mode: 0o600 });
    await chown(tmp, st.uid, st.gid).catch(() => undefined);
    const fh = await open(tmp, 'r');
    await fh.sync().finally(() => fh.close());
    await rename(tmp, path);
    await fsyncPath(dest, true);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new LocalIoError(`could not rewrite "${path}"`, { detail: `${e.code ?? e.name}: ${e.message}` });
  }
  log.info('rewrote tablespace_map for the restored tablespace locations', {
    detail: lines.map((l) => `${l.oid} ${l.path}`).join('; ') || '(no tablespaces left in the map)',
  });
}

export async function fetchBackup(store: BlobStore, encryption: Encryption | undefined, req: FetchRequest): Promise<void> {
  await refuseLiveCluster(req.dest);
  const query = parseQuery(req.query);
  if (!query || query.kind === 'all') throw invalidQuery(req.query);
  const matches = selectBackups(await listCatalog(store), query, store.location.kind);
  if (matches.length === 0) {
    throw new UserError('no backups found for fetching', {
      detail: `No backup matching the query ${req.query} was able to be located.`,
      hint: 'To list qualifying backups, try "wal-e backup-list".',
    });
  }
  const backup = matches[matches.length - 1]!;
  const sentinel = await readSentinel(store, backup.name);
  const plan = await planRestore(req.dest, req.restoreSpec, sentinel.spec);
  if (resolve(plan.basePrefix) !== resolve(req.dest)) {
    log.warning('restoring into the restore specification\'s base_prefix', {
      detail: `The specification says "${plan.basePrefix}"; the command line said "${req.dest}".`,
    });
    await refuseLiveCluster(plan.basePrefix);
  }
  // Everything that can be checked without writing is checked first.
  const partitions: PartitionRef[] = await listPartitions(store, backup.name);
  await prepareLayout(plan);
  const roots = await resolveRoots(plan, req.blindRestore);
  const extractor = new SafeExtractor(roots);
  const progress = req.progress;
  if (progress) await addPartitionSizes(store, partitions, progress);
  const onBytes = progress ? (n: number) => progress.done(n) : undefined;
  const bytes = await runPool(
    partitions.map((p) => (signal: AbortSignal) => fetchPartition(store, p, encryption, extractor, req.retries, signal, onBytes)),
    req.poolSize,
  );
  await extractor.finish();
  await rewriteMapFile(roots.dest, roots.tablespaces);

  const expected = sentinel.expanded_size_bytes;
  if (typeof expected === 'number' && bytes !== expected) {
    // expanded_size_bytes counts files as sized when the backup scanned them (spec §3.4); files that
    // vanished before being read make the restored total smaller, a lost last partition too.
    log.warning('the restored data size differs from the size the backup recorded', {
      detail: `Restored ${bytes} bytes of file data in ${partitions.length} partition(s); the sentinel says ${expected}.`,
      hint: 'Files dropped while the backup ran explain a small shortfall; a large one may mean a missing last partition.',
    });
  }
  log.info('base backup restored', {
    detail:
      `Restored ${backup.name} (${partitions.length} partition(s), ${bytes} bytes of file data) into ${await realpath(roots.dest)}. ` +
      `Recovery replays WAL from the backup's checkpoint (its name says ${backup.parsed.startSegment}` +
      (typeof sentinel.wal_segment_backup_stop === 'string' ? `, its sentinel says it ended in ${sentinel.wal_segment_backup_stop}` : '') +
      '); that WAL must be in the archive.',
    hint: 'Set restore_command (for example "wal-e wal-fetch %f %p") and create recovery.signal before starting PostgreSQL.',
  });
}
