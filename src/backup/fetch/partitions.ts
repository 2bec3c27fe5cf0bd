// A backup's tar partitions (spec §3.2): whatever tar_partitions/ holds. WAL-E kept no manifest and
// never checked completeness (spec §7 item 25); here the numbers must run 0, 1, ... n-1 without a gap,
// so a lost partition in the middle or at the start stops the restore. A lost *last* partition cannot
// be seen this way; the size check against the sentinel (fetch-backup.ts) covers part of that.
import { backupDirKey, parsePartitionFileName } from '../../layout/backup-name';
import { getLogger } from '../../log/logger';
import type { BlobStore } from '../../storage/blob-store';
import { UserError } from '../../util/errors';

const log = getLogger('wal_e.worker.base');

export interface PartitionRef {
  readonly number: number;
  readonly key: string;
  readonly fileName: string;
}

/** Gaps in partition numbers (the numbers missing below the highest one). */
export function missingPartitions(numbers: Iterable<number>): number[] {
  const have = new Set(numbers);
  const max = Math.max(-1, ...have);
  const missing: number[] = [];
  for (let n = 0; n < max; n++) if (!have.has(n)) missing.push(n);
  return missing;
}

export async function listPartitions(store: BlobStore, backupName: string): Promise<PartitionRef[]> {
  const dir = `${backupDirKey(backupName)}tar_partitions/`;
  const parts: PartitionRef[] = [];
  for await (const o of store.list(dir)) {
    const fileName = o.key.slice(dir.length);
    const n = fileName.includes('/') ? undefined : parsePartitionFileName(fileName);
    if (n === undefined) {
      log.warning('unexpected key found in tar volume directory', {
        detail: `The unexpected key is stored at "${store.url(o.key)}".`,
        hint: 'This means an unexpected key was found in a WAL-E prefix.  It can be harmless, or the result a bug or misconfiguration.',
      });
      continue;
    }
    parts.push({ number: n, key: o.key, fileName });
  }
  if (parts.length === 0) {
    throw new UserError('the backup has no tar partitions', {
      detail: `Nothing was found under ${store.url(dir)}.`,
      hint: 'The backup is incomplete or was partly deleted; restore another backup.',
    });
  }
  const missing = missingPartitions(parts.map((p) => p.number));
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).map((n) => `part_${String(n).padStart(8, '0')}.tar.lzo`);
    throw new UserError('the backup is missing tar partitions', {
      detail: `Missing: ${shown.join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''} (under ${store.url(dir)}).`,
      hint: 'Restoring it would give an incomplete data directory; restore another backup.',
    });
  }
  return parts.sort((a, b) => a.number - b.number);
}
