// What a base backup holds: the data-directory walk and its exclusions (spec §4.4.2), streamed so that
// memory does not grow with the number of files (USER-PAINS 14). Each member is lstat'ed when the walk
// reaches it, i.e. while earlier partitions are being uploaded (spec §4.4.3).
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, readlink, stat } from 'node:fs/promises';
import type { RestoreSpec } from '../layout/sentinel';

export type MemberKind = 'dir' | 'file' | 'symlink';

export interface DataDirMember {
  /** Where to read it. */
  path: string;
  /** Tar member name: path relative to the data directory; '' is the data directory itself. */
  name: string;
  kind: MemberKind;
  /** Regular files: st_size when the walk reached it (the size recorded in the tar header). */
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs: number;
  linkTarget?: string;
}

/** Directories archived empty, wherever they are (their contents are runtime state). */
const EMPTY_EVERYWHERE = new Set(['pgsql_tmp', 'pg_stat_tmp', '.wal-e']);
/** Top-level directories archived empty: WAL comes from the archive, logs and slots do not belong. */
const EMPTY_AT_TOP = new Set(['pg_xlog', 'pg_wal', 'pg_log', 'pg_replslot']);
/** Dropped with their contents at every level of the data directory (not inside tablespaces). */
const DROPPED_DIRS = new Set(['lost+found']);
/**
 * Top-level files never archived. WAL-E's list (spec §4.4.2), plus recovery.signal and standby.signal
 * (PostgreSQL 12+), which would otherwise turn a restored backup into a standby (spec §7 item 6).
 */
export const EXCLUDED_TOP_FILES: ReadonlySet<string> = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'postgresql.conf',
  'pg_hba.conf',
  'recovery.conf',
  'recovery.done',
  'pg_ident.conf',
  'promote',
  'recovery.signal',
  'standby.signal',
]);
/** Online backups take these from the stop call; a file of the same name on disk would contradict them. */
export const ONLINE_EXCLUDED_TOP_FILES: ReadonlySet<string> = new Set(['backup_label', 'tablespace_map']);

export interface WalkOptions {
  /** Skip top-level backup_label / tablespace_map (online mode). */
  online: boolean;
  /** Files that are neither regular, directory nor symlink (sockets, FIFOs, devices) are skipped. */
  onSkippedSpecial?: (path: string) => void;
  /** A path disappeared between listing and lstat: skipped, as WAL-E and PostgreSQL's replay allow. */
  onVanished?: (path: string) => void;
}

/** D with exactly one trailing slash. */
export function dataDirPrefix(dataDir: string): string {
  return dataDir.replace(/\/+$/, '') + '/';
}

export function emptyRestoreSpec(dataDir: string): RestoreSpec {
  return { base_prefix: dataDirPrefix(dataDir), tablespaces: [] };
}

/**
 * Members of the backup of `dataDir`, in WAL-E's order: each directory, then its excluded-but-kept
 * subdirectories, then its files, then its other subdirectories; tablespaces (pg_tblspc/<oid> symlinks)
 * are walked through the link and recorded in `spec` (spec §4.4.2, §4.5).
 */
export async function* dataDirMembers(dataDir: string, spec: RestoreSpec, opts: WalkOptions): AsyncGenerator<DataDirMember> {
  const D = dataDirPrefix(dataDir);
  const top = D.slice(0, -1) || '/';
  const entries = await readdir(top, { withFileTypes: true }); // a missing data directory is an error
  yield* walkDir(top, D, true, entries, spec, opts);
}

