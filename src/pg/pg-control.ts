// Reading global/pg_control (ControlFileData) for --while-offline, without pg_controldata. Only fields whose
// place has been stable from PostgreSQL 10 to 18 are used, and the rest is located rather than assumed:
//  - system_identifier (0), pg_control_version (8), catalog_version_no (12), state (16), time (24),
//    checkPoint (32), then on PG 10 only prevCheckPoint (40); then checkPointCopy, whose first members are
//    redo (XLogRecPtr) and ThisTimeLineID (uint32).
//  - floatFormat (the double 1234567.0) is followed by blcksz, relseg_size, xlog_blcksz, xlog_seg_size.
//  - the CRC-32C of everything before it closes the struct; its offset is found by trying each position.

export const DB_STATES = [
  'starting up',
  'shut down',
  'shut down in recovery',
  'shutting down',
  'in crash recovery',
  'in archive recovery',
  'in production',
] as const;

export interface PgControl {
  systemIdentifier: bigint;
  pgControlVersion: number;
  catalogVersion: number;
  /** pg_controldata's words for the cluster state ("shut down", "in production", ...). */
  state: string;
  checkpointLsn: bigint;
  redoLsn: bigint;
  timeline: number;
  blockSize: number;
  walSegmentSize: number;
}

export class PgControlError extends Error {}

const FLOAT_FORMAT = 1234567.0;

export function parsePgControl(buf: Buffer): PgControl {
  if (buf.length < 128) throw new PgControlError(`pg_control is too short (${buf.length} bytes)`);
  const version = buf.readUInt32LE(8);
  const little = version >= 1000 && version < 10000;
  if (!little && !(buf.readUInt32BE(8) >= 1000 && buf.readUInt32BE(8) < 10000)) {
    throw new PgControlError(`unknown pg_control version ${version}`);
  }
  const u32 = (o: number) => (little ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u64 = (o: number) => (little ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o));
  const f64 = (o: number) => (little ? buf.readDoubleLE(o) : buf.readDoubleBE(o));

  const pgControlVersion = u32(8);
  if (pgControlVersion < 1002) {
    throw new PgControlError(`pg_control version ${pgControlVersion} is older than PostgreSQL 10; it is not supported`);
  }
  checkCrc(buf, u32);

  const stateNo = u32(16);
  const state = DB_STATES[stateNo] ?? `unrecognized status code ${stateNo}`;
  // PostgreSQL 10 (pg_control_version 1002) still had prevCheckPoint before checkPointCopy.
  const checkPointCopy = pgControlVersion === 1002 ? 48 : 40;

  let ff = -1;
  for (let o = checkPointCopy; o + 32 <= buf.length; o += 4) {
    if (f64(o) === FLOAT_FORMAT) {
      ff = o;
      break;
    }
  }
  if (ff < 0) throw new PgControlError('pg_control has no float format marker');
  return {
    systemIdentifier: u64(0),
    pgControlVersion,
    catalogVersion: u32(12),
    state,
    checkpointLsn: u64(32),
    redoLsn: u64(checkPointCopy),
    timeline: u32(checkPointCopy + 8),
    blockSize: u32(ff + 8),
    walSegmentSize: u32(ff + 20),
  };
}

function checkCrc(buf: Buffer, u32: (o: number) => number): void {
  // The struct is a few hundred bytes; the file is padded with zeros to 8 KiB.
  for (let o = 64; o + 4 <= Math.min(buf.length, 1024); o += 4) {
    if (crc32c(buf.subarray(0, o)) === u32(o)) return;
  }
  throw new PgControlError('pg_control checksum does not match: the file is corrupt or was being written');
}

let table: Uint32Array | undefined;

export function crc32c(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = table[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
