// Base backups on the file:// store, against pgBackRest (lz4, process-max=2) and tar + lzop:
//   node bench/backup/run.mjs [--runs N] [--only push,fetch] [--setup] [--keep-running]
//
// The data set is a PostgreSQL 15 cluster with pgbench -i -s 100 (about 1.5 GiB), made once under
// .bench-work/backup/ and reused. Every run starts it, runs the comparisons and stops it again.
//
// Fairness: all three backups are taken from the same running, idle cluster (pgBackRest can only back
// up a running cluster; so can wal-e, and both then need WAL archiving). The archive_command pushes
// each segment with both wal-e and pgBackRest, so each tool pays the same archiving during the others'
// runs. Both request an immediate checkpoint (WALE_BACKUP_FAST_CHECKPOINT=1, start-fast=y) and wait
// until the backup's last segment is archived. tar skips pg_wal's contents, as wal-e and pgBackRest do.
// Restores go into an empty directory; wal-e and pgBackRest fsync what they restore, tar does not.
// The data directory and the stored backups are in the page cache for every tool (interleaved runs,
// `sync` before each run so one run's dirty pages are not written back during the next one).
//
//   push:  wal-e backup-push DATA | pgbackrest backup --type=full | tar -c DATA | lzop > OUT
//   fetch: wal-e backup-fetch DEST LATEST | pgbackrest restore | lzop -dc OUT | tar -x -C DEST
//
// Each command's wall time and peak RSS (sum over its process tree, /proc polled every 50 ms) are
// measured; rounds rotate the order. Needs `node scripts/build.mjs product`, postgresql-15, pgbackrest
// and lzop. When run as root every command runs as the postgres user.
import { spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../lib.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = join(root, '.bench-work', 'backup');
// A private copy of bin/wal-e + dist/: a concurrent rebuild swaps dist/, which must not break a run.
const app = join(work, 'app');
const walE = join(app, 'bin', 'wal-e');
const node = process.execPath;
const PGBIN = '/usr/lib/postgresql/15/bin';
const PGBACKREST = '/usr/bin/pgbackrest';
const LZOP = '/usr/bin/lzop';
const STANZA = 'bench';
const PAGE = 4096;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const RUNS = Number(arg('--runs', 3));
const SCALE = Number(arg('--scale', 100));
const ONLY = new Set(arg('--only', 'push,fetch').split(',').filter(Boolean));
const FORCE_SETUP = process.argv.includes('--setup');
const KEEP_RUNNING = process.argv.includes('--keep-running');

// ---------------------------------------------------------------------------------------------------
// Running things as postgres

function pgUser() {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, but there is no "postgres" user');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' };
}
const USER = pgUser();
const asPg = USER ? { uid: USER.uid, gid: USER.gid } : {};

const paths = {
  info: join(work, 'info.json'),
  data: join(work, 'cluster', 'data'),
  sock: join(work, 'cluster', 'sock'),
  log: join(work, 'cluster', 'server.log'),
  store: join(work, 'store'), // wal-e's file:// prefix: base backups and WAL
  repo: join(work, 'repo'), // pgBackRest's repository: backups and WAL
  lock: join(work, 'pgbackrest-lock'),
  spool: join(work, 'pgbackrest-spool'),
  conf: join(work, 'pgbackrest.conf'),
  scratch: join(work, 'scratch'),
};
const PORT = 25433;
const ENV = {
  PATH: [...new Set([join(node, '..'), '/usr/local/bin', '/usr/bin', '/bin'])].join(':'),
  HOME: USER ? USER.home : (process.env.HOME ?? '/'),
  LANG: 'C',
  LC_ALL: 'C',
  TZ: 'UTC',
  PGHOST: paths.sock,
  PGPORT: String(PORT),
  PGUSER: 'postgres',
  PGDATABASE: 'postgres',
  WALE_FILE_PREFIX: `file://${paths.store}`,
  WALE_LOG_DESTINATION: 'stderr',
};

function chownPg(p) {
  if (!USER) return;
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return;
  chownSync(p, USER.uid, USER.gid);
  if (st.isDirectory()) for (const n of readdirSync(p)) chownPg(join(p, n));
}

function mkdirPg(p) {
  mkdirSync(p, { recursive: true, mode: 0o700 });
  if (USER) chownSync(p, USER.uid, USER.gid);
  return p;
}

