// RSA secret keys of WALE_GPG_SECRET_KEY_FILE read with Node's crypto instead of openpgp, for the case
// GnuPG 2.2 exports by default: v4 RSA (sub)keys, unprotected or protected with an iterated-and-salted
// S2K and AES (usage 254, SHA-1 check). Anything else, a wrong passphrase included, gives undefined and
// the caller falls back to openpgp (secret-keys.ts), which says what is wrong.
import { createDecipheriv, createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { readMpi, readPackets } from './packets';

const CIPHERS: Record<number, { name: string; keyLen: number }> = {
  7: { name: 'aes-128-cfb', keyLen: 16 },
  8: { name: 'aes-192-cfb', keyLen: 24 },
  9: { name: 'aes-256-cfb', keyLen: 32 },
};
const HASHES: Record<number, string> = { 2: 'sha1', 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224' };

/** A secret RSA (sub)key packet, its secret part still as stored. */
interface StoredKey {
  keyId: string;
  n: Buffer;
  e: Buffer;
  /** Everything after the public part: the S2K usage octet and what follows. */
  secret: Buffer;
}

function mpis(buf: Buffer, count: number): { values: Buffer[]; next: number } | undefined {
  const values: Buffer[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    const m = readMpi(buf, p);
    values.push(m.value);
    p = m.next;
  }
  return { values, next: p };
}

/** The stored RSA secret (sub)keys of a key file's bytes (binary, already de-armored). */
export function storedRsaKeys(binary: Buffer): Map<string, StoredKey> {
  const out = new Map<string, StoredKey>();
  for (const p of readPackets(binary)) {
    if (p.tag !== 5 && p.tag !== 7) continue;
    const body = p.body;
    if (body[0] !== 4 || (body[5] !== 1 && body[5] !== 2)) continue;
    const n = readMpi(body, 6);
    const e = readMpi(body, n.next);
    const pub = body.subarray(0, e.next);
    const fp = createHash('sha1').update(Buffer.from([0x99, pub.length >> 8, pub.length & 0xff])).update(pub).digest('hex');
    out.set(fp.slice(24), { keyId: fp.slice(24), n: n.value, e: e.value, secret: body.subarray(e.next) });
  }
  return out;
}

/** OpenPGP's iterated and salted S2K (RFC 4880 §3.7.1.3) for a key of keyLen bytes. */
function s2k(hash: string, salt: Buffer, count: number, passphrase: Buffer, keyLen: number): Buffer {
  const unit = Buffer.concat([salt, passphrase]);
  const total = Math.max(count, unit.length);
  // Hash the repeated salt+passphrase in large slices rather than unit by unit.
  const reps = Math.max(1, Math.floor((1 << 16) / unit.length));
  const block = Buffer.concat(Array.from({ length: reps }, () => unit));
  const parts: Buffer[] = [];
  for (let i = 0; Buffer.concat(parts).length < keyLen; i++) {
    const h = createHash(hash);
    if (i) h.update(Buffer.alloc(i));
    let left = total;
    while (left > 0) {
      const n = Math.min(left, block.length);
      h.update(block.subarray(0, n));
      left -= n;
    }
    parts.push(h.digest());
  }
  return Buffer.concat(parts).subarray(0, keyLen);
}

/** The secret MPIs (d, p, q, u) in the clear, or undefined when this code cannot or may not get them. */
function secretMpis(k: StoredKey, passphrase: string | undefined): Buffer[] | undefined {
  const usage = k.secret[0];
  if (usage === 0) {
    const m = mpis(k.secret.subarray(1), 4);
    if (!m) return undefined;
    const plain = k.secret.subarray(1, 1 + m.next);
    let sum = 0;
    for (const b of plain) sum = (sum + b) & 0xffff;
    return k.secret.readUInt16BE(1 + m.next) === sum ? m.values : undefined;
  }
  if (usage !== 254 || passphrase === undefined) return undefined;
  const cipher = CIPHERS[k.secret[1]!];
  if (!cipher || k.secret[2] !== 3) return undefined;
  const hash = HASHES[k.secret[3]!];
  if (!hash) return undefined;
  const salt = k.secret.subarray(4, 12);
  const c = k.secret[12]!;
  const count = (16 + (c & 15)) << ((c >> 4) + 6);
  const iv = k.secret.subarray(13, 29);
  const key = s2k(hash, salt, count, Buffer.from(passphrase, 'utf8'), cipher.keyLen);
  const decipher = createDecipheriv(cipher.name, key, iv);
  const plain = Buffer.concat([decipher.update(k.secret.subarray(29)), decipher.final()]);
  if (plain.length < 20) return undefined;
  const body = plain.subarray(0, plain.length - 20);
  if (!createHash('sha1').update(body).digest().equals(plain.subarray(plain.length - 20))) return undefined;
  return mpis(body, 4)?.values;
}

const big = (b: Buffer) => BigInt(`0x${b.toString('hex') || '0'}`);
const b64 = (v: bigint) => {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex').toString('base64url');
};

/** The key as Node's private key, or undefined (protected without the right passphrase, malformed). */
export function unlockRsa(k: StoredKey, passphrase: string | undefined): KeyObject | undefined {
  try {
    const m = secretMpis(k, passphrase);
    if (!m) return undefined;
    const [d, p, q, u] = m.map(big) as [bigint, bigint, bigint, bigint];
    // OpenPGP stores u = p^-1 mod q; JWK wants qi = q^-1 mod p, so p and q swap roles.
    const jwk = {
      kty: 'RSA',
      n: k.n.toString('base64url'),
      e: k.e.toString('base64url'),
      d: b64(d),
      p: b64(q),
      q: b64(p),
      dp: b64(d % (q - 1n)),
      dq: b64(d % (p - 1n)),
      qi: b64(u),
    };
    if (p * q !== big(k.n)) return undefined;
    return createPrivateKey({ key: jwk, format: 'jwk' });
  } catch {
    return undefined;
  }
}
