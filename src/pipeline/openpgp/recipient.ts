// Whom a push encrypts to: the key WALE_GPG_KEY_ID names, taken from WALE_GPG_PUBLIC_KEY_FILE, else from
// WALE_GPG_SECRET_KEY_FILE's public half, else from the user's gpg keyring (`gpg --export`), so an
// existing WAL-E set-up keeps working unchanged. Within the key, the encryption subkey gpg would pick.
// The plain RSA case is resolved without openpgp (native-recipient.ts), which a cold wal-push would
// otherwise spend most of its encryption time loading; everything else goes through openpgp.
import type { Key, KeyID } from 'openpgp';
import type { GpgSettings } from '../../config/config';
import { UserError } from '../../util/errors';
import { gpgDiagnostics, runGpg } from './gpg-binary';
import { parseKeys, readKeyBytes } from './key-file';
import { hexMatches, parseKeySpec, userIdMatches, type KeySpec } from './key-spec';
import { gnupg22Config, loadOpenPgp } from './load-openpgp';
import type { RsaRecipientKey } from './native-encrypter';
import { nativeRecipient } from './native-recipient';
import { dearmor } from './packets';

export type Recipient =
  | { readonly kind: 'native'; readonly rsa: RsaRecipientKey }
  | {
      readonly kind: 'openpgp';
      readonly key: Key;
      /** The (sub)key the session key is encrypted to. */
      readonly keyId: KeyID;
    };

// A process resolves its recipient once, however many segments it pushes.
const cache = new Map<string, Promise<Recipient>>();

export function recipientFor(gpg: GpgSettings): Promise<Recipient> {
  const keyId = gpg.keyId!;
  const id = JSON.stringify([keyId, gpg.publicKeyFile, gpg.secretKeyFile]);
  let p = cache.get(id);
  if (!p) {
    p = resolve(gpg, keyId);
    cache.set(id, p);
  }
  return p;
}

async function resolve(gpg: GpgSettings, keyId: string): Promise<Recipient> {
  if (gpg.publicKeyFile !== undefined) {
    const bytes = await readKeyBytes(gpg.publicKeyFile, 'WALE_GPG_PUBLIC_KEY_FILE');
    const native = fast(bytes, keyId);
    if (native) return native;
    const keys = await parseKeys(bytes, gpg.publicKeyFile, 'WALE_GPG_PUBLIC_KEY_FILE', false);
    return select(keys, keyId, `WALE_GPG_PUBLIC_KEY_FILE ("${gpg.publicKeyFile}")`);
  }
  if (gpg.secretKeyFile !== undefined) {
    const bytes = await readKeyBytes(gpg.secretKeyFile, 'WALE_GPG_SECRET_KEY_FILE');
    const native = fast(bytes, keyId);
    if (native) return native;
    const keys = await parseKeys(bytes, gpg.secretKeyFile, 'WALE_GPG_SECRET_KEY_FILE', true);
    return select(keys.map((k) => k.toPublic()), keyId, `WALE_GPG_SECRET_KEY_FILE ("${gpg.secretKeyFile}")`);
  }
  const exported = await exportFromKeyring(keyId, gpg.gnupgHome);
  const native = fast(exported, keyId);
  if (native) return native;
  const keys = await parseKeys(exported, keyringName(gpg.gnupgHome), 'gpg --export', false);
  return select(keys, keyId, keyringName(gpg.gnupgHome));
}

function fast(bytes: Buffer, keyId: string): Recipient | undefined {
  let binary: Buffer;
  try {
    binary = dearmor(bytes);
  } catch {
    return undefined;
  }
  const rsa = nativeRecipient(binary, keyId);
  return rsa ? { kind: 'native', rsa } : undefined;
}

function keyringName(home: string | undefined): string {
  return `the gpg keyring (${home !== undefined ? `GNUPGHOME=${home}` : '~/.gnupg'})`;
}

async function exportFromKeyring(keyId: string, home: string | undefined): Promise<Buffer> {
  const r = await runGpg(['--batch', '--export', '--', keyId]);
  if (r.code !== 0 || r.stdout.length === 0) {
    throw new UserError(`no public key for WALE_GPG_KEY_ID "${keyId}" in ${keyringName(home)}`, {
      detail: gpgDiagnostics(r.stderr) || undefined,
      hint: 'Import the public key ("gpg --import KEY.asc"), or name a key file with WALE_GPG_PUBLIC_KEY_FILE.',
    });
  }
  return r.stdout;
}

function describe(key: Key): string {
  const uid = key.getUserIDs()[0];
  return `${key.getFingerprint().toUpperCase()}${uid ? ` (${uid})` : ''}`;
}

function matches(key: Key, spec: KeySpec): boolean {
  if (spec.kind === 'user-id') return key.getUserIDs().some((u) => userIdMatches(spec, u));
  return key.getKeys().some((k) => hexMatches(spec, k.getFingerprint(), k.getKeyID().toHex()));
}

/** The first key that answers to the spec and can encrypt, as `gpg -r` would choose it. */
async function select(keys: readonly Key[], keyId: string, source: string): Promise<Recipient> {
  const openpgp = await loadOpenPgp();
  const config = { ...openpgp.config, ...gnupg22Config(openpgp) };
  const spec = parseKeySpec(keyId);
  const candidates = keys.filter((k) => matches(k, spec));
  if (candidates.length === 0) {
    throw new UserError(`no OpenPGP key in ${source} matches WALE_GPG_KEY_ID "${keyId}"`, {
      detail: keys.length ? `It holds: ${keys.map(describe).join('; ')}.` : 'It holds no keys.',
    });
  }
  const reasons: string[] = [];
  for (const key of candidates) {
    if (key.keyPacket.version !== 4) {
      reasons.push(`${describe(key)} is a version ${key.keyPacket.version} key, which GnuPG 2.2 cannot read messages for`);
      continue;
    }
    // "KEYID!" forces that very (sub)key; otherwise gpg takes the key's newest valid encryption subkey.
    const forced = spec.kind !== 'user-id' && spec.exact
      ? key.getKeys().find((k) => hexMatches(spec, k.getFingerprint(), k.getKeyID().toHex()))?.getKeyID()
      : undefined;
    try {
      const enc = await key.getEncryptionKey(forced, new Date(), undefined, config);
      return { kind: 'openpgp', key, keyId: enc.getKeyID() };
    } catch (err) {
      reasons.push(`${describe(key)}: ${(err as Error).message}`);
    }
  }
  throw new UserError(`the key WALE_GPG_KEY_ID "${keyId}" names cannot encrypt`, {
    detail: reasons.join('; '),
    hint: 'The key (or the subkey forced with "!") needs a valid, unexpired, unrevoked encryption subkey.',
  });
}
