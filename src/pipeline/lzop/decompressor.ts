// Serial lzop decompression stream (main thread): a Duplex over the pull-based decoder, so a block is
// decoded only when the reader asks for more. Memory stays at about one block plus one input chunk
// however well the data compressed, and back-pressure needs no bookkeeping of its own (an earlier
// push-based Transform could stall on highly compressible input).
import { Duplex } from 'node:stream';
import { lzopDecode } from './decompress-iterable';

/** lzop bytes in, original bytes out; errors with CorruptObjectError naming `objectName`. */
export function createLzopDecompressor(objectName: string): Duplex {
  return Duplex.from(async function* (source: AsyncIterable<Uint8Array>) {
    yield* lzopDecode(source, objectName);
  });
}
