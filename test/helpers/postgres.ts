// Real PostgreSQL clusters for integration tests.
//
// Server binaries (initdb, pg_ctl, postgres) come from scripts/install-postgres.mjs, one directory per
// major under .cache/postgres/, except 15, where Debian's postgresql-15 is preferred when installed.
// Client tools (psql, pgbench) always come from Debian's postgresql-15: they drive 12 through 18.
//
// PostgreSQL refuses to run as root, so when the tests run as root every server and client process runs
// as the unprivileged "postgres" user, and every directory a cluster touches is a fresh temp directory
// owned by that user. Running servers are tracked so that a failing test, or a test process that exits
// early, still leaves no postmaster behind.
import { spawn, spawnSync } from 'node:child_process';
import type { SpawnOptions } from 'node:child_process';
import {
  accessSync,
  appendFileSync,
  chmodSync,
  chownSync,
  constants as fsConstants,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { packageRoot } from '../../src/util/dist-path';

export const DEFAULT_MAJORS: readonly number[] = [12, 15, 18];
/** Debian's postgresql-15: psql, pgbench and the rest of the client tools used against every major. */
export const CLIENT_BIN_DIR = '/usr/lib/postgresql/15/bin';

// ---------------------------------------------------------------------------------------------------------
// Locations

/** The checkout's root: the nearest ancestor holding the package.json named "wal-e". */
export function repoRoot(): string {
  return packageRoot();
}

function hasServerBinaries(dir: string): boolean {
  return ['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(dir, b)));
}

/** Where the server binaries of `major` live (whether or not they are installed). */
export function binDirFor(major: number): string {
  const debian = `/usr/lib/postgresql/${major}/bin`;
  if (major === 15 && hasServerBinaries(debian)) return debian;
  return join(repoRoot(), '.cache', 'postgres', String(major), 'native', 'bin');
}

/** Majors among `candidates` whose server binaries are installed. */
export function availableMajors(candidates: readonly number[] = DEFAULT_MAJORS): number[] {
  return candidates.filter((m) => hasServerBinaries(binDirFor(m)));
}

/**
 * The majors a test should run against: WALE_TEST_PG_MAJORS (e.g. "15" or "12,18") or 12, 15 and 18.
 * Installed or not: a missing major must fail the test, not quietly shrink the matrix.
 */
export function majorsUnderTest(): number[] {
  const raw = process.env.WALE_TEST_PG_MAJORS?.trim();
  if (!raw) return [...DEFAULT_MAJORS];
  const majors = raw.split(/[\s,]+/).filter(Boolean).map(Number);
  if (majors.some((m) => !Number.isInteger(m) || m < 10)) throw new Error(`bad WALE_TEST_PG_MAJORS: "${raw}"`);
  return majors;
}

/** Throws a message saying how to install `major` when its server binaries are missing. */
export function requireMajor(major: number): string {
  const dir = binDirFor(major);
  if (!hasServerBinaries(dir)) {
    throw new Error(
      `PostgreSQL ${major} is not installed (no initdb/pg_ctl/postgres in ${dir}): ` +
        `run "node scripts/install-postgres.mjs ${major}", or choose the majors with WALE_TEST_PG_MAJORS`,
    );
  }
  for (const tool of ['psql', 'pgbench']) {
    if (!existsSync(join(CLIENT_BIN_DIR, tool))) {
      throw new Error(`${join(CLIENT_BIN_DIR, tool)} is missing: install Debian's postgresql-15 (apt-get install -y postgresql-15)`);
    }
  }
  return dir;
}

// ---------------------------------------------------------------------------------------------------------
// Running things as the postgres user

interface PgUser {
  uid: number;
  gid: number;
  home: string;
}

let cachedUser: PgUser | null | undefined;

/** The account servers run as: "postgres" when we are root, otherwise null (we run as ourselves). */
export function postgresUser(): PgUser | null {
  if (cachedUser !== undefined) return cachedUser;
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return (cachedUser = null);
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, but there is no "postgres" user to run PostgreSQL as');
  const f = line.split(':');
  cachedUser = { uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/' };
  return cachedUser;
}

/**
 * A minimal, explicit environment for servers and tools. archive_command and restore_command inherit the
 * postmaster's environment, so PATH must find `node` (for bin/wal-e), envdir and lzop.
 */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const user = postgresUser();
  const path = [dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
  return {
    PATH: [...new Set(path)].join(':'),
    HOME: user ? user.home : (process.env.HOME ?? '/'),
    LANG: 'C',
    LC_ALL: 'C',
    TZ: 'UTC',
    ...extra,
  };
}

export interface RunResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
}

/** Runs a command as the postgres user (or as ourselves when not root); never throws on a non-zero exit. */
export function runAsPostgres(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const user = postgresUser();
  const spawnOpts: SpawnOptions = {
    cwd: opts.cwd ?? tmpdir(),
    env: opts.env ?? baseEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  };
  if (user) Object.assign(spawnOpts, { uid: user.uid, gid: user.gid });
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, spawnOpts);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n[killed after ${opts.timeoutMs ?? 120_000} ms]`;
      resolve({ code: code ?? -1, signal, stdout, stderr });
    });
    child.stdin!.on('error', () => {});
    child.stdin!.end(opts.input ?? '');
  });
}

async function mustRun(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await runAsPostgres(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}${r.signal ? ` (${r.signal})` : ''}:\n${r.stderr || r.stdout}`);
  }
  return r.stdout;
}

