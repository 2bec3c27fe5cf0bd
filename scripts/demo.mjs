// The main job on an embedded default: a throwaway PostgreSQL 15 cluster archived by wal-e to a
// file:// prefix, a base backup, a restore with point-in-time recovery from the archive, and a summary.
// Runs PostgreSQL (and wal-e, as PostgreSQL would) as the unprivileged "postgres" user when started
// as root. Usage: node scripts/demo.mjs [--keep]
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const walE = join(root, 'bin', 'wal-e');
const pgBin = '/usr/lib/postgresql/15/bin';
const keep = process.argv.includes('--keep');
const asRoot = process.getuid?.() === 0;
const pgUser = asRoot ? 'postgres' : userInfo().username;
const t0 = Date.now();

const work = mkdtempSync(join(tmpdir(), 'wal-e-demo-'));
const dirs = { primary: join(work, 'primary'), restored: join(work, 'restored'), store: join(work, 'store'), env: join(work, 'env'), sock: join(work, 'sock') };
for (const d of [dirs.store, dirs.env, dirs.sock]) mkdirSync(d);
writeFileSync(join(dirs.env, 'WALE_FILE_PREFIX'), `file://localhost${dirs.store}\n`);
writeFileSync(join(dirs.env, 'WALE_LOG_DESTINATION'), 'stderr\n');
// The demo wants its backup now, not after a spread checkpoint.
writeFileSync(join(dirs.env, 'WALE_BACKUP_FAST_CHECKPOINT'), '1\n');
const chownTree = (p) => {
  if (!asRoot) return;
  execFileSync('chown', ['-R', 'postgres:postgres', p]);
};
chownTree(work);

