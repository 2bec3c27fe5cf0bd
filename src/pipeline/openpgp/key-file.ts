// Reading OpenPGP keys from a file a user named (armored or binary, one key or several). Errors name the
// file and the variable, never the file's content.
import { readFile } from 'node:fs/promises';
import type { Key, PrivateKey } from 'openpgp';
import { UserError } from '../../util/errors';
import { gnupg22Config, loadOpenPgp } from './load-openpgp';

const ARMOR = '-----BEGIN PGP ';

export async function readKeyBytes(path: string, variable: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UserError(`could not read ${variable}`, { detail: `"${path}": ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' ') });
  }
}

function notKeys(path: string, variable: string, reason: string): UserError {
  return new UserError(`${variable} holds no usable OpenPGP key`, {
    detail: `"${path}": ${reason}`,
    hint: 'Export the key with "gpg --export KEY_ID" (public) or "gpg --export-secret-keys KEY_ID" (secret), armored or not.',
  });
}

/** Bytes of key material (from a file or from gpg --export) as keys; armored or binary. */
export async function parseKeys(bytes: Uint8Array, what: string, variable: string, secret: false): Promise<Key[]>;
export async function parseKeys(bytes: Uint8Array, what: string, variable: string, secret: true): Promise<PrivateKey[]>;
export async function parseKeys(bytes: Uint8Array, what: string, variable: string, secret: boolean): Promise<Key[]> {
  const openpgp = await loadOpenPgp();
  const config = gnupg22Config(openpgp);
  const armored = Buffer.from(bytes.subarray(0, 4096)).toString('latin1').includes(ARMOR);
  try {
    if (secret) {
      return armored
        ? await openpgp.readPrivateKeys({ armoredKeys: Buffer.from(bytes).toString('utf8'), config })
        : await openpgp.readPrivateKeys({ binaryKeys: bytes, config });
    }
    return armored
      ? await openpgp.readKeys({ armoredKeys: Buffer.from(bytes).toString('utf8'), config })
      : await openpgp.readKeys({ binaryKeys: bytes, config });
  } catch (err) {
    throw notKeys(what, variable, (err as Error).message);
  }
}