/** Gives `path` (recursively) to the postgres user; a no-op when not root. */
export function chownToPostgres(path: string): void {
  const user = postgresUser();
  if (!user) return;
  const walk = (p: string): void => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    chownSync(p, user.uid, user.gid);
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(path);
}

const tempDirs = new Set<string>();

/**
 * A fresh 0700 directory under the system temp dir, owned by the postgres user. It is removed by
 * removeTempDir(), or at the latest when the test process exits.
 */
export function makePostgresTempDir(prefix: string): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  chmodSync(dir, 0o700);
  chownToPostgres(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  tempDirs.delete(dir);
}

/** Fails with an explanation when the postgres user cannot read (or execute) one of `paths`. */
export async function assertPostgresCanAccess(paths: readonly string[], mode: 'r' | 'x' = 'r'): Promise<void> {
  for (const p of paths) {
    accessSync(p, fsConstants.F_OK);
    const r = await runAsPostgres('test', [`-${mode}`, p], { timeoutMs: 10_000 });
    if (r.code !== 0) {
      throw new Error(
        `the postgres user cannot ${mode === 'r' ? 'read' : 'execute'} ${p}: every directory above it needs o+x ` +
          `(node scripts/install-postgres.mjs adds that when run as root)`,
      );
    }
  }
}

/** Quotes `s` for /bin/sh (archive_command and restore_command are run through the shell). */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_\-+=.,/:@%]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function confQuote(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

const usedPorts = new Set<number>();

async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    if (port > 0 && !usedPorts.has(port)) {
      usedPorts.add(port);
      return port;
    }
  }
  throw new Error('no free TCP port on 127.0.0.1');
}

/** Polls `check` until it returns a value other than undefined, or throws `describe()` after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs?: number; describe: () => Promise<string> | string },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms: ${await opts.describe()}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 200));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Clusters

export interface ClusterOptions {
  major: number;
  /** --wal-segsize for initdb; PostgreSQL's default (16) when absent. */
  walSegSizeMB?: number;
  /** Extra postgresql.conf settings, written after the harness's own. */
  config?: Record<string, string>;
  /** Extra environment for the postmaster (and so for archive_command / restore_command). */
  env?: Record<string, string>;
}

export type RecoveryMode = 'archive' | 'standby';

