// The non-exclusive low-level backup API, held on one session (spec §7 items 1, 2, 9; USER-PAINS 1, 2):
//   PostgreSQL 15+: pg_backup_start(label, fast) / pg_backup_stop(wait_for_archive)
//   PostgreSQL 10-14: pg_start_backup(label, fast, exclusive => false) / pg_stop_backup(false, wait_for_archive)
// The stop call never waits for archiving here: the server would wait without a bound (and without
// saying so to the client); backup-push does its own bounded, logged wait instead (archive-wait.ts).
// Names come from pg_walfile_name_offset's rule, computed locally because that function refuses to run
// during recovery, which is where standby backups happen.
import { UserError } from '../util/errors';
import { isValidSegmentSize, parseLsn, walFileNameOffset } from './lsn';
import type { PgSession } from './session';

export interface ServerInfo {
  versionNum: number;
  /** SELECT version(): the text for extended_version.txt (spec §3.5). */
  versionText: string;
  inRecovery: boolean;
  walSegmentSize: number;
  /** The archive_mode setting: off, on or always. */
  archiveMode: string;
}

export interface BackupStart {
  lsn: bigint;
  timeline: number;
  segment: string;
  /** Byte offset of the start LSN within `segment`. */
  offset: number;
}

export interface BackupStop {
  lsn: bigint;
  timeline: number;
  segment: string;
  offset: number;
  /** Contents for the backup's backup_label member. */
  labelFile: string;
  /** Contents for tablespace_map; empty when the cluster has no tablespaces. */
  tablespaceMap: string;
}

const MIN_VERSION = 100000;

export async function serverInfo(s: PgSession): Promise<ServerInfo> {
  const [row] = await s.query<{ v: string; version: string; rec: boolean; seg: string; unit: string | null; am: string }>(
    `SELECT current_setting('server_version_num') AS v, version() AS version, pg_is_in_recovery() AS rec,
            (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') AS seg,
            (SELECT unit FROM pg_settings WHERE name = 'wal_segment_size') AS unit,
            current_setting('archive_mode') AS am`,
  );
  if (!row) throw new Error('no answer to the server information query');
  const versionNum = Number(row.v);
  if (versionNum < MIN_VERSION) {
    throw new UserError('PostgreSQL versions before 10 are not supported by backup-push', {
      detail: `The server reports server_version_num ${row.v}.`,
      hint: 'Use WAL-E 1.1.1 for these servers.',
    });
  }
  const walSegmentSize = Number(row.seg) * unitBytes(row.unit);
  if (!isValidSegmentSize(walSegmentSize)) throw new Error(`unexpected wal_segment_size ${row.seg} ${row.unit ?? ''}`);
  return { versionNum, versionText: row.version, inRecovery: row.rec, walSegmentSize, archiveMode: row.am };
}

function unitBytes(unit: string | null): number {
  const m = /^(\d*)\s*(B|kB|MB|GB)?$/.exec(unit ?? 'B');
  if (!m) throw new Error(`unexpected unit "${unit}" for wal_segment_size`);
  const scale = { B: 1, kB: 1024, MB: 1 << 20, GB: 1 << 30 }[m[2] ?? 'B']!;
  return (m[1] ? Number(m[1]) : 1) * scale;
}

/** WAL-E's label: freeze_start_ + UTC ISO 8601 with microseconds and +00:00 (spec §5.4.1). */
export function backupLabel(now: Date): string {
  const iso = now.toISOString().replace(/\.(\d{3})Z$/, (_m, ms: string) => (ms === '000' ? '' : `.${ms}000`));
  return `freeze_start_${iso.replace(/Z$/, '')}+00:00`;
}

/** The timeline the server is writing (primary) or replaying (standby). */
async function currentTimeline(s: PgSession, info: ServerInfo): Promise<number> {
  const sql = info.inRecovery
    ? `SELECT timeline_id AS tli FROM pg_control_checkpoint()`
    : `SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS tli`;
  const [row] = await s.query<{ tli: number }>(sql);
  return Number(row!.tli);
}

export async function startBackup(s: PgSession, info: ServerInfo, label: string, fast: boolean): Promise<BackupStart> {
  const call = info.versionNum >= 150000 ? 'pg_backup_start($1, $2)' : 'pg_start_backup($1, $2, false)';
  const [row] = await s.query<{ lsn: string }>(`SELECT ${call}::text AS lsn`, [label, fast]);
  const lsn = parseLsn(row!.lsn);
  // The start LSN is the checkpoint's REDO; on a standby that restartpoint's timeline is in pg_control.
  const timeline = info.inRecovery ? await currentTimeline(s, info) : await startTimeline(s, lsn, info);
  const { fileName, offset } = walFileNameOffset(lsn, timeline, info.walSegmentSize);
  return { lsn, timeline, segment: fileName, offset };
}

/** On a primary pg_walfile_name gives the timeline (and must agree with our own arithmetic). */
async function startTimeline(s: PgSession, lsn: bigint, info: ServerInfo): Promise<number> {
  const [row] = await s.query<{ f: string }>(`SELECT pg_walfile_name($1::pg_lsn) AS f`, [lsnText(lsn)]);
  const tli = Number.parseInt(row!.f.slice(0, 8), 16);
  const mine = walFileNameOffset(lsn, tli, info.walSegmentSize).fileName;
  if (mine !== row!.f) throw new Error(`segment name mismatch for ${lsnText(lsn)}: server ${row!.f}, computed ${mine}`);
  return tli;
}

const lsnText = (lsn: bigint) => `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;

export async function stopBackup(s: PgSession, info: ServerInfo, start: BackupStart): Promise<BackupStop> {
  const call = info.versionNum >= 150000 ? 'pg_backup_stop(false)' : 'pg_stop_backup(false, false)';
  const [row] = await s.query<{ lsn: string; labelfile: string; spcmapfile: string | null }>(
    `SELECT lsn::text AS lsn, labelfile, spcmapfile FROM ${call}`,
  );
  const lsn = parseLsn(row!.lsn);
  let timeline = start.timeline;
  if (info.inRecovery) {
    const [r] = await s.query<{ tli: number }>(`SELECT min_recovery_end_timeline AS tli FROM pg_control_recovery()`);
    if (r && Number(r.tli) > 0) timeline = Number(r.tli);
  } else {
    timeline = await currentTimeline(s, info);
  }
  const { fileName, offset } = walFileNameOffset(lsn, timeline, info.walSegmentSize);
  return { lsn, timeline, segment: fileName, offset, labelFile: row!.labelfile, tablespaceMap: row!.spcmapfile ?? '' };
}
