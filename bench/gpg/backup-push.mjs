// What encryption costs `wal-e backup-push` throughput: a stopped PostgreSQL 15 cluster of ~500 MB
// (pgbench data), pushed with --while-offline to a file:// store, plain and encrypted (key-file mode,
// RSA recipient) interleaved, medians. Goal: encryption adds < 15 % to backup-push time.
//   node bench/gpg/backup-push.mjs [runs] [pgbench scale]   (default 5 runs, scale 34 = ~520 MB)
// The cluster is made once in .bench-work/gpg/ and reused. As root, PostgreSQL runs as "postgres".
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../lib.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = join(root, '.bench-work', 'gpg');
const runs = Number(process.argv[2] ?? 5);
const scale = Number(process.argv[3] ?? 34);
const pgBin = '/usr/lib/postgresql/15/bin';
const keys = join(root, 'test', 'fixtures', 'gpg-test-key');

const pw = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'))?.split(':');
const asPg = process.getuid?.() === 0 && pw ? { uid: Number(pw[2]), gid: Number(pw[3]) } : {};
const own = (p) => asPg.uid !== undefined && chownSync(p, asPg.uid, asPg.gid);
const env = { PATH: `${process.execPath.replace(/\/node$/, '')}:/usr/bin:/bin`, HOME: '/tmp', LANG: 'C', WALE_LOG_DESTINATION: 'stderr' };

function run(cmd, args, extra = {}) {
  const r = spawnSync(cmd, args, { env: { ...env, ...extra }, cwd: '/tmp', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, ...asPg });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(-800)}`);
  return r;
}

/** Bytes of regular files under dir; pg_wal is skipped (backup-push leaves it out). */
function duBytes(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'pg_wal') total += duBytes(p);
    else if (e.isFile()) total += statSync(p).size;
  }
  return total;
}

mkdirSync(work, { recursive: true });
own(join(root, '.bench-work'));
own(work);
const data = join(work, `pgdata-s${scale}`);
if (!existsSync(join(data, 'PG_VERSION'))) {
  rmSync(data, { recursive: true, force: true });
  console.error(`making a pgbench scale-${scale} cluster in ${data} (once)`);
  run(join(pgBin, 'initdb'), ['-D', data, '--auth=trust', '-U', 'postgres', '--no-sync']);
  const sock = join(work, 'sock');
  mkdirSync(sock, { recursive: true });
  own(sock);
  const opts = `-c port=55499 -c listen_addresses='' -c unix_socket_directories=${sock} -c fsync=off -c max_wal_size=256MB`;
  run(join(pgBin, 'pg_ctl'), ['-D', data, '-o', opts, '-w', '-l', join(work, 'pg.log'), 'start']);
  try {
    run('/usr/bin/pgbench', ['-i', '-s', String(scale), '-q', '-h', sock, '-p', '55499', '-U', 'postgres', 'postgres']);
  } finally {
    run(join(pgBin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
  }
}
const dataBytes = duBytes(data);

const walE = join(root, 'bin', 'wal-e');
const variants = {
  plain: {},
  encrypted: {
    WALE_GPG_KEY_ID: '1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8',
    WALE_GPG_PUBLIC_KEY_FILE: join(keys, 'test-key-nopass.pub.asc'),
  },
};
const times = { plain: [], encrypted: [] };
// CPU seconds (user + system, all threads) through /usr/bin/time, when it is installed: less noisy than
// wall time on a shared machine.
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const cpu = { plain: [], encrypted: [] };
const stored = {};

function once(name, record) {
  const store = join(work, `store-${name}`);
  rmSync(store, { recursive: true, force: true });
  mkdirSync(store);
  own(store);
  const argv = [process.execPath, walE, 'backup-push', '--while-offline', data];
  const t0 = process.hrtime.bigint();
  const r = TIME
    ? run(TIME, ['-f', 'CPU %U %S', ...argv], { WALE_FILE_PREFIX: `file://${store}`, ...variants[name] })
    : run(argv[0], argv.slice(1), { WALE_FILE_PREFIX: `file://${store}`, ...variants[name] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr.toString());
  if (record && m) cpu[name].push((Number(m[1]) + Number(m[2])) * 1000);
  stored[name] = duBytes(store);
  rmSync(store, { recursive: true, force: true });
  if (record) times[name].push(ms);
}

once('plain', false);
once('encrypted', false);
for (let i = 0; i < runs; i++) {
  for (const name of i % 2 === 0 ? ['plain', 'encrypted'] : ['encrypted', 'plain']) once(name, true);
}

const mb = dataBytes / 1e6;
console.log(`# backup-push --while-offline of a ${mb.toFixed(0)} MB cluster (pgbench scale ${scale}) to file://, ${runs} interleaved runs each, medians`);
console.log(`stored: plain ${(stored.plain / 1e6).toFixed(1)} MB, encrypted ${(stored.encrypted / 1e6).toFixed(1)} MB`);
console.log('| backup-push | median ms | MB/s (cluster bytes) | median CPU ms (user+sys) |');
console.log('|---|---:|---:|---:|');
for (const name of ['plain', 'encrypted']) {
  const m = median(times[name]);
  console.log(`| ${name} | ${m.toFixed(0)} | ${(mb / (m / 1000)).toFixed(1)} | ${cpu[name].length ? median(cpu[name]).toFixed(0) : 'n/a'} |`);
}
const added = (median(times.encrypted) / median(times.plain) - 1) * 100;
console.log(`encryption adds ${added >= 0 ? '+' : ''}${added.toFixed(1)} % (goal < 15 %: ${added < 15 ? 'met' : 'NOT met'})`);
