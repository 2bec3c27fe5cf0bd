// How a failed decryption is reported: bad bytes are a CorruptObjectError naming the object; a plain
// lzop object read with a key id set is a configuration mismatch (WAL-E never sniffed, spec §4.1, and
// failed in gpg), so it gets its own hint instead of passing for corruption.
import { Transform } from 'node:stream';
import { CorruptObjectError, UserError, type WalEError } from '../../util/errors';

const LZOP_MAGIC = Buffer.from([0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A pass-through that remembers the first bytes of the object, to explain a failure. */
export class HeadSniffer extends Transform {
  #head = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null, data?: Buffer) => void): void {
    if (this.#head.length < LZOP_MAGIC.length) this.#head = Buffer.concat([this.#head, chunk.subarray(0, LZOP_MAGIC.length)]);
    cb(null, chunk);
  }

  get looksLikeLzop(): boolean {
    return this.#head.length >= LZOP_MAGIC.length && this.#head.subarray(0, LZOP_MAGIC.length).equals(LZOP_MAGIC);
  }
}

/**
 * The object may be fine, but no secret key here can open it (a primary usually holds only the public
 * key). wal-push's "same content already archived?" check can tell this apart from corruption.
 */
export class NoSecretKeyError extends UserError {}

export function undecryptable(objectName: string, reason: string, sniffer: HeadSniffer, detail?: string): WalEError {
  if (sniffer.looksLikeLzop) {
    return new UserError(`"${objectName}" is not encrypted`, {
      detail: 'It is a plain lzop object, but WALE_GPG_KEY_ID is set, so it was expected to be OpenPGP data.',
      hint: 'It was archived without WALE_GPG_KEY_ID. Read it with WALE_GPG_KEY_ID unset.',
    });
  }
  return new CorruptObjectError(`corrupt encrypted object "${objectName}": ${reason}`, { detail });
}
