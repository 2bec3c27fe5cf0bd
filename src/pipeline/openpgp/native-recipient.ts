// The recipient of a push, found without openpgp for the common case: one v4 RSA key (what GnuPG 2.2
// makes by default) whose newest encryption subkey is RSA. Its self-signatures are verified with Node's
// crypto and the subkey is chosen as `gpg -r` and openpgp choose it: the newest subkey with a valid,
// unexpired binding signature that allows encryption, on a primary key with a valid, unexpired user-id
// self-certification. Anything else (other algorithms, revocations, disagreeing self-signatures, SHA-1
// signatures, forced "KEY!" subkeys, several matching keys) returns undefined and the caller uses
// openpgp, which also gives the error messages; so this path only ever says "yes" where openpgp would.
import { constants, createHash, createPublicKey, verify } from 'node:crypto';
import type { RsaRecipientKey } from './native-encrypter';
import { readMpi, readPackets, type Packet } from './packets';
import { hexMatches, parseKeySpec, userIdMatches } from './key-spec';

const TAG = { signature: 2, publicKey: 6, trust: 12, userId: 13, publicSubkey: 14, userAttribute: 17 };
const HASHES: Record<number, string> = { 8: 'sha256', 9: 'sha384', 10: 'sha512', 11: 'sha224' };
// Signature subpackets that may be marked critical without changing what this code decides.
const UNDERSTOOD = new Set([2, 3, 4, 9, 11, 16, 21, 22, 23, 24, 25, 27, 30, 33]);
const AES256 = 9;

interface RsaKey {
  body: Buffer;
  created: number;
  algo: number;
  n: Buffer;
  e: Buffer;
  fingerprint: string;
  keyId: Buffer;
}

interface Signature {
  type: number;
  hashAlgo: number;
  pubAlgo: number;
  /** Version through hashed subpackets: the part the hash covers besides the context. */
  hashedPart: Buffer;
  s: Buffer;
  created?: number;
  sigExpires?: number;
  keyExpires?: number;
  keyFlags?: number;
  preferredSymmetric?: number[];
  criticalUnknown: boolean;
}

/** Why the native path declines; never shown to users (openpgp takes over and speaks for itself). */
class Decline extends Error {}

function parseKey(body: Buffer): RsaKey {
  if (body[0] !== 4) throw new Decline('not a v4 key');
  const algo = body[5]!;
  if (algo !== 1 && algo !== 2 && algo !== 3) throw new Decline('not RSA');
  const n = readMpi(body, 6);
  const e = readMpi(body, n.next);
  if (e.next !== body.length) throw new Decline('trailing key data');
  const head = Buffer.from([0x99, body.length >> 8, body.length & 0xff]);
  const fp = createHash('sha1').update(head).update(body).digest();
  return { body, created: body.readUInt32BE(1), algo, n: n.value, e: e.value, fingerprint: fp.toString('hex'), keyId: fp.subarray(12) };
}

function parseSignature(body: Buffer): Signature {
  if (body[0] !== 4) throw new Decline('not a v4 signature');
  const hashedLen = body.readUInt16BE(4);
  const hashedEnd = 6 + hashedLen;
  const unhashedLen = body.readUInt16BE(hashedEnd);
  const sig: Signature = {
    type: body[1]!,
    pubAlgo: body[2]!,
    hashAlgo: body[3]!,
    hashedPart: body.subarray(0, hashedEnd),
    s: Buffer.alloc(0),
    criticalUnknown: false,
  };
  let p = 6;
  while (p < hashedEnd) {
    let len = body[p++]!;
    if (len >= 192 && len < 255) len = ((len - 192) << 8) + body[p++]! + 192;
    else if (len === 255) {
      len = body.readUInt32BE(p);
      p += 4;
    }
    const type = body[p]! & 0x7f;
    const critical = (body[p]! & 0x80) !== 0;
    const data = body.subarray(p + 1, p + len);
    p += len;
    if (critical && !UNDERSTOOD.has(type)) sig.criticalUnknown = true;
    if (type === 2) sig.created = data.readUInt32BE(0);
    else if (type === 3) sig.sigExpires = data.readUInt32BE(0);
    else if (type === 9) sig.keyExpires = data.readUInt32BE(0);
    else if (type === 27) sig.keyFlags = data[0] ?? 0;
    else if (type === 11) sig.preferredSymmetric = [...data];
  }
  if (p !== hashedEnd) throw new Decline('malformed subpackets');
  sig.s = readMpi(body, hashedEnd + 2 + unhashedLen + 2).value;
  return sig;
}

