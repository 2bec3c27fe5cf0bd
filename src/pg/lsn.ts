// WAL positions (LSNs) and the segment names they fall in, computed as PostgreSQL's
// pg_walfile_name_offset does, so names agree with WAL-E's online backups (spec §3.3).

/** Parses PostgreSQL's "X/Y" text form (hex, no leading zeros needed). */
export function parseLsn(text: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
  if (!m) throw new Error(`not a WAL location: "${text}"`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

const hex8 = (n: bigint): string => n.toString(16).toUpperCase().padStart(8, '0');

/** The 24-character name of segment number `segNo` on timeline `tli`. */
export function segmentName(tli: number, segNo: bigint, segmentSize: number): string {
  const perId = 0x1_0000_0000n / BigInt(segmentSize);
  return hex8(BigInt(tli)) + hex8(segNo / perId) + hex8(segNo % perId);
}

/**
 * pg_walfile_name_offset(lsn): the file is the one holding the byte *before* `lsn` (XLByteToPrevSeg), so a
 * position exactly on a segment boundary names the previous segment, with offset 0 (spec §3.3, §7 item 10).
 */
export function walFileNameOffset(lsn: bigint, tli: number, segmentSize: number): { fileName: string; offset: number } {
  const size = BigInt(segmentSize);
  const segNo = lsn === 0n ? 0n : (lsn - 1n) / size;
  return { fileName: segmentName(tli, segNo, segmentSize), offset: Number(lsn % size) };
}

/** True for the segment sizes initdb accepts: powers of two from 1 MiB to 1 GiB. */
export function isValidSegmentSize(n: number): boolean {
  return Number.isInteger(n) && n >= 1 << 20 && n <= 1 << 30 && (n & (n - 1)) === 0;
}
