// In-process decryption with WALE_GPG_SECRET_KEY_FILE. openpgp releases plaintext before it has checked
// the MDC at the end of the packet (it must, or a 1.5 GiB partition would sit in memory), so the
// output stream ends only after the check passed; a failed check or a truncated object destroys it
// with an error instead, and callers (which write to a temp file and rename on success) keep nothing.
import { Duplex, PassThrough, Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { WalEError } from '../../util/errors';
import { HeadSniffer, undecryptable } from './decrypt-errors';
import { gnupg22Config, loadOpenPgp } from './load-openpgp';
import type { SecretKeyFile } from './secret-keys';

export function openPgpDecrypter(objectName: string, secretKeys: SecretKeyFile): Duplex {
  const input = new HeadSniffer({ highWaterMark: 1 << 20 });
  const output = new PassThrough({ highWaterMark: 1 << 20 });
  const fail = (err: unknown) => {
    if (output.destroyed) return;
    output.destroy(err instanceof WalEError ? err : undecryptable(objectName, reason(err), input));
  };
  decrypt(objectName, secretKeys, input, output, fail).catch(fail);
  return Duplex.from({ writable: input, readable: output });
}

async function decrypt(objectName: string, secretKeys: SecretKeyFile, input: Readable, output: PassThrough, fail: (err: unknown) => void) {
  const openpgp = await loadOpenPgp();
  const config = { ...gnupg22Config(openpgp), allowUnauthenticatedStream: true };
  const message = await openpgp.readMessage({ binaryMessage: Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>, config });
  const keys = await secretKeys.keysFor(message.getEncryptionKeyIDs(), objectName);
  const { data } = await openpgp.decrypt({ message, decryptionKeys: keys, format: 'binary', config });
  const plain = Readable.fromWeb(data as unknown as NodeWebStream<Uint8Array>, { highWaterMark: 1 << 20 });
  plain.on('error', fail);
  plain.pipe(output);
}

/** openpgp's message without its generic prefixes ("Error decrypting message: ..."). */
function reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^(Error (decrypting message|during parsing|reading[^:]*)[.:]\s*)+/i, '').trim() || msg;
}