function publicKeyOf(k: RsaKey) {
  return createPublicKey({ key: { kty: 'RSA', n: k.n.toString('base64url'), e: k.e.toString('base64url') }, format: 'jwk' });
}

function keyContext(k: RsaKey): Buffer {
  return Buffer.concat([Buffer.from([0x99, k.body.length >> 8, k.body.length & 0xff]), k.body]);
}

/** Does the primary's signature over `context` verify, and is it in force now? */
function validSignature(primary: RsaKey, sig: Signature, context: Buffer, now: number): boolean {
  const hash = HASHES[sig.hashAlgo];
  if (!hash || sig.pubAlgo !== 1 && sig.pubAlgo !== 3) throw new Decline('signature algorithm');
  if (sig.criticalUnknown) throw new Decline('critical subpacket');
  if (sig.created === undefined || sig.created > now) return false;
  if (sig.sigExpires && sig.created + sig.sigExpires <= now) return false;
  const trailer = Buffer.alloc(6);
  trailer[0] = 4;
  trailer[1] = 0xff;
  trailer.writeUInt32BE(sig.hashedPart.length, 2);
  const modulusBytes = primary.n.length;
  if (sig.s.length > modulusBytes) return false;
  const s = Buffer.concat([Buffer.alloc(modulusBytes - sig.s.length), sig.s]);
  const data = Buffer.concat([context, sig.hashedPart, trailer]);
  return verify(hash, data, { key: publicKeyOf(primary), padding: constants.RSA_PKCS1_PADDING }, s);
}

interface Group {
  tag: number;
  packet: Packet;
  sigs: Signature[];
}

/** One transferable public key: its packets grouped with the signatures that follow each. */
function groups(packets: Packet[]): Group[] {
  const out: Group[] = [];
  for (const p of packets) {
    if (p.tag === TAG.trust) continue;
    if (p.tag === TAG.signature) {
      const last = out[out.length - 1];
      if (!last) throw new Decline('signature first');
      last.sigs.push(parseSignature(p.body));
    } else if ([TAG.publicKey, TAG.userId, TAG.publicSubkey, TAG.userAttribute].includes(p.tag)) {
      out.push({ tag: p.tag, packet: p, sigs: [] });
    } else throw new Decline(`packet ${p.tag}`);
  }
  return out;
}

function splitKeys(packets: Packet[]): Packet[][] {
  const keys: Packet[][] = [];
  for (const p of packets) {
    if (p.tag === TAG.publicKey) keys.push([p]);
    else if (keys.length) keys[keys.length - 1]!.push(p);
    else throw new Decline('no primary key first');
  }
  return keys;
}

