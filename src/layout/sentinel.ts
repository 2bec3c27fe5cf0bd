// The backup-stop sentinel JSON (spec §3.4, §4.5): written last, its existence commits a backup.

import { CorruptObjectError } from '../util/errors';

export interface RestoreSpec {
  base_prefix: string;
  tablespaces: string[];
  [oid: string]: unknown;
}

export interface Sentinel {
  wal_segment_backup_stop?: string;
  wal_segment_offset_backup_stop?: string;
  expanded_size_bytes?: number;
  spec?: RestoreSpec;
  [k: string]: unknown;
}

const SENTINEL_KEY_ORDER = ['wal_segment_backup_stop', 'wal_segment_offset_backup_stop', 'expanded_size_bytes', 'spec'];

/** Python `json.dumps` with default arguments: ", " / ": " separators, ASCII-only output, no newline. */
export function serializeSentinel(s: Sentinel): string {
  const ordered: Record<string, unknown> = {};
  for (const k of SENTINEL_KEY_ORDER) if (s[k] !== undefined) ordered[k] = s[k];
  for (const k of Object.keys(s)) if (!(k in ordered) && s[k] !== undefined) ordered[k] = s[k];
  return `{${Object.entries(ordered)
    .map(([k, v]) => `${pythonString(k)}: ${k === 'spec' ? specJson(v as RestoreSpec) : pythonJsonDumps(v)}`)
    .join(', ')}}`;
}

// JavaScript objects list integer-like keys (tablespace OIDs) first; WAL-E wrote base_prefix, tablespaces,
// then one entry per tablespace in discovery order.
function specJson(spec: RestoreSpec): string {
  const keys = ['base_prefix', 'tablespaces', ...(Array.isArray(spec.tablespaces) ? spec.tablespaces.map(String) : [])];
  for (const k of Object.keys(spec)) if (!keys.includes(k)) keys.push(k);
  const parts = keys
    .filter((k, i) => keys.indexOf(k) === i && spec[k] !== undefined)
    .map((k) => `${pythonString(k)}: ${pythonJsonDumps(spec[k])}`);
  return `{${parts.join(', ')}}`;
}

function pythonJsonDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return pythonString(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
    return JSON.stringify(v);
  }
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (Array.isArray(v)) return `[${v.map(pythonJsonDumps).join(', ')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${entries.map(([k, x]) => `${pythonString(k)}: ${pythonJsonDumps(x)}`).join(', ')}}`;
  }
  return pythonString(String(v));
}

// ensure_ascii escapes everything outside space..'~' (so DEL too) as lower-case \uXXXX code units.
function pythonString(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Parse a sentinel; unknown fields are kept, missing `spec`/`expanded_size_bytes` are fine (pre-0.7). */
export function parseSentinel(text: string, key: string): Sentinel {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new CorruptObjectError(`backup sentinel is not valid JSON: ${key}`, {
      detail: e instanceof Error ? e.message : String(e),
    });
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new CorruptObjectError(`backup sentinel is not a JSON object: ${key}`);
  }
  return v as Sentinel;
}
