// Cuts a body of unknown length into pieces of `size` bytes (the last one shorter), each held whole
// in memory so that its upload can be retried, and says whether more follow. A body no longer than
// one piece arrives as a single piece marked last: it becomes one plain object, bigger ones a static
// large object.
export interface Piece {
  readonly data: Buffer;
  readonly index: number;
  readonly last: boolean;
}

export async function* pieces(body: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Piece> {
  if (!(size >= 1)) throw new RangeError('piece size must be at least 1 byte');
  let parts: Buffer[] = [];
  let held = 0;
  let index = 0;
  const take = (n: number): Buffer => {
    const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts, held);
    parts = n < whole.length ? [whole.subarray(n)] : [];
    held = whole.length - n;
    return n < whole.length ? whole.subarray(0, n) : whole;
  };
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    held += chunk.length;
    // Only a piece known not to be the last is given out here: "last" needs one byte of look-ahead.
    while (held > size) yield { data: Buffer.from(take(size)), index: index++, last: false };
  }
  yield { data: take(held), index, last: true };
}