function run(cmd, args, { env = {}, allowFail = false, timeout = 1_800_000 } = {}) {
  const r = spawnSync(cmd, args, {
    cwd: work,
    env: { ...ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout,
    maxBuffer: 64 << 20,
    ...asPg,
  });
  if (!allowFail && r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stderr}${r.stdout ?? ''}`.slice(0, 4000));
  }
  return r;
}

const runv = (argv, opts) => run(argv[0], argv.slice(1), opts);
const sh = (script, opts) => run('/bin/sh', ['-c', script], opts);
const psql = (sql) => run(join(PGBIN, 'psql'), ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql]).stdout.trim();
const pgbr = (...args) => [PGBACKREST, `--config=${paths.conf}`, `--stanza=${STANZA}`, ...args];
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const confLine = (k, v) => `${k} = '${String(v).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
const dirBytes = (dir, ...excludes) => Number(sh(`du -sb ${excludes.map((e) => `--exclude=${q(e)} `).join('')}${q(dir)} | cut -f1`).stdout.trim());

// ---------------------------------------------------------------------------------------------------
// The cluster

function writePgbrConf() {
  const lines = [
    '[global]',
    `repo1-path=${paths.repo}`,
    'repo1-retention-full=9999', // expiry happens outside the timing (expireOld)
    'compress-type=lz4',
    'process-max=2',
    'start-fast=y',
    'archive-async=n',
    'log-level-console=warn',
    'log-level-stderr=warn',
    'log-level-file=off',
    `lock-path=${paths.lock}`,
    `spool-path=${paths.spool}`,
    '',
    `[${STANZA}]`,
    `pg1-path=${paths.data}`,
    `pg1-socket-path=${paths.sock}`,
    `pg1-port=${PORT}`,
    'pg1-user=postgres',
    '',
  ];
  writeFileSync(paths.conf, lines.join('\n'));
  chownPg(paths.conf);
}

const ctl = (args, opts) => run(join(PGBIN, 'pg_ctl'), ['-D', paths.data, ...args], opts);
const startCluster = () => ctl(['-l', paths.log, '-w', 'start']);
const stopCluster = () => ctl(['-m', 'fast', '-w', 'stop'], { allowFail: true });
const clusterRunning = () => existsSync(join(paths.data, 'postmaster.pid'));

function setup() {
  console.error(`[setup] PostgreSQL 15 cluster with pgbench -i -s ${SCALE} under .bench-work/backup (a few minutes)`);
  const t0 = Date.now();
  if (existsSync(paths.data) && clusterRunning()) stopCluster();
  for (const n of readdirSync(work)) if (n !== 'app') rmSync(join(work, n), { recursive: true, force: true });
  for (const d of [join(work, 'cluster'), paths.sock, paths.store, paths.repo, paths.lock, paths.spool, paths.scratch]) mkdirPg(d);
  writePgbrConf();
  run(join(PGBIN, 'initdb'), ['-D', paths.data, '--auth=trust', '-E', 'UTF8', '--locale=C', '-U', 'postgres', '--no-sync']);
  const archiveCommand = `${node} ${walE} wal-push %p && ${pgbr('archive-push', '%p').join(' ')}`;
  const settings = {
    port: PORT,
    listen_addresses: '',
    unix_socket_directories: paths.sock,
    wal_level: 'replica',
    archive_mode: 'on',
    archive_command: archiveCommand,
    max_wal_size: '4GB',
    logging_collector: 'off',
    log_line_prefix: '%m [%p] ',
  };
  writeFileSync(
    join(paths.data, 'postgresql.conf'),
    readFileSync(join(paths.data, 'postgresql.conf'), 'utf8') + '\n# bench/backup\n' + Object.entries(settings).map(([k, v]) => confLine(k, v)).join('\n') + '\n',
  );
  // The archive_command's environment: the server inherits pg_ctl's.
  startCluster();
  try {
    runv(pgbr('stanza-create'));
    console.error(`[setup] pgbench -i -s ${SCALE}`);
    run(join(PGBIN, 'pgbench'), ['-i', '-s', String(SCALE), '-q']);
    psql('CHECKPOINT');
    const info = {
      scale: SCALE,
      dataBytes: dirBytes(paths.data, 'pg_wal'), // what the backups hold: pg_wal's contents are left out
      createdAt: new Date().toISOString(),
      setupSeconds: (Date.now() - t0) / 1000,
    };
    writeFileSync(paths.info, JSON.stringify(info, null, 2));
    console.error(`[setup] done in ${info.setupSeconds.toFixed(0)} s: ${JSON.stringify(info)}`);
    return info;
  } finally {
    stopCluster();
  }
}

// ---------------------------------------------------------------------------------------------------
// Timing and peak RSS of a process tree

const pageSize = Number(spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).stdout.trim()) || PAGE;

/** Sum of the resident set sizes of `pid` and all its descendants, in bytes. */
function treeRss(pid) {
  const parent = new Map();
  const rss = new Map();
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(p), Number(f[1]));
      rss.set(Number(p), Number(f[21]) * pageSize);
    } catch {
      // exited meanwhile
    }
  }
  let total = 0;
  for (const [p, bytes] of rss) {
    for (let a = p, hops = 0; a > 1 && hops < 64; a = parent.get(a) ?? 0, hops++) {
      if (a === pid) {
        total += bytes;
        break;
      }
    }
  }
  return total;
}

