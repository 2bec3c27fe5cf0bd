// WAL file names and their archive keys (spec §3.2, §5.2).

/** A WAL segment name: timeline, log and seg as 8 upper-case hex digits each. */
export const SEGMENT_RE = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})$/;

export function isSegmentName(name: string): boolean {
  return SEGMENT_RE.test(name);
}

/** What PostgreSQL names WAL files (segments, .history, .partial, .backup): nothing that could leave wal_005/. */
const WAL_FILE_NAME = /^[0-9A-Za-z][0-9A-Za-z._-]{0,254}$/;

export function isSafeWalFileName(name: string): boolean {
  return WAL_FILE_NAME.test(name) && !name.includes('..');
}

/** Where a WAL file of any kind (segment, .history, .partial, .backup) is archived. */
export function walKey(name: string): string {
  return `wal_005/${name}.lzo`;
}

const SEGMENT_SIZE_DEFAULT = 16 * 1024 * 1024;

/**
 * The `count` segment names after `name` on the same timeline. WAL-E assumed 16 MiB segments; here the
 * number of segments per log id follows the real segment size (a power of two from 1 MiB to 1 GiB).
 */
export function nextSegmentNames(name: string, count: number, segmentSize = SEGMENT_SIZE_DEFAULT): string[] {
  const m = SEGMENT_RE.exec(name);
  if (!m || count <= 0) return [];
  const perLog = Math.floor(0x1_0000_0000 / segmentSize);
  let log = Number.parseInt(m[2]!, 16);
  let seg = Number.parseInt(m[3]!, 16);
  if (seg >= perLog) return [];
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    seg++;
    if (seg >= perLog) {
      seg = 0;
      log++;
      if (log > 0xffffffff) break;
    }
    out.push(m[1]! + hex(log) + hex(seg));
  }
  return out;
}

/** A plausible WAL segment size from a restored file's length, else the default. */
export function segmentSizeFromLength(length: number): number {
  const isPow2 = length > 0 && (length & (length - 1)) === 0;
  return isPow2 && length >= 1 << 20 && length <= 1 << 30 ? length : SEGMENT_SIZE_DEFAULT;
}
