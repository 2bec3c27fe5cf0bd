// Safe extraction of tar members into the restore directory (spec §4.6, made safe). Rules:
// * member names are relative and never climb out (member-path.ts); "/" is the directory itself;
// * tablespace members (pg_tblspc/<oid>/...) go through the pg_tblspc/<oid> symlinks that the user or
//   the restore spec prepared, and nothing is ever written through a symlink that came from the backup:
//   symlinks and hard links are created only after every partition is extracted (which also restores
//   hard links whose target is in another partition, spec §7 item 24), and a member below a pending
//   symlink is refused;
// * files are opened with O_NOFOLLOW; a symlink or hard link leading outside is refused;
// * modes are what PostgreSQL needs: 0700/0750 directories, 0600/0640 files (group bits kept only when
//   the backup had them), never world access;
// * everything is fsynced before the restore is reported complete.
import { constants } from 'node:fs';
import { chmod, chown, lchown, link, lstat, mkdir, open, realpath, symlink, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { getLogger } from '../../log/logger';
import { LocalIoError } from '../../util/errors';
import { fsyncPath, SyncBatch } from './durability';
import { UnsafeMemberError, memberPathParts, symlinkTargetParts } from './member-path';
import { OwnerMap, type Owner } from './ownership';
import type { RestoreRoots } from './restore-layout';

const log = getLogger('wal_e.worker.base');

/** The parts of a tar header the extractor needs (tar-stream's header shape). */
export interface MemberHeader {
  name: string;
  type: string | null;
  size?: number;
  mode?: number;
  uid?: number;
  gid?: number;
  uname?: string;
  gname?: string;
  mtime?: Date;
  linkname?: string | null;
  pax?: unknown;
}

/** Top-level entries PostgreSQL allows to be symlinks to other file systems (initdb --waldir). */
const EXTERNAL_LINK_OK = new Set(['pg_wal', 'pg_xlog']);

interface Place {
  /** The member's path relative to the restore directory, "/"-joined ("" = the directory itself). */
  key: string;
  /** The directory this member is confined to: the restore directory or a tablespace directory. */
  root: string;
  /** Components below root. */
  rel: string[];
  abs: string;
}

interface PendingLink {
  place: Place;
  target: string;
  owner: Owner | undefined;
  member: string;
  partition: string;
}

function ioError(what: string, path: string, err: unknown): LocalIoError {
  const e = err as NodeJS.ErrnoException;
  return new LocalIoError(`could not ${what} "${path}"`, { detail: `${e.code ?? e.name}: ${e.message}` });
}

const within = (path: string, root: string): boolean => path === root || path.startsWith(root.endsWith('/') ? root : root + '/');

function mtimeOf(h: MemberHeader): Date {
  const pax = (h.pax as Record<string, unknown> | null | undefined)?.mtime;
  if (typeof pax === 'string' && /^\d+(\.\d+)?$/.test(pax)) return new Date(Number(pax) * 1000);
  return h.mtime ?? new Date();
}

export class SafeExtractor {
  members = 0;
  private readonly verifiedDirs = new Set<string>();
  private readonly symlinks = new Map<string, PendingLink>();
  private readonly hardlinks = new Map<string, PendingLink>();
  private readonly dirTimes = new Map<string, Date>();
  private readonly owners = new OwnerMap();
  private readonly sync = new SyncBatch();

  constructor(private readonly roots: RestoreRoots) {}

  /** Restores one member; `body` is its data (consumed for regular files only). Returns the data bytes. */
  async member(h: MemberHeader, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, partition: string): Promise<number> {
    const refuse = (why: string) => new UnsafeMemberError(h.name, why, partition);
    const parsed = memberPathParts(h.name);
    if ('refused' in parsed) throw refuse(parsed.refused);
    const place = this.locate(parsed.parts);
    this.checkNoPendingLinkAbove(parsed.parts, refuse);
    const owner = this.owners.ownerOf(h.uname, h.gname, h.uid ?? 0, h.gid ?? 0);
    this.members++;
    switch (h.type) {
      case 'directory':
        await this.directory(place, h, owner, refuse);
        return 0;
      case 'file':
      case 'contiguous-file':
        if (place.rel.length === 0) throw refuse('is a file in place of a directory');
        return this.file(place, h, body, owner, refuse);
      case 'symlink':
        this.symlinkMember(place, h, owner, partition, refuse);
        return 0;
      case 'link':
        this.hardlinkMember(place, h, owner, partition, refuse);
        return 0;
      default:
        throw refuse(`has a type this restore does not create (${h.type ?? 'unknown'})`);
    }
  }

  /** Creates the deferred hard links and symlinks, applies directory times and syncs everything. */
  async finish(): Promise<void> {
    for (const l of this.hardlinks.values()) await this.createHardlink(l);
    for (const l of this.symlinks.values()) await this.createSymlink(l);
    for (const [dir, t] of this.dirTimes) await utimes(dir, t, t).catch((err) => {
      throw ioError('set the time of', dir, err);
    });
    await this.sync.flush();
    const dirs = new Set([this.roots.dest, dirname(this.roots.dest), ...this.roots.tablespaces.values()]);
    for (const d of dirs) await fsyncPath(d, true);
  }

  private locate(parts: string[]): Place {
    const key = parts.join('/');
    if (parts[0] === 'pg_tblspc' && parts.length >= 2) {
      const tsRoot = this.roots.tablespaces.get(parts[1]!);
      if (tsRoot) {
        const rel = parts.slice(2);
        return { key, root: tsRoot, rel, abs: join(tsRoot, ...rel) };
      }
    }
    return { key, root: this.roots.dest, rel: parts, abs: join(this.roots.dest, ...parts) };
  }

  private checkNoPendingLinkAbove(parts: string[], refuse: (why: string) => Error): void {
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/');
      if (this.symlinks.has(prefix)) throw refuse(`would be written through the symbolic link "${prefix}" of the backup`);
    }
  }

  /** Creates missing parent directories below place.root; refuses symlinks and non-directories on the way. */
  private async ensureParents(place: Place, owner: Owner | undefined, refuse: (why: string) => Error, create = true): Promise<void> {
    let cur = place.root;
    for (let i = 0; i < place.rel.length - 1; i++) {
      cur = join(cur, place.rel[i]!);
      if (this.verifiedDirs.has(cur)) continue;
      let st = await lstat(cur).catch(() => undefined);
      if (!st && create) {
        try {
          await mkdir(cur, { mode: 0o700 });
          if (owner) await chown(cur, owner.uid, owner.gid);
          this.sync.addDir(dirname(cur));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('create directory', cur, err);
        }
        st = await lstat(cur).catch(() => undefined);
      }
      if (!st) throw refuse(`needs "${place.rel.slice(0, i + 1).join('/')}", which does not exist`);
      if (st.isSymbolicLink()) throw refuse(`would be written through the symbolic link "${cur}"`);
      if (!st.isDirectory()) throw refuse(`needs "${cur}" to be a directory, and it is not`);
      this.verifiedDirs.add(cur);
    }
  }

  private async directory(place: Place, h: MemberHeader, owner: Owner | undefined, refuse: (why: string) => Error): Promise<void> {
    const mode = ((h.mode ?? 0o700) & 0o750) | 0o700;
    if (place.rel.length > 0) {
      await this.ensureParents(place, owner, refuse);
      let st = await lstat(place.abs).catch(() => undefined);
      if (!st) {
        try {
          await mkdir(place.abs, { mode });
          this.sync.addDir(dirname(place.abs));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('create directory', place.abs, err);
        }
        st = await lstat(place.abs).catch(() => undefined);
      }
      // A symlink to a directory that was there before the restore (a user's pg_wal on another disk) is
      // kept as it is; nothing is written through it.
      if (st?.isSymbolicLink()) return;
      if (!st?.isDirectory()) throw refuse(`is a directory, and "${place.abs}" is in the way`);
      this.verifiedDirs.add(place.abs);
    }
    try {
      await chmod(place.abs, mode);
      if (owner) await chown(place.abs, owner.uid, owner.gid);
      // The data directory's owner also owns the tablespace directories (PostgreSQL writes there).
      if (owner && place.key === '') for (const r of this.roots.tablespaces.values()) await chown(r, owner.uid, owner.gid);
    } catch (err) {
      throw ioError('set the mode of', place.abs, err);
    }
    this.dirTimes.set(place.abs, mtimeOf(h));
  }

  private async file(
    place: Place,
    h: MemberHeader,
    body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    owner: Owner | undefined,
    refuse: (why: string) => Error,
  ): Promise<number> {
    await this.ensureParents(place, owner, refuse);
    const mode = ((h.mode ?? 0o600) & 0o640) | 0o600;
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW;
    let fh: FileHandle;
    try {
      fh = await open(place.abs, flags, mode);
    } catch (err) {
      // An existing symlink at this name is replaced, never followed.
      if ((err as NodeJS.ErrnoException).code !== 'ELOOP') throw ioError('create', place.abs, err);
      await unlink(place.abs).catch(() => undefined);
      fh = await open(place.abs, flags, mode).catch((e: unknown) => {
        throw ioError('create', place.abs, e);
      });
    }
    let written = 0;
    try {
      for await (const chunk of body) {
        let off = 0;
        while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
        written += chunk.length;
      }
      await fh.chmod(mode);
      if (owner) await fh.chown(owner.uid, owner.gid);
      const t = mtimeOf(h);
      await fh.utimes(t, t);
      // Sync through the handle already open (as pgBackRest does): re-opening every file in batches
      // later cost a third of a restore's time.
      await fh.sync();
    } catch (err) {
      if (err instanceof Error && 'code' in err && typeof (err as NodeJS.ErrnoException).syscall === 'string') {
        throw ioError('write', place.abs, err);
      }
      throw err;
    } finally {
      await fh.close().catch(() => undefined);
    }
    this.sync.addDir(dirname(place.abs));
    return written;
  }

  private symlinkMember(place: Place, h: MemberHeader, owner: Owner | undefined, partition: string, refuse: (why: string) => Error): void {
    const target = h.linkname ?? '';
    if (place.rel.length === 0) throw refuse('is a symbolic link in place of a directory');
    const external = place.root === this.roots.dest && place.rel.length === 1 && EXTERNAL_LINK_OK.has(place.rel[0]!);
    if (!symlinkTargetParts(place.rel, target)) {
      if (!external) throw refuse(`is a symbolic link to "${target}", outside the restore directory`);
      log.warning('restoring a symbolic link that leads out of the data directory', {
        detail: `${place.key} -> ${target}`,
        hint: 'PostgreSQL allows pg_wal to live elsewhere; make sure that directory exists and is the right one.',
      });
    }
    this.symlinks.set(place.key, { place, target, owner, member: h.name, partition });
  }

  private hardlinkMember(place: Place, h: MemberHeader, owner: Owner | undefined, partition: string, refuse: (why: string) => Error): void {
    const target = h.linkname ?? '';
    const parsed = memberPathParts(target);
    if ('refused' in parsed || parsed.parts.length === 0) throw refuse(`is a hard link to "${target}", outside the restore directory`);
    if (place.rel.length === 0) throw refuse('is a hard link in place of a directory');
    this.checkNoPendingLinkAbove(parsed.parts, (why) => refuse(`links to a member that ${why}`));
    this.hardlinks.set(place.key, { place, target: parsed.parts.join('/'), owner, member: h.name, partition });
  }

  private async createHardlink(l: PendingLink): Promise<void> {
    const refuse = (why: string) => new UnsafeMemberError(l.member, why, l.partition);
    const targetPlace = this.locate(l.target.split('/'));
    await this.ensureParents(targetPlace, undefined, refuse, false);
    const st = await lstat(targetPlace.abs).catch(() => undefined);
    if (!st?.isFile()) throw refuse(`is a hard link to "${l.target}", which is not a restored regular file`);
    await this.ensureParents(l.place, l.owner, refuse);
    const existing = await lstat(l.place.abs).catch(() => undefined);
    if (existing?.isDirectory()) throw refuse(`is a hard link, and the directory "${l.place.abs}" is in the way`);
    if (existing) await unlink(l.place.abs).catch((err) => { throw ioError('replace', l.place.abs, err); });
    await link(targetPlace.abs, l.place.abs).catch((err) => { throw ioError('create hard link', l.place.abs, err); });
    this.sync.addDir(dirname(l.place.abs));
  }

  private async createSymlink(l: PendingLink): Promise<void> {
    const refuse = (why: string) => new UnsafeMemberError(l.member, why, l.partition);
    await this.ensureParents(l.place, l.owner, refuse);
    const existing = await lstat(l.place.abs).catch(() => undefined);
    if (existing?.isDirectory()) throw refuse(`is a symbolic link, and the directory "${l.place.abs}" is in the way`);
    if (existing) await unlink(l.place.abs).catch((err) => { throw ioError('replace', l.place.abs, err); });
    await symlink(l.target, l.place.abs).catch((err) => { throw ioError('create symbolic link', l.place.abs, err); });
    if (l.owner) await lchown(l.place.abs, l.owner.uid, l.owner.gid).catch(() => undefined);
    this.sync.addDir(dirname(l.place.abs));
    // The text check cannot see through other links ("a" -> ".", "b" -> "a/.."): judge where it really
    // leads now that every link exists.
    const external = l.place.root === this.roots.dest && l.place.rel.length === 1 && EXTERNAL_LINK_OK.has(l.place.rel[0]!);
    const real = await realpath(l.place.abs).catch(() => undefined);
    if (!external && real !== undefined && !within(real, this.roots.dest) && ![...this.roots.tablespaces.values()].some((r) => within(real, r))) {
      await unlink(l.place.abs).catch(() => undefined);
      throw refuse(`is a symbolic link that leads to "${real}", outside the restore directory`);
    }
  }
}
