// Benchmarks the lzop streams against the lzop binary on the same inputs, in the same run:
//   node bench/lzo/run.mjs [--runs N] [--wal FILE] [--heap FILE]
// Inputs default to .bench-work/lzo/wal-segment (one busy 16 MiB WAL segment) and the heap files under
// .bench-work/lzo/heap, concatenated once into heap.bin; bench/lzo/make-data.sh creates both from a
// pgbench cluster. Needs `npm run build` first (the pool's worker lives in dist/). Every measurement of
// ours runs in a fresh child process so peak RSS is per scenario; MB/s are of uncompressed bytes.
// "one core" is our serial stream, whose file reads run in libuv's thread pool (possibly on the other
// core); "pinned" is the same run under `taskset -c 0`, reads and all on one CPU, as lzop is.
// Our compressors are fed as backup-push feeds its compressor: the file is read in 1 MiB chunks into two
// reused buffers, the next read running while the stream takes in the current chunk, and each write
// waiting until the previous chunk was taken in. `--source stream` feeds them from fs.createReadStream
// instead (a fresh 1 MiB buffer per read, whose churn costs time and memory of its own). Decompression
// reads the object with fs.createReadStream, as the file store's downloads do, and decodes it the way
// the command that restores that kind of data does: a WAL segment as wal-fetch does (each decoded block
// handed out from the kernel's memory and consumed before the next is decoded), heap data as
// backup-fetch does (a Readable of owned blocks piped onward).
import { spawnSync } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = join(root, '.bench-work', 'lzo');
const bundle = join(work, 'lzop-bundle.mjs');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mbps = (bytes, ms) => bytes / 1e6 / (ms / 1000);
const sink = () => new Writable({ write(_c, _e, cb) { cb(); }, highWaterMark: 1 << 20 });

const CHUNK = 1 << 20;

/** Writes `file` into `into` the way backup-push does (see the header), then ends it. */
async function feedFile(file, into) {
  const fh = await open(file, 'r');
  const buffers = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
  let turn = 0;
  let position = 0;
  const readNext = () => {
    const buffer = buffers[(turn ^= 1)];
    const p = fh.read(buffer, 0, CHUNK, position);
    position += CHUNK;
    return p;
  };
  try {
    let pending = readNext();
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) break;
      pending = readNext();
      await new Promise((resolve, reject) => into.write(buffer.subarray(0, bytesRead), (e) => (e ? reject(e) : resolve())));
    }
    await pending;
  } finally {
    await fh.close();
  }
  into.end();
}

/** input -> stream -> a sink that drops everything. */
function runThrough(input, stream) {
  if (arg('--source', 'product') === 'stream') return pipeline(createReadStream(input, { highWaterMark: CHUNK }), stream, sink());
  return Promise.all([feedFile(input, stream), pipeline(stream, sink())]);
}

