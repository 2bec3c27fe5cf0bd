// Prepares the restore directory and the tablespace symlinks, and checks them (spec §5.5 steps 5-6).
// The result says where each tablespace's members go: through a pg_tblspc/<oid> symlink that the user
// or the restore spec put there, never through one that came out of the backup.
import { lstat, mkdir, readdir, readlink, realpath, stat, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { getLogger } from '../../log/logger';
import { LocalIoError, UserError } from '../../util/errors';
import type { RestorePlan } from './restore-spec';

const log = getLogger('wal_e.worker.base');

export interface RestoreRoots {
  /** realpath of the restore directory. */
  readonly dest: string;
  /** OID -> realpath of the directory its pg_tblspc symlink leads to. */
  readonly tablespaces: ReadonlyMap<string, string>;
}

function ioError(what: string, path: string, err: unknown): LocalIoError {
  const e = err as NodeJS.ErrnoException;
  return new LocalIoError(`could not ${what} "${path}"`, { detail: `${e.code ?? e.name}: ${e.message}` });
}

async function ensureDir(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw ioError('create directory', path, err);
  }
  const st = await stat(path).catch(() => undefined);
  if (!st?.isDirectory()) throw new LocalIoError(`"${path}" is not a directory`);
}

/** Creates the restore directory, and with a restore spec every tablespace directory and symlink. */
export async function prepareLayout(plan: RestorePlan): Promise<void> {
  await ensureDir(plan.basePrefix);
  if (!plan.createLinks) return;
  await ensureDir(join(plan.basePrefix, 'pg_tblspc'));
  for (const ts of plan.tablespaces) {
    await ensureDir(ts.loc);
    const at = join(plan.basePrefix, 'pg_tblspc', ts.oid);
    const existing = await lstat(at).catch(() => undefined);
    if (existing) {
      const same = existing.isSymbolicLink() && (await realpath(at).catch(() => '')) === (await realpath(ts.loc));
      if (same) continue;
      throw new UserError('cannot create a tablespace symlink', {
        detail: `"${at}" already exists and is not a symlink to "${ts.loc}".`,
        hint: 'Remove it, or restore into an empty directory.',
      });
    }
    try {
      await symlink(ts.loc, at);
    } catch (err) {
      throw ioError('create tablespace symlink', at, err);
    }
  }
}

/**
 * Checks that every tablespace of the plan has its pg_tblspc/<oid> symlink to a directory (unless
 * --blind-restore), and collects every such symlink present as a tablespace root.
 */
export async function resolveRoots(plan: RestorePlan, blind: boolean): Promise<RestoreRoots> {
  const dest = await realpath(plan.basePrefix);
  const tblspc = join(dest, 'pg_tblspc');
  const roots = new Map<string, string>();
  const names = await readdir(tblspc).catch(() => [] as string[]);
  for (const name of names) {
    const p = join(tblspc, name);
    const st = await lstat(p).catch(() => undefined);
    if (!st?.isSymbolicLink()) continue;
    const target = await realpath(p).catch(() => undefined);
    if (target && (await stat(target).catch(() => undefined))?.isDirectory()) roots.set(name, target);
  }
  const missing = plan.tablespaces.filter((t) => !roots.has(t.oid)).map((t) => t.oid);
  if (missing.length > 0 && !blind) {
    throw new UserError('Symlinks for some tablespaces not found or created.', {
      detail: `Symlinks for the following tablespaces were not found: ${missing.join(', ')}`,
      hint:
        'Ensure all required symlinks are created prior to running backup-fetch, or use --blind-restore to ignore symlinking. ' +
        'Alternatively supply a restore spec to have WAL-E create tablespace symlinks for you',
    });
  }
  for (const oid of missing) {
    log.warning('restoring a tablespace inside the data directory', {
      detail: `Tablespace ${oid} has no symlink at pg_tblspc/${oid}; its files go to the directory pg_tblspc/${oid} in the restore directory.`,
      hint: 'PostgreSQL refuses to start with such a directory unless allow_in_place_tablespaces = on (PostgreSQL 15+). Use --restore-spec to relocate it instead.',
    });
  }
  for (const [oid, dir] of roots) {
    const link = await readlink(join(tblspc, oid)).catch(() => dir);
    log.info('restoring a tablespace through its symlink', { detail: `Tablespace ${oid}: pg_tblspc/${oid} -> ${link}.` });
  }
  return { dest, tablespaces: roots };
}
