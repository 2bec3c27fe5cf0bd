// Archiving one WAL file: stream it through lzop into wal_005/<name>.lzo with put-if-absent, and when
// the key is taken, compare contents: the same bytes are a success (PostgreSQL may call archive_command
// again after a crash), different bytes are refused (PostgreSQL's rule for archive commands, and the
// guard against two clusters sharing one prefix).
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { walKey } from '../layout/wal-names';
import { getLogger } from '../log/logger';
import { formatRate } from '../log/format';
import { compressedFile, decompressedChunks, digestOf, hashTap } from '../pipeline/wal-codec';
import { NoSecretKeyError, type Encryption } from '../pipeline/encryption';
import type { BlobStore } from '../storage/blob-store';
import { CorruptObjectError, UserError } from '../util/errors';

const log = getLogger('wal_e.worker.upload');

export interface PushResult {
  readonly name: string;
  readonly key: string;
  /** The archive already held identical content; nothing was written. */
  readonly alreadyArchived: boolean;
  /** sha256 and size of the plain file, when asked for. */
  readonly digest: { sha256: string; size: number } | undefined;
}

export class WalFileMissing extends Error {
  constructor(readonly path: string, readonly osError: NodeJS.ErrnoException) {
    super(`no such WAL file: ${path}`);
  }
}

async function openWal(path: string): Promise<FileHandle> {
  try {
    const fh = await open(path, 'r');
    if (!(await fh.stat()).isFile()) {
      await fh.close();
      throw Object.assign(new Error(`"${path}" is not a regular file`), { code: 'EISDIR' });
    }
    return fh;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new WalFileMissing(path, e);
    throw new UserError('could not read the file for wal-push', {
      detail: `The operating system reported: ${e.code ?? ''} ${e.message}`,
    });
  }
}

async function fileDigest(path: string): Promise<{ sha256: string; size: number }> {
  const fh = await openWal(path);
  try {
    return await digestOf(fh.createReadStream({ autoClose: false }));
  } finally {
    await fh.close();
  }
}

export async function pushWalFile(
  store: BlobStore,
  path: string,
  opts: { wantDigest: boolean; encryption: Encryption | undefined },
): Promise<PushResult> {
  const name = basename(path);
  const key = walKey(name);
  const url = store.url(key);
  const structured = { action: 'push-wal', key: url, prefix: store.location.pathPrefix, seg: name };
  const fh = await openWal(path);
  log.info('begin archiving a file', {
    detail: `Uploading "${path}" to "${url}".`,
    structured: { ...structured, state: 'begin' },
  });
  const started = process.hrtime.bigint();
  let created: boolean;
  let stored: number;
  const tap = opts.wantDigest ? hashTap() : undefined;
  try {
    const r = await store.putIfAbsent(key, await compressedFile(fh, opts.encryption, tap));
    created = r.created;
    stored = r.size;
  } finally {
    await fh.close();
  }
  if (created) {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const rate = formatRate(stored / 1024 / seconds);
    log.info('completed archiving to a file', {
      detail: `Archiving to "${url}" complete at ${rate}KiB/s.`,
      structured: { ...structured, rate, state: 'complete' },
    });
    return { name, key, alreadyArchived: false, digest: tap?.result() };
  }
  return compareWithArchived(store, path, name, key, structured, tap?.result(), opts.encryption);
}

async function compareWithArchived(
  store: BlobStore,
  path: string,
  name: string,
  key: string,
  structured: Record<string, string>,
  known: { sha256: string; size: number } | undefined,
  enc: Encryption | undefined,
): Promise<PushResult> {
  const url = store.url(key);
  const local = known ?? (await fileDigest(path));
  let archived: { sha256: string; size: number };
  try {
    archived = await digestOf(await decompressedChunks(await store.get(key), key, enc));
  } catch (err) {
    // An archiving host usually holds only the public key, so it cannot read back what it encrypted:
    // it cannot compare, and re-archiving after a crash must not stall archiving. It uploads over the
    // object, as WAL-E did.
    const noKey = err instanceof NoSecretKeyError;
    if (!noKey && !(err instanceof CorruptObjectError)) throw err;
    // An undecodable object (e.g. a partial write left by WAL-E's non-atomic file store) holds nothing
    // worth keeping; the intact local file replaces it.
    log.warning('replacing an archived WAL file that cannot be decoded', {
      detail: noKey
        ? `"${url}" cannot be compared without the secret key; uploading "${path}" over it, as WAL-E did.`
        : `"${url}" is corrupt (${(err as Error).message}); uploading "${path}" over it.`,
      structured: { ...structured, state: 'replace' },
    });
    const fh = await openWal(path);
    try {
      const tap = hashTap();
      await store.put(key, await compressedFile(fh, enc, tap));
      return { name, key, alreadyArchived: false, digest: tap.result() };
    } finally {
      await fh.close();
    }
  }
  if (archived.sha256 === local.sha256 && archived.size === local.size) {
    log.info('WAL file already archived with identical content', {
      detail: `"${url}" already holds the contents of "${path}"; nothing uploaded.`,
      structured: { ...structured, state: 'complete' },
    });
    return { name, key, alreadyArchived: true, digest: local };
  }
  throw new UserError('refusing to overwrite an archived WAL file with different content', {
    detail: `"${url}" exists and differs from "${path}" (archived ${archived.size} bytes, local ${local.size} bytes).`,
    hint: 'Two clusters may be archiving to the same prefix, or this cluster was restored without a new prefix. Give each writing cluster its own prefix.',
  });
}
