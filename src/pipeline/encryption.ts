// Encryption, switched on by WALE_GPG_KEY_ID / --gpg-key-id for every push and every fetch, exactly as
// in WAL-E (spec §4.3): lzop output is encrypted on the way out, decrypted before lzop on the way in.
// Until the OpenPGP pipeline lands, a configured key stops the command: storing plain data where the
// user asked for encrypted data, or failing to decrypt silently, is never acceptable.
import type { Duplex } from 'node:stream';
import type { Config } from '../config/config';
import { NotImplementedError } from '../util/errors';

export interface Encryption {
  /** A stream turning plain (lzop) bytes into the stored ciphertext. */
  encrypter(): Promise<Duplex>;
  /** A stream turning a stored object's ciphertext back into lzop bytes; errors name the object. */
  decrypter(objectName: string): Promise<Duplex>;
}

/** The encryption a run must apply, or undefined when no key id is configured. */
export async function encryptionFor(config: Config): Promise<Encryption | undefined> {
  if (config.gpgKeyId === undefined) return undefined;
  throw new NotImplementedError('encryption (WALE_GPG_KEY_ID / --gpg-key-id)');
}