export interface RestoreOptions {
  /** restore_command, with %f and %p as PostgreSQL substitutes them. */
  restoreCommand: string;
  /**
   * 'archive': replay everything restore_command can provide, then end recovery and accept writes.
   * 'standby': keep asking restore_command for more WAL until promoted.
   */
  mode?: RecoveryMode;
  config?: Record<string, string>;
  env?: Record<string, string>;
}

export interface ArchiverStats {
  archivedCount: number;
  lastArchivedWal: string | null;
  failedCount: number;
  lastFailedWal: string | null;
}

/** A copy of a running cluster's data directory, made between backup start and stop on one session. */
export interface BaseBackup {
  major: number;
  /** Parent of `dataDir`; removed by destroy(). */
  baseDir: string;
  dataDir: string;
  /** The backup's start LSN as reported by pg_backup_start / pg_start_backup. */
  startLsn: string;
  /** The backup's end LSN: WAL up to here must be replayed before the copy is consistent. */
  stopLsn: string;
  destroy(): void;
}

const live = new Set<PgCluster>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort for a test process that ends without its after() hooks having stopped everything.
  process.on('exit', () => {
    for (const c of live) c.killSync();
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
  // pg_ctl daemonizes the postmaster, so a test process killed by a signal would otherwise orphan it.
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.once(sig, () => process.exit(code));
  }
}

export class PgCluster {
  readonly major: number;
  readonly binDir: string;
  /** Temp directory holding dataDir, socketDir and the server log; removed by destroy(). */
  readonly baseDir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  readonly port: number;
  private readonly serverEnv: Record<string, string>;
  private running = false;
  private destroyed = false;

  private constructor(major: number, baseDir: string, dataDir: string, port: number, env: Record<string, string>) {
    this.major = major;
    this.binDir = requireMajor(major);
    this.baseDir = baseDir;
    this.dataDir = dataDir;
    this.socketDir = join(baseDir, 'sock');
    this.logFile = join(baseDir, 'server.log');
    this.port = port;
    this.serverEnv = env;
    live.add(this);
    installExitHook();
  }

