// Kernel-only micro-benchmark: the raw wasm compress/decompress/adler32 speed on 256 KiB blocks, no
// streams, no copies except into the kernel's memory once per file.
//   node bench/lzo/kernel.mjs [--wasm build/generated/lzo-kernel.wasm] [--heap-mb 160]
import { readFileSync, openSync, readSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const arg = (n, d) => { const i = process.argv.indexOf(n); return i >= 0 ? process.argv[i + 1] : d; };
const wasmFile = arg('--wasm', join(root, 'build', 'generated', 'lzo-kernel.wasm'));
const heapMb = Number(arg('--heap-mb', '160'));
const reps = Number(arg('--reps', '5'));
const BLOCK = 256 * 1024;

function readHead(file, max) {
  const buf = Buffer.allocUnsafe(max);
  const fd = openSync(file, 'r');
  const n = readSync(fd, buf, 0, max, 0);
  closeSync(fd);
  return buf.subarray(0, n);
}

const inst = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmFile)), {});
const k = inst.exports;
const base = k.BUFFERS_BASE.value;

function bench(label, data) {
  const nBlocks = Math.ceil(data.length / BLOCK);
  // layout: [input blocks contiguous][compressed blocks, each at bound stride][decoded]
  const bound = k.compressBound(BLOCK);
  const inPtr = base;
  const cPtr = inPtr + data.length + 64;
  const stride = (bound + 64 + 63) & ~63;
  const dPtr = cPtr + nBlocks * stride;
  const need = dPtr + BLOCK + 64 + 1024;
  const have = k.memory.buffer.byteLength;
  if (need > have) k.memory.grow(Math.ceil((need - have) / 65536));
  new Uint8Array(k.memory.buffer).set(data, inPtr);
  const clen = new Array(nBlocks);
  const tc = [], td = [], ta = [];
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    let total = 0;
    for (let b = 0; b < nBlocks; b++) {
      const len = Math.min(BLOCK, data.length - b * BLOCK);
      clen[b] = k.compress(inPtr + b * BLOCK, len, cPtr + b * stride);
      total += Math.min(clen[b], len);
    }
    tc.push(performance.now() - t);
    t = performance.now();
    for (let b = 0; b < nBlocks; b++) {
      const len = Math.min(BLOCK, data.length - b * BLOCK);
      k.adler32(1, inPtr + b * BLOCK, len);
    }
    ta.push(performance.now() - t);
    t = performance.now();
    for (let b = 0; b < nBlocks; b++) {
      const len = Math.min(BLOCK, data.length - b * BLOCK);
      if (clen[b] >= len) continue;
      const rr = k.decompress(cPtr + b * stride, clen[b], dPtr, len);
      if (rr !== len) throw new Error(`decode failed block ${b}: ${rr}`);
    }
    td.push(performance.now() - t);
    if (r === 0) {
      // verify
      const mem = new Uint8Array(k.memory.buffer);
      for (let b = 0; b < nBlocks; b++) {
        const len = Math.min(BLOCK, data.length - b * BLOCK);
        if (clen[b] >= len) continue;
        k.decompress(cPtr + b * stride, clen[b], dPtr, len);
        if (Buffer.compare(mem.subarray(dPtr, dPtr + len), data.subarray(b * BLOCK, b * BLOCK + len)) !== 0) throw new Error(`mismatch block ${b}`);
      }
      console.log(`${label}: ${(data.length / 1e6).toFixed(1)} MB, ratio ${(total / data.length).toFixed(4)}`);
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const mb = (ms) => (data.length / 1e6 / (med(ms) / 1000)).toFixed(0);
  console.log(`  compress ${mb(tc)} MB/s  adler32 ${mb(ta)} MB/s  decompress ${mb(td)} MB/s`);
}

const work = join(root, '.bench-work', 'lzo');
bench('WAL', readFileSync(join(work, 'wal-segment')));
bench('heap', readHead(join(work, 'heap.bin'), heapMb * 1024 * 1024));