// ---- child side: one scenario, timings and peak RSS as JSON on stdout ----
if (process.argv[2] === 'child') {
  const [, , , scenario, input, runsText] = process.argv;
  const started = performance.now();
  const inFlight = () => (arg('--in-flight') ? Number(arg('--in-flight')) : undefined);
  const lzop = await import(pathToFileURL(bundle).href);
  const make = {
    'compress-serial': () => lzop.createLzopCompressor(),
    'compress-pool': () => lzop.createParallelLzopCompressor({ poolSize: Number(arg('--pool', '2')), inFlight: inFlight() }),
    cold: () => lzop.createLzopCompressor(),
  }[scenario];
  const source = () => createReadStream(input, { highWaterMark: CHUNK });
  const restore = {
    'decompress-wal-fetch': async () => {
      let n = 0;
      for await (const block of lzop.lzopDecodeBorrowed(source(), 'bench.lzo')) n += block.length;
      return n;
    },
    'decompress-backup-fetch': () => pipeline(lzop.lzopDecodeStream(source(), 'bench.lzo'), sink()),
  }[scenario];
  const times = [];
  for (let i = 0; i < Number(runsText); i++) {
    const t = performance.now();
    if (restore) await restore();
    else await runThrough(input, make());
    times.push(performance.now() - t);
  }
  const coldTotal = performance.now() - started;
  await lzop.closeSharedLzoPools();
  process.stdout.write(JSON.stringify({ times, coldTotal, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

// ---- parent side ----
async function ensureBundle() {
  if (!existsSync(join(root, 'dist', 'pipeline-lzop-lzop-worker.mjs'))) {
    console.error('dist/pipeline-lzop-lzop-worker.mjs is missing: run `npm run build` first');
    process.exit(1);
  }
  const { buildKernel } = await import(pathToFileURL(join(root, 'scripts', 'build-kernel.mjs')).href);
  await buildKernel(root);
  const { build } = await import('esbuild');
  mkdirSync(work, { recursive: true });
  await build({
    entryPoints: [join(root, 'src', 'pipeline', 'lzop', 'index.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    loader: { '.wasm': 'binary' },
    outfile: bundle,
    logLevel: 'warning',
  });
}

async function ensureHeap(heapDir, heapFile) {
  if (existsSync(heapFile)) return;
  const files = [];
  const walk = (d) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(heapDir);
  const fd = openSync(heapFile, 'w');
  for (const f of files) for await (const chunk of createReadStream(f, { highWaterMark: 1 << 20 })) writeSync(fd, chunk);
  closeSync(fd);
}

/** `taskset -c 0` when available: "pinned" rows run the whole process (reads included) on one CPU. */
const taskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

function child(scenario, input, runs, pool, pinned = false) {
  const argv = [fileURLToPath(import.meta.url), 'child', scenario, input, String(runs), '--pool', String(pool), '--source', arg('--source', 'product')];
  const r = spawnSync(pinned ? 'taskset' : process.execPath, pinned ? ['-c', '0', process.execPath, ...argv] : argv, {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`${scenario} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function lzopTimes(args, input, runs) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const inFd = openSync(input, 'r');
    const outFd = openSync('/dev/null', 'w');
    const t = performance.now();
    const r = spawnSync('lzop', args, { stdio: [inFd, outFd, 'inherit'] });
    times.push(performance.now() - t);
    closeSync(inFd);
    closeSync(outFd);
    if (r.status !== 0) throw new Error(`lzop ${args.join(' ')} failed`);
  }
  return times;
}

async function main() {
  const runs = Number(arg('--runs', '5'));
  const wal = arg('--wal', join(work, 'wal-segment'));
  const heapFile = arg('--heap', join(work, 'heap.bin'));
  if (!existsSync(wal) || (!existsSync(heapFile) && !existsSync(join(work, 'heap')))) {
    console.error('benchmark inputs missing: run bench/lzo/make-data.sh first (or pass --wal/--heap)');
    process.exit(1);
  }
  await ensureBundle();
  if (!existsSync(heapFile)) await ensureHeap(join(work, 'heap'), heapFile);

  const report = [];
  for (const [label, input, n] of [
    ['WAL segment', wal, runs],
    ['heap files', heapFile, Math.max(3, Math.ceil(runs / 2))],
  ]) {
    const bytes = statSync(input).size;
    const lzopFile = `${input}.lzop.lzo`;
    if (!existsSync(lzopFile)) {
      const inFd = openSync(input, 'r');
      const outFd = openSync(lzopFile, 'w');
      spawnSync('lzop', ['-c'], { stdio: [inFd, outFd, 'inherit'] });
      closeSync(inFd);
      closeSync(outFd);
    }
    const ratio = statSync(lzopFile).size / bytes;
    const lzopC = median(lzopTimes(['-c'], input, n));
    const lzopD = median(lzopTimes(['-dc'], lzopFile, n));
    const rows = [
      ['compress', 'lzop -c', lzopC, undefined, lzopC],
      ['decompress', 'lzop -dc', lzopD, undefined, lzopD],
    ];
    for (const [op, scenario, src, pool, pinned] of [
      ['compress', 'compress-serial', input, 1, false],
      ...(taskset ? [['compress', 'compress-serial', input, 1, true]] : []),
      ['compress', 'compress-pool', input, 2, false],
      ['decompress', label === 'WAL segment' ? 'decompress-wal-fetch' : 'decompress-backup-fetch', lzopFile, 1, false],
    ]) {
      const r = child(scenario, src, n, pool, pinned);
      const who = scenario.endsWith('pool') ? `ours, pool of ${pool}` : pinned ? 'ours, pinned' : 'ours, one core';
      rows.push([op, who, median(r.times), r.maxRssMiB, op === 'compress' ? lzopC : lzopD]);
    }
    report.push({ label, bytes, ratio, rows });
  }

  const cold = [];
  for (let i = 0; i < runs; i++) cold.push(child('cold', wal, 1, 1));
  const lzopCold = median(lzopTimes(['-c'], wal, runs));

  console.log(`lzop-streams benchmark (median of runs; MB/s of uncompressed data; ratio = ours / lzop)`);
  for (const { label, bytes, ratio, rows } of report) {
    console.log(`\n${label}: ${(bytes / 1e6).toFixed(1)} MB, lzop compression ratio ${ratio.toFixed(3)}`);
    for (const [op, who, ms, rss, ref] of rows) {
      const vs = ref === ms && rss === undefined ? '' : `  ${(ref / ms).toFixed(2)}x lzop`;
      const mem = rss === undefined ? '' : `  peak RSS ${rss.toFixed(0)} MiB`;
      console.log(`  ${op.padEnd(10)} ${who.padEnd(18)} ${mbps(bytes, ms).toFixed(0).padStart(6)} MB/s${vs}${mem}`);
    }
  }
  const coldFirst = median(cold.map((c) => c.times[0]));
  const coldTotal = median(cold.map((c) => c.coldTotal));
  console.log(`\ncold one-segment compress in a fresh process: ${coldFirst.toFixed(1)} ms compressing, ${coldTotal.toFixed(1)} ms including loading the module and kernel; lzop -c spawned: ${lzopCold.toFixed(1)} ms`);
}

await main();