  /** initdb a new cluster (trust auth, UTF8, C locale, superuser "postgres"); not started. */
  static async create(opts: ClusterOptions): Promise<PgCluster> {
    const binDir = requireMajor(opts.major);
    const baseDir = makePostgresTempDir(`wale-pg${opts.major}-`);
    const cluster = new PgCluster(opts.major, baseDir, join(baseDir, 'data'), await freePort(), baseEnv(opts.env));
    try {
      mkdirSync(cluster.socketDir, { mode: 0o700 });
      chownToPostgres(cluster.socketDir);
      const args = ['-D', cluster.dataDir, '--auth=trust', '-E', 'UTF8', '--locale=C', '-U', 'postgres', '--no-sync'];
      if (opts.walSegSizeMB) args.push(`--wal-segsize=${opts.walSegSizeMB}`);
      await mustRun(join(binDir, 'initdb'), args, { env: cluster.serverEnv, timeoutMs: 120_000 });
      cluster.appendConfig({ ...cluster.ownSettings(), ...opts.config });
      return cluster;
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
  }

  /**
   * Copies a running cluster's data directory as a non-exclusive online base backup. Client-side
   * pg_basebackup is not used because no single one speaks to every major (Debian 15's refuses 18, and
   * the server packages ship none); the low-level API works the same from 12 to 18.
   */
  static async baseBackup(source: PgCluster): Promise<BaseBackup> {
    const baseDir = makePostgresTempDir(`wale-pg${source.major}-backup-`);
    const dataDir = join(baseDir, 'data');
    const session = await PsqlSession.open(source);
    try {
      const modern = source.major >= 15;
      const startLsn = await session.query(
        modern ? `SELECT pg_backup_start('wal-e-test', true)` : `SELECT pg_start_backup('wal-e-test', true, false)`,
      );
      copyDataDir(source.dataDir, dataDir);
      // wait_for_archive=false: waiting belongs to the test, which bounds it and can say what went wrong.
      const stop = await session.query(
        `SELECT lsn || '|' || encode(convert_to(labelfile, 'UTF8'), 'hex') || '|' || ` +
          `coalesce(encode(convert_to(spcmapfile, 'UTF8'), 'hex'), '') FROM ` +
          (modern ? 'pg_backup_stop(false)' : 'pg_stop_backup(false, false)'),
      );
      const [stopLsn, labelHex, mapHex] = stop.split('|');
      writeFileSync(join(dataDir, 'backup_label'), Buffer.from(labelHex ?? '', 'hex'));
      if (mapHex) writeFileSync(join(dataDir, 'tablespace_map'), Buffer.from(mapHex, 'hex'));
      chmodSync(dataDir, 0o700);
      chownToPostgres(baseDir);
      return {
        major: source.major,
        baseDir,
        dataDir,
        startLsn,
        stopLsn: stopLsn ?? '',
        destroy: () => removeTempDir(baseDir),
      };
    } catch (err) {
      removeTempDir(baseDir);
      throw err;
    } finally {
      await session.close();
    }
  }

  /**
   * A cluster that recovers `backup` (moved, not copied: the backup is used up) through restoreCommand.
   * PG >= 12 gets restore_command in postgresql.conf plus recovery.signal / standby.signal; older majors
   * get recovery.conf. archive_mode is off so the recovered cluster never writes into the archive it
   * reads from. Not started.
   */
  static async fromBaseBackup(backup: BaseBackup, opts: RestoreOptions): Promise<PgCluster> {
    const mode = opts.mode ?? 'archive';
    const cluster = new PgCluster(backup.major, backup.baseDir, backup.dataDir, await freePort(), baseEnv(opts.env));
    try {
      mkdirSync(cluster.socketDir, { mode: 0o700 });
      chownToPostgres(cluster.socketDir);
      const settings: Record<string, string> = { ...cluster.ownSettings(), archive_mode: 'off' };
      if (cluster.major >= 12) {
        settings.restore_command = opts.restoreCommand;
        if (mode === 'archive') settings.recovery_target_timeline = 'latest';
        cluster.appendConfig({ ...settings, ...opts.config });
        cluster.writeOwned(mode === 'standby' ? 'standby.signal' : 'recovery.signal', '');
      } else {
        cluster.appendConfig({ ...settings, ...opts.config });
        const lines = [`restore_command = ${confQuote(opts.restoreCommand)}`, `standby_mode = ${mode === 'standby' ? 'on' : 'off'}`];
        if (mode === 'archive') lines.push(`recovery_target_timeline = 'latest'`);
        cluster.writeOwned('recovery.conf', lines.join('\n') + '\n');
      }
      return cluster;
    } catch (err) {
      await cluster.destroy();
      throw err;
    }
  }

  private ownSettings(): Record<string, string> {
    return {
      port: String(this.port),
      listen_addresses: '127.0.0.1',
      unix_socket_directories: this.socketDir,
      // Nothing here has to survive an OS crash, and syncing is most of initdb's and pgbench's time.
      fsync: 'off',
      synchronous_commit: 'off',
      logging_collector: 'off',
      log_line_prefix: '%m [%p] ',
    };
  }

  /** Appends settings to postgresql.conf; later lines win, so this overrides earlier values. */
  appendConfig(settings: Record<string, string>): void {
    const lines = Object.entries(settings).map(([k, v]) => `${k} = ${confQuote(v)}`);
    if (lines.length) appendFileSync(join(this.dataDir, 'postgresql.conf'), `\n# test harness\n${lines.join('\n')}\n`);
  }

  private writeOwned(name: string, content: string): void {
    const p = join(this.dataDir, name);
    writeFileSync(p, content, { mode: 0o600 });
    chownToPostgres(p);
  }

  get isRunning(): boolean {
    return this.running;
  }

  async start(timeoutSec = 120): Promise<void> {
    if (this.running) return;
    const r = await runAsPostgres(
      join(this.binDir, 'pg_ctl'),
      ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', String(timeoutSec), 'start'],
      { env: this.serverEnv, timeoutMs: (timeoutSec + 30) * 1000 },
    );
    // Even a failed start may have left a postmaster behind (pg_ctl gave up waiting); stop() handles it.
    this.running = true;
    if (r.code !== 0) {
      const out = `${r.stdout}${r.stderr}`.trim();
      await this.stop('immediate').catch(() => {});
      throw new Error(`PostgreSQL ${this.major} did not start: ${out}\n--- server log (tail) ---\n${this.logTail()}`);
    }
  }

  async stop(mode: 'smart' | 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.running) return;
    const r = await runAsPostgres(join(this.binDir, 'pg_ctl'), ['-D', this.dataDir, '-m', mode, '-w', '-t', '60', 'stop'], {
      env: this.serverEnv,
      timeoutMs: 90_000,
    });
    const pid = this.postmasterPid();
    if (r.code !== 0 && pid !== null) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    this.running = false;
  }

