// Shared pieces of the restore proofs: a work directory holding a file:// store and an envdir, wal-e run
// as the postgres user, waiting for the archiver, and restoring a backup into a cluster that is started.
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  PgCluster,
  assertPostgresCanAccess,
  baseEnv,
  chownToPostgres,
  makePostgresTempDir,
  removeTempDir,
  repoRoot,
  requireMajor,
  runAsPostgres,
  shellQuote,
  waitFor,
  type RunResult,
} from './postgres';

export interface Archive {
  /** Temp directory (owned by postgres) holding the store, the envdir and anything else of the test. */
  work: string;
  store: string;
  envDir: string;
  walE: string;
  /** WALE_FILE_PREFIX and friends, for wal-e runs outside envdir. */
  env: Record<string, string>;
  /** archive_command = envdir ENV wal-e wal-push %p, as WAL-E's documentation sets it up. */
  archiveCommand: string;
  /** restore_command = envdir ENV wal-e wal-fetch %f %p. */
  restoreCommand: string;
  remove(): void;
}

/** A fresh store with an envdir pointing at it; fails early when postgres cannot run the built wal-e. */
export async function makeArchive(label: string, extraEnv: Record<string, string> = {}): Promise<Archive> {
  const root = repoRoot();
  const walE = join(root, 'bin', 'wal-e');
  if (!existsSync(join(root, 'dist', 'wal-e.mjs'))) throw new Error('dist/wal-e.mjs is missing: run "node scripts/build.mjs" first');
  for (const tool of ['envdir', 'lzop']) {
    if (!['/usr/bin', '/bin', '/usr/local/bin'].some((d) => existsSync(join(d, tool)))) {
      throw new Error(`${tool} is not installed (apt-get install -y ${tool === 'envdir' ? 'daemontools' : 'lzop'})`);
    }
  }
  await assertPostgresCanAccess([walE, join(root, 'dist', 'wal-e.mjs')]);
  const work = makePostgresTempDir(`wale-${label}-`);
  const store = join(work, 'store');
  const envDir = join(work, 'env');
  mkdirSync(store);
  mkdirSync(envDir);
  const env = { WALE_FILE_PREFIX: `file://localhost${store}`, WALE_LOG_DESTINATION: 'stderr', ...extraEnv };
  for (const [k, v] of Object.entries(env)) writeFileSync(join(envDir, k), `${v}\n`);
  chownToPostgres(work);
  const envdir = `envdir ${shellQuote(envDir)} ${shellQuote(walE)}`;
  return {
    work,
    store,
    envDir,
    walE,
    env,
    archiveCommand: `${envdir} wal-push %p`,
    restoreCommand: `${envdir} wal-fetch %f %p`,
    remove: () => removeTempDir(work),
  };
}

/** Settings for a primary that archives through wal-e. */
export function archivingConfig(a: Archive, extra: Record<string, string> = {}): Record<string, string> {
  return { wal_level: 'replica', archive_mode: 'on', archive_command: a.archiveCommand, ...extra };
}

/** Runs the built wal-e as the postgres user, as an operator's cron job would. */
export function walE(a: Archive, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  return runAsPostgres(process.execPath, [a.walE, ...args], {
    env: baseEnv({ ...a.env, ...opts.env }),
    timeoutMs: opts.timeoutMs ?? 300_000,
  });
}

/** Like walE(), but throws with wal-e's stderr on a non-zero exit. */
export async function mustWalE(a: Archive, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  const r = await walE(a, args, opts);
  if (r.code !== 0) throw new Error(`wal-e ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r;
}

/** Switches WAL and waits until that segment is in the store; returns the segment's name. */
export async function switchAndWaitArchived(c: PgCluster, a: Archive): Promise<string> {
  const seg = await c.sql(`SELECT pg_walfile_name(pg_switch_wal())`);
  await waitArchived(c, a, seg);
  return seg;
}

export async function waitArchived(c: PgCluster, a: Archive, seg: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(async () => (existsSync(join(a.store, 'wal_005', `${seg}.lzo`)) ? true : undefined), {
    timeoutMs,
    describe: async () => `${seg} was not archived: ${JSON.stringify(await c.archiverStats().catch(() => 'server down'))}\n${c.logTail()}`,
  });
}

/** Every object under the store, "path size mtimeMs", sorted: equal listings mean nothing changed. */
export function storeListing(store: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else out.push(`${relative(store, p)} ${st.size} ${st.mtimeMs}`);
    }
  };
  if (existsSync(store)) walk(store);
  return out.sort();
}

/** Names of the complete backups in the store (those with a stop sentinel), sorted. */
export function backupsInStore(store: string): string[] {
  const dir = join(store, 'basebackups_005');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('_backup_stop_sentinel.json'))
    .map((n) => n.slice(0, -'_backup_stop_sentinel.json'.length))
    .sort();
}

export function walObjects(store: string): string[] {
  const dir = join(store, 'wal_005');
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

export interface RestoreParams {
  major: number;
  /** Backup name or LATEST. */
  backup: string;
  /** Where postgresql.conf, pg_hba.conf and pg_ident.conf come from (a backup does not hold them). */
  configFrom: string;
  /** Extra recovery settings (recovery_target_time, ...). */
  config?: Record<string, string>;
  /** Builds a --restore-spec for the fetch from the new base directory; none when absent. */
  spec?: (base: string) => object;
  /** restore_command; the archive's envdir wal-fetch by default. */
  restoreCommand?: string;
  /** Extra environment for backup-fetch. */
  fetchEnv?: Record<string, string>;
  /** Checks on the fetched directory before PostgreSQL starts (and renames tablespace_map). */
  beforeStart?: (dataDir: string, base: string) => void;
}

/**
 * backup-fetch into an empty directory, copy the configuration the backup lacks, then start PostgreSQL
 * with restore_command and wait until recovery has ended. The cluster is registered with `cleanups`.
 */
export async function restoreAndStart(a: Archive, p: RestoreParams, cleanups: (() => unknown)[]): Promise<{ cluster: PgCluster; base: string; fetch: RunResult }> {
  requireMajor(p.major);
  const base = makePostgresTempDir(`wale-restore${p.major}-`);
  cleanups.push(() => removeTempDir(base));
  const dataDir = join(base, 'data');
  const args = ['backup-fetch'];
  if (p.spec) {
    const specFile = join(base, 'restore-spec.json');
    writeFileSync(specFile, JSON.stringify(p.spec(base)));
    chownToPostgres(specFile);
    args.push('--restore-spec', specFile);
  }
  const fetch = await mustWalE(a, [...args, dataDir, p.backup], { env: p.fetchEnv });
  for (const f of ['postgresql.conf', 'pg_hba.conf', 'pg_ident.conf']) {
    if (existsSync(join(dataDir, f))) throw new Error(`${f} came out of the backup, but WAL-E backups never contain it`);
    cpSync(join(p.configFrom, f), join(dataDir, f));
  }
  chownToPostgres(base);
  p.beforeStart?.(dataDir, base);
  const cluster = await PgCluster.fromBaseBackup(
    { major: p.major, baseDir: base, dataDir, startLsn: '', stopLsn: '', destroy: () => removeTempDir(base) },
    { restoreCommand: p.restoreCommand ?? a.restoreCommand, config: p.config },
  );
  cleanups.push(() => cluster.destroy());
  await cluster.start();
  await cluster.waitForRecoveryEnd(240_000);
  return { cluster, base, fetch };
}

/** Runs cleanups in reverse order, all of them, even when one fails. */
export async function runCleanups(cleanups: (() => unknown)[]): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      console.error('cleanup failed:', err);
    }
  }
}
