// backup-list [QUERY] [--detail] (spec §5.6): WAL-E's excel-tab table on stdout, header first and always,
// CRLF line ends. --detail reads each sentinel on every store (WAL-E's file store left the columns empty).
import type { Invocation } from '../cli/program';
import type { Config } from '../config/config';
import { invalidQuery, listCatalog, parseQuery, readSentinel, selectBackups, type BackupEntry } from '../backup/catalog';
import type { Sentinel } from '../layout/sentinel';
import { getLogger } from '../log/logger';
import { openStore } from '../storage/open-store';
import { settleWithLimit } from '../util/pool';

const log = getLogger('wal_e.operator.backup');

export const LIST_COLUMNS = [
  'name',
  'last_modified',
  'expanded_size_bytes',
  'wal_segment_backup_start',
  'wal_segment_offset_backup_start',
  'wal_segment_backup_stop',
  'wal_segment_offset_backup_stop',
] as const;

/** Python csv "excel-tab": quote only fields holding TAB, '"', CR or LF, doubling quotes; CRLF ends. */
export function tsvRow(fields: readonly string[]): string {
  return fields.map((f) => (/[\t"\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join('\t') + '\r\n';
}

/** A sentinel field as the csv module prints it: str() of numbers, empty when absent. */
function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

export function listRow(b: BackupEntry, s: Sentinel | undefined): string {
  return tsvRow([
    b.name,
    b.lastModified,
    cell(s?.expanded_size_bytes),
    b.parsed.startSegment,
    b.parsed.offset,
    cell(s?.wal_segment_backup_stop),
    cell(s?.wal_segment_offset_backup_stop),
  ]);
}

const DETAIL_CONCURRENCY = 8;

export default async function backupList(config: Config, inv: Invocation): Promise<number> {
  const [queryText] = inv.args;
  const detail = inv.options.detail === true;
  process.stdout.write(tsvRow(LIST_COLUMNS));
  const query = parseQuery(queryText);
  if (!query) throw invalidQuery(queryText!);
  const store = await openStore(config);
  const catalog = await listCatalog(store);
  if (catalog.incomplete.length > 0) {
    log.warning('found base backups without a sentinel; they are incomplete and not listed', {
      detail: `Incomplete backups: ${catalog.incomplete.join(', ')}.`,
      hint: 'A backup-push may still be running, or it failed. "wal-e delete" removes incomplete backups older than the oldest complete one.',
    });
  }
  const rows = selectBackups(catalog, query, config.store.kind);
  let sentinels: (Sentinel | undefined)[] = rows.map(() => undefined);
  if (detail) {
    const settled = await settleWithLimit(rows.map((b) => () => readSentinel(store, b.name)), DETAIL_CONCURRENCY);
    sentinels = settled.map((r) => {
      if (r.status === 'rejected') throw r.reason;
      return r.value;
    });
  }
  process.stdout.write(rows.map((b, i) => listRow(b, sentinels[i])).join(''));
  return 0;
}
