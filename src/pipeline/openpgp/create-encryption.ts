// The encryption of a run with a key id (see ../encryption.ts): in-process encryption, and decryption
// in-process with a secret-key file or through the user's gpg and its agent.
import type { GpgSettings } from '../../config/config';
import type { Encryption } from '../encryption';
import { gpgDecrypter } from './gpg-decrypter';
import { nativeEncrypter } from './native-encrypter';
import { openPgpDecrypter } from './openpgp-decrypter';
import { openPgpEncrypter } from './openpgp-encrypter';
import { checkPassphraseSettings } from './passphrase';
import { recipientFor } from './recipient';
import { SecretKeyFile } from './secret-keys';

export function createEncryption(gpg: GpgSettings): Encryption {
  checkPassphraseSettings(gpg);
  const secretKeyFile = gpg.secretKeyFile;
  const secretKeys = secretKeyFile !== undefined ? new SecretKeyFile({ ...gpg, secretKeyFile }) : undefined;
  return {
    decryptionMode: secretKeys ? 'key-file' : 'gpg',
    encrypter: async () => {
      const recipient = await recipientFor(gpg);
      return recipient.kind === 'native' ? nativeEncrypter(recipient.rsa) : openPgpEncrypter(recipient);
    },
    decrypter: async (objectName) => (secretKeys ? openPgpDecrypter(objectName, secretKeys) : gpgDecrypter(objectName)),
  };
}