function run(cmd, args, { quiet = true, env = {} } = {}) {
  const full = asRoot ? ['runuser', ['-u', 'postgres', '--', 'env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), cmd, ...args]] : [cmd, args];
  const r = spawnSync(full[0], full[1], {
    cwd: work,
    env: { ...process.env, PATH: `${pgBin}:${process.env.PATH}`, ...env },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) {
    process.stderr.write(`demo: ${cmd} ${args.join(' ')} failed (exit ${r.status})\n${r.stdout}\n${r.stderr}\n`);
    cleanup();
    process.exit(1);
  }
  if (!quiet) process.stderr.write(r.stderr);
  return r.stdout.trim();
}

const port = 54000 + Math.floor(Math.random() * 1000);
const pgEnv = (p) => ({ PGHOST: dirs.sock, PGPORT: String(p), PGUSER: 'postgres', PGDATABASE: 'postgres' });
const sql = (p, q) => run(join(pgBin, 'psql'), ['-XAtq', '-c', q], { env: pgEnv(p) });
const walEenv = (p) => ['envdir', dirs.env, process.execPath, walE];

function cleanup() {
  for (const d of [dirs.primary, dirs.restored]) {
    if (existsSync(join(d, 'postmaster.pid'))) spawnSync(asRoot ? 'runuser' : join(pgBin, 'pg_ctl'), asRoot ? ['-u', 'postgres', '--', join(pgBin, 'pg_ctl'), '-D', d, '-m', 'immediate', 'stop'] : ['-D', d, '-m', 'immediate', 'stop'], { stdio: 'ignore' });
  }
  if (!keep) rmSync(work, { recursive: true, force: true });
}
process.on('SIGINT', () => { cleanup(); process.exit(130); });

const step = (s) => process.stderr.write(`\n== ${s}\n`);

step(`PostgreSQL 15 cluster in ${dirs.primary} (user ${pgUser}), archiving with wal-e to file://${dirs.store}`);
run(join(pgBin, 'initdb'), ['-D', dirs.primary, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
const archiveCommand = `envdir ${dirs.env} ${process.execPath} ${walE} wal-push %p`;
appendFileSync(join(dirs.primary, 'postgresql.conf'), `
listen_addresses = ''
port = ${port}
unix_socket_directories = '${dirs.sock}'
wal_level = replica
archive_mode = on
archive_command = '${archiveCommand}'
`);
run(join(pgBin, 'pg_ctl'), ['-D', dirs.primary, '-l', join(work, 'primary.log'), '-w', 'start']);
run(join(pgBin, 'pgbench'), ['-i', '-s', '5', '-q'], { env: pgEnv(port) });
run(join(pgBin, 'pgbench'), ['-c', '2', '-T', '3', '-n'], { env: pgEnv(port) });

step('wal-e backup-push (online, non-exclusive backup API)');
run(walEenv(port)[0], [...walEenv(port).slice(1), 'backup-push', dirs.primary], { quiet: false, env: pgEnv(port) });

step('more traffic after the backup, then a WAL switch');
run(join(pgBin, 'pgbench'), ['-c', '2', '-T', '3', '-n'], { env: pgEnv(port) });
sql(port, 'CREATE TABLE demo_marker AS SELECT now() AS at');
const want = sql(port, 'SELECT count(*) || \'/\' || sum(abalance) FROM pgbench_accounts');
const lastSeg = sql(port, 'SELECT pg_walfile_name(pg_switch_wal())');
for (let i = 0; i < 300; i++) {
  const done = sql(port, 'SELECT coalesce(last_archived_wal, \'\') FROM pg_stat_archiver');
  if (done >= lastSeg) break;
  spawnSync('sleep', ['0.2']);
}
const archived = sql(port, 'SELECT archived_count || \' archived, \' || failed_count || \' failed\' FROM pg_stat_archiver');

step('wal-e backup-list');
const list = run(walEenv(port)[0], [...walEenv(port).slice(1), 'backup-list', '--detail']);
process.stderr.write(list + '\n');

step(`wal-e backup-fetch into ${dirs.restored}, then recovery with restore_command = wal-e wal-fetch`);
run(join(pgBin, 'pg_ctl'), ['-D', dirs.primary, '-m', 'fast', '-w', 'stop']);
mkdirSync(dirs.restored, { mode: 0o700 });
chownTree(dirs.restored);
run(walEenv(port)[0], [...walEenv(port).slice(1), 'backup-fetch', dirs.restored, 'LATEST'], { quiet: false });
for (const f of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) {
  if (!existsSync(join(dirs.restored, f))) execFileSync('cp', [join(dirs.primary, f), join(dirs.restored, f)]);
}
appendFileSync(join(dirs.restored, 'postgresql.conf'), `\narchive_mode = off\nrestore_command = 'envdir ${dirs.env} ${process.execPath} ${walE} wal-fetch %f %p'\n`);
writeFileSync(join(dirs.restored, 'recovery.signal'), '');
chownTree(dirs.restored);
run(join(pgBin, 'pg_ctl'), ['-D', dirs.restored, '-l', join(work, 'restored.log'), '-w', '-t', '120', 'start']);
for (let i = 0; i < 600 && sql(port, 'SELECT pg_is_in_recovery()') === 't'; i++) spawnSync('sleep', ['0.2']);
const got = sql(port, 'SELECT count(*) || \'/\' || sum(abalance) FROM pgbench_accounts');
const marker = sql(port, 'SELECT count(*) FROM demo_marker');
run(join(pgBin, 'pg_ctl'), ['-D', dirs.restored, '-m', 'fast', '-w', 'stop']);

const objects = existsSync(join(dirs.store, 'wal_005')) ? readdirSync(join(dirs.store, 'wal_005')).filter((f) => f.endsWith('.lzo')).length : 0;
const ok = got === want && marker === '1';
process.stdout.write(
  [
    '',
    'wal-e demo summary',
    `  archive           file://${dirs.store}`,
    `  WAL archived      ${objects} objects in wal_005/ (PostgreSQL: ${archived})`,
    `  base backups      ${list.split('\n').length - 1}`,
    `  data on primary   pgbench_accounts ${want}`,
    `  data restored     pgbench_accounts ${got}, marker table rows ${marker}`,
    `  result            ${ok ? 'restored cluster matches the primary' : 'MISMATCH'}`,
    `  time              ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    keep ? `  kept              ${work}` : '',
    '',
  ].join('\n'),
);
cleanup();
process.exit(ok ? 0 : 1);
