// Decryption of what `gpg -e -z 0` (and wal-e) writes, with Node's crypto: PKESK packets, then one SEIPD
// v1 packet (AES, MDC) holding a literal packet. openpgp is neither loaded nor needed for that. The
// caller reads the session-key packets first (readHead) and gets the session key; anything this file
// does not handle (no usable RSA key here, other packets inside) is noticed before any plaintext is
// released, and the caller then replays the bytes read so far into openpgp.
import { createDecipheriv, createHash } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import { pkeskRecipient, type SessionKey } from './rsa-session-key';

/** Pulls bytes from a stream; can replay everything read while recording is on. */
export class ByteReader {
  readonly #it: AsyncIterator<Buffer>;
  #buf: Buffer = Buffer.alloc(0);
  #eof = false;
  #recorded: Buffer[] | undefined = [];

  constructor(input: Readable) {
    this.#it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const r = await this.#it.next();
    if (r.done) {
      this.#eof = true;
      return false;
    }
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, r.value]) : r.value;
    return true;
  }

  #take(n: number): Buffer {
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    this.#recorded?.push(out);
    return out;
  }

  /** Exactly n bytes, or fewer at end of input. */
  async read(n: number): Promise<Buffer> {
    while (this.#buf.length < n && (await this.#fill()));
    return this.#take(Math.min(n, this.#buf.length));
  }

  /** Up to n bytes, whatever is available next (empty only at end of input). */
  async readSome(n: number): Promise<Buffer> {
    if (this.#buf.length === 0) await this.#fill();
    return this.#take(Math.min(n, this.#buf.length));
  }

  async atEnd(): Promise<boolean> {
    return this.#buf.length === 0 && !(await this.#fill());
  }

  stopRecording(): void {
    this.#recorded = undefined;
  }

  /** Everything read so far followed by the rest of the input, for openpgp to start over with. */
  async *replay(): AsyncGenerator<Buffer> {
    if (!this.#recorded) throw new Error('replay after recording stopped');
    const head = Buffer.concat(this.#recorded);
    this.#recorded = undefined;
    if (head.length) yield head;
    if (this.#buf.length) yield this.#buf;
    this.#buf = Buffer.alloc(0);
    for (;;) {
      const r = await this.#it.next();
      if (r.done) return;
      yield r.value;
    }
  }
}

export class CorruptData extends Error {}

/** Reads a new-format length; partial says more parts follow. */
async function readLength(r: ByteReader): Promise<{ len: number; partial: boolean }> {
  const o = (await r.read(1))[0];
  if (o === undefined) throw new CorruptData('truncated packet');
  if (o < 192) return { len: o, partial: false };
  if (o < 224) {
    const b = (await r.read(1))[0];
    if (b === undefined) throw new CorruptData('truncated packet');
    return { len: ((o - 192) << 8) + b + 192, partial: false };
  }
  if (o === 255) {
    const b = await r.read(4);
    if (b.length < 4) throw new CorruptData('truncated packet');
    return { len: b.readUInt32BE(0), partial: false };
  }
  return { len: 1 << (o & 0x1f), partial: true };
}

export interface Head {
  /** PKESK packet bodies, in order. */
  pkesks: Buffer[];
  /** True when the next packet is a SEIPD (tag 18) in new format, the only kind this file decrypts. */
  seipdNext: boolean;
}

const MAX_PKESK = 8192;

/** Reads the leading PKESK packets and the next packet's tag octet. */
export async function readHead(r: ByteReader): Promise<Head> {
  const pkesks: Buffer[] = [];
  for (;;) {
    const ctb = (await r.read(1))[0];
    // gpg writes the PKESK in the old packet format (0x84-0x86), openpgp and wal-e in the new one.
    const oldFormat = ctb !== undefined && ctb >= 0x84 && ctb <= 0x86;
    if (ctb === 0xc1 || oldFormat) {
      let len: number;
      if (oldFormat) {
        const n = [1, 2, 4][ctb - 0x84]!;
        const l = await r.read(n);
        if (l.length < n) return { pkesks, seipdNext: false };
        len = l.readUIntBE(0, n);
      } else {
        const l = await readLength(r);
        if (l.partial) return { pkesks, seipdNext: false };
        len = l.len;
      }
      // A PKESK is a few hundred bytes; a huge length is damage, for openpgp to report.
      if (len > MAX_PKESK) return { pkesks, seipdNext: false };
      const body = await r.read(len);
      if (body.length < len || !pkeskRecipient(body)) return { pkesks, seipdNext: false };
      pkesks.push(body);
      continue;
    }
    return { pkesks, seipdNext: ctb === 0xd2 };
  }
}

const CIPHER_NAMES: Record<number, string> = { 7: 'aes-128-cfb', 8: 'aes-192-cfb', 9: 'aes-256-cfb' };
const MDC_LEN = 22;

/**
 * The literal packet's data inside the SEIPD plaintext, passed to `emit`. Everything before the MDC
 * packet is fed here; returns false (before emitting anything) when the plaintext does not start with
 * a literal packet.
 */
class LiteralParser {
  #state: 'ctb' | 'len' | 'header' | 'data' | 'done' = 'ctb';
  #lenBytes: number[] = [];
  #partLeft = 0;
  #partial = false;
  #headerLeft = -1;
  #header: number[] = [];

  constructor(private readonly emit: (b: Buffer) => void) {}

  /** False when the first packet is not a literal packet (nothing was emitted then). */
  feed(b: Buffer): boolean {
    let p = 0;
    while (p < b.length) {
      switch (this.#state) {
        case 'ctb': {
          if (b[p++] !== 0xcb) return false;
          this.#state = 'len';
          break;
        }
        case 'len': {
          this.#lenBytes.push(b[p++]!);
          const o = this.#lenBytes[0]!;
          const need = o < 192 ? 1 : o < 224 ? 2 : o === 255 ? 5 : 1;
          if (this.#lenBytes.length < need) break;
          const l = this.#lenBytes;
          this.#partial = o >= 224 && o < 255;
          this.#partLeft = o < 192 ? o : o < 224 ? ((o - 192) << 8) + l[1]! + 192 : o === 255 ? Buffer.from(l.slice(1)).readUInt32BE(0) : 1 << (o & 0x1f);
          this.#lenBytes = [];
          this.#state = this.#partLeft === 0 && !this.#partial ? 'done' : this.#headerLeft === 0 ? 'data' : 'header';
          if (this.#state === 'done' && this.#headerLeft !== 0) throw new CorruptData('truncated literal packet');
          break;
        }
        case 'header': {
          // mode, name length, name, 4-byte date
          const take = Math.min(this.#partLeft, b.length - p, this.#headerLeft < 0 ? 2 - this.#header.length : this.#headerLeft);
          for (let i = 0; i < take; i++) this.#header.push(b[p + i]!);
          p += take;
          this.#partLeft -= take;
          if (this.#headerLeft < 0) {
            if (this.#header.length === 2) this.#headerLeft = this.#header[1]! + 4;
          } else this.#headerLeft -= take;
          if (this.#headerLeft === 0) this.#state = 'data';
          if (this.#partLeft === 0) this.#endOfPart();
          break;
        }
        case 'data': {
          const take = Math.min(this.#partLeft, b.length - p);
          if (take) this.emit(b.subarray(p, p + take));
          p += take;
          this.#partLeft -= take;
          if (this.#partLeft === 0) this.#endOfPart();
          break;
        }
        case 'done':
          throw new CorruptData('unexpected data after the literal packet');
      }
    }
    return true;
  }

  #endOfPart(): void {
    if (this.#partial) this.#state = 'len';
    else if (this.#headerLeft !== 0) throw new CorruptData('truncated literal packet');
    else this.#state = 'done';
  }

  get complete(): boolean {
    return this.#state === 'done';
  }
}

/**
 * Decrypts the SEIPD packet whose tag octet readHead consumed, writing the literal data to `out`.
 * Returns false, having written nothing, when the plaintext is not a plain literal packet (the caller
 * replays into openpgp then); throws CorruptData for bad or truncated data; ends `out` only after the
 * MDC has been checked.
 */
export async function decryptSeipd(r: ByteReader, sk: SessionKey, out: Writable): Promise<boolean> {
  const name = CIPHER_NAMES[sk.algo];
  if (!name) return false;
  const decipher = createDecipheriv(name, sk.key, Buffer.alloc(16));
  const mdc = createHash('sha1');
  const pending: Buffer[] = [];
  const parser = new LiteralParser((b) => pending.push(b));
  let prefix = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  let released = false;

  const plaintext = (chunk: Buffer): boolean => {
    if (prefix.length < 18) {
      const need = 18 - prefix.length;
      prefix = Buffer.concat([prefix, chunk.subarray(0, need)]);
      chunk = chunk.subarray(need);
      if (prefix.length === 18) {
        // The "quick check": a wrong session key almost always fails here.
        if (prefix[14] !== prefix[16] || prefix[15] !== prefix[17]) throw new CorruptData('session key check failed');
        mdc.update(prefix);
      }
    }
    // Hold back the last 22 bytes: they may be the MDC packet.
    const all = tail.length ? Buffer.concat([tail, chunk]) : chunk;
    const cut = Math.max(0, all.length - MDC_LEN);
    const body = all.subarray(0, cut);
    tail = Buffer.from(all.subarray(cut));
    if (body.length === 0) return true;
    mdc.update(body);
    return parser.feed(body);
  };

  const flush = async () => {
    for (const b of pending.splice(0)) {
      if (!out.write(b)) await new Promise<void>((res, rej) => {
        const done = (err?: unknown) => {
          out.off('drain', done);
          out.off('close', closed);
          err ? rej(err) : res();
        };
        const closed = () => done(new Error('output closed'));
        out.on('drain', done);
        out.on('close', closed);
      });
    }
  };

  let first = true;
  for (;;) {
    const { len, partial } = await readLength(r);
    let left = len;
    while (left > 0) {
      let c = await r.readSome(left);
      if (c.length === 0) throw new CorruptData('truncated encrypted packet');
      left -= c.length;
      if (first) {
        // The version octet is the one byte of the packet body that is not encrypted.
        if (c[0] !== 1) return false;
        c = c.subarray(1);
        first = false;
      }
      if (!plaintext(decipher.update(c))) return false;
      if (!released && pending.length) {
        // From here on plaintext leaves; nothing can be replayed into openpgp any more.
        released = true;
        r.stopRecording();
      }
      await flush();
    }
    if (!partial) break;
  }
  if (first) throw new CorruptData('empty encrypted packet');
  decipher.final();
  if (!(await r.atEnd())) throw new CorruptData('unexpected data after the encrypted packet');
  if (prefix.length < 18 || tail.length !== MDC_LEN || tail[0] !== 0xd3 || tail[1] !== 0x14) throw new CorruptData('missing modification detection code');
  mdc.update(tail.subarray(0, 2));
  if (!mdc.digest().equals(tail.subarray(2))) throw new CorruptData('modification detected (MDC mismatch)');
  if (!parser.complete) throw new CorruptData('truncated literal packet');
  out.end();
  return true;
}
