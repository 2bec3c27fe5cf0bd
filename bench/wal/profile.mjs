// Where a cold wal-push / wal-fetch spends its time: node --cpu-prof on the bench's real segment.
//   node bench/wal/profile.mjs [push|fetch] [--runs N] [--top N]
// Needs the data set of bench/wal/run.mjs (.bench-work/wal/; run it once first). Profiles are kept in
// .bench-work/wal/profiles/; the summary is the self time per function (summed over the runs and
// divided by the run count), plus the profile's span: "(idle)" is time the main thread waited
// (file system, fsync, worker threads), "(program)" is V8/native work outside JavaScript.
import { spawnSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = join(root, '.bench-work', 'wal');
const arg = (n, d) => (process.argv.indexOf(n) >= 0 ? process.argv[process.argv.indexOf(n) + 1] : d);
const what = process.argv[2] === 'fetch' ? 'fetch' : 'push';
const runs = Number(arg('--runs', 5));
const top = Number(arg('--top', 25));

const info = JSON.parse(readFileSync(join(work, 'info.json'), 'utf8'));
const seg = join(work, 'segment', info.benchSeg);
const pw = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'))?.split(':');
const asPg = process.getuid?.() === 0 && pw ? { uid: Number(pw[2]), gid: Number(pw[3]) } : {};
const own = (p) => asPg.uid !== undefined && chownSync(p, asPg.uid, asPg.gid);

const dir = join(work, 'profiles', what);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
own(join(work, 'profiles'));
own(dir);
const app = join(work, 'profile-app');
rmSync(app, { recursive: true, force: true });
cpSync(join(root, 'dist'), join(app, 'dist'), { recursive: true });
cpSync(join(root, 'bin'), join(app, 'bin'), { recursive: true });
const store = join(dir, 'store');
mkdirSync(store);
own(store);
const env = { PATH: '/usr/bin:/bin', HOME: '/var/lib/postgresql', LANG: 'C', WALE_FILE_PREFIX: `file://${store}` };
const walE = join(app, 'bin', 'wal-e');
const exec = (args, extra = []) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...extra, walE, ...args], { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], ...asPg });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return performance.now() - t0;
};
const obj = join(store, 'wal_005', `${info.benchSeg}.lzo`);
const dest = join(dir, 'RECOVERYXLOG');
if (what === 'fetch') exec(['wal-push', seg]);
const profDir = join(dir, 'cpu');
mkdirSync(profDir);
own(profDir);
const walls = [];
for (let i = 0; i < runs + 1; i++) {
  if (what === 'push') rmSync(obj, { force: true });
  else rmSync(dest, { force: true });
  const args = what === 'push' ? ['wal-push', seg] : ['wal-fetch', '--prefetch', '0', info.benchSeg, dest];
  const ms = exec(args, i === 0 ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]); // the first run only warms caches
  if (i > 0) walls.push(ms);
}

const self = new Map();
let spanUs = 0;
const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
for (const f of files) {
  const p = JSON.parse(readFileSync(join(profDir, f), 'utf8'));
  spanUs += p.endTime - p.startTime;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const cf = n.callFrame;
    const url = cf.url.replace(`file://${app}/`, '').replace(/^node:/, 'node:');
    const key = `${cf.functionName || '(anonymous)'} ${url ? `${url}:${cf.lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
}
const sorted = [...self.entries()].sort((a, b) => b[1] - a[1]);
const perRun = (us) => (us / files.length / 1000).toFixed(1);
console.log(`# cold wal-${what} profile: ${files.length} runs, wall median ${walls.sort((a, b) => a - b)[walls.length >> 1].toFixed(0)} ms ` +
  `(with --cpu-prof), profiled span ${perRun(spanUs)} ms/run (starts after node's own boot)`);
console.log('| self ms/run | function |');
console.log('|---:|---|');
for (const [k, us] of sorted.slice(0, top)) console.log(`| ${perRun(us)} | \`${k}\` |`);
// By bundle file: dist/wal-e.mjs vs chunks vs node internals.
const byFile = new Map();
for (const [k, us] of sorted) {
  const m = / (\S+):\d+$/.exec(k);
  const file = m ? (m[1].startsWith('node:') ? 'node: internals' : m[1]) : k.startsWith('(') ? k : '(native)';
  byFile.set(file, (byFile.get(file) ?? 0) + us);
}
console.log('\n| self ms/run | where |');
console.log('|---:|---|');
for (const [k, us] of [...byFile.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`| ${perRun(us)} | ${k} |`);
rmSync(app, { recursive: true, force: true });
if (existsSync(obj)) statSync(obj);
