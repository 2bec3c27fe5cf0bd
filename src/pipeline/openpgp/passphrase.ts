// The passphrase of WALE_GPG_SECRET_KEY_FILE: WALE_GPG_PASSPHRASE, or the first line of
// WALE_GPG_PASSPHRASE_FILE (a file keeps it out of the environment of every child process). Never
// taken from argv, never logged.
import { readFile } from 'node:fs/promises';
import type { GpgSettings } from '../../config/config';
import { UserError } from '../../util/errors';

export function checkPassphraseSettings(gpg: GpgSettings): void {
  if (gpg.passphrase !== undefined && gpg.passphraseFile !== undefined) {
    throw new UserError('both WALE_GPG_PASSPHRASE and WALE_GPG_PASSPHRASE_FILE are set', {
      hint: 'Set only one of them.',
    });
  }
}

/** The passphrase, or undefined when none is configured. */
export async function readPassphrase(gpg: GpgSettings): Promise<string | undefined> {
  if (gpg.passphrase !== undefined) return gpg.passphrase.reveal();
  if (gpg.passphraseFile === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(gpg.passphraseFile, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new UserError('could not read WALE_GPG_PASSPHRASE_FILE', { detail: `"${gpg.passphraseFile}": ${e.code ?? e.message}` });
  }
  return text.split('\n')[0]!.replace(/\r$/, '');
}
