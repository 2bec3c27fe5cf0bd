// The restore spec (spec §4.5, §5.5 step 5): where the data directory and each tablespace go. Unlike
// WAL-E, the sentinel is read on every store, the restore directory given on the command line wins over
// the sentinel's original path (spec §7 item 16), and the spec is validated before anything is created.
import { readFile, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { RestoreSpec } from '../../layout/sentinel';
import { UserError } from '../../util/errors';

export interface TablespaceTarget {
  readonly oid: string;
  /** Absolute directory the tablespace is restored into. */
  readonly loc: string;
}

export interface RestorePlan {
  /** The directory the backup is extracted into. */
  readonly basePrefix: string;
  /** Tablespaces the backup has (from the spec), in spec order. */
  readonly tablespaces: readonly TablespaceTarget[];
  /** true: create `loc` directories and pg_tblspc symlinks first (--restore-spec given). */
  readonly createLinks: boolean;
  /** Where the plan came from, for log lines. */
  readonly source: 'sentinel' | 'SOURCE' | 'file';
}

const SPEC_HINT =
  'Provide valid json-formatted restoration specification, or pseudo-name "SOURCE" to restore using the specification from the backup progenitor.';

function badSpec(what: string, where: string): UserError {
  return new UserError('invalid restore specification', { detail: `${where}: ${what}.`, hint: SPEC_HINT });
}

/** Checks and normalises a spec's tablespace entries; `where` names the spec in errors. */
export function tablespaceTargets(spec: Record<string, unknown>, where: string, needLoc: boolean): TablespaceTarget[] {
  const list = spec.tablespaces;
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw badSpec('"tablespaces" is not a list', where);
  const out: TablespaceTarget[] = [];
  for (const oid of list) {
    // The OID becomes a path component under pg_tblspc/: digits only.
    if (typeof oid !== 'string' || !/^\d+$/.test(oid)) throw badSpec(`tablespace name ${JSON.stringify(oid)} is not an OID`, where);
    const entry = spec[oid];
    if (entry === undefined && !needLoc) {
      out.push({ oid, loc: '' });
      continue;
    }
    if (typeof entry !== 'object' || entry === null) throw badSpec(`tablespace ${oid} has no {"loc", "link"} entry`, where);
    const { loc, link } = entry as { loc?: unknown; link?: unknown };
    if (typeof loc !== 'string' || !posix.isAbsolute(loc)) throw badSpec(`tablespace ${oid}'s "loc" is not an absolute path`, where);
    // WAL-E verified pg_tblspc/<oid> whatever "link" said (spec §5.5 step 6); anything else is a mistake.
    if (link !== undefined && (typeof link !== 'string' || posix.normalize(link).replace(/\/$/, '') !== `pg_tblspc/${oid}`)) {
      throw badSpec(`tablespace ${oid}'s "link" must be "pg_tblspc/${oid}"`, where);
    }
    out.push({ oid, loc: posix.normalize(loc) });
  }
  return out;
}

async function readSpecFile(path: string): Promise<Record<string, unknown>> {
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) {
    // WAL-E printed a literal "%s" here (spec §5.5); say which file.
    throw new UserError('Restore specification does not exist', { detail: `File not found: ${path}`, hint: SPEC_HINT });
  }
  let v: unknown;
  try {
    v = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw badSpec(`not valid JSON (${(err as Error).message})`, path);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badSpec('not a JSON object', path);
  return v as Record<string, unknown>;
}

/**
 * The plan for one restore. `restoreSpec` is the --restore-spec value (a file, "SOURCE" or undefined);
 * `sentinelSpec` the spec recorded at backup time (absent for pre-0.7 backups).
 */
export async function planRestore(dest: string, restoreSpec: string | undefined, sentinelSpec: RestoreSpec | undefined): Promise<RestorePlan> {
  const recorded = (sentinelSpec ?? {}) as Record<string, unknown>;
  if (restoreSpec === undefined) {
    return { basePrefix: dest, tablespaces: tablespaceTargets(recorded, 'the backup sentinel', false), createLinks: false, source: 'sentinel' };
  }
  if (restoreSpec === 'SOURCE') {
    if (!sentinelSpec) {
      throw new UserError('the backup has no restore specification', {
        detail: 'Its sentinel records no "spec" (backups made by WAL-E before 0.7).',
        hint: 'Give a restore specification file instead of SOURCE.',
      });
    }
    return { basePrefix: dest, tablespaces: tablespaceTargets(recorded, 'the backup sentinel', true), createLinks: true, source: 'SOURCE' };
  }
  const file = await readSpecFile(restoreSpec);
  const merged = { ...recorded, ...file };
  const own = file.base_prefix;
  if (own !== undefined && own !== '' && (typeof own !== 'string' || !posix.isAbsolute(own))) {
    throw badSpec('"base_prefix" is not an absolute path', restoreSpec);
  }
  return {
    basePrefix: typeof own === 'string' && own !== '' ? own : dest,
    tablespaces: tablespaceTargets(merged, restoreSpec, true),
    createLinks: true,
    source: 'file',
  };
}
