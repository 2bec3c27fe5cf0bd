// The part of a backup common to online and offline mode (spec §5.4.3): extended_version.txt first, then
// every partition of the data directory, uploaded as the walk forms them.
import { Readable } from 'node:stream';
import { extendedVersionKey } from '../../layout/backup-name';
import type { RestoreSpec } from '../../layout/sentinel';
import { getLogger } from '../../log/logger';
import { NO_PROGRESS, type Progress } from '../../log/progress';
import { dataDirMembers, emptyRestoreSpec, type DataDirMember } from '../../pg/data-dir-members';
import type { Encryption } from '../../pipeline/encryption';
import type { BlobStore } from '../../storage/blob-store';
import { localOwnerNames, type OwnerNames } from './owner-names';
import { partitionsOf, type Partition } from './partitioner';
import type { RateLimiter } from './rate-limiter';
import { uploadPartitions, type UploadSummary } from './upload-partitions';

const opLog = getLogger('wal_e.operator.backup');
const tarLog = getLogger('wal_e.tar_partition');

export interface BodyOptions {
  store: BlobStore;
  backupName: string;
  dataDir: string;
  versionText: string;
  online: boolean;
  poolSize: number;
  limiter: RateLimiter;
  encryption: Encryption | undefined;
  /** File bytes found by the walk and archived so far (a progress line on a terminal). */
  progress?: Progress;
}

export interface BodyResult extends UploadSummary {
  spec: RestoreSpec;
  owners: OwnerNames;
}

export async function uploadVersionMetadata(store: BlobStore, backupName: string, versionText: string): Promise<void> {
  const key = extendedVersionKey(backupName);
  opLog.info('start upload postgres version metadata', { detail: `Uploading to ${store.url(key)}.` });
  await store.put(key, Readable.from([Buffer.from(versionText, 'utf8')]), { contentType: 'text/plain' });
  opLog.info('postgres version metadata upload complete');
}

export async function uploadBackupBody(o: BodyOptions): Promise<BodyResult> {
  await uploadVersionMetadata(o.store, o.backupName, o.versionText);
  const spec = emptyRestoreSpec(o.dataDir);
  const owners = localOwnerNames();
  const members = dataDirMembers(o.dataDir, spec, {
    online: o.online,
    onVanished: (p) => tarLog.debug('tar member additions skipping an unlinked file', { detail: `Skipping ${p}.` }),
    onSkippedSpecial: (p) =>
      tarLog.warning('skipping a file that cannot be archived', {
        detail: `"${p}" is a socket, FIFO or device file; PostgreSQL does not need it restored.`,
      }),
  });
  const progress = o.progress ?? NO_PROGRESS;
  const summary = await uploadPartitions(partitionsOf(counted(members, progress)), o.poolSize, {
    store: o.store,
    backupName: o.backupName,
    encryption: o.encryption,
    stream: { limiter: o.limiter, owners, onBytes: (n) => progress.done(n) },
  });
  return { ...summary, spec, owners };
}

/** The walk's members, their sizes added to the progress total as they are found. */
async function* counted(members: AsyncIterable<DataDirMember>, progress: Progress): AsyncGenerator<DataDirMember> {
  for await (const m of members) {
    if (m.kind === 'file') progress.total(m.size);
    yield m;
  }
  progress.totalFinal();
}

/** One more partition, e.g. backup_label and tablespace_map from the stop call (uploaded after stop). */
export async function uploadExtraPartition(p: Partition, o: BodyOptions, owners: OwnerNames): Promise<void> {
  async function* one(): AsyncGenerator<Partition> {
    yield p;
  }
  await uploadPartitions(one(), 1, {
    store: o.store,
    backupName: o.backupName,
    encryption: o.encryption,
    stream: { limiter: o.limiter, owners },
  });
}
