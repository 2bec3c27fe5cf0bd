// In-process decryption with WALE_GPG_SECRET_KEY_FILE. openpgp releases plaintext before it has checked
// the MDC at the end of the packet (it must, or a 1.5 GiB partition would sit in memory), so the
// output stream ends only after the check passed; a failed check or a truncated object destroys it
// with an error instead, and callers (which write to a temp file and rename on success) keep nothing.
// The common case (an RSA key as GnuPG exports it, a message as gpg -e -z 0 writes it) is decrypted
// with Node's crypto (native-decrypter.ts) without loading openpgp; openpgp gets everything else,
// replayed from the first byte, with the session key when that much was already found.
import { Duplex, PassThrough, Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { WalEError } from '../../util/errors';
import { HeadSniffer, undecryptable } from './decrypt-errors';
import { gnupg22Config, loadOpenPgp } from './load-openpgp';
import { ByteReader, decryptSeipd, readHead } from './native-decrypter';
import type { SessionKey } from './rsa-session-key';
import type { SecretKeyFile } from './secret-keys';

export function openPgpDecrypter(objectName: string, secretKeys: SecretKeyFile): Duplex {
  const input = new HeadSniffer({ highWaterMark: 1 << 20 });
  const output = new PassThrough({ highWaterMark: 1 << 20 });
  const fail = (err: unknown) => {
    if (output.destroyed) return;
    output.destroy(err instanceof WalEError ? err : undecryptable(objectName, reason(err), input));
  };
  void secretKeys.prefetch();
  decrypt(objectName, secretKeys, input, output, fail).catch(fail);
  return Duplex.from({ writable: input, readable: output });
}

async function decrypt(objectName: string, secretKeys: SecretKeyFile, input: Readable, output: PassThrough, fail: (err: unknown) => void) {
  const reader = new ByteReader(input);
  const head = await readHead(reader);
  const sessionKey = head.pkesks.length ? await secretKeys.nativeSessionKey(head.pkesks) : undefined;
  if (sessionKey && head.seipdNext && (await decryptSeipd(reader, sessionKey, output))) return;
  await withOpenPgp(objectName, secretKeys, Readable.from(reader.replay(), { objectMode: false }), output, fail, sessionKey);
}

const SYMMETRIC = { 7: 'aes128', 8: 'aes192', 9: 'aes256' } as const;

async function withOpenPgp(
  objectName: string,
  secretKeys: SecretKeyFile,
  input: Readable,
  output: PassThrough,
  fail: (err: unknown) => void,
  sessionKey: SessionKey | undefined,
) {
  const openpgp = await loadOpenPgp();
  const config = { ...gnupg22Config(openpgp), allowUnauthenticatedStream: true };
  const message = await openpgp.readMessage({ binaryMessage: Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>, config });
  const keys = sessionKey
    ? { sessionKeys: { data: sessionKey.key, algorithm: SYMMETRIC[sessionKey.algo as keyof typeof SYMMETRIC] } }
    : { decryptionKeys: await secretKeys.keysFor(message.getEncryptionKeyIDs(), objectName) };
  const { data } = await openpgp.decrypt({ message, ...keys, format: 'binary', config });
  const plain = Readable.fromWeb(data as unknown as NodeWebStream<Uint8Array>, { highWaterMark: 1 << 20 });
  plain.on('error', fail);
  plain.pipe(output);
}

/** openpgp's message without its generic prefixes ("Error decrypting message: ..."). */
function reason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/^(Error (decrypting message|during parsing|reading[^:]*)[.:]\s*)+/i, '').trim() || msg;
}
