// Decryption by the user's gpg, as WAL-E did (`gpg -d -q --batch`, spec §4.3), for secret keys that live
// in the keyring and passphrases held by gpg-agent. `--status-fd 3` tells a missing key from bad data
// without parsing translated messages. Like the in-process path, the output ends only once gpg has
// exited 0 after DECRYPTION_OKAY; anything else destroys it with an error.
import { spawn, type ChildProcess } from 'node:child_process';
import { Duplex } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { HeadSniffer, NoSecretKeyError, undecryptable } from './decrypt-errors';
import { gpgDiagnostics, gpgMissing } from './gpg-binary';

export function gpgDecrypter(objectName: string): Duplex {
  return new GpgDecrypter(objectName);
}

class GpgDecrypter extends Duplex {
  readonly #child: ChildProcess;
  readonly #sniffer = new HeadSniffer();
  readonly #stdout: Readable;
  #status = '';
  #stderr = '';
  #exited = false;

  constructor(private readonly objectName: string) {
    super({ readableHighWaterMark: 1 << 20, writableHighWaterMark: 1 << 20 });
    this.#child = spawn('gpg', ['-d', '-q', '--batch', '--status-fd', '3'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    const stdin = this.#child.stdin as Writable;
    this.#stdout = this.#child.stdout as Readable;
    // gpg may stop reading early (wrong key): its exit status, not EPIPE, is the error to report.
    stdin.on('error', () => undefined);
    this.#sniffer.on('error', () => undefined);
    this.#sniffer.pipe(stdin);
    this.#child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.#stderr += d));
    (this.#child.stdio[3] as Readable).setEncoding('utf8').on('data', (d: string) => (this.#status += d));
    this.#stdout.on('data', (d: Buffer) => {
      if (!this.push(d)) this.#stdout.pause();
    });
    this.#child.on('error', (err: NodeJS.ErrnoException) => {
      this.#exited = true;
      this.destroy(err.code === 'ENOENT' || err.code === 'EACCES' ? gpgMissing() : err);
    });
    this.#child.on('close', (code) => {
      this.#exited = true;
      if (this.destroyed) return;
      const failure = this.failure(code);
      if (failure) this.destroy(failure);
      else this.push(null);
    });
  }

  override _write(chunk: Buffer, enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.#sniffer.write(chunk, enc) ? cb() : this.#sniffer.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#sniffer.end();
    cb();
  }

  override _read(): void {
    this.#stdout.resume();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.#exited) this.#child.kill('SIGTERM');
    cb(err);
  }

  private failure(code: number | null): Error | undefined {
    const status = new Set(this.#status.split('\n').map((l) => l.replace(/^\[GNUPG:\] /, '').split(' ')[0]));
    if (code === 0 && status.has('DECRYPTION_OKAY') && !status.has('BADMDC')) return undefined;
    const said = gpgDiagnostics(this.#stderr);
    const detail = `"gpg -d -q --batch" had terminated with the exit status ${code ?? 'unknown (killed)'}.${said ? ` ${said}` : ''}`;
    if (status.has('BADMDC')) return undecryptable(this.objectName, 'the integrity check (MDC) failed', this.#sniffer, detail);
    if (status.has('DECRYPTION_FAILED')) {
      const to = [...this.#status.matchAll(/^\[GNUPG:\] ENC_TO (\S+)/gm)].map((m) => m[1]).join(', ');
      return new NoSecretKeyError(`gpg found no usable secret key for "${this.objectName}"`, {
        detail: `${to ? `The object is encrypted to ${to}. ` : ''}${detail}`,
        hint: 'Import the secret key into the gpg keyring (GNUPGHOME) and cache its passphrase in gpg-agent, ' +
          'or set WALE_GPG_SECRET_KEY_FILE (see docs/encryption.md).',
      });
    }
    return undecryptable(this.objectName, status.has('NODATA') ? 'not OpenPGP data' : 'gpg could not decrypt it', this.#sniffer, detail);
  }
}
