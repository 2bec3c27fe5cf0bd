// The file:// store (spec §6.5), made safe where WAL-E's was not: every write goes to a temp file in
// the destination's directory, is fsynced, then renamed (or linked, for put-if-absent) into place and
// the directory is fsynced, so a reader never sees a partial object and a crash never leaves one.
import { constants, unlinkSync, type Dirent } from 'node:fs';
import { link, mkdir, open, readdir, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { registerCleanup } from '../../util/cleanup';
import { NotFoundError, StoreError } from '../../util/errors';
import type { BlobStore, ObjectInfo, PutIfAbsentResult, PutResult, StoreCapabilities } from '../blob-store';
import { objectName, objectUrl, type StoreLocation } from '../location';
import { TEMP_DIR_NAME, sweepStaleTemps, tempPathFor } from './temp-files';

/** Python's datetime.utcfromtimestamp(mtime).isoformat(): microseconds only when non-zero. */
export function fileLastModified(mtimeNs: bigint): { text: string; ms: number } {
  const micros = mtimeNs / 1000n;
  const ms = Number(micros / 1000n);
  const frac = Number(micros % 1_000_000n);
  const base = new Date(ms).toISOString().slice(0, 19);
  return { text: frac === 0 ? base : `${base}.${String(frac).padStart(6, '0')}`, ms };
}

const WRITE_BATCH = 1 << 20;

async function writeAll(fh: FileHandle, body: AsyncIterable<Uint8Array>, signal?: AbortSignal): Promise<number> {
  let size = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    if (pendingBytes === 0) return;
    const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    let off = 0;
    while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
  };
  for await (const chunk of body) {
    signal?.throwIfAborted();
    size += chunk.length;
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= WRITE_BATCH) await flush();
  }
  await flush();
  return size;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Creates the temp file, (re)creating its folder: another writer may remove the folder when empty. */
async function openTemp(tmpDir: string, tmp: string): Promise<FileHandle> {
  for (let attempt = 0; ; attempt++) {
    try {
      await mkdir(tmpDir, { recursive: true });
      return await open(tmp, 'wx', 0o666);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) {
        throw storeError('create temporary file', tmp, err);
      }
    }
  }
}

function storeError(action: string, path: string, err: unknown): StoreError {
  const e = err as NodeJS.ErrnoException;
  return new StoreError(`could not ${action} "${path}"`, { detail: `${e.code ?? e.name}: ${e.message}` });
}

export class FileStore implements BlobStore {
  readonly capabilities: StoreCapabilities = { atomicPutIfAbsent: true, networkRequests: false };
  private readonly root: string;

  constructor(readonly location: StoreLocation) {
    this.root = objectName(location, '');
  }

  url(key: string): string {
    return objectUrl(this.location, key);
  }

  /** The local path of a key; keys never climb out of the prefix directory. */
  path(key: string): string {
    if (key.split('/').some((part) => part === '..' || part === '.')) {
      throw new StoreError(`invalid object key "${key}"`);
    }
    return objectName(this.location, key);
  }

  put(key: string, body: AsyncIterable<Uint8Array>, opts: { signal?: AbortSignal } = {}): Promise<PutResult> {
    return this.write(key, body, 'replace', opts.signal);
  }

  async putIfAbsent(key: string, body: AsyncIterable<Uint8Array>, opts: { signal?: AbortSignal } = {}): Promise<PutIfAbsentResult> {
    return this.write(key, body, 'if-absent', opts.signal);
  }

  private async write(
    key: string,
    body: AsyncIterable<Uint8Array>,
    mode: 'replace' | 'if-absent',
    signal?: AbortSignal,
  ): Promise<PutIfAbsentResult> {
    const finalPath = this.path(key);
    const dir = dirname(finalPath);
    const tmpDir = join(dir, TEMP_DIR_NAME);
    await sweepStaleTemps(dir);
    const tmp = tempPathFor(dir, basename(finalPath));
    const unregister = registerCleanup(() => {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    });
    let fh: FileHandle | undefined;
    let placed = false;
    try {
      fh = await openTemp(tmpDir, tmp);
      const size = await writeAll(fh, body, signal);
      await fh.sync();
      await fh.close();
      fh = undefined;
      let created = true;
      if (mode === 'replace') {
        await rename(tmp, finalPath);
        placed = true;
      } else {
        try {
          await link(tmp, finalPath);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw storeError('create', finalPath, err);
          created = false;
        }
        await unlink(tmp);
        placed = true;
      }
      await fsyncDir(dir);
      return { size, created };
    } finally {
      if (fh) await fh.close().catch(() => undefined);
      if (!placed) await unlink(tmp).catch(() => undefined);
      unregister();
      // Leave no empty temp folder in the archive; a concurrent writer's file keeps it (ENOTEMPTY).
      await rmdir(tmpDir).catch(() => undefined);
    }
  }

  async get(key: string): Promise<Readable> {
    const p = this.path(key);
    let fh: FileHandle;
    try {
      fh = await open(p, 'r');
      if (!(await fh.stat()).isFile()) {
        await fh.close();
        throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(this.url(key));
      throw storeError('open', p, err);
    }
    // The stream owns the handle and closes it once. Closing fh.fd a second time could close a
    // descriptor another open has reused by then (a file being restored): EBADF, or worse.
    return fh.createReadStream({ highWaterMark: 1 << 20, autoClose: true });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    try {
      const st = await stat(this.path(key), { bigint: true });
      if (!st.isFile()) return undefined;
      const lm = fileLastModified(st.mtimeNs);
      return { key, size: Number(st.size), lastModified: lm.text, lastModifiedMs: lm.ms };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw storeError('stat', this.path(key), err);
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash === -1 ? '' : prefix.slice(0, slash + 1);
    yield* this.walk(dirKey, prefix);
  }

  private async *walk(dirKey: string, prefix: string): AsyncIterable<ObjectInfo> {
    const dir = this.root + dirKey;
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw storeError('list', dir, err);
    }
    for (const e of entries) {
      const key = dirKey + e.name;
      if (e.isDirectory()) {
        if (e.name === TEMP_DIR_NAME) continue;
        if (key.startsWith(prefix) || prefix.startsWith(key + '/')) yield* this.walk(key + '/', prefix);
        continue;
      }
      if (!key.startsWith(prefix)) continue;
      // Symlinks to directories are not followed; symlinks to files count as files (os.walk's view).
      const info = await this.head(key).catch(() => undefined);
      if (info) yield info;
    }
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      const p = this.path(key);
      try {
        await unlink(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storeError('delete', p, err);
      }
      dirs.add(dirname(p));
    }
    // Prune directories left empty, deepest first, never above the prefix root (spec §5.7).
    const rootDir = this.root.endsWith(sep) ? this.root.slice(0, -1) : this.root;
    const sorted = [...dirs].sort((a, b) => b.length - a.length);
    for (let d of sorted) {
      while (d.length > rootDir.length && d.startsWith(rootDir)) {
        await rmdir(join(d, TEMP_DIR_NAME)).catch(() => undefined);
        try {
          await rmdir(d);
        } catch {
          break;
        }
        d = dirname(d);
      }
    }
  }
}
