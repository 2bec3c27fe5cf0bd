// Integrity of a download: the bytes read must add up to the expected length and, when the store kept
// an MD5 (WABS Content-MD5, spec §6.2), hash to it; otherwise the stream fails instead of handing a
// corrupt object to the pipeline. A stalled body fails too, after idleMs without data. Errors reach
// the reader only when it reads, never as an unhandled 'error' event before it is attached.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StoreError } from '../../util/errors';

export function checkedDownload(
  url: string,
  source: Readable,
  expected: { md5?: Uint8Array | undefined; length?: number | undefined },
  idleMs: number,
  wrapError: (err: unknown) => unknown = (err) => err,
): Readable {
  // Keeps an early source error from crashing the process; the iteration below still sees it.
  source.on('error', () => undefined);
  async function* verified(): AsyncIterable<Buffer> {
    const hash = createHash('md5');
    let seen = 0;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        source.destroy(new StoreError(`download of "${url}" stalled`, { detail: `No data arrived for ${Math.round(idleMs / 1000)} s.`, retryable: true }));
      }, idleMs);
      // Not unref'd: a body that silently stops (some SDKs drop a cut connection without an error)
      // must fail the download, not leave a process whose event loop has nothing left to wait for.
    };
    try {
      arm();
      for await (const chunk of source) {
        arm();
        const b = chunk as Buffer;
        hash.update(b);
        seen += b.length;
        yield b;
      }
    } catch (err) {
      throw wrapError(err);
    } finally {
      if (timer) clearTimeout(timer);
    }
    if (expected.length !== undefined && seen !== expected.length) {
      throw new StoreError(`download of "${url}" was cut short`, { detail: `Received ${seen} of ${expected.length} bytes.`, retryable: true });
    }
    if (expected.md5 && expected.md5.length > 0 && !hash.digest().equals(Buffer.from(expected.md5))) {
      throw new StoreError(`download of "${url}" failed its MD5 check`, {
        detail: 'The bytes received do not match the Content-MD5 stored with the blob.',
        retryable: true,
      });
    }
  }
  const out = Readable.from(verified(), { objectMode: false });
  out.on('close', () => source.destroy());
  return out;
}
