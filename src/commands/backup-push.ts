// backup-push PG_CLUSTER_DIRECTORY (spec §5.4; docs/commands/backup-push.md). Online: start a non-exclusive
// backup on one held session, upload extended_version.txt and the data directory's partitions, stop,
// upload backup_label/tablespace_map as a last partition, wait (bounded) until the stop segment is
// archived, then write the sentinel - always the last object. Offline: name and position from pg_control.
import { existsSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Invocation } from '../cli/program';
import type { Config } from '../config/config';
import { processEnv } from '../config/env';
import { formatBackupName, lpadOffset, sentinelKey } from '../layout/backup-name';
import { serializeSentinel, type Sentinel } from '../layout/sentinel';
import { walKey } from '../layout/wal-names';
import { getLogger } from '../log/logger';
import { progressOnStderr, type Progress } from '../log/progress';
import { uploadBackupBody, uploadExtraPartition, type BodyOptions } from '../backup/push/backup-body';
import type { Partition, PartitionMember } from '../backup/push/partitioner';
import { TokenBucket, UNLIMITED, type RateLimiter } from '../backup/push/rate-limiter';
import { waitForArchived } from '../pg/archive-wait';
import { backupLabel, serverInfo, startBackup, stopBackup, type ServerInfo } from '../pg/backup-api';
import { resolveConnectionParams } from '../pg/connection-params';
import { dataDirPrefix } from '../pg/data-dir-members';
import { offlineStart, stillStopped } from '../pg/offline-cluster';
import { openSession, type PgSession } from '../pg/session';
import { encryptionFor } from '../pipeline/encryption';
import type { BlobStore } from '../storage/blob-store';
import { openStore } from '../storage/open-store';
import { Readable } from 'node:stream';
import { UserError } from '../util/errors';

const log = getLogger('wal_e.operator.backup');

export default async function backupPush(config: Config, inv: Invocation): Promise<number> {
  const progress = progressOnStderr('backup-push');
  try {
    return await backupPushWith(config, inv, progress);
  } finally {
    progress.stop();
  }
}

async function backupPushWith(config: Config, inv: Invocation, progress: Progress): Promise<number> {
  const dataDir = await checkDataDir(inv.args[0]!);
  const poolSize = inv.options.poolSize as number;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new UserError('--pool-size must be at least 1', { detail: `The value given was ${poolSize}.` });
  }
  const limiter = rateLimiter(inv.options.clusterReadRateLimit);
  const encryption = await encryptionFor(config);
  const body = (store: BlobStore, backupName: string, versionText: string, online: boolean): BodyOptions => ({
    store,
    backupName,
    dataDir,
    versionText,
    online,
    poolSize,
    limiter,
    encryption,
    progress,
  });
  if (inv.options.whileOffline === true) {
    const start = await offlineStart(dataDir);
    const store = await openStore(config);
    const name = formatBackupName(start.segment, lpadOffset(start.offset));
    const o = body(store, name, start.versionText, false);
    const result = await failureNoted(store, name, () => uploadBackupBody(o));
    if (!(await stillStopped(dataDir, start.control))) {
      throw new UserError('the cluster was started while it was being backed up', {
        detail: `pg_control or postmaster.pid changed during the backup; no sentinel was written for ${name}.`,
        hint: 'Take the offline backup again with PostgreSQL stopped, or take an online backup.',
      });
    }
    await writeSentinel(store, name, {
      wal_segment_backup_stop: start.segment,
      wal_segment_offset_backup_stop: lpadOffset(start.offset),
      expanded_size_bytes: result.expandedBytes,
      spec: result.spec,
    });
    return 0;
  }

  const params = resolveConnectionParams(processEnv(), {
    osUser: osUserName(),
    homeDir: processEnv().HOME,
    socketExists: (p) => existsSync(p),
  });
  const session = await openSession(params, processEnv());
  try {
    return await onlineBackup(config, session, dataDir, body);
  } finally {
    // Ending the session also ends a backup that is still running (non-exclusive API).
    await session.close();
  }
}

async function onlineBackup(
  config: Config,
  session: PgSession,
  dataDir: string,
  body: (store: BlobStore, name: string, version: string, online: boolean) => BodyOptions,
): Promise<number> {
  const info = await serverInfo(session);
  await warnIfOtherDataDir(session, dataDir);
  if (info.inRecovery) {
    log.info('backing up a standby', {
      detail:
        `The server is in recovery; archive_mode is "${info.archiveMode}". The backup completes once its last WAL ` +
        'segment is in the archive, which needs archive_mode=always here or the primary archiving to the same prefix.',
    });
  }
  const store = await openStore(config);
  const start = await startBackup(session, info, backupLabel(new Date()), config.pg.fastCheckpoint);
  const name = formatBackupName(start.segment, lpadOffset(start.offset));
  const o = body(store, name, info.versionText, true);
  const result = await failureNoted(store, name, () => uploadBackupBody(o));
  const stop = await failureNoted(store, name, () => stopBackup(session, info, start));

  await failureNoted(store, name, async () => {
    const root = await stat(dataDir);
    const now = Date.now();
    const fileMember = (memberName: string, text: string): PartitionMember => ({
      path: `${dataDirPrefix(dataDir)}${memberName}`,
      name: memberName,
      kind: 'file',
      size: Buffer.byteLength(text, 'utf8'),
      mode: 0o600,
      uid: root.uid,
      gid: root.gid,
      mtimeMs: now,
      content: Buffer.from(text, 'utf8'),
    });
    const members = [fileMember('backup_label', stop.labelFile)];
    if (stop.tablespaceMap !== '') members.push(fileMember('tablespace_map', stop.tablespaceMap));
    const last: Partition = { number: result.nextNumber, members, bytes: members.reduce((n, m) => n + m.size, 0) };
    await uploadExtraPartition(last, o, result.owners);
    result.expandedBytes += last.bytes;
    await waitForStopSegment(config, store, session, info, stop.segment);
  });

  await writeSentinel(store, name, {
    wal_segment_backup_stop: stop.segment,
    wal_segment_offset_backup_stop: lpadOffset(stop.offset),
    expanded_size_bytes: result.expandedBytes,
    spec: result.spec,
  });
  return 0;
}

