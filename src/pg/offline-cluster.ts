// --while-offline (spec §5.4.2): the backup's name and WAL position come from global/pg_control of a cleanly
// stopped cluster. Unlike WAL-E, the segment name is computed correctly (hex timeline, real segment
// number and byte offset; spec §7 item 4) and a cluster that was not shut down cleanly is refused.
import { spawnSync } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../util/errors';
import { walFileNameOffset } from './lsn';
import { PgControlError, parsePgControl, type PgControl } from './pg-control';

export interface OfflineStart {
  control: PgControl;
  segment: string;
  offset: number;
  /** extended_version.txt: pg_config's VERSION when it matches the cluster, else "PostgreSQL <PG_VERSION>". */
  versionText: string;
}

const CLEAN_STATES = new Set(['shut down', 'shut down in recovery']);

export async function assertNotRunning(dataDir: string): Promise<void> {
  try {
    await access(join(dataDir, 'postmaster.pid'));
  } catch {
    return;
  }
  throw new UserError('while_offline set, but pg looks to be running', {
    detail: 'Found a postmaster.pid lockfile, and aborting',
    hint: 'Shut down postgres.  If there is a stale lockfile, then remove it after being very sure postgres is not running.',
  });
}

export async function readControl(dataDir: string): Promise<PgControl> {
  const path = join(dataDir, 'global', 'pg_control');
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    throw new UserError('could not read pg_control', {
      detail: `${path}: ${(err as Error).message}`,
      hint: 'PG_CLUSTER_DIRECTORY must be a PostgreSQL data directory.',
    });
  }
  try {
    return parsePgControl(buf);
  } catch (err) {
    if (err instanceof PgControlError) throw new UserError('could not understand pg_control', { detail: `${path}: ${err.message}` });
    throw err;
  }
}

export async function offlineStart(dataDir: string): Promise<OfflineStart> {
  await assertNotRunning(dataDir);
  const control = await readControl(dataDir);
  if (!CLEAN_STATES.has(control.state)) {
    throw new UserError('while_offline set, but the cluster was not shut down cleanly', {
      detail: `pg_control says the database cluster state is "${control.state}".`,
      hint: 'Start PostgreSQL and stop it cleanly (pg_ctl stop -m fast), or take an online backup instead.',
    });
  }
  const { fileName, offset } = walFileNameOffset(control.redoLsn, control.timeline, control.walSegmentSize);
  return { control, segment: fileName, offset, versionText: await versionText(dataDir) };
}

/** True when pg_control still shows the checkpoint the backup started from, and no server runs. */
export async function stillStopped(dataDir: string, start: PgControl): Promise<boolean> {
  try {
    await assertNotRunning(dataDir);
    const now = await readControl(dataDir);
    return now.checkpointLsn === start.checkpointLsn && now.state === start.state;
  } catch {
    return false;
  }
}

async function versionText(dataDir: string): Promise<string> {
  const major = (await readFile(join(dataDir, 'PG_VERSION'), 'utf8').catch(() => '')).trim();
  const r = spawnSync('pg_config', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const fromPgConfig = r.status === 0 ? r.stdout.trim() : '';
  if (fromPgConfig && major && fromPgConfig.startsWith(`PostgreSQL ${major}.`)) return fromPgConfig;
  return major ? `PostgreSQL ${major}` : fromPgConfig || 'PostgreSQL';
}
