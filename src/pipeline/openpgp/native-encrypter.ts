// The packets `gpg -e -z 0 -r KEY` (GnuPG 2.2) writes for an RSA key, made with Node's crypto instead of
// openpgp, whose loading and set-up cost a cold wal-push more than the encryption itself:
//   PKESK v3 (tag 1): the AES-256 session key, RSA PKCS#1 v1.5-encrypted to the recipient's subkey;
//   SEIPD v1 (tag 18): AES-256 in CFB mode (zero IV, no resync) over an 18-byte random prefix, a binary
//     literal packet (tag 11, mode "b", empty name) and an MDC packet (SHA-1 of everything before it).
// Both the literal packet and the SEIPD body use partial lengths, so any size streams in constant memory.
import { constants, createCipheriv, createHash, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { lengthOctets, mpi, packet } from './packets';

/** What an RSA recipient needs: the encryption (sub)key's id and its public key. */
export interface RsaRecipientKey {
  /** 8-byte key id of the (sub)key the session key is encrypted to. */
  readonly keyId: Buffer;
  readonly publicKey: KeyObject;
}

const AES256 = 9;
const RSA = 1;
const TAG_PKESK = 1;
const TAG_SEIPD = 18;
const TAG_LITERAL = 11;
// Partial body chunks of 1 MiB (a power of two, at least 512 bytes for the first, RFC 4880 §4.2.2.4).
const CHUNK_LOG2 = 20;
const CHUNK = 1 << CHUNK_LOG2;
const PARTIAL_HEADER = Buffer.from([224 + CHUNK_LOG2]);

/**
 * Frames a stream of bytes as one packet body with partial lengths; the last piece gets a definite
 * length. Output is a list of pieces (length octets and slices of the input), never copies of the data.
 */
class PartialFramer {
  #queue: Buffer[] = [];
  #queued = 0;

  constructor(ctb: number, out: Buffer[]) {
    out.push(Buffer.from([ctb]));
  }

  /** Pieces for every whole chunk now available. */
  push(data: Buffer, out: Buffer[]): void {
    if (data.length === 0) return;
    this.#queue.push(data);
    this.#queued += data.length;
    while (this.#queued >= CHUNK) {
      out.push(PARTIAL_HEADER);
      let need = CHUNK;
      while (need > 0) {
        const head = this.#queue[0]!;
        if (head.length <= need) {
          out.push(head);
          this.#queue.shift();
          need -= head.length;
        } else {
          out.push(head.subarray(0, need));
          this.#queue[0] = head.subarray(need);
          need = 0;
        }
      }
      this.#queued -= CHUNK;
    }
  }

  /** The final piece, with a definite length (possibly 0). */
  end(out: Buffer[]): void {
    out.push(lengthOctets(this.#queued), ...this.#queue);
    this.#queue = [];
    this.#queued = 0;
  }
}

/** The public-key encrypted session key packet for an RSA (sub)key. */
export function rsaPkesk(recipient: RsaRecipientKey, sessionKey: Buffer): Buffer {
  let sum = 0;
  for (const b of sessionKey) sum = (sum + b) & 0xffff;
  const m = Buffer.concat([Buffer.from([AES256]), sessionKey, Buffer.from([sum >> 8, sum & 0xff])]);
  const c = publicEncrypt({ key: recipient.publicKey, padding: constants.RSA_PKCS1_PADDING }, m);
  return packet(TAG_PKESK, Buffer.concat([Buffer.from([3]), recipient.keyId, Buffer.from([RSA]), mpi(c)]));
}

/** A stream turning plain bytes into an OpenPGP message for the recipient. */
export function nativeEncrypter(recipient: RsaRecipientKey): Transform {
  const sessionKey = randomBytes(32);
  const cipher = createCipheriv('aes-256-cfb', sessionKey, Buffer.alloc(16));
  const mdc = createHash('sha1');
  let literal: PartialFramer | undefined;
  let seipd: PartialFramer | undefined;

  // Plaintext of the SEIPD body (prefix, literal packet pieces, MDC) -> hashed, encrypted, framed.
  const encrypt = (plain: Buffer[], out: Buffer[]) => {
    for (const p of plain) {
      mdc.update(p);
      seipd!.push(cipher.update(p), out);
    }
  };

  const start = (out: Buffer[]): Buffer[] => {
    out.push(rsaPkesk(recipient, sessionKey));
    seipd = new PartialFramer(0xc0 | TAG_SEIPD, out);
    seipd.push(Buffer.from([1]), out); // version 1, the one unencrypted byte of the body
    const prefix = randomBytes(16);
    const plain: Buffer[] = [Buffer.concat([prefix, prefix.subarray(14)])];
    literal = new PartialFramer(0xc0 | TAG_LITERAL, plain);
    // Literal packet header: binary mode, empty file name, date now (what gpg writes for stdin).
    const date = Buffer.alloc(4);
    date.writeUInt32BE(Math.floor(Date.now() / 1000));
    literal.push(Buffer.concat([Buffer.from([0x62, 0]), date]), plain);
    return plain;
  };

  const emit = (stream: Transform, out: Buffer[]) => {
    for (const b of out) if (b.length) stream.push(b);
  };

  return new Transform({
    highWaterMark: 1 << 20,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        const out: Buffer[] = [];
        const plain = literal ? [] : start(out);
        literal!.push(chunk, plain);
        encrypt(plain, out);
        emit(this, out);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        const out: Buffer[] = [];
        const plain = literal ? [] : start(out);
        literal!.end(plain);
        plain.push(Buffer.from([0xd3, 0x14]));
        encrypt(plain, out);
        const rest = Buffer.concat([cipher.update(mdc.digest()), cipher.final()]);
        seipd!.push(rest, out);
        seipd!.end(out);
        emit(this, out);
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
