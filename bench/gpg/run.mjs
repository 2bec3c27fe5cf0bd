// What encryption costs a cold `wal-e wal-push` and `wal-e wal-fetch` of one 16 MiB WAL segment (a real
// one, from test/fixtures/lzop/), key-file mode (in-process OpenPGP, no gpg). Each run is a fresh
// process, as under archive_command; plain and encrypted runs are interleaved so machine noise hits
// both alike, and medians are reported, of wall time and (through /usr/bin/time, when installed) of CPU
// time, which a busy machine disturbs less. Goal: encryption adds < 25 % to a cold wal-push.
//   node bench/gpg/run.mjs [runs]       (default 11; needs `node scripts/build.mjs` and lzop)
// backup-push throughput with and without encryption: bench/gpg/backup-push.mjs.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../lib.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const walE = join(root, 'bin', 'wal-e');
const keys = join(root, 'test', 'fixtures', 'gpg-test-key');
const SEGMENT = '000000010000000000000005';
const runs = Number(process.argv[2] ?? 11);

const work = mkdtempSync(join(tmpdir(), 'wal-e-bench-gpg-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const wal = join(work, SEGMENT);
writeFileSync(wal, execFileSync('lzop', ['-d', '-c', join(root, 'test', 'fixtures', 'lzop', `wal-store-${SEGMENT}.lzo`)], { maxBuffer: 64 << 20 }));

const baseEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? '/', WALE_LOG_DESTINATION: 'stderr' };
const encEnv = {
  WALE_GPG_KEY_ID: '1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8',
  WALE_GPG_PUBLIC_KEY_FILE: join(keys, 'test-key-nopass.pub.asc'),
  WALE_GPG_SECRET_KEY_FILE: join(keys, 'test-key-nopass.sec.asc'),
};

const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

/** Wall ms and CPU ms (user + system; NaN without /usr/bin/time) of one wal-e run. */
function timed(args, env) {
  const argv = TIME ? [TIME, '-f', 'CPU %U %S', process.execPath, walE, ...args] : [process.execPath, walE, ...args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { env: { ...baseEnv, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`wal-e ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(0, 800)}`);
  const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr.toString());
  return { ms, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN };
}

const variants = {
  plain: {},
  encrypted: encEnv,
};
const times = { push: { plain: [], encrypted: [] }, fetch: { plain: [], encrypted: [] } };
const cpu = { push: { plain: [], encrypted: [] }, fetch: { plain: [], encrypted: [] } };
const sizes = {};

function once(name, record) {
  const store = join(work, `store-${name}`);
  rmSync(store, { recursive: true, force: true });
  const env = { WALE_FILE_PREFIX: `file://${store}`, ...variants[name] };
  const push = timed(['wal-push', '--pool-size', '1', wal], env);
  const out = join(work, `restored-${name}`);
  rmSync(out, { force: true });
  const fetch = timed(['wal-fetch', '--prefetch', '0', SEGMENT, out], env);
  if (!readFileSync(out).equals(readFileSync(wal))) throw new Error(`${name}: restored segment differs`);
  sizes[name] = statSync(join(store, 'wal_005', `${SEGMENT}.lzo`)).size;
  if (record) {
    times.push[name].push(push.ms);
    times.fetch[name].push(fetch.ms);
    cpu.push[name].push(push.cpu);
    cpu.fetch[name].push(fetch.cpu);
  }
}

// Warm the page cache and the OpenPGP module files once, untimed.
once('plain', false);
once('encrypted', false);
for (let i = 0; i < runs; i++) {
  const order = i % 2 === 0 ? ['plain', 'encrypted'] : ['encrypted', 'plain'];
  for (const name of order) once(name, true);
}

console.log(`# cold wal-push / wal-fetch of one 16 MiB WAL segment, ${runs} interleaved runs each, medians`);
console.log(`stored object: plain ${sizes.plain} bytes, encrypted ${sizes.encrypted} bytes`);
console.log('| command | plain ms | encrypted (key-file mode) ms | added | plain CPU ms | encrypted CPU ms | added CPU |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
let pushAdded = 0;
const pct = (x) => (Number.isNaN(x) ? 'n/a' : `${x >= 0 ? '+' : ''}${x.toFixed(1)} %`);
for (const cmd of ['push', 'fetch']) {
  const p = median(times[cmd].plain);
  const e = median(times[cmd].encrypted);
  const added = (e / p - 1) * 100;
  const pc = median(cpu[cmd].plain);
  const ec = median(cpu[cmd].encrypted);
  if (cmd === 'push') pushAdded = added;
  console.log(`| wal-${cmd} | ${p.toFixed(1)} | ${e.toFixed(1)} | ${pct(added)} | ${pc.toFixed(0)} | ${ec.toFixed(0)} | ${pct((ec / pc - 1) * 100)} |`);
}
console.log(`goal (encryption adds < 25 % to a cold wal-push): ${pushAdded < 25 ? 'met' : 'NOT met'}`);
