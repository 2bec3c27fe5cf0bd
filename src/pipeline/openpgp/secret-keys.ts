// The secret keys of WALE_GPG_SECRET_KEY_FILE, unlocked lazily: only the (sub)key an object was encrypted
// to is unlocked, once per process, because a GnuPG-exported key's S2K costs ~0.1 s per packet.
// RSA keys as GnuPG exports them are read and used with Node's crypto (nativeSessionKey); openpgp is
// loaded only for other keys, and to explain failures.
import type { KeyObject } from 'node:crypto';
import type { KeyID, PrivateKey } from 'openpgp';
import type { GpgSettings } from '../../config/config';
import { UserError } from '../../util/errors';
import { NoSecretKeyError } from './decrypt-errors';
import { parseKeys, readKeyBytes } from './key-file';
import { storedRsaKeys, unlockRsa } from './native-secret-keys';
import { dearmor } from './packets';
import { readPassphrase } from './passphrase';
import { pkeskRecipient, rsaSessionKey, type SessionKey } from './rsa-session-key';

export class SecretKeyFile {
  #bytes: Promise<Buffer> | undefined;
  #keys: Promise<PrivateKey[]> | undefined;
  readonly #unlocked = new Map<string, Promise<PrivateKey>>();
  #passphrase: Promise<string | undefined> | undefined;

  constructor(private readonly gpg: GpgSettings & { secretKeyFile: string }) {}

  #native: Promise<ReturnType<typeof storedRsaKeys> | undefined> | undefined;
  readonly #nativeUnlocked = new Map<string, Promise<{ key: KeyObject; modulusBytes: number } | undefined>>();

  /**
   * The session key of a message with these PKESK packets, found with Node's crypto; undefined when
   * that is not possible here (no RSA key in the file for them, a key this code does not read, a
   * missing or wrong passphrase), and openpgp must take over.
   */
  async nativeSessionKey(pkesks: readonly Buffer[]): Promise<SessionKey | undefined> {
    const stored = await this.prefetch();
    if (!stored) return undefined;
    for (const body of pkesks) {
      const r = pkeskRecipient(body);
      const k = r && r.algo === 1 ? stored.get(r.keyId) : undefined;
      if (!k) continue;
      let p = this.#nativeUnlocked.get(r!.keyId);
      if (!p) {
        p = (async () => {
          const passphrase = k.secret[0] === 0 ? undefined : await (this.#passphrase ??= readPassphrase(this.gpg)).catch(() => undefined);
          const key = unlockRsa(k, passphrase);
          return key ? { key, modulusBytes: k.n.length } : undefined;
        })();
        this.#nativeUnlocked.set(r!.keyId, p);
      }
      const unlocked = await p;
      if (unlocked) return rsaSessionKey(body, unlocked.key, unlocked.modulusBytes);
    }
    return undefined;
  }

  /**
   * Reads the key file (and passphrase file) once, early: a decrypter calls this before the object's
   * bytes arrive, so no file is opened while a fetch is in full flow. Errors surface when used.
   */
  prefetch(): Promise<ReturnType<typeof storedRsaKeys> | undefined> {
    this.#bytes ??= readKeyBytes(this.gpg.secretKeyFile, 'WALE_GPG_SECRET_KEY_FILE');
    this.#bytes.catch(() => undefined);
    if (this.gpg.passphraseFile !== undefined) {
      this.#passphrase ??= readPassphrase(this.gpg);
      this.#passphrase.catch(() => undefined);
    }
    this.#native ??= this.#bytes.then((bytes) => storedRsaKeys(dearmor(bytes))).catch(() => undefined);
    return this.#native;
  }

  private keys(): Promise<PrivateKey[]> {
    this.#bytes ??= readKeyBytes(this.gpg.secretKeyFile, 'WALE_GPG_SECRET_KEY_FILE');
    this.#keys ??= this.#bytes.then((bytes) => parseKeys(bytes, this.gpg.secretKeyFile, 'WALE_GPG_SECRET_KEY_FILE', true));
    return this.#keys;
  }

  /** Unlocked keys able to open a message encrypted to these key ids; UserError when none is held. */
  async keysFor(recipients: readonly KeyID[], objectName: string): Promise<PrivateKey[]> {
    const keys = await this.keys();
    const out: PrivateKey[] = [];
    for (const id of recipients) {
      const holder = keys.find((k) => k.getKeys(id).some((sub) => !isDummy(sub.keyPacket)));
      if (holder) out.push(await this.unlocked(holder, id));
    }
    if (out.length === 0) {
      const wanted = recipients.map((r) => r.toHex().toUpperCase()).join(', ') || 'no key ids';
      const held = keys.flatMap((k) => k.getKeys().map((s) => s.getKeyID().toHex().toUpperCase())).join(', ');
      throw new NoSecretKeyError(`no secret key for "${objectName}"`, {
        detail: `The object is encrypted to ${wanted}; WALE_GPG_SECRET_KEY_FILE ("${this.gpg.secretKeyFile}") holds ${held || 'no keys'}.`,
        hint: 'Objects archived before a key rotation need the old secret key: add it to the file (see docs/encryption.md).',
      });
    }
    return out;
  }

  private unlocked(key: PrivateKey, id: KeyID): Promise<PrivateKey> {
    const cacheKey = id.toHex();
    let p = this.#unlocked.get(cacheKey);
    if (!p) {
      p = this.unlock(key, id);
      this.#unlocked.set(cacheKey, p);
    }
    return p;
  }

  private async unlock(key: PrivateKey, id: KeyID): Promise<PrivateKey> {
    const packet = key.getKeys(id).map((k) => k.keyPacket).find((p) => !isDummy(p)) as SecretPacket;
    if (packet.isDecrypted()) return key;
    this.#passphrase ??= readPassphrase(this.gpg);
    const passphrase = await this.#passphrase;
    const which = `${id.toHex().toUpperCase()} in WALE_GPG_SECRET_KEY_FILE ("${this.gpg.secretKeyFile}")`;
    if (passphrase === undefined) {
      throw new UserError(`the secret key ${which} is protected by a passphrase`, {
        hint: 'Set WALE_GPG_PASSPHRASE or WALE_GPG_PASSPHRASE_FILE, or leave WALE_GPG_SECRET_KEY_FILE unset to decrypt with gpg and its agent.',
      });
    }
    // Unlock a copy, and only the packet this object needs.
    // clone(true) copies the secret parameters too (missing from openpgp's typings).
    const copy = (key as unknown as { clone(withSecrets: boolean): PrivateKey }).clone(true);
    const target = copy.getKeys(id).map((k) => k.keyPacket).find((p) => !isDummy(p)) as SecretPacket;
    try {
      await target.decrypt(passphrase);
    } catch (err) {
      const wrong = /passphrase/i.test((err as Error).message);
      throw new UserError(wrong ? `the passphrase does not unlock the secret key ${which}` : `could not unlock the secret key ${which}`, {
        detail: wrong ? 'Check WALE_GPG_PASSPHRASE or the first line of WALE_GPG_PASSPHRASE_FILE.' : (err as Error).message,
      });
    }
    return copy;
  }
}

interface SecretPacket {
  isDecrypted(): boolean;
  isDummy?(): boolean;
  decrypt(passphrase: string): Promise<void>;
}

function isDummy(p: unknown): boolean {
  const d = (p as SecretPacket).isDummy;
  return typeof d === 'function' && d.call(p) === true;
}