function timeOnce(c) {
  c.before?.();
  spawnSync('sync');
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(c.cmd[0], c.cmd.slice(1), { cwd: work, env: { ...ENV, ...c.env }, stdio: ['ignore', 'ignore', 'pipe'], ...asPg });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-20000);
    });
    let peak = 0;
    const poll = setInterval(() => {
      peak = Math.max(peak, treeRss(child.pid));
    }, 50);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      clearInterval(poll);
      if (code !== 0) {
        reject(new Error(`${c.name}: exited ${code ?? signal}: ${stderr.slice(-3000)}`));
        return;
      }
      try {
        c.after?.();
      } catch (e) {
        reject(e);
        return;
      }
      resolve({ ms, peak, stderr });
    });
  });
}

/** Every command `runs` times, rounds in a rotating order; medians of wall time and peak RSS. */
async function interleave(label, cmds, runs) {
  const times = cmds.map(() => []);
  const peaks = cmds.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < cmds.length; k++) {
      const j = (i + k) % cmds.length;
      const r = await timeOnce(cmds[j]);
      console.error(`[${label}] round ${i + 1}/${runs}: ${cmds[j].name}: ${(r.ms / 1000).toFixed(2)} s, peak RSS ${(r.peak / 2 ** 20).toFixed(0)} MiB`);
      times[j].push(r.ms);
      peaks[j].push(r.peak);
    }
  }
  return cmds.map((c, j) => ({ name: c.name, ms: median(times[j]), all: times[j], peak: median(peaks[j]), maxPeak: Math.max(...peaks[j]) }));
}

// ---------------------------------------------------------------------------------------------------
// The comparisons

const walEBackups = () => {
  const d = join(paths.store, 'basebackups_005');
  return existsSync(d) ? readdirSync(d).filter((n) => n.endsWith('_backup_stop_sentinel.json')).map((n) => n.replace('_backup_stop_sentinel.json', '')) : [];
};
const pgbrBackups = () => {
  const r = runv(pgbr('info', '--output=json'));
  return (JSON.parse(r.stdout)[0]?.backup ?? []).map((b) => b.label);
};
/** Keeps only the newest backup of each tool (outside the timing), so the store and repo stay small. */
function expireOld() {
  const ours = walEBackups().sort();
  for (const n of ours.slice(0, -1)) {
    rmSync(join(paths.store, 'basebackups_005', n), { recursive: true, force: true });
    rmSync(join(paths.store, 'basebackups_005', `${n}_backup_stop_sentinel.json`), { force: true });
  }
  for (const label of pgbrBackups().slice(0, -1)) {
    runv(pgbr('expire', `--set=${label}`));
  }
}

const tarOut = () => join(paths.scratch, 'data.tar.lzo');

async function push() {
  const cmds = [
    {
      name: 'wal-e backup-push DATA',
      cmd: [node, walE, 'backup-push', paths.data],
      env: { WALE_BACKUP_FAST_CHECKPOINT: '1' },
      before: expireOld,
    },
    { name: 'pgbackrest backup --type=full', cmd: pgbr('backup', '--type=full'), before: expireOld },
    {
      name: 'tar -c DATA | lzop > OUT',
      cmd: ['/bin/sh', '-c', `tar -C ${q(paths.data)} --exclude=./pg_wal/* --exclude=./postmaster.pid -cf - . | ${LZOP} -c > ${q(tarOut())}`],
      before: () => rmSync(tarOut(), { force: true }),
    },
  ];
  const rows = await interleave('push', cmds, RUNS);
  expireOld();
  const sizes = {
    walE: dirBytes(join(paths.store, 'basebackups_005')),
    pgbr: dirBytes(join(paths.repo, 'backup')),
    tar: statSync(tarOut()).size,
  };
  return { rows, sizes };
}

