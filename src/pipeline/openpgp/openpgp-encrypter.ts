// In-process encryption, the equivalent of WAL-E's `gpg -e -z 0 -r KEY` (spec §4.3): a public-key
// encrypted session key packet for the recipient's encryption subkey, then a SEIPD v1 (MDC) packet with
// partial lengths holding a binary literal packet (mode "b", empty name). Streams; nothing is buffered.
import { Duplex, PassThrough, Readable } from 'node:stream';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import type { Recipient } from './recipient';
import { gnupg22Config, loadOpenPgp } from './load-openpgp';

export async function openPgpEncrypter(recipient: Extract<Recipient, { kind: 'openpgp' }>): Promise<Duplex> {
  const openpgp = await loadOpenPgp();
  const input = new PassThrough({ highWaterMark: 1 << 20 });
  const message = await openpgp.createMessage({ binary: Readable.toWeb(input) as unknown as ReadableStream<Uint8Array>, format: 'binary' });
  const encrypted = await openpgp.encrypt({
    message,
    encryptionKeys: recipient.key,
    encryptionKeyIDs: recipient.keyId,
    format: 'binary',
    config: gnupg22Config(openpgp),
  });
  const output = Readable.fromWeb(encrypted as unknown as NodeWebStream<Uint8Array>, { highWaterMark: 1 << 20 });
  return Duplex.from({ writable: input, readable: output });
}
