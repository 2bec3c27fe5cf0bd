// Positions in the WAL stream as WAL-E's delete compared them (spec §5.7): the 16 hex digits
// LLLLLLLLSSSSSSSS of (log, seg) as one number; timeline and offset are ignored, comparison is strict.
import { parseBackupName, type BackupName } from '../../layout/backup-name';
import { SEGMENT_RE } from '../../layout/wal-names';

export type Position = bigint;

export function position(log: string, seg: string): Position {
  return (BigInt(`0x${log}`) << 32n) | BigInt(`0x${seg}`);
}

export function positionOfBackup(b: BackupName): Position {
  return position(b.log, b.seg);
}

/**
 * A backup name (prefix-matched, as WAL-E did) or a WAL segment name (which crashed WAL-E's `delete
 * before`, spec §7 item 12), as a position; undefined for anything else.
 */
export function parseHorizon(arg: string): Position | undefined {
  const b = parseBackupName(arg);
  if (b) return positionOfBackup(b);
  const m = SEGMENT_RE.exec(arg);
  return m ? position(m[2]!, m[3]!) : undefined;
}

/**
 * WAL-E's --while-offline names keep only the first two hex digits of the REDO location's low half
 * (spec §5.4.2): "…00000040_00000040" may be REDO 0/40xxxxxx or 0/4xxxxxx. Such names (segment equal to
 * offset, both 000000XY) are read as the earliest position they can stand for, so that the WAL such a
 * backup needs is never judged "older" than it. An online name that happens to look like this (REDO at
 * byte 40 of segment 0x40) only keeps some extra WAL.
 */
export function earliestStart(b: BackupName): Position {
  if (b.seg === b.offset && /^000000[0-9A-F]{2}$/.test(b.seg)) {
    return position(b.log, `0000000${b.seg[6]}`);
  }
  return positionOfBackup(b);
}

export function segmentText(p: Position): string {
  return (p >> 32n).toString(16).toUpperCase().padStart(8, '0') + (p & 0xffffffffn).toString(16).toUpperCase().padStart(8, '0');
}