  /** Stops the server if needed and removes every directory of this cluster; safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    try {
      await this.stop('fast');
    } finally {
      this.destroyed = true;
      live.delete(this);
      removeTempDir(this.baseDir);
    }
  }

  /** Synchronous stop for the process exit hook, where nothing asynchronous runs any more. */
  killSync(): void {
    if (this.running) {
      const user = postgresUser();
      spawnSync(join(this.binDir, 'pg_ctl'), ['-D', this.dataDir, '-m', 'immediate', '-w', '-t', '20', 'stop'], {
        env: this.serverEnv,
        cwd: tmpdir(),
        stdio: 'ignore',
        timeout: 30_000,
        ...(user ? { uid: user.uid, gid: user.gid } : {}),
      });
      const pid = this.postmasterPid();
      if (pid !== null) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      this.running = false;
    }
    if (!this.destroyed) removeTempDir(this.baseDir);
    this.destroyed = true;
  }

  private postmasterPid(): number | null {
    try {
      const pid = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  /** PGHOST/PGPORT/PGUSER/PGDATABASE for client tools. */
  env(): Record<string, string> {
    return { PGHOST: this.socketDir, PGPORT: String(this.port), PGUSER: 'postgres', PGDATABASE: 'postgres' };
  }

  /** Runs SQL through psql -XAtq; returns trimmed stdout, or throws with psql's stderr. */
  async sql(query: string, db = 'postgres'): Promise<string> {
    const r = await runAsPostgres(
      join(CLIENT_BIN_DIR, 'psql'),
      ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', query],
      { env: baseEnv(this.env()), timeoutMs: 120_000 },
    );
    if (r.code !== 0) throw new Error(`psql (PostgreSQL ${this.major}) failed on: ${query}\n${r.stderr.trim()}`);
    return r.stdout.trim();
  }

  /** Runs Debian 15's pgbench against this cluster; returns its stdout or throws with its stderr. */
  async pgbench(args: readonly string[], timeoutMs = 120_000): Promise<string> {
    return mustRun(join(CLIENT_BIN_DIR, 'pgbench'), args, { env: baseEnv(this.env()), timeoutMs });
  }

  async archiverStats(): Promise<ArchiverStats> {
    const row = await this.sql(
      `SELECT archived_count, coalesce(last_archived_wal, ''), failed_count, coalesce(last_failed_wal, '') FROM pg_stat_archiver`,
    );
    const [archived, lastArchived, failed, lastFailed] = row.split('|');
    return {
      archivedCount: Number(archived),
      lastArchivedWal: lastArchived || null,
      failedCount: Number(failed),
      lastFailedWal: lastFailed || null,
    };
  }

  /** Waits until recovery has ended (pg_is_in_recovery() is false). */
  async waitForRecoveryEnd(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      async () => {
        const r = await this.sql('SELECT pg_is_in_recovery()').catch(() => 't');
        if (r === 'f') return true;
        if (!existsSync(join(this.dataDir, 'postmaster.pid'))) {
          throw new Error(`PostgreSQL ${this.major} exited during recovery\n--- server log (tail) ---\n${this.logTail()}`);
        }
        return undefined;
      },
      { timeoutMs, describe: () => `PostgreSQL ${this.major} still in recovery\n--- server log (tail) ---\n${this.logTail()}` },
    );
  }

  logTail(lines = 40): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server log)';
    }
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Internals

