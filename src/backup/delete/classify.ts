// Which keys the "delete before/retain" sweep may remove (spec §5.7), by WAL-E's exact rules so that both
// tools agree on what may go. Pure: a key in, a verdict out.
import { BASEBACKUPS_PREFIX, parseBackupName, parseSentinelFileName } from '../../layout/backup-name';
import { position, positionOfBackup, type Position } from './horizon';

export const WAL_PREFIX = 'wal_005/';

export type What =
  | 'a base backup sentinel file'
  | 'a extended version metadata file'
  | 'a base backup volume'
  | 'a wal file'
  | 'a backup history file'
  | 'part of a base backup'
  | 'part of wal logs'
  | 'an object of an old storage layout version';

export type Verdict =
  | { kind: 'candidate'; what: What; position: Position }
  /** Never deleted by before/retain, and not worth a warning (timeline history files). */
  | { kind: 'keep' }
  | { kind: 'warn'; why: string };

const SENTINEL_WHY = 'it appears not to match the base-backup sentinel pattern';
const DEPTH_WHY = 'it appears to be at an unexpected depth';

/** A key under basebackups_005/. */
export function classifyBackupKey(key: string): Verdict {
  const parts = key.slice(BASEBACKUPS_PREFIX.length).split('/');
  switch (parts.length) {
    case 1: {
      const b = parseSentinelFileName(parts[0]!);
      return b ? { kind: 'candidate', what: 'a base backup sentinel file', position: positionOfBackup(b) } : { kind: 'warn', why: SENTINEL_WHY };
    }
    case 2: {
      const b = parseBackupName(parts[0]!);
      return b && parts[1] === 'extended_version.txt'
        ? { kind: 'candidate', what: 'a extended version metadata file', position: positionOfBackup(b) }
        : { kind: 'warn', why: 'it appears not to match the extended-version backup pattern' };
    }
    case 3: {
      const b = parseBackupName(parts[0]!);
      return b && parts[1] === 'tar_partitions'
        ? { kind: 'candidate', what: 'a base backup volume', position: positionOfBackup(b) }
        : { kind: 'warn', why: 'it appears not to match the base-backup partition pattern' };
    }
    default:
      return { kind: 'warn', why: DEPTH_WHY };
  }
}

const WAL_FILE_RE = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})\.lzo/;
// WAL-E's pattern had unescaped dots before "backup" and "lzo"; kept, so the same names qualify.
const BACKUP_HISTORY_RE = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})\.[0-9A-F]{8}.backup.lzo/;
const HISTORY_RE = /^[0-9A-F]{8}\.history/;

/** A key under wal_005/. */
export function classifyWalKey(key: string): Verdict {
  const name = key.slice(WAL_PREFIX.length);
  if (name.includes('/')) return { kind: 'warn', why: DEPTH_WHY };
  let m = WAL_FILE_RE.exec(name);
  if (m) return { kind: 'candidate', what: 'a wal file', position: position(m[2]!, m[3]!) };
  m = BACKUP_HISTORY_RE.exec(name);
  if (m) return { kind: 'candidate', what: 'a backup history file', position: position(m[2]!, m[3]!) };
  if (HISTORY_RE.test(name)) return { kind: 'keep' };
  return { kind: 'warn', why: 'it appears not to match the WAL file naming pattern' };
}
