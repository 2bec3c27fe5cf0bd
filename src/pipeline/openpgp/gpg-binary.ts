// Running the user's `gpg`: only for the two things WAL-E set-ups keep in its keyring and agent — the
// recipient's public key (push) and secret keys with agent-cached passphrases (fetch). The child
// inherits the environment, so GNUPGHOME and the agent are the user's, as with WAL-E (spec §4.3).
import { spawn } from 'node:child_process';
import { UserError } from '../../util/errors';

/** WAL-E's words when a program it depends on cannot be started (spec §1.7). */
export function gpgMissing(): UserError {
  return new UserError('could not run one or more external programs WAL-E depends upon', {
    detail: 'Could not run the following programs, are they installed? gpg',
    hint: 'Install GnuPG, or give wal-e the keys as files: WALE_GPG_PUBLIC_KEY_FILE to archive, ' +
      'WALE_GPG_SECRET_KEY_FILE to restore (see docs/encryption.md).',
  });
}

export interface GpgResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs gpg to completion with stdin closed; rejects with gpgMissing() when it cannot be started. */
export function runGpg(args: readonly string[]): Promise<GpgResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('gpg', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' || err.code === 'EACCES' ? gpgMissing() : err));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }));
  });
}

/** gpg's own diagnostic lines ("gpg: ..."), trimmed, for an error's DETAIL. */
export function gpgDiagnostics(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('gpg:'));
  return lines.slice(-5).join(' ');
}
