// The lzop container reader as a push parser: feed it bytes, pull out whole blocks (payload plus what is
// needed to decode and verify it). It accepts concatenated members and trailing zero bytes, and throws
// LzopFormatError for everything else that is not a well-formed lzop stream.
import { decodeBlockHeader } from './block';
import type { BlockChecksums } from './block';
import { ByteQueue } from './byte-queue';
import { LzopFormatError } from './format-error';
import { decodeLzopHeader, LZOP_MAGIC } from './header';
import type { LzopHeader } from './header';

export interface LzopBlock {
  /** 1-based position of the block in the object, counted across members. */
  index: number;
  dstLen: number;
  stored: boolean;
  /** The stored data or the LZO1X stream, exactly src_len bytes. */
  payload: Uint8Array;
  checksums: BlockChecksums;
  /** Filter to undo after decoding (0 = none). */
  filter: number;
}

type State = 'first-magic' | 'header' | 'blocks' | 'after-member' | 'trailing-zeros';

export class LzopReader {
  private readonly queue = new ByteQueue();
  private state: State = 'first-magic';
  private header: LzopHeader | undefined;
  private blockCount = 0;
  private memberCount = 0;

  push(chunk: Uint8Array): void {
    this.queue.push(chunk);
  }

  /** Bytes received but not yet parsed: bounded by one block plus one chunk. */
  get buffered(): number {
    return this.queue.length;
  }

  /** The next complete block, or undefined when more input is needed. */
  next(): LzopBlock | undefined {
    for (;;) {
      switch (this.state) {
        case 'first-magic':
        case 'header': {
          if (this.queue.length === 0) return undefined;
          const probe = this.queue.peek(Math.min(this.queue.length, LZOP_MAGIC.length));
          for (let i = 0; i < probe.length; i++) {
            if (probe[i] !== LZOP_MAGIC[i]) throw new LzopFormatError(this.memberCount === 0 ? 'not an lzop file' : 'bad magic in concatenated lzop member');
          }
          const parsed = this.parseHeader();
          if (parsed === undefined) return undefined;
          this.header = parsed;
          this.memberCount++;
          this.state = 'blocks';
          break;
        }
        case 'blocks': {
          const header = this.header!;
          const available = this.queue.length;
          if (available < 4) return undefined;
          let parsed = decodeBlockHeader(this.queue.peek(Math.min(available, 4)), header.flags);
          while ('needBytes' in parsed) {
            if (available < parsed.needBytes) return undefined;
            parsed = decodeBlockHeader(this.queue.peek(parsed.needBytes), header.flags);
          }
          if ('end' in parsed) {
            this.queue.skip(4);
            this.state = 'after-member';
            break;
          }
          const block = parsed.block;
          if (available < block.length + block.srcLen) return undefined;
          this.queue.skip(block.length);
          const payload = this.queue.take(block.srcLen);
          this.blockCount++;
          return {
            index: this.blockCount,
            dstLen: block.dstLen,
            stored: block.stored,
            payload,
            checksums: block.checksums,
            filter: header.filter,
          };
        }
        case 'after-member': {
          if (this.queue.length === 0) return undefined;
          const b = this.queue.peekSome(1)[0]!;
          if (b === LZOP_MAGIC[0]) this.state = 'header';
          else if (b === 0) this.state = 'trailing-zeros';
          else throw new LzopFormatError('trailing garbage after the lzop end marker');
          break;
        }
        case 'trailing-zeros': {
          while (this.queue.length > 0) {
            const some = this.queue.peekSome(65536);
            for (let i = 0; i < some.length; i++) {
              if (some[i] !== 0) throw new LzopFormatError('trailing garbage after the lzop end marker');
            }
            this.queue.skip(some.length);
          }
          return undefined;
        }
      }
    }
  }

  /** Call at end of input: throws unless the input ended cleanly after an end marker. */
  finish(): void {
    if (this.next() !== undefined) throw new Error('LzopReader.finish called with unread blocks');
    switch (this.state) {
      case 'first-magic':
        throw new LzopFormatError(this.queue.length === 0 ? 'empty object, not an lzop file' : 'truncated lzop header');
      case 'header':
        throw new LzopFormatError('truncated lzop header');
      case 'blocks':
        throw new LzopFormatError(
          this.queue.length === 0
            ? `unexpected end of data before block ${this.blockCount + 1} (no end marker)`
            : `unexpected end of data in block ${this.blockCount + 1} (truncated)`,
        );
      default:
        return;
    }
  }

  private parseHeader(): LzopHeader | undefined {
    let want = Math.min(this.queue.length, 64);
    for (;;) {
      const parsed = decodeLzopHeader(this.queue.peek(want));
      if ('header' in parsed) {
        this.queue.skip(parsed.header.length);
        return parsed.header;
      }
      if (parsed.needBytes > this.queue.length) return undefined;
      want = parsed.needBytes;
    }
  }
}
