// lzop's optional per-block byte filters (F_H_FILTER): filter N is a delta coding over N interleaved
// lanes, reset at every block. The uncompressed checksum covers the unfiltered bytes.

/** Undoes filter `lanes` (1-16) in place: each byte becomes the running sum of its lane. */
export function unfilterBlock(data: Uint8Array, lanes: number): void {
  if (data.length <= lanes) return;
  if (lanes === 1) {
    let sum = 0;
    for (let i = 0; i < data.length; i++) {
      sum = (sum + data[i]!) & 0xff;
      data[i] = sum;
    }
    return;
  }
  const sums = new Uint8Array(lanes);
  for (let i = 0, lane = 0; i < data.length; i++) {
    const v = (sums[lane]! + data[i]!) & 0xff;
    sums[lane] = v;
    data[i] = v;
    if (++lane === lanes) lane = 0;
  }
}

/** Applies filter `lanes` in place (the inverse of unfilterBlock); used to test the reader. */
export function filterBlock(data: Uint8Array, lanes: number): void {
  if (data.length <= lanes) return;
  const last = new Uint8Array(lanes);
  for (let i = 0, lane = 0; i < data.length; i++) {
    const v = data[i]!;
    data[i] = (v - last[lane]!) & 0xff;
    last[lane] = v;
    if (++lane === lanes) lane = 0;
  }
}
