// Encryption, switched on by WALE_GPG_KEY_ID / --gpg-key-id for every push and every fetch, exactly as
// in WAL-E (spec §4.1, §4.3): lzop output is encrypted on the way out, decrypted before lzop on the way
// in, and whether to decrypt depends only on the key id being set (objects are never sniffed).
//
// Encryption always runs in-process: for RSA recipients with Node's crypto (native-encrypter.ts), for
// other keys with openpgp. Decryption runs in-process when WALE_GPG_SECRET_KEY_FILE
// is set, and otherwise by the user's `gpg -d -q --batch`, so keys held by gpg-agent keep working.
// gpg is needed only where it is used (WAL-E checked for it up front, spec §1.5): a host given both key
// files needs no GnuPG at all. openpgp is loaded only when a key id is set and the case needs it. See docs/encryption.md.
import type { Duplex } from 'node:stream';
import type { Config } from '../config/config';
export { NoSecretKeyError } from './openpgp/decrypt-errors';

export interface Encryption {
  /** A stream turning plain (lzop) bytes into the stored ciphertext. */
  encrypter(): Promise<Duplex>;
  /**
   * A stream turning a stored object's ciphertext back into lzop bytes. It ends only after the object's
   * integrity was verified; otherwise it errors (CorruptObjectError naming the object for bad data,
   * UserError for a missing key or a plain object), so a consumer never mistakes a prefix for a whole.
   */
  decrypter(objectName: string): Promise<Duplex>;
  /** How objects are decrypted: "key-file" (in-process) or "gpg" (the user's gpg and agent). */
  readonly decryptionMode: 'key-file' | 'gpg';
}

/**
 * The encryption a run must apply, or undefined when no key id is configured. The implementation is
 * imported only then: wal-push and wal-fetch without encryption (one process per segment) never load it.
 */
export async function encryptionFor(config: Config): Promise<Encryption | undefined> {
  if (config.gpg.keyId === undefined) return undefined;
  const { createEncryption } = await import('./openpgp/create-encryption');
  return createEncryption(config.gpg);
}
