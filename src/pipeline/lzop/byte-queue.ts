// A FIFO of received chunks that hands out contiguous views without copying unless a request spans
// chunks. Lets the container parser wait for "n more bytes" regardless of how the input was split.
export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // bytes of chunks[0] already consumed
  private total = 0;

  get length(): number {
    return this.total;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  /** The first `n` bytes (n <= length) as one contiguous view; copies only when they span chunks. */
  peek(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first !== undefined && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let filled = 0;
    let skip = this.head;
    for (const c of this.chunks) {
      const piece = c.subarray(skip, Math.min(c.length, skip + n - filled));
      out.set(piece, filled);
      filled += piece.length;
      skip = 0;
      if (filled === n) break;
    }
    if (this.chunks.length > 1 && filled === n) this.coalesce(out);
    return out;
  }

  /** Up to `n` available bytes, as a view of the first chunk only. */
  peekSome(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first === undefined) return new Uint8Array(0);
    return first.subarray(this.head, Math.min(first.length, this.head + n));
  }

  skip(n: number): void {
    this.total -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      const left = first.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /** Removes and returns the first `n` bytes. */
  take(n: number): Uint8Array {
    const out = this.peek(n);
    this.skip(n);
    return out;
  }

  /**
   * Replaces the chunks covered by a just-built copy with the copy, so repeated peeks of a growing
   * prefix (a header arriving a few bytes at a time) do not copy the same bytes again and again.
   */
  private coalesce(copy: Uint8Array): void {
    let covered = 0;
    let count = 0;
    let skip = this.head;
    for (const c of this.chunks) {
      if (covered + c.length - skip > copy.length) break;
      covered += c.length - skip;
      skip = 0;
      count++;
    }
    if (count < 2) return;
    this.chunks.splice(0, count, copy.subarray(0, covered));
    this.head = 0;
  }
}
