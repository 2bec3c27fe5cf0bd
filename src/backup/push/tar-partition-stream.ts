// The bytes of one partition: each member's header and data, then the end-of-archive blocks. File data is
// read when the partition is written and is exactly the size recorded for the member (spec §4.4.5): a file
// that shrank is padded with NULs, one that grew is cut, one that vanished is left out (header included).
// PostgreSQL's WAL replay repairs all three; the backup neither loops nor aborts over them.
import { open, type FileHandle } from 'node:fs/promises';
import type { PartitionMember } from './partitioner';
import type { OwnerNames } from './owner-names';
import type { RateLimiter } from './rate-limiter';
import { encodeTarHeader, endOfArchive, paddingFor } from './tar-header';

export interface PartitionStreamOptions {
  limiter: RateLimiter;
  owners: OwnerNames;
  /** A member's file disappeared before it could be read. */
  onVanished?: (m: PartitionMember) => void;
  /** A member's file had a different size when read than when the walk recorded it. */
  onResized?: (m: PartitionMember, actual: number) => void;
  /** File data bytes archived (for the progress line). */
  onBytes?: (bytes: number) => void;
  /**
   * Read file data into two reused buffers: each yielded chunk is then valid only until the next one is
   * asked for, so the consumer must copy it first. Spares the garbage collector a fresh 1 MiB buffer per
   * read, which otherwise cost more main-thread time than the whole tar stream.
   */
  reuseReadBuffer?: boolean;
}

/** One chunk of a member's data: read ahead of the consumer, or zeros once the file turned out shorter. */
type PendingRead = Promise<Buffer>;

export async function* tarPartition(members: readonly PartitionMember[], opts: PartitionStreamOptions): AsyncGenerator<Buffer> {
  let written = 0;
  // Two buffers take turns: one holds the chunk the consumer has, the next read fills the other.
  const scratch: (Buffer | undefined)[] = [undefined, undefined];
  let turn = 0;
  const readBuffer = (size: number): Buffer => {
    if (!opts.reuseReadBuffer) return Buffer.allocUnsafe(size);
    turn ^= 1;
    let b = scratch[turn];
    if (b === undefined || b.length < size) b = scratch[turn] = Buffer.allocUnsafe(Math.max(size, opts.limiter.chunkSize));
    return b.subarray(0, size);
  };
  for (const m of members) {
    const header = () =>
      encodeTarHeader({
        name: m.name,
        type: m.kind,
        size: m.kind === 'file' ? m.size : 0,
        mode: m.mode,
        uid: m.uid,
        gid: m.gid,
        mtime: m.mtimeMs / 1000,
        linkname: m.linkTarget,
        uname: opts.owners.user(m.uid),
        gname: opts.owners.group(m.gid),
      });
    if (m.kind !== 'file') {
      const h = header();
      written += h.length;
      yield h;
      continue;
    }
    if (m.content !== undefined) {
      const h = header();
      yield h;
      yield m.content;
      const pad = Buffer.alloc(paddingFor(m.content.length));
      yield pad;
      written += h.length + m.content.length + pad.length;
      continue;
    }
    let fh: FileHandle;
    try {
      fh = await open(m.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        opts.onVanished?.(m);
        continue;
      }
      throw err;
    }
    try {
      const h = header();
      yield h;
      written += h.length;
      // The next chunk is read while the consumer works on this one (a read never waits for the
      // consumer, and the consumer rarely waits for a read).
      const file = fh;
      let requested = 0;
      let eof = false;
      // Reads never overlap (the next starts once the previous has ended), so `eof` is always current.
      const readNext = async (): PendingRead => {
        const at = requested;
        const want = Math.min(opts.limiter.chunkSize, m.size - at);
        requested += want;
        if (eof) return Buffer.alloc(want);
        await opts.limiter.take(want);
        const buf = readBuffer(want);
        const { bytesRead } = await file.read(buf, 0, want, at);
        if (bytesRead < want) {
          eof = true;
          buf.fill(0, bytesRead);
        }
        return buf;
      };
      // A read ahead may fail while the consumer still holds the previous chunk: mark it handled at once;
      // the error is thrown when the consumer asks for the next chunk.
      const ahead = (): PendingRead => {
        const p = readNext();
        p.catch(() => undefined);
        return p;
      };
      let pending: PendingRead | undefined = m.size > 0 ? ahead() : undefined;
      try {
        while (pending !== undefined) {
          const chunk = await pending;
          pending = undefined;
          if (requested < m.size) pending = ahead();
          written += chunk.length;
          opts.onBytes?.(chunk.length);
          yield chunk;
        }
      } finally {
        // A consumer that stopped early leaves one read in flight: let it end before the file closes.
        if (pending !== undefined) await pending.catch(() => undefined);
      }
      if (opts.onResized) {
        const actual = (await fh.stat()).size;
        if (actual !== m.size) opts.onResized(m, actual);
      }
      const pad = Buffer.alloc(paddingFor(m.size));
      written += pad.length;
      yield pad;
    } finally {
      await fh.close();
    }
  }
  yield endOfArchive(written);
}
