// delete retain N (spec §5.7): keeps the N newest base backups by (log, seg) order, as WAL-E did, and
// removes older backups, incomplete ones and the WAL no kept backup needs. No backups: nothing to do.
import type { Invocation } from '../cli/program';
import type { Config } from '../config/config';
import { WAL_PREFIX } from '../backup/delete/classify';
import { deleteUrl, execute, logWarnings } from '../backup/delete/execute';
import { positionOfBackup } from '../backup/delete/horizon';
import { backupsByPosition, chooseRetain, sweep, walHorizonFor } from '../backup/delete/plan';
import { listAll, openDeleteSession } from '../backup/delete/session';
import { BASEBACKUPS_PREFIX } from '../layout/backup-name';
import { getLogger } from '../log/logger';
import { UsageError, UserError } from '../util/errors';

const log = getLogger('wal_e.main');

export default async function deleteRetain(config: Config, inv: Invocation): Promise<number> {
  const [text] = inv.args as [string];
  if (!/^\s*[-+]?\d+\s*$/.test(text)) {
    throw new UsageError(`argument NUM_TO_RETAIN: invalid int value: '${text}'`, 'wal-e delete retain');
  }
  const n = Number.parseInt(text, 10);
  // WAL-E indexed "the 0th newest" as the oldest (Python negative indexing, spec §5.7); refuse instead.
  if (n < 1) {
    throw new UserError('the number of base backups to retain must be at least 1', { detail: `The value given was ${n}.`, hint: 'Use "delete everything" to remove all backups.' });
  }
  const s = await openDeleteSession(config, inv);
  const backupObjects = await listAll(s.store, BASEBACKUPS_PREFIX);
  const sorted = backupsByPosition(backupObjects);
  const decision = chooseRetain(sorted, n);
  if (decision.kind === 'none') {
    log.info('Not deleting any data.', { detail: 'No existing base backups.' });
    return 0;
  }
  const hint = `Deleting keys older than ${deleteUrl(s.store, decision.horizonBackup.sentinelKey)}.`;
  if (decision.kind === 'keep-all') {
    log.info(decision.count === 1 ? 'Retaining existing base backup.' : `Retaining all ${decision.count} base backups.`, { hint });
  } else {
    log.info(`Deleting ${decision.deleting} oldest base backups.`, { detail: `Found ${decision.count} total base backups.`, hint });
    // (log, seg) order can disagree with completion order (offline-style names, spec §7 items 4 and 31).
    const horizon = positionOfBackup(decision.horizonBackup.parsed);
    const kept = sorted.filter((b) => positionOfBackup(b.parsed) >= horizon);
    const newestKept = Math.max(...kept.map((b) => b.lastModifiedMs));
    for (const b of sorted.filter((x) => positionOfBackup(x.parsed) < horizon && x.lastModifiedMs > newestKept)) {
      log.warning('deleting a base backup that completed after every retained one', {
        detail: `${b.name} is older by its name (WAL position) but its sentinel is newer than those of the retained backups.`,
        hint: 'WAL-E ordered backups by name; names of --while-offline backups can be wrong. Check with "wal-e backup-list" before using --confirm.',
      });
    }
  }
  const horizon = positionOfBackup(decision.horizonBackup.parsed);
  const walObjects = await listAll(s.store, WAL_PREFIX);
  const plan = sweep(backupObjects, walObjects, horizon, walHorizonFor(horizon, sorted));
  logWarnings(s.store, plan);
  await execute(s.store, plan, s.confirmed, s.retries);
  return 0;
}