function select(keyPackets: Packet[], now: number): RsaRecipientKey {
  const [primaryGroup, ...rest] = groups(keyPackets);
  const primary = parseKey(primaryGroup!.packet.body);
  if (primaryGroup!.sigs.length) throw new Decline('direct-key or revocation signature');
  if (primary.created > now) throw new Decline('primary from the future');
  const context = keyContext(primary);

  // The primary key's validity and preferences come from its user-id self-certifications.
  const certs: Signature[] = [];
  for (const g of rest.filter((x) => x.tag === TAG.userId)) {
    if (g.sigs.some((s) => s.type === 0x30)) throw new Decline('revoked user id');
    const uid = g.packet.body;
    const uidContext = Buffer.concat([context, Buffer.from([0xb4]), u32(uid.length), uid]);
    for (const s of g.sigs) {
      if (s.type >= 0x10 && s.type <= 0x13 && validSignature(primary, s, uidContext, now)) certs.push(s);
    }
  }
  if (certs.length === 0) throw new Decline('no valid self-certification');
  const settings = new Set(certs.map((c) => JSON.stringify([c.keyExpires ?? 0, c.preferredSymmetric ?? null])));
  if (settings.size !== 1) throw new Decline('self-certifications disagree');
  const { keyExpires, preferredSymmetric } = certs[0]!;
  if (keyExpires && primary.created + keyExpires <= now) throw new Decline('primary expired');
  if (preferredSymmetric && !preferredSymmetric.includes(AES256)) throw new Decline('AES-256 not preferred');

  // The newest subkey able to encrypt, as gpg and openpgp pick it.
  const subkeys = rest.filter((x) => x.tag === TAG.publicSubkey).map((g) => ({ g, key: parseKey(g.packet.body) }));
  subkeys.sort((a, b) => b.key.created - a.key.created);
  for (const { g, key } of subkeys) {
    if (g.sigs.some((s) => s.type === 0x28)) throw new Decline('revoked subkey');
    if (key.created > now) continue;
    const bindingContext = Buffer.concat([context, keyContext(key)]);
    const bindings = g.sigs.filter((s) => s.type === 0x18 && validSignature(primary, s, bindingContext, now));
    const binding = bindings.sort((a, b) => b.created! - a.created!)[0];
    if (!binding) continue;
    if (binding.keyFlags !== undefined && (binding.keyFlags & 0x0c) === 0) continue;
    if (binding.keyFlags === undefined && key.algo === 3) continue;
    if (binding.keyExpires && key.created + binding.keyExpires <= now) continue;
    if (key.n.length * 8 < 1024 || key.algo === 3) throw new Decline('unusual subkey');
    return { keyId: key.keyId, publicKey: publicKeyOf(key) };
  }
  throw new Decline('no RSA encryption subkey');
}

/** A secret (sub)key packet as its public counterpart: the same body up to the end of the public MPIs. */
function publicHalf(p: Packet): Packet {
  if (p.tag !== 5 && p.tag !== 7) return p;
  if (p.body[0] !== 4) throw new Decline('not a v4 key');
  const pub = parseKey(Buffer.concat([p.body.subarray(0, 6), readPublicMpis(p.body)]));
  return { tag: p.tag === 5 ? TAG.publicKey : TAG.publicSubkey, body: pub.body };
}

function readPublicMpis(body: Buffer): Buffer {
  if (body[5] !== 1 && body[5] !== 2 && body[5] !== 3) throw new Decline('not RSA');
  const n = readMpi(body, 6);
  const e = readMpi(body, n.next);
  return body.subarray(6, e.next);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function keyMatches(keyPackets: Packet[], spec: ReturnType<typeof parseKeySpec>): boolean {
  if (spec.kind === 'user-id') {
    return keyPackets.some((p) => p.tag === TAG.userId && userIdMatches(spec, p.body.toString('utf8')));
  }
  return keyPackets.some((p) => {
    if (p.tag !== TAG.publicKey && p.tag !== TAG.publicSubkey) return false;
    if (p.body[0] !== 4) return false;
    const fp = createHash('sha1').update(Buffer.from([0x99, p.body.length >> 8, p.body.length & 0xff])).update(p.body).digest('hex');
    return hexMatches(spec, fp, fp.slice(24));
  });
}

/**
 * The RSA (sub)key `gpg -r KEY_ID` would encrypt to, from binary key material (public keys, or secret
 * keys whose public half is used); undefined whenever the case is not the plain one this code fully
 * understands.
 */
export function nativeRecipient(binaryKeys: Buffer, keyIdSpec: string, now = Math.floor(Date.now() / 1000)): RsaRecipientKey | undefined {
  try {
    const spec = parseKeySpec(keyIdSpec);
    if (spec.kind !== 'user-id' && spec.exact) return undefined;
    const candidates = splitKeys(readPackets(binaryKeys).map(publicHalf)).filter((k) => keyMatches(k, spec));
    if (candidates.length !== 1) return undefined;
    return select(candidates[0]!, now);
  } catch {
    return undefined;
  }
}
