// Records of WAL files uploaded ahead of PostgreSQL's request (look-ahead), kept in
// <wal dir>/.wal-e/pushed/<name>. When PostgreSQL later asks for one of them, a record whose file is
// still the very file that was uploaded (same inode, size, mtime and ctime: a stat, no re-reading)
// plus the object's presence in the store let wal-push answer 0 without uploading again. The folder is bounded and cleans itself: records are removed once used, once their
// segment is no longer waiting (.ready gone) and when old.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** What identifies one version of a file without reading it: any write or rename changes ctime. */
export interface FileIdentity {
  readonly ino: string;
  readonly size: number;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

export async function fileIdentity(path: string): Promise<FileIdentity> {
  const st = await stat(path, { bigint: true });
  return { ino: String(st.ino), size: Number(st.size), mtimeNs: String(st.mtimeNs), ctimeNs: String(st.ctimeNs) };
}

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

export interface PushedRecord {
  readonly name: string;
  readonly size: number;
  /** sha256 of the uploaded bytes, for anyone auditing the record. */
  readonly sha256: string;
  /** The file as it was uploaded; a record whose file no longer matches is ignored. */
  readonly file: FileIdentity;
  /** The store prefix the upload went to: a record never vouches for another prefix. */
  readonly prefix: string;
  readonly pushedAt: string;
}

const MAX_RECORDS = 512;
const MAX_AGE_MS = 7 * 24 * 3600 * 1000;

export class PushedRecords {
  readonly dir: string;

  constructor(private readonly walDir: string) {
    this.dir = join(walDir, '.wal-e', 'pushed');
  }

  async read(name: string): Promise<PushedRecord | undefined> {
    try {
      const r = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as PushedRecord;
      return r.name === name && typeof r.sha256 === 'string' && typeof r.size === 'number' && typeof r.file?.ino === 'string'
        ? r
        : undefined;
    } catch {
      return undefined;
    }
  }

  async write(rec: PushedRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = join(this.dir, `.${rec.name}.${process.pid}.${randomBytes(4).toString('hex')}`);
    await writeFile(tmp, JSON.stringify(rec), { mode: 0o600 });
    await rename(tmp, join(this.dir, rec.name));
  }

  async remove(name: string): Promise<void> {
    await unlink(join(this.dir, name)).catch(() => undefined);
  }

  /** Names that have a record (whatever its content). */
  async names(): Promise<Set<string>> {
    try {
      return new Set((await readdir(this.dir)).filter((n) => !n.startsWith('.')));
    } catch {
      return new Set();
    }
  }

  /**
   * Drops records PostgreSQL will never ask about (no .ready any more), stale ones, leftover temp
   * files, and the oldest beyond the cap.
   */
  async sweep(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.dir);
    } catch {
      return;
    }
    const now = Date.now();
    const kept: { name: string; mtime: number }[] = [];
    for (const name of entries) {
      const p = join(this.dir, name);
      try {
        const st = await stat(p);
        const tempLeftover = name.startsWith('.') && now - st.mtimeMs > 3600_000;
        const waiting = !name.startsWith('.') && (await exists(join(this.walDir, 'archive_status', `${name}.ready`)));
        if (tempLeftover || (!name.startsWith('.') && (!waiting || now - st.mtimeMs > MAX_AGE_MS))) {
          await unlink(p);
        } else if (!name.startsWith('.')) {
          kept.push({ name, mtime: st.mtimeMs });
        }
      } catch {
        // raced with another sweep
      }
    }
    kept.sort((a, b) => a.mtime - b.mtime);
    for (const r of kept.slice(0, Math.max(0, kept.length - MAX_RECORDS))) await this.remove(r.name);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