async function fetch() {
  if (walEBackups().length === 0 || pgbrBackups().length === 0 || !existsSync(tarOut())) {
    throw new Error('fetch needs the push comparison first (run without --only, or with --only push,fetch)');
  }
  expireOld();
  const dest = join(paths.scratch, 'restore');
  const fresh = () => {
    rmSync(dest, { recursive: true, force: true });
    mkdirPg(dest);
  };
  const check = (name) => () => {
    if (!existsSync(join(dest, 'PG_VERSION')) || !existsSync(join(dest, 'global', 'pg_control'))) throw new Error(`${name} restored no data directory`);
  };
  const cmds = [
    { name: 'wal-e backup-fetch DEST LATEST', cmd: [node, walE, 'backup-fetch', dest, 'LATEST'], before: fresh, after: check('wal-e') },
    { name: 'pgbackrest restore', cmd: pgbr(`--pg1-path=${dest}`, 'restore'), before: fresh, after: check('pgbackrest') },
    {
      name: 'lzop -dc OUT | tar -x -C DEST',
      cmd: ['/bin/sh', '-c', `${LZOP} -dc ${q(tarOut())} | tar -C ${q(dest)} -xf -`],
      before: fresh,
      after: check('tar'),
    },
  ];
  const rows = await interleave('fetch', cmds, RUNS);
  rmSync(dest, { recursive: true, force: true });
  return { rows };
}

// ---------------------------------------------------------------------------------------------------
// Main

function report(info, pushResult, fetchResult, seconds) {
  const out = [];
  const p = (s = '') => out.push(s);
  const mib = (b) => (b / 2 ** 20).toFixed(0);
  const goal = (ok) => (ok ? 'met' : '**not met**');
  const table = (title, rows, goalRatio) => {
    const br = rows[1];
    p();
    p(`## ${title} (median of ${RUNS} interleaved runs)`);
    p('| command | median s | runs s | vs pgBackRest | peak RSS MiB (median / max) | goal |');
    p('|---|---:|---|---:|---:|---|');
    for (const r of rows) {
      const ours = r.name.startsWith('wal-e');
      const ratio = r.ms / br.ms;
      const goals = ours
        ? `time <= ${goalRatio}x: ${goal(ratio <= goalRatio)}; RSS < 200 MB: ${goal(r.maxPeak < 200e6)}`
        : '';
      p(`| \`${r.name}\` | ${(r.ms / 1000).toFixed(2)} | ${r.all.map((x) => (x / 1000).toFixed(1)).join(', ')} | ${ratio.toFixed(2)}x | ${mib(r.peak)} / ${mib(r.maxPeak)} | ${goals} |`);
    }
  };
  const version = run(PGBACKREST, ['version']).stdout.trim().split(' ')[1];
  p(`# Backups (pgbench -s ${info.scale}, data directory ${(info.dataBytes / 2 ** 30).toFixed(2)} GiB, node ${process.version}, pgBackRest ${version})`);
  if (pushResult) {
    table('Backup', pushResult.rows, 0.8);
    const s = pushResult.sizes;
    p();
    p(`Stored sizes: wal-e ${mib(s.walE)} MiB (lzop), pgBackRest ${mib(s.pgbr)} MiB (lz4), tar | lzop ${mib(s.tar)} MiB.`);
  }
  if (fetchResult) table('Restore', fetchResult.rows, 0.9);
  p();
  p(`(bench time ${seconds.toFixed(0)} s)`);
  return out.join('\n');
}

async function main() {
  if (!existsSync(join(root, 'dist', 'wal-e.mjs'))) throw new Error('dist/wal-e.mjs is missing: run node scripts/build.mjs product');
  for (const b of [join(PGBIN, 'initdb'), join(PGBIN, 'pgbench'), PGBACKREST, LZOP]) {
    if (!existsSync(b)) throw new Error(`${b} is missing (apt-get install -y postgresql-15 pgbackrest lzop)`);
  }
  mkdirSync(join(root, '.bench-work'), { recursive: true });
  mkdirPg(work);
  rmSync(app, { recursive: true, force: true });
  cpSync(join(root, 'dist'), join(app, 'dist'), { recursive: true });
  mkdirSync(join(app, 'bin'), { recursive: true });
  copyFileSync(join(root, 'bin', 'wal-e'), walE);
  if (!existsSync(join(app, 'dist', 'wal-e.mjs'))) throw new Error('dist/ changed while being copied; retry');
  chownPg(app);

  const started = Date.now();
  let info = !FORCE_SETUP && existsSync(paths.info) ? JSON.parse(readFileSync(paths.info, 'utf8')) : undefined;
  if (!info || info.scale !== SCALE || !existsSync(join(paths.data, 'PG_VERSION'))) info = setup();
  writePgbrConf();
  mkdirPg(paths.scratch);
  if (clusterRunning()) stopCluster();
  startCluster();
  let pushResult;
  let fetchResult;
  try {
    if (ONLY.has('push')) pushResult = await push();
    if (ONLY.has('fetch')) fetchResult = await fetch();
  } finally {
    if (!KEEP_RUNNING) stopCluster();
  }
  console.log(report(info, pushResult, fetchResult, (Date.now() - started) / 1000));
}

main().catch((e) => {
  console.error(e.stack ?? String(e));
  if (!KEEP_RUNNING && existsSync(paths.data) && clusterRunning()) stopCluster();
  process.exitCode = 1;
});