async function* walkDir(
  dir: string,
  D: string,
  isTop: boolean,
  preRead: Dirent[] | undefined,
  spec: RestoreSpec,
  opts: WalkOptions,
): AsyncGenerator<DataDirMember> {
  const entries = preRead ?? (await readdirOrNothing(dir));
  if (entries === undefined) return opts.onVanished?.(dir);
  const self = await member(dir, D, opts);
  if (!self) return;
  yield self;
  const isTblspc = dir + '/' === D + 'pg_tblspc/';

  const subdirs: string[] = [];
  const files: string[] = [];
  for (const e of entries) {
    const p = `${dir === '/' ? '' : dir}/${e.name}`;
    if (await isDirLike(e, p)) {
      if (DROPPED_DIRS.has(e.name)) continue;
      if (EMPTY_EVERYWHERE.has(e.name) || (isTop && EMPTY_AT_TOP.has(e.name))) {
        const m = await member(p, D, opts);
        if (m) yield m;
        continue;
      }
      subdirs.push(p);
    } else {
      if (isTop && (EXCLUDED_TOP_FILES.has(e.name) || (opts.online && ONLINE_EXCLUDED_TOP_FILES.has(e.name)))) continue;
      files.push(p);
    }
  }
  for (const p of files) {
    const m = await member(p, D, opts);
    if (m) yield m;
  }
  for (const p of subdirs) {
    const link = await lstatOrNothing(p);
    if (!link) {
      opts.onVanished?.(p);
      continue;
    }
    if (link.isSymbolicLink()) {
      if (isTblspc) {
        yield* walkTablespace(p, D, spec, opts);
      } else {
        // WAL-E silently dropped such links (os.walk lists them but never visits them); pg_basebackup
        // keeps them as links, and so do we.
        const m = await member(p, D, opts);
        if (m) yield m;
      }
      continue;
    }
    yield* walkDir(p, D, false, undefined, spec, opts);
  }
}

/** A tablespace through its pg_tblspc/<oid> link (spec §4.4.2 item 6). */
async function* walkTablespace(link: string, D: string, spec: RestoreSpec, opts: WalkOptions): AsyncGenerator<DataDirMember> {
  const oid = link.slice(link.lastIndexOf('/') + 1);
  let target: string;
  try {
    target = await readlink(link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return opts.onVanished?.(link);
    throw err;
  }
  if (!spec.tablespaces.includes(oid)) {
    spec.tablespaces.push(oid);
    spec[oid] = { loc: target.endsWith('/') ? target : `${target}/`, link: `pg_tblspc/${oid}` };
  }
  const visit = async function* (dir: string): AsyncGenerator<DataDirMember> {
    const entries = await readdirOrNothing(dir);
    if (entries === undefined) return opts.onVanished?.(dir);
    const subdirs: string[] = [];
    const files: string[] = [];
    let tmp: string | undefined;
    for (const e of entries) {
      const p = `${dir}/${e.name}`;
      const dirLike = await isDirLike(e, p);
      if (dirLike && e.name === 'pgsql_tmp') tmp = p;
      else if (dirLike && !e.isSymbolicLink()) subdirs.push(p);
      else files.push(p);
    }
    // Only directories without files get an entry of their own, and never the link itself (WAL-E).
    if (files.length === 0 && dir !== link) {
      const m = await member(dir, D, opts);
      if (m) yield m;
    }
    if (tmp !== undefined) {
      const m = await member(tmp, D, opts);
      if (m) yield m;
    }
    for (const p of files) {
      const m = await member(p, D, opts);
      if (m) yield m;
    }
    for (const p of subdirs) yield* visit(p);
  };
  yield* visit(link);
}

async function isDirLike(e: Dirent, p: string): Promise<boolean> {
  if (e.isDirectory()) return true;
  if (!e.isSymbolicLink()) return false;
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false; // dangling: archived as a symlink member
  }
}

async function readdirOrNothing(dir: string): Promise<Dirent[] | undefined> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

async function lstatOrNothing(p: string): Promise<Stats | undefined> {
  try {
    return await lstat(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function member(p: string, D: string, opts: WalkOptions): Promise<DataDirMember | undefined> {
  const st = await lstatOrNothing(p);
  if (!st) {
    opts.onVanished?.(p);
    return undefined;
  }
  const name = (p + '/').startsWith(D) ? p.slice(D.length) : '';
  const base = { path: p, name, size: 0, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtimeMs: st.mtimeMs };
  if (st.isDirectory()) return { ...base, kind: 'dir' };
  if (st.isFile()) return { ...base, kind: 'file', size: st.size };
  if (st.isSymbolicLink()) {
    try {
      return { ...base, kind: 'symlink', linkTarget: await readlink(p) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        opts.onVanished?.(p);
        return undefined;
      }
      throw err;
    }
  }
  // Sockets cannot be put in a tar; FIFOs and devices have no place in a data directory (pg_basebackup
  // skips them too). WAL-E crashed on sockets (spec §7 item 24).
  opts.onSkippedSpecial?.(p);
  return undefined;
}