/** One psql process kept open, so that backup start and stop happen in the same session. */
class PsqlSession {
  private buf = '';
  private err = '';
  private exited: string | null = null;
  private waiter: (() => void) | null = null;
  private seq = 0;

  private constructor(private readonly child: ReturnType<typeof spawn>) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      this.waiter?.();
    });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.err += d;
    });
    child.on('close', (code, signal) => {
      this.exited = `psql exited ${code ?? signal}: ${this.err.trim()}`;
      this.waiter?.();
    });
    child.stdin!.on('error', () => {});
  }

  static async open(cluster: PgCluster): Promise<PsqlSession> {
    const user = postgresUser();
    const child = spawn(join(CLIENT_BIN_DIR, 'psql'), ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1'], {
      cwd: tmpdir(),
      env: baseEnv(cluster.env()),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    return new PsqlSession(child);
  }

  async query(sql: string, timeoutMs = 120_000): Promise<string> {
    const marker = `__wale_test_done_${++this.seq}__`;
    this.buf = '';
    this.child.stdin!.write(`${sql};\n\\echo ${marker}\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.buf.indexOf(`${marker}\n`);
      if (at >= 0) return this.buf.slice(0, at).trim();
      if (this.exited) throw new Error(`${this.exited}\n(while running: ${sql})`);
      if (Date.now() > deadline) throw new Error(`psql session: no answer within ${timeoutMs} ms to: ${sql}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 500);
        this.waiter = () => {
          clearTimeout(t);
          r();
        };
      });
      this.waiter = null;
    }
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('close', () => r()));
    this.child.stdin!.end('\\q\n');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(t);
  }
}

// What pg_basebackup leaves out: runtime state the server rebuilds, and WAL, which recovery gets from
// the archive. The directories themselves are kept (empty) because the server expects them.
const SKIP_CONTENTS = new Set([
  'pg_wal',
  'pg_replslot',
  'pg_stat_tmp',
  'pg_dynshmem',
  'pg_notify',
  'pg_serial',
  'pg_snapshots',
  'pg_subtrans',
]);
const SKIP_FILES = new Set([
  'postmaster.pid',
  'postmaster.opts',
  'backup_label',
  'tablespace_map',
  'backup_label.old',
  'pg_internal.init',
  'current_logfiles',
  'recovery.signal',
  'standby.signal',
]);

/** Copies a live data directory; files the server removes mid-copy are simply skipped. */
function copyDataDir(src: string, dst: string): void {
  const walk = (from: string, to: string, top: boolean): void => {
    mkdirSync(to, { recursive: true, mode: 0o700 });
    let names: string[];
    try {
      names = readdirSync(from);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const name of names) {
      if (SKIP_FILES.has(name) || name.startsWith('pgsql_tmp')) continue;
      const s = join(from, name);
      const d = join(to, name);
      try {
        const st = lstatSync(s);
        if (st.isDirectory()) {
          if (top && SKIP_CONTENTS.has(name)) {
            mkdirSync(d, { mode: 0o700 });
            if (name === 'pg_wal') mkdirSync(join(d, 'archive_status'), { mode: 0o700 });
          } else {
            walk(s, d, false);
          }
        } else if (st.isSymbolicLink()) {
          symlinkSync(readlinkSync(s), d);
        } else if (st.isFile()) {
          copyFileSync(s, d);
          chmodSync(d, st.mode & 0o777);
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  };
  walk(src, dst, true);
}
