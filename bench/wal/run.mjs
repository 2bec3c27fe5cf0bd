// WAL archiving and restoring on the file:// store, against lzop and pgBackRest (sync, lz4):
//   node bench/wal/run.mjs [--runs N] [--warmup N] [--burst N] [--only cold,burst,replay] [--setup]
//
// 1. cold:   one real 16 MiB OLTP segment; each timed run is a fresh process doing the real work
//            (the previous run's object is deleted outside the timing). Commands are interleaved in a
//            rotating order so machine noise hits all of them alike; warm-up runs are not counted.
//              wal-e wal-push SEG                 | lzop -c SEG > OUT | pgbackrest archive-push SEG
//              wal-e wal-fetch --prefetch 0 N D   | lzop -dc IN > D  | pgbackrest archive-get N D
// 2. burst:  N (200) `.ready` segments in a fake pg_wal (hard links to the real segment under
//            consecutive names); archived one call per segment, in order, each .ready renamed to .done
//            after exit 0, as PostgreSQL's archiver does: wal-e default pool, wal-e --pool-size 1,
//            pgbackrest archive-push.
// 3. replay: a PostgreSQL 15 base backup restored twice, once per tool, replaying >= 100 archived
//            segments of pgbench WAL; timed from `pg_ctl start` to "archive recovery complete".
//
// Setup (done when .bench-work/wal/info.json is missing, or with --setup): a throwaway PostgreSQL 15
// cluster whose archive_command runs both wal-e and pgbackrest, pgbench -i -s 10, a pg_basebackup,
// pgbench TPC-B traffic until >= 100 more segments exist, one full segment copied out of pg_wal,
// then the cluster is stopped and removed. Everything is written under .bench-work/wal/ and, when run
// as root, owned by and run as the "postgres" user (PostgreSQL refuses root; archive_command and
// restore_command run as that user in real life too). Needs `node scripts/build.mjs product` first,
// Debian's postgresql-15 and pgbackrest (apt-get install -y pgbackrest).
import { spawnSync } from 'node:child_process';
import {
  chownSync,
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../lib.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const work = join(root, '.bench-work', 'wal');
// A private copy of bin/wal-e + dist/ (taken at start): a concurrent `node scripts/build.mjs` removes
// dist/ while it rebuilds, which must not break a run that takes minutes.
const app = join(work, 'app');
const walE = join(app, 'bin', 'wal-e');
const node = process.execPath;
const PGBIN = '/usr/lib/postgresql/15/bin';
const PGBACKREST = '/usr/bin/pgbackrest';
const LZOP = '/usr/bin/lzop';
const STANZA = 'bench';
const SEG_BYTES = 16 * 1024 * 1024;

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const RUNS = Number(arg('--runs', 15));
const WARMUP = Number(arg('--warmup', 2));
const BURST = Number(arg('--burst', 200));
const REPLAY_MIN = Number(arg('--replay-segments', 100));
const ONLY = new Set((arg('--only', 'cold,burst,replay') ?? '').split(',').filter(Boolean));
const FORCE_SETUP = process.argv.includes('--setup');

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
const ENV = {
  PATH: [...new Set([join(node, '..'), '/usr/local/bin', '/usr/bin', '/bin'])].join(':'),
  HOME: USER ? USER.home : (process.env.HOME ?? '/'),
  LANG: 'C',
  LC_ALL: 'C',
  TZ: 'UTC',
};
const asPg = USER ? { uid: USER.uid, gid: USER.gid } : {};

function chownPg(p) {
  if (!USER) return;
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return;
  chownSync(p, USER.uid, USER.gid);
  if (st.isDirectory()) for (const n of readdirSync(p)) chownPg(join(p, n));
}

function mkdirPg(p) {
  mkdirSync(p, { recursive: true, mode: 0o700 });
  chownPg(p);
  return p;
}

/** Runs a command as postgres; throws with its output on failure unless allowFail. */
function run(cmd, args, { env = {}, allowFail = false, timeout = 600_000, stdout = 'pipe' } = {}) {
  const r = spawnSync(cmd, args, {
    cwd: work,
    env: { ...ENV, ...env },
    stdio: ['ignore', stdout, 'pipe'],
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

const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

// ---------------------------------------------------------------------------------------------------
// WAL names

const hex8 = (n) => n.toString(16).toUpperCase().padStart(8, '0');
const segNo = (name) => parseInt(name.slice(8, 16), 16) * 256 + parseInt(name.slice(16, 24), 16);
const segName = (tli, no) => hex8(tli) + hex8(Math.floor(no / 256)) + hex8(no % 256);

// ---------------------------------------------------------------------------------------------------
// Configuration files

const paths = {
  info: join(work, 'info.json'),
  segDir: join(work, 'segment'),
  pgctl: join(work, 'pgctl'), // global/pg_control + PG_VERSION of the removed cluster, pgbackrest's pg1-path
  lock: join(work, 'pgbackrest-lock'),
  spool: join(work, 'pgbackrest-spool'),
  benchRepo: join(work, 'repo-bench'),
  replayRepo: join(work, 'repo-replay'),
  replayStore: join(work, 'store-replay'),
  base: join(work, 'base-backup'),
  scratch: join(work, 'scratch'),
};
const benchConf = join(work, 'pgbackrest-bench.conf');
const replayConf = join(work, 'pgbackrest-replay.conf');

function writePgbrConf(file, repo, pgPath, sockDir, port) {
  const lines = [
    '[global]',
    `repo1-path=${repo}`,
    'compress-type=lz4',
    'archive-async=n',
    'log-level-console=warn',
    'log-level-stderr=warn',
    'log-level-file=off',
    `lock-path=${paths.lock}`,
    `spool-path=${paths.spool}`,
    '',
    `[${STANZA}]`,
    `pg1-path=${pgPath}`,
    ...(sockDir ? [`pg1-socket-path=${sockDir}`, `pg1-port=${port}`, 'pg1-user=postgres'] : []),
    '',
  ];
  writeFileSync(file, lines.join('\n'));
  chownPg(file);
}

const pgbr = (conf, ...args) => [PGBACKREST, `--config=${conf}`, `--stanza=${STANZA}`, ...args];
const fileUrl = (dir) => `file://${dir}`;

// ---------------------------------------------------------------------------------------------------
// Setup

function confLine(k, v) {
  return `${k} = '${String(v).replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function psql(env, sql) {
  return run(join(PGBIN, 'psql'), ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { env }).stdout.trim();
}

function setup() {
  console.error('[setup] building the data set under .bench-work/wal (a few minutes)');
  const t0 = Date.now();
  mkdirSync(join(root, '.bench-work'), { recursive: true });
  mkdirPg(work);
  for (const n of readdirSync(work)) if (n !== 'app') rmSync(join(work, n), { recursive: true, force: true });
  const tmp = mkdirPg(join(work, 'setup-cluster'));
  const data = join(tmp, 'data');
  const sock = mkdirPg(join(tmp, 'sock'));
  const log = join(tmp, 'server.log');
  const port = 20000 + Math.floor(Math.random() * 20000);
  const env = { PGHOST: sock, PGPORT: String(port), PGUSER: 'postgres', PGDATABASE: 'postgres' };
  for (const d of [paths.lock, paths.spool, paths.benchRepo, paths.replayRepo, paths.replayStore, paths.segDir]) mkdirPg(d);
  writePgbrConf(benchConf, paths.benchRepo, data, sock, port);
  writePgbrConf(replayConf, paths.replayRepo, data, sock, port);

  run(join(PGBIN, 'initdb'), ['-D', data, '--auth=trust', '-E', 'UTF8', '--locale=C', '-U', 'postgres', '--no-sync']);
  const archiveCommand =
    `WALE_FILE_PREFIX=${fileUrl(paths.replayStore)} ${node} ${walE} wal-push %p && ` +
    `${pgbr(replayConf, 'archive-push', '%p').join(' ')}`;
  const settings = {
    port,
    listen_addresses: '',
    unix_socket_directories: sock,
    wal_level: 'replica',
    archive_mode: 'on',
    archive_command: archiveCommand,
    max_wal_size: '1GB',
    wal_keep_size: '512MB', // the segment copied out of pg_wal must still be there
    fsync: 'off', // nothing here must survive a crash; the WAL content is the same
    logging_collector: 'off',
    log_line_prefix: '%m [%p] ',
  };
  writeFileSync(
    join(data, 'postgresql.conf'),
    readFileSync(join(data, 'postgresql.conf'), 'utf8') + '\n# bench/wal\n' + Object.entries(settings).map(([k, v]) => confLine(k, v)).join('\n') + '\n',
  );
  const ctl = (...a) => run(join(PGBIN, 'pg_ctl'), ['-D', data, ...a], { env });
  let started = false;
  try {
    ctl('-l', log, '-w', 'start');
    started = true;
    for (const conf of [benchConf, replayConf]) runv(pgbr(conf, 'stanza-create'));
    console.error('[setup] pgbench -i -s 10');
    run(join(PGBIN, 'pgbench'), ['-i', '-s', '10', '-q'], { env });
    psql(env, 'CHECKPOINT');
    console.error('[setup] pg_basebackup (WAL from the archives only)');
    run(join(PGBIN, 'pg_basebackup'), ['-D', paths.base, '-X', 'none', '-c', 'fast', '--no-sync'], { env });
    const backupLabel = readFileSync(join(paths.base, 'backup_label'), 'utf8');
    const firstSeg = /START WAL LOCATION: .* \(file ([0-9A-F]{24})\)/.exec(backupLabel)[1];

    // Plain TPC-B traffic; the cold-process segment is a full one written during it: the one before
    // the current segment once 20 s have run.
    console.error('[setup] pgbench TPC-B 20 s (the cold-process segment comes from this run)');
    run(join(PGBIN, 'pgbench'), ['-c', '4', '-j', '2', '-T', '20', '-n'], { env });
    let cur = psql(env, 'SELECT pg_walfile_name(pg_current_wal_lsn())');
    const benchSeg = segName(1, segNo(cur) - 1);
    copyFileSync(join(data, 'pg_wal', benchSeg), join(paths.segDir, benchSeg));
    chownPg(paths.segDir);
    if (statSync(join(paths.segDir, benchSeg)).size !== SEG_BYTES) throw new Error(`${benchSeg} is not 16 MiB`);
    // More TPC-B traffic until >= REPLAY_MIN segments follow the backup's first one. Plain TPC-B at
    // scale 10 writes ~2 MB/s of WAL here, so a CHECKPOINT every 3 s makes most updates full-page
    // writes and the WAL comes ~10x faster (still pgbench's WAL, heavier in page images).
    const want = segNo(firstSeg) + REPLAY_MIN;
    for (let round = 0; ; round++) {
      cur = psql(env, 'SELECT pg_walfile_name(pg_current_wal_lsn())');
      if (round % 5 === 0) console.error(`[setup] pgbench TPC-B + CHECKPOINT round ${round}: current segment ${cur}, want ${segName(1, want)}`);
      if (segNo(cur) >= want) break;
      if (round > 400) throw new Error('pgbench does not produce WAL fast enough');
      run(join(PGBIN, 'pgbench'), ['-c', '4', '-j', '2', '-T', '3', '-n'], { env });
      psql(env, 'CHECKPOINT');
    }
    const lastSeg = psql(env, 'SELECT pg_walfile_name(pg_current_wal_lsn())');
    psql(env, 'SELECT pg_switch_wal()');
    console.error(`[setup] waiting for the archiver to reach ${lastSeg}`);
    for (let i = 0; ; i++) {
      const [done, failed] = psql(env, `SELECT coalesce(last_archived_wal, ''), failed_count FROM pg_stat_archiver`).split('|');
      if (done && done.length === 24 && done >= lastSeg) break;
      if (i > 1200) throw new Error(`archiving did not reach ${lastSeg} (last ${done}, failed ${failed})`);
      sleepMs(250);
    }
    const failed = Number(psql(env, 'SELECT failed_count FROM pg_stat_archiver'));
    ctl('-m', 'fast', '-w', 'stop');
    started = false;
    mkdirSync(join(paths.pgctl, 'global'), { recursive: true });
    copyFileSync(join(data, 'global', 'pg_control'), join(paths.pgctl, 'global', 'pg_control'));
    copyFileSync(join(data, 'PG_VERSION'), join(paths.pgctl, 'PG_VERSION'));
    chownPg(paths.pgctl);
    // From here on pgbackrest only archives and restores: its pg1-path is the pg_control copy.
    writePgbrConf(benchConf, paths.benchRepo, paths.pgctl);
    writePgbrConf(replayConf, paths.replayRepo, paths.pgctl);
    const info = {
      benchSeg,
      replayFirst: firstSeg,
      replayLast: lastSeg,
      replaySegments: segNo(lastSeg) - segNo(firstSeg) + 1,
      archiveFailures: failed,
      createdAt: new Date().toISOString(),
      setupSeconds: (Date.now() - t0) / 1000,
    };
    writeFileSync(paths.info, JSON.stringify(info, null, 2));
    console.error(`[setup] done in ${info.setupSeconds.toFixed(0)} s: ${JSON.stringify(info)}`);
    return info;
  } finally {
    if (started) ctl('-m', 'immediate', '-w', 'stop');
    rmSync(tmp, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Timing

function timeOnce(c) {
  c.before?.();
  let out = 'ignore';
  if (c.stdoutFile) out = openSync(c.stdoutFile, 'w');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(c.cmd[0], c.cmd.slice(1), {
    cwd: work,
    env: { ...ENV, ...c.env },
    stdio: ['ignore', out, 'pipe'],
    ...asPg,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (typeof out === 'number') closeSync(out);
  if (r.status !== 0) throw new Error(`${c.name}: exited ${r.status ?? r.signal}: ${r.stderr?.toString().slice(0, 1500)}`);
  c.after?.();
  return ms;
}

/** Every command's median over `runs`, interleaved in a rotating order after `warmup` rounds. */
function interleave(cmds, runs, warmup) {
  for (let i = 0; i < warmup; i++) for (const c of cmds) timeOnce(c);
  const times = cmds.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (let k = 0; k < cmds.length; k++) {
      const j = (i + k) % cmds.length;
      times[j].push(timeOnce(cmds[j]));
    }
  }
  return cmds.map((c, j) => ({ name: c.name, median: median(times[j]), min: Math.min(...times[j]), runs }));
}

function clearDir(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirPg(dir);
}

/** pgbackrest's archived copies of `name` (<repo>/archive/<stanza>/15-1/<first 16>/<name>-<sha1>.lz4). */
function pgbrArchived(repo, name) {
  const d = join(repo, 'archive', STANZA, '15-1', name.slice(0, 16));
  if (!existsSync(d)) return [];
  return readdirSync(d).filter((n) => n.startsWith(name + '-')).map((n) => join(d, n));
}
function pgbrArchiveDirs(repo) {
  const d = join(repo, 'archive', STANZA, '15-1');
  return existsSync(d) ? readdirSync(d).filter((n) => /^[0-9A-F]{16}$/.test(n)).map((n) => join(d, n)) : [];
}

function cold(info) {
  const name = info.benchSeg;
  const seg = join(paths.segDir, name);
  const s = mkdirPg(join(paths.scratch, 'cold'));
  // wal-push reads SEG from a directory without archive_status, so no look-ahead runs.
  const pushStore = join(s, 'store-push');
  const pushObj = join(pushStore, 'wal_005', `${name}.lzo`);
  const fetchStore = join(s, 'store-fetch');
  const fetchObj = join(fetchStore, 'wal_005', `${name}.lzo`);
  const lzoOut = join(s, 'out.lzo');
  const dest = mkdirPg(join(s, 'dest'));
  const destFile = join(dest, 'RECOVERYXLOG');
  mkdirPg(pushStore);
  mkdirPg(fetchStore);
  for (const d of pgbrArchiveDirs(paths.benchRepo)) rmSync(d, { recursive: true, force: true });

  const push = [
    {
      name: 'wal-e wal-push SEG',
      cmd: [node, walE, 'wal-push', seg],
      env: { WALE_FILE_PREFIX: fileUrl(pushStore) },
      before: () => rmSync(pushObj, { force: true }),
      after: () => {
        if (!existsSync(pushObj)) throw new Error(`wal-push wrote no ${pushObj}`);
      },
    },
    { name: 'lzop -c SEG > OUT', cmd: [LZOP, '-c', seg], stdoutFile: lzoOut },
    {
      name: 'pgbackrest archive-push SEG',
      cmd: pgbr(benchConf, 'archive-push', seg),
      before: () => pgbrArchived(paths.benchRepo, name).forEach((f) => rmSync(f, { force: true })),
      after: () => {
        if (pgbrArchived(paths.benchRepo, name).length !== 1) throw new Error('archive-push stored nothing');
      },
    },
  ];
  console.error(`[cold] push: ${RUNS} runs + ${WARMUP} warm-up each`);
  const pushRows = interleave(push, RUNS, WARMUP);

  // Objects to fetch: wal-e's own .lzo and pgbackrest's .lz4 of the same segment.
  run(node, [walE, 'wal-push', seg], { env: { WALE_FILE_PREFIX: fileUrl(fetchStore) } });
  if (pgbrArchived(paths.benchRepo, name).length !== 1) runv(pgbr(benchConf, 'archive-push', seg));
  const checkDest = () => {
    if (statSync(destFile).size !== SEG_BYTES) throw new Error(`${destFile} is not whole`);
  };
  const fetch = [
    {
      name: 'wal-e wal-fetch --prefetch 0 NAME DEST',
      cmd: [node, walE, 'wal-fetch', '--prefetch', '0', name, destFile],
      env: { WALE_FILE_PREFIX: fileUrl(fetchStore) },
      before: () => rmSync(destFile, { force: true }),
      after: checkDest,
    },
    {
      name: 'lzop -dc IN > DEST',
      cmd: [LZOP, '-dc', fetchObj],
      stdoutFile: destFile,
      before: () => rmSync(destFile, { force: true }),
      after: checkDest,
    },
    {
      name: 'pgbackrest archive-get NAME DEST',
      cmd: pgbr(benchConf, 'archive-get', name, destFile),
      before: () => rmSync(destFile, { force: true }),
      after: checkDest,
    },
  ];
  console.error(`[cold] fetch: ${RUNS} runs + ${WARMUP} warm-up each`);
  const fetchRows = interleave(fetch, RUNS, WARMUP);
  const sizes = {
    lzo: statSync(fetchObj).size,
    lz4: statSync(pgbrArchived(paths.benchRepo, name)[0]).size,
  };
  rmSync(s, { recursive: true, force: true });
  return { pushRows, fetchRows, sizes };
}

// ---------------------------------------------------------------------------------------------------
// Burst

function burst(info) {
  const seg = join(paths.segDir, info.benchSeg);
  const first = 0x20 * 256; // 000000010000002000000000 onwards: clear of the real cluster's names
  const names = Array.from({ length: BURST }, (_, i) => segName(1, first + i));
  const s = mkdirPg(join(paths.scratch, 'burst'));
  const walDir = join(s, 'pg_wal');
  const store = join(s, 'store');

  const prepare = () => {
    clearDir(walDir);
    mkdirPg(join(walDir, 'archive_status'));
    for (const n of names) {
      linkSync(seg, join(walDir, n));
      writeFileSync(join(walDir, 'archive_status', `${n}.ready`), '');
    }
    chownPg(walDir);
    clearDir(store);
    for (const d of pgbrArchiveDirs(paths.benchRepo)) rmSync(d, { recursive: true, force: true });
  };
  const variants = [
    { name: 'wal-e wal-push (default pool)', cmd: (p) => [node, walE, 'wal-push', p], env: { WALE_FILE_PREFIX: fileUrl(store) } },
    { name: 'wal-e wal-push --pool-size 1', cmd: (p) => [node, walE, 'wal-push', '--pool-size', '1', p], env: { WALE_FILE_PREFIX: fileUrl(store) } },
    { name: 'pgbackrest archive-push', cmd: (p) => pgbr(benchConf, 'archive-push', p), env: {} },
  ];
  const rows = [];
  for (const v of variants) {
    prepare();
    console.error(`[burst] ${v.name}: ${BURST} segments`);
    const t0 = process.hrtime.bigint();
    for (const n of names) {
      const cmd = v.cmd(join(walDir, n));
      const r = spawnSync(cmd[0], cmd.slice(1), { cwd: walDir, env: { ...ENV, ...v.env }, stdio: ['ignore', 'ignore', 'pipe'], ...asPg });
      if (r.status !== 0) throw new Error(`${v.name} ${n}: exited ${r.status}: ${r.stderr.toString().slice(0, 1500)}`);
      renameSync(join(walDir, 'archive_status', `${n}.ready`), join(walDir, 'archive_status', `${n}.done`));
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const stored = v.name.startsWith('wal-e')
      ? readdirSync(join(store, 'wal_005')).filter((n) => n.endsWith('.lzo')).length
      : pgbrArchiveDirs(paths.benchRepo).reduce((a, d) => a + readdirSync(d).length, 0);
    if (stored !== BURST) throw new Error(`${v.name}: ${stored} objects stored, expected ${BURST}`);
    rows.push({ name: v.name, seconds, perSecond: BURST / seconds });
  }
  rmSync(s, { recursive: true, force: true });
  for (const d of pgbrArchiveDirs(paths.benchRepo)) rmSync(d, { recursive: true, force: true });
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// Replay

/** Processes (by pid) whose command line mentions `needle`: the detached wal-prefetch helpers. */
function pidsMentioning(needle) {
  const out = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle)) out.push(Number(p));
    } catch {
      // gone
    }
  }
  return out;
}

function replayOnce(tool, info) {
  const s = join(paths.scratch, `replay-${tool}`);
  clearDir(s);
  const data = join(s, 'data');
  const sock = mkdirPg(join(s, 'sock'));
  const log = join(s, 'server.log');
  const port = 20000 + Math.floor(Math.random() * 20000);
  run('/bin/cp', ['-a', paths.base, data]);
  const restoreCommand =
    tool === 'wal-e'
      ? `WALE_FILE_PREFIX=${fileUrl(paths.replayStore)} ${node} ${walE} wal-fetch %f %p`
      : tool === 'wal-e-noprefetch'
      ? `WALE_FILE_PREFIX=${fileUrl(paths.replayStore)} ${node} ${walE} wal-fetch --prefetch 0 %f %p`
      : // pg1-path must be the restoring cluster's data directory (archive-get checks PostgreSQL's cwd).
        `${pgbr(replayConf, `--pg1-path=${data}`, 'archive-get', '%f', '"%p"').join(' ')}`;
  const settings = {
    port,
    listen_addresses: '',
    unix_socket_directories: sock,
    archive_mode: 'off',
    restore_command: restoreCommand,
    fsync: 'off',
    logging_collector: 'off',
    log_line_prefix: '%m [%p] ',
  };
  writeFileSync(
    join(data, 'postgresql.conf'),
    readFileSync(join(data, 'postgresql.conf'), 'utf8') + '\n# bench/wal replay\n' + Object.entries(settings).map(([k, v]) => confLine(k, v)).join('\n') + '\n',
  );
  writeFileSync(join(data, 'recovery.signal'), '');
  chownPg(s);
  const env = { PGHOST: sock, PGPORT: String(port) };
  const t0 = process.hrtime.bigint();
  run(join(PGBIN, 'pg_ctl'), ['-D', data, '-l', log, '-W', 'start'], { env });
  let seconds;
  let text = '';
  try {
    const deadline = Date.now() + 600_000;
    for (;;) {
      try {
        text = readFileSync(log, 'utf8');
      } catch {
        text = '';
      }
      if (text.includes('archive recovery complete')) {
        seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        break;
      }
      if (/FATAL|PANIC/.test(text) || Date.now() > deadline) throw new Error(`replay with ${tool} failed:\n${text.slice(-3000)}`);
      sleepMs(20);
    }
  } finally {
    run(join(PGBIN, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { env, allowFail: true });
    // wal-e's detached prefetchers of segments past the end of the archive: let them finish, then make sure.
    for (let i = 0; i < 100 && pidsMentioning(s).length; i++) sleepMs(100);
    for (const pid of pidsMentioning(s)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
  }
  const restored = (text.match(/restored log file "[0-9A-F]{24}" from archive/g) ?? []).length;
  const ts = (re) => {
    const line = text.split('\n').find((l) => re.test(l));
    return line ? Date.parse(line.slice(0, 23).replace(' ', 'T') + 'Z') : NaN;
  };
  const logSeconds = (ts(/archive recovery complete/) - ts(/starting PostgreSQL/)) / 1000;
  copyFileSync(log, join(work, `last-replay-${tool}.log`)); // kept for a look at what took the time
  rmSync(s, { recursive: true, force: true });
  return { tool, seconds, logSeconds, restored };
}

function replay(info) {
  const rows = [];
  // The third run is a diagnostic: the same restore without wal-e's prefetching.
  for (const tool of ['pgbackrest', 'wal-e', 'wal-e-noprefetch']) {
    console.error(`[replay] ${tool}: restoring ${info.replaySegments} segments`);
    rows.push(replayOnce(tool, info));
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// Main

function main() {
  if (!existsSync(join(root, 'dist', 'wal-e.mjs'))) throw new Error('dist/wal-e.mjs is missing: run node scripts/build.mjs product');
  mkdirSync(join(root, '.bench-work'), { recursive: true });
  mkdirPg(work);
  rmSync(app, { recursive: true, force: true });
  cpSync(join(root, 'dist'), join(app, 'dist'), { recursive: true });
  mkdirSync(join(app, 'bin'), { recursive: true });
  copyFileSync(join(root, 'bin', 'wal-e'), walE);
  if (!existsSync(join(app, 'dist', 'wal-e.mjs'))) throw new Error('dist/ changed while being copied; retry');
  chownPg(app);
  for (const b of [join(PGBIN, 'initdb'), join(PGBIN, 'pgbench'), PGBACKREST, LZOP]) {
    if (!existsSync(b)) throw new Error(`${b} is missing (apt-get install -y postgresql-15 pgbackrest lzop)`);
  }
  const started = Date.now();
  let info = !FORCE_SETUP && existsSync(paths.info) ? JSON.parse(readFileSync(paths.info, 'utf8')) : undefined;
  if (!info || !existsSync(join(paths.segDir, info.benchSeg)) || !existsSync(paths.base)) info = setup();
  clearDir(paths.scratch);

  const out = [];
  const p = (s = '') => out.push(s);
  const f1 = (x) => x.toFixed(1);
  const goal = (ok) => (ok ? 'met' : '**not met**');
  p(`# WAL (file:// store, segment ${info.benchSeg}, node ${process.version}, pgBackRest ${run(PGBACKREST, ['version']).stdout.trim().split(' ')[1]})`);
  const dump = run(join(PGBIN, 'pg_waldump'), ['--stats', join(paths.segDir, info.benchSeg)], { allowFail: true }).stdout ?? '';
  const total = /^Total\s+(\d+)\s+(\d+) \[([\d.]+)%\]\s+(\d+) \[([\d.]+)%\]/m.exec(dump);
  if (total) p(`Segment content (pg_waldump --stats): ${total[1]} records, ${total[3]}% record bytes, ${total[5]}% full-page images.`);
  if (ONLY.has('cold')) {
    const { pushRows, fetchRows, sizes } = cold(info);
    const table = (title, rows, goalRatio) => {
      const lz = rows[1];
      const br = rows[2];
      p();
      p(`## ${title} (cold process, median of ${RUNS} interleaved runs, ${WARMUP} warm-up runs excluded)`);
      p('| command | median ms | min ms | vs lzop | vs pgBackRest | goal |');
      p('|---|---:|---:|---:|---:|---|');
      for (const r of rows) {
        const isOurs = r.name.startsWith('wal-e');
        const vsBr = r.median / br.median;
        p(
          `| \`${r.name}\` | ${f1(r.median)} | ${f1(r.min)} | ${(r.median / lz.median).toFixed(2)}x | ${vsBr.toFixed(2)}x | ` +
            `${isOurs ? `<= ${goalRatio.toFixed(1)}x pgBackRest: ${goal(vsBr <= goalRatio)}` : ''} |`,
        );
      }
    };
    table('wal-push', pushRows, 1.0);
    table('wal-fetch', fetchRows, 2.0);
    p();
    p(`Stored sizes of the 16 MiB segment: wal-e .lzo ${(sizes.lzo / 2 ** 20).toFixed(2)} MiB, pgBackRest .lz4 ${(sizes.lz4 / 2 ** 20).toFixed(2)} MiB.`);
  }
  if (ONLY.has('burst')) {
    const rows = burst(info);
    p();
    p(`## Burst: ${BURST} .ready segments, one archive call per segment in order (.ready -> .done after exit 0)`);
    p('| archiver | total s | segments/s | vs pgBackRest |');
    p('|---|---:|---:|---:|');
    const br = rows[2];
    for (const r of rows) p(`| ${r.name} | ${f1(r.seconds)} | ${r.perSecond.toFixed(2)} | ${(r.perSecond / br.perSecond).toFixed(2)}x |`);
  }
  if (ONLY.has('replay')) {
    const rows = replay(info);
    p();
    p(`## Replay: PostgreSQL 15 archive recovery from a base backup, ${info.replayFirst} onwards (${rows[0].restored} segments restored)`);
    p('| restore_command | seconds (pg_ctl start -> "archive recovery complete") | per log timestamps | segments restored | vs pgBackRest | goal |');
    p('|---|---:|---:|---:|---:|---|');
    const br = rows[0];
    for (const r of rows) {
      const ours = r.tool === 'wal-e';
      const cmd = {
        'wal-e': 'wal-e wal-fetch %f %p',
        'wal-e-noprefetch': 'wal-e wal-fetch --prefetch 0 %f %p (diagnostic)',
        pgbackrest: 'pgbackrest --stanza=bench archive-get %f "%p"',
      }[r.tool];
      p(
        `| \`${cmd}\` | ${r.seconds.toFixed(2)} | ${r.logSeconds.toFixed(2)} | ${r.restored} | ${(r.seconds / br.seconds).toFixed(2)}x | ` +
          `${ours ? `<= pgBackRest: ${goal(r.seconds <= br.seconds)}` : ''} |`,
      );
    }
  }
  rmSync(paths.scratch, { recursive: true, force: true });
  p();
  p(`(bench time ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  console.log(out.join('\n'));
}

main();