async function waitForStopSegment(config: Config, store: BlobStore, session: PgSession, info: ServerInfo, segment: string): Promise<void> {
  const timeoutSeconds = config.pg.archiveWaitTimeoutSeconds;
  if (timeoutSeconds === 0) {
    log.warning('not waiting for the backup\'s last WAL segment to be archived', {
      detail: `WALE_ARCHIVE_WAIT_TIMEOUT is 0; the backup needs ${segment}, which may not be archived yet.`,
    });
    return;
  }
  const url = store.url(walKey(segment));
  log.info('waiting for the backup\'s last WAL segment to be archived', {
    detail: `Waiting up to ${timeoutSeconds} s for ${segment}: "${url}" or pg_stat_archiver must show it.`,
  });
  const outcome = await waitForArchived(
    segment,
    {
      inStore: async (seg) => (await store.head(walKey(seg))) !== undefined,
      lastArchivedWal: async () => {
        const [row] = await session.query<{ w: string | null }>('SELECT last_archived_wal AS w FROM pg_stat_archiver');
        return row?.w ?? undefined;
      },
    },
    {
      timeoutMs: timeoutSeconds * 1000,
      onWaiting: (ms) => {
        if (ms > 0) log.info('still waiting for a WAL segment to be archived', { detail: `${segment}, for ${Math.round(ms / 1000)} s so far.` });
      },
    },
  );
  if (outcome === 'timeout') {
    throw new UserError('timed out waiting for the backup\'s last WAL segment to be archived', {
      detail: `${segment} was not archived within ${timeoutSeconds} s (WALE_ARCHIVE_WAIT_TIMEOUT); without it the backup cannot be restored, so no sentinel was written.`,
      hint: info.inRecovery
        ? 'On a standby, set archive_mode=always, or make sure the primary archives to this prefix (pg_switch_wal() on the primary completes the segment).'
        : 'Check archive_command and pg_stat_archiver (failed_count, last_failed_wal) and the server log.',
    });
  }
  log.info('the backup\'s last WAL segment is archived', { detail: `${segment} is in the archive.` });
}

async function writeSentinel(store: BlobStore, name: string, sentinel: Sentinel): Promise<void> {
  const key = sentinelKey(name);
  await store.put(key, Readable.from([Buffer.from(serializeSentinel(sentinel), 'utf8')]), { contentType: 'application/json' });
  log.info('base backup complete', { detail: `Wrote "${store.url(key)}"; the backup is ${name}.` });
}

/** Runs a step of the backup; on failure says what is left behind before the error is reported. */
async function failureNoted<T>(store: BlobStore, name: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    log.warning('the backup was not completed successfully', {
      detail: `No sentinel was written for ${name}; objects already uploaded under "${store.url(`basebackups_005/${name}/`)}" are not a backup and are removed by delete.`,
    });
    throw err;
  }
}

async function checkDataDir(arg: string): Promise<string> {
  // WAL-E crashed mid-backup on a relative path (spec §7 item 34); resolve it instead.
  const dir = resolve(arg);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new UserError('PG_CLUSTER_DIRECTORY is not a directory', { detail: `"${arg}" does not exist or is not a directory.` });
  }
  return dir;
}

async function warnIfOtherDataDir(session: PgSession, dataDir: string): Promise<void> {
  try {
    const [row] = await session.query<{ d: string }>(`SELECT current_setting('data_directory') AS d`);
    if (row && resolve(row.d) !== dataDir) {
      const { realpathSync } = await import('node:fs');
      if (realpathSync(row.d) !== realpathSync(dataDir)) {
        log.warning('PG_CLUSTER_DIRECTORY is not the server\'s data directory', {
          detail: `The server's data_directory is "${row.d}"; "${dataDir}" is backed up as given.`,
        });
      }
    }
  } catch {
    // Reading data_directory needs superuser or pg_read_all_settings; WAL-E never checked it.
  }
}

function osUserName(): string {
  try {
    return userInfo().username;
  } catch {
    return processEnv().USER ?? 'postgres';
  }
}

function rateLimiter(value: unknown): RateLimiter {
  if (value === undefined || value === null) return UNLIMITED;
  const n = value as number;
  if (!Number.isInteger(n) || n < 1) {
    throw new UserError('--cluster-read-rate-limit must be a positive number of bytes per second', { detail: `The value given was ${String(value)}.` });
  }
  return new TokenBucket(n);
}
