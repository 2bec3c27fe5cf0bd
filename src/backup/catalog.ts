// Which base backups a store holds (spec §3.6): a backup exists iff its sentinel sits directly inside
// basebackups_005/. Also LATEST, and the sentinel details that `backup-list --detail` and backup-fetch use.
import type { BlobStore, ObjectInfo } from '../storage/blob-store';
import type { StoreKind } from '../storage/location';
import { BASEBACKUPS_PREFIX, parseBackupName, parseSentinelFileName, sentinelKey, type BackupName } from '../layout/backup-name';
import { parseSentinel, type Sentinel } from '../layout/sentinel';
import { NotFoundError, UserError } from '../util/errors';

export interface BackupEntry {
  readonly name: string;
  readonly parsed: BackupName;
  readonly sentinelKey: string;
  /** The sentinel's native last-modified text (backup-list's last_modified column). */
  readonly lastModified: string;
  readonly lastModifiedMs: number;
}

export interface Catalog {
  /** Complete backups, in listing order (spec §3.6 step 4: no sorting). */
  readonly backups: BackupEntry[];
  /** Names of backup directories that have objects but no sentinel: unfinished or broken pushes. */
  readonly incomplete: string[];
}

/** Sorts listing rows into complete backups (with a sentinel) and incomplete ones (spec §3.6 steps 1-3). */
export function catalogFromListing(objects: Iterable<ObjectInfo>): Catalog {
  const backups: BackupEntry[] = [];
  const dirs = new Set<string>();
  for (const o of objects) {
    if (!o.key.startsWith(BASEBACKUPS_PREFIX)) continue;
    const rest = o.key.slice(BASEBACKUPS_PREFIX.length);
    const slash = rest.indexOf('/');
    if (slash === -1) {
      const parsed = parseSentinelFileName(rest);
      if (parsed) {
        backups.push({ name: parsed.name, parsed, sentinelKey: o.key, lastModified: o.lastModified, lastModifiedMs: o.lastModifiedMs });
      }
    } else {
      const dir = parseBackupName(rest.slice(0, slash));
      if (dir && dir.name === rest.slice(0, slash)) dirs.add(dir.name);
    }
  }
  const complete = new Set(backups.map((b) => b.name));
  return { backups, incomplete: [...dirs].filter((d) => !complete.has(d)) };
}

export async function listCatalog(store: BlobStore): Promise<Catalog> {
  const objects: ObjectInfo[] = [];
  for await (const o of store.list(BASEBACKUPS_PREFIX)) objects.push(o);
  return catalogFromListing(objects);
}

/**
 * How WAL-E compared last-modified values (spec §3.6): as strings on S3, Swift and file (their texts
 * sort chronologically), as datetimes on WABS and GS (whose texts do not).
 */
export function compareLastModified(kind: StoreKind): (a: BackupEntry, b: BackupEntry) => number {
  if (kind === 'wabs' || kind === 'gs') return (a, b) => a.lastModifiedMs - b.lastModifiedMs;
  return (a, b) => (a.lastModified < b.lastModified ? -1 : a.lastModified > b.lastModified ? 1 : 0);
}

/** LATEST: the greatest sentinel last-modified; on a tie the last one in listing order wins (spec §3.6). */
export function pickLatest(backups: readonly BackupEntry[], cmp: (a: BackupEntry, b: BackupEntry) => number): BackupEntry | undefined {
  let best: BackupEntry | undefined;
  for (const b of backups) if (!best || cmp(b, best) >= 0) best = b;
  return best;
}

export type BackupQuery = { kind: 'all' } | { kind: 'latest' } | { kind: 'name'; name: string };

/** LATEST, a backup name (prefix-matched, spec §5.5 step 3), or undefined for anything else. */
export function parseQuery(q: string | undefined): BackupQuery | undefined {
  if (q === undefined) return { kind: 'all' };
  if (q === 'LATEST') return { kind: 'latest' };
  return parseBackupName(q) ? { kind: 'name', name: q } : undefined;
}

export function invalidQuery(q: string): UserError {
  return new UserError('invalid backup query submitted', { detail: `The submitted query operator was "${q}."` });
}

/** The backups a query selects; a name selects the backups whose name is exactly equal. */
export function selectBackups(catalog: Catalog, query: BackupQuery, kind: StoreKind): BackupEntry[] {
  switch (query.kind) {
    case 'all':
      return catalog.backups;
    case 'latest': {
      const latest = pickLatest(catalog.backups, compareLastModified(kind));
      return latest ? [latest] : [];
    }
    case 'name':
      return catalog.backups.filter((b) => b.name === query.name);
  }
}

async function readText(store: BlobStore, key: string): Promise<string> {
  const body = await store.get(key);
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The sentinel of a backup, read on every store (WAL-E's file store never read it: spec §7 item 13). */
export async function readSentinel(store: BlobStore, name: string): Promise<Sentinel> {
  const key = sentinelKey(name);
  try {
    return parseSentinel(await readText(store, key), store.url(key));
  } catch (err) {
    if (err instanceof NotFoundError) {
      throw new UserError('the backup sentinel disappeared while it was being read', {
        detail: `The sentinel ${store.url(key)} no longer exists.`,
        hint: 'Another process may be deleting this backup.',
      });
    }
    throw err;
  }
}
