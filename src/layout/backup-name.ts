// Base-backup names and their object keys (spec §3.2, §3.3). Reading uses Python `re.match`
// semantics (prefix match), so trailing text after a valid name is tolerated as WAL-E does.

export const BASEBACKUPS_PREFIX = 'basebackups_005/';
export const SENTINEL_SUFFIX = '_backup_stop_sentinel.json';

export interface BackupName {
  /** `base_<SEG>_<OFF>` (only the matched part). */
  name: string;
  tli: string;
  log: string;
  seg: string;
  offset: string;
  /** `<tli><log><seg>`: the 24-character start segment. */
  startSegment: string;
}

const NAME_RE = /^base_([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})_([0-9A-F]{8})/;
const SENTINEL_RE = /^base_([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})_([0-9A-F]{8})_backup_stop_sentinel\.json/;
const PARTITION_RE = /^part_([0-9]+)\.tar\.lzo/;

function fromMatch(m: RegExpExecArray): BackupName {
  const [, tli, log, seg, offset] = m as unknown as [string, string, string, string, string];
  const startSegment = tli + log + seg;
  return { name: `base_${startSegment}_${offset}`, tli, log, seg, offset, startSegment };
}

/** A backup name, prefix-matched (spec §3.3). */
export function parseBackupName(s: string): BackupName | undefined {
  const m = NAME_RE.exec(s);
  return m ? fromMatch(m) : undefined;
}

/** The backup a sentinel object names, from the last path component of its key. */
export function parseSentinelFileName(s: string): BackupName | undefined {
  const base = s.slice(s.lastIndexOf('/') + 1);
  const m = SENTINEL_RE.exec(base);
  return m ? fromMatch(m) : undefined;
}

export function formatBackupName(startSegment: string, offset: string): string {
  return `base_${startSegment}_${offset}`;
}

export function backupDirKey(name: string): string {
  return `${BASEBACKUPS_PREFIX}${name}/`;
}

/** The sentinel is a sibling of the backup directory, not inside it (spec §3.2). */
export function sentinelKey(name: string): string {
  return `${BASEBACKUPS_PREFIX}${name}${SENTINEL_SUFFIX}`;
}

export function extendedVersionKey(name: string): string {
  return `${backupDirKey(name)}extended_version.txt`;
}

export function partitionKey(name: string, n: number): string {
  return `${backupDirKey(name)}tar_partitions/part_${String(n).padStart(8, '0')}.tar.lzo`;
}

/** Partition number from a file name under tar_partitions/ (prefix match, spec §3.2). */
export function parsePartitionFileName(s: string): number | undefined {
  const m = PARTITION_RE.exec(s);
  return m ? Number.parseInt(m[1]!, 10) : undefined;
}

/**
 * A byte offset as WAL-E names it: decimal text through SQL `lpad(text, 8, '0')`, which pads on the left
 * and truncates on the right when the text is longer than 8 characters (spec §3.3).
 */
export function lpadOffset(bytes: number): string {
  const text = String(Math.trunc(bytes));
  return text.length >= 8 ? text.slice(0, 8) : text.padStart(8, '0');
}
