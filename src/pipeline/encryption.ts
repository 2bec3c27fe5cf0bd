// Encryption is configured by WALE_GPG_KEY_ID / --gpg-key-id. Until the OpenPGP pipeline lands, a
// configured key must stop the command: storing plain data where the user asked for encrypted data,
// or failing to decrypt silently, is never acceptable.
import type { Config } from '../config/config';
import { NotImplementedError } from '../util/errors';

export function assertNoEncryption(config: Config): void {
  if (config.gpgKeyId !== undefined) {
    throw new NotImplementedError('encryption (WALE_GPG_KEY_ID / --gpg-key-id)');
  }
}
