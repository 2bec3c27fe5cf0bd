// In-process timing of the lzop streams on one input, to separate codec time from file I/O and start-up:
//   node bench/lzo/profile.mjs [compress|decompress|pcompress] FILE [reps]
// Uses the bundle bench/lzo/run.mjs builds (.bench-work/lzo/lzop-bundle.mjs).
import { readFileSync, createReadStream } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const [op = 'compress', file = join(root, '.bench-work/lzo/wal-segment'), repsText = '7'] = process.argv.slice(2);
const t0 = performance.now();
const lzop = await import(pathToFileURL(join(root, '.bench-work/lzo/lzop-bundle.mjs')).href);
const tImport = performance.now() - t0;
const data = readFileSync(file);
const make = {
  compress: () => lzop.createLzopCompressor(),
  decompress: () => lzop.createLzopDecompressor('x'),
  pcompress: () => lzop.createParallelLzopCompressor({ poolSize: Number(process.env.POOL ?? 2) }),
}[op];
const sink = () => new Writable({ write(_c, _e, cb) { cb(); }, highWaterMark: 1 << 20 });
const chunks = [];
for (let i = 0; i < data.length; i += 1 << 20) chunks.push(data.subarray(i, i + (1 << 20)));
const mem = [], disk = [];
for (let r = 0; r < Number(repsText); r++) {
  let t = performance.now();
  await pipeline(Readable.from(chunks), make(), sink());
  mem.push(performance.now() - t);
  t = performance.now();
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), make(), sink());
  disk.push(performance.now() - t);
}
const f = (xs) => xs.map((x) => x.toFixed(1)).join(' ');
const mb = (ms) => (data.length / 1e6 / (Math.min(...ms) / 1000)).toFixed(0);
console.log(`${op} ${file}: import ${tImport.toFixed(1)} ms`);
console.log(`  from memory ms: ${f(mem)}  best ${mb(mem)} MB/s`);
console.log(`  from file   ms: ${f(disk)}  best ${mb(disk)} MB/s`);
console.log(`  maxRSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
await lzop.closeSharedLzoPools();
