// The RSA step of decryption with Node's crypto. Node 20 refuses RSA PKCS#1 v1.5 private decryption
// (CVE-2023-46809, the Marvin timing attack), and openpgp then falls back to JavaScript RSA (~100 ms per
// object). Raw RSA (no padding) is allowed: the padding is removed here without data-dependent early
// exits, and a bad padding or checksum yields a random session key instead of an error, as openpgp
// does, so the failure shows up later as a corrupt object and is not a padding oracle.
import { constants, privateDecrypt, randomBytes, type KeyObject } from 'node:crypto';
import { readMpi } from './packets';

export interface SessionKey {
  /** OpenPGP symmetric algorithm id (7, 8, 9: AES-128, -192, -256). */
  algo: number;
  key: Buffer;
}

const KEY_LENGTHS: Record<number, number> = { 7: 16, 8: 24, 9: 32 };

/** The 8-byte recipient key id (hex) and public-key algorithm of a PKESK v3 packet body, if it is one. */
export function pkeskRecipient(body: Buffer): { keyId: string; algo: number } | undefined {
  if (body.length < 10 || body[0] !== 3) return undefined;
  return { keyId: body.subarray(1, 9).toString('hex'), algo: body[9]! };
}

/** The session key a PKESK v3 RSA packet carries. */
export function rsaSessionKey(body: Buffer, key: KeyObject, modulusBytes: number): SessionKey {
  const c = readMpi(body, 10).value;
  if (c.length > modulusBytes) return fallbackKey();
  const em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.alloc(modulusBytes - c.length), c]));
  // EM = 00 02 PS(>= 8 non-zero bytes) 00 M. Scan every byte; remember the first zero after PS.
  let bad = em[0]! | (em[1]! ^ 2);
  let sep = 0;
  for (let i = 2; i < em.length; i++) {
    const isZero = ((em[i]! - 1) >> 8) & 1; // 1 when em[i] == 0
    const first = isZero & (sep === 0 ? 1 : 0);
    sep = first ? i : sep;
  }
  bad |= sep < 10 ? 1 : 0;
  const m = em.subarray(sep + 1);
  const algo = m[0] ?? 0;
  const len = KEY_LENGTHS[algo] ?? 0;
  bad |= len === 0 || m.length !== len + 3 ? 1 : 0;
  let sum = 0;
  for (let i = 1; i <= len; i++) sum = (sum + (m[i] ?? 0)) & 0xffff;
  bad |= sum !== (((m[len + 1] ?? 0) << 8) | (m[len + 2] ?? 0)) ? 1 : 0;
  return bad ? fallbackKey() : { algo, key: Buffer.from(m.subarray(1, 1 + len)) };
}

function fallbackKey(): SessionKey {
  return { algo: 9, key: randomBytes(32) };
}
