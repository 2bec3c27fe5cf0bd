// What each delete subcommand removes, as a list of keys (spec §5.7). Planning reads the store; deciding
// is pure (sweep/choose functions), so the rules are unit-tested without a store.
import { catalogFromListing, type BackupEntry } from '../catalog';
import { BASEBACKUPS_PREFIX } from '../../layout/backup-name';
import type { ObjectInfo } from '../../storage/blob-store';
import { classifyBackupKey, classifyWalKey, WAL_PREFIX, type What } from './classify';
import { earliestStart, positionOfBackup, type Position } from './horizon';

export interface Deletion {
  readonly key: string;
  readonly what: What;
}

export interface Warning {
  readonly key: string;
  readonly why: string;
}

export interface Plan {
  readonly deletions: Deletion[];
  readonly warnings: Warning[];
}

/**
 * The before/retain sweep: base-backup objects older than `horizon` (WAL-E's rule, incomplete backups
 * included), then WAL older than `walHorizon`, which is never later than the earliest start of any backup
 * that stays. Sentinels go first so that a backup never looks complete while it is being removed.
 */
export function sweep(backupObjects: readonly ObjectInfo[], walObjects: readonly ObjectInfo[], horizon: Position, walHorizon: Position): Plan {
  const sentinels: Deletion[] = [];
  const rest: Deletion[] = [];
  const wal: Deletion[] = [];
  const warnings: Warning[] = [];
  for (const o of backupObjects) {
    const v = classifyBackupKey(o.key);
    if (v.kind === 'warn') warnings.push({ key: o.key, why: v.why });
    else if (v.kind === 'candidate' && v.position < horizon) {
      (v.what === 'a base backup sentinel file' ? sentinels : rest).push({ key: o.key, what: v.what });
    }
  }
  for (const o of walObjects) {
    const v = classifyWalKey(o.key);
    if (v.kind === 'warn') warnings.push({ key: o.key, why: v.why });
    else if (v.kind === 'candidate' && v.position < walHorizon) wal.push({ key: o.key, what: v.what });
  }
  return { deletions: [...sentinels, ...rest, ...wal], warnings };
}

/** The WAL horizon: `horizon`, moved back to the earliest possible start of every backup that stays. */
export function walHorizonFor(horizon: Position, backups: readonly BackupEntry[]): Position {
  let h = horizon;
  for (const b of backups) {
    if (positionOfBackup(b.parsed) < horizon) continue;
    const start = earliestStart(b.parsed);
    if (start < h) h = start;
  }
  return h;
}

/** Complete backups, newest first by (log, seg) as WAL-E sorted them for retain (not by time). */
export function backupsByPosition(backupObjects: readonly ObjectInfo[]): BackupEntry[] {
  const { backups } = catalogFromListing(backupObjects);
  return [...backups].sort((a, b) => {
    const pa = positionOfBackup(a.parsed);
    const pb = positionOfBackup(b.parsed);
    return pa < pb ? 1 : pa > pb ? -1 : 0;
  });
}

export type RetainDecision =
  | { kind: 'none' }
  | { kind: 'keep-all'; count: number; horizonBackup: BackupEntry }
  | { kind: 'delete-oldest'; count: number; deleting: number; horizonBackup: BackupEntry };

/** WAL-E's retain N (N >= 1): the horizon is the N-th newest backup, or the oldest when N covers all. */
export function chooseRetain(sortedNewestFirst: readonly BackupEntry[], n: number): RetainDecision {
  const count = sortedNewestFirst.length;
  if (count === 0) return { kind: 'none' };
  if (count <= n) return { kind: 'keep-all', count, horizonBackup: sortedNewestFirst[count - 1]! };
  return { kind: 'delete-oldest', count, deleting: count - n, horizonBackup: sortedNewestFirst[n - 1]! };
}

export function everything(backupObjects: readonly ObjectInfo[], walObjects: readonly ObjectInfo[]): Plan {
  return {
    deletions: [
      ...backupObjects.filter((o) => o.key.startsWith(BASEBACKUPS_PREFIX)).map((o) => ({ key: o.key, what: 'part of a base backup' as const })),
      ...walObjects.filter((o) => o.key.startsWith(WAL_PREFIX)).map((o) => ({ key: o.key, what: 'part of wal logs' as const })),
    ],
    warnings: [],
  };
}

/** The layout versions before 005 (spec §3.2); delete old-versions never touches 005. */
export const OLD_VERSION_PREFIXES: readonly string[] = ['0', '1', '2', '3', '4'].flatMap((v) => [`basebackups_00${v}/`, `wal_00${v}/`]);
