// delete before BACKUP_NAME|WAL_SEGMENT (spec §5.7): removes base backups and WAL older than the given
// position. A WAL segment name is accepted too (WAL-E crashed on it); anything else is a clear error.
import type { Invocation } from '../cli/program';
import type { Config } from '../config/config';
import { execute, logWarnings } from '../backup/delete/execute';
import { parseHorizon } from '../backup/delete/horizon';
import { backupsByPosition, sweep, walHorizonFor } from '../backup/delete/plan';
import { listAll, openDeleteSession } from '../backup/delete/session';
import { WAL_PREFIX } from '../backup/delete/classify';
import { BASEBACKUPS_PREFIX } from '../layout/backup-name';
import { UserError } from '../util/errors';

export default async function deleteBefore(config: Config, inv: Invocation): Promise<number> {
  const [arg] = inv.args as [string];
  const horizon = parseHorizon(arg);
  if (horizon === undefined) {
    throw new UserError('invalid argument to delete before', {
      detail: `"${arg}" is neither a base backup name nor a WAL segment name.`,
      hint: 'Give a name like base_000000010000000000000004_00000040 (see "wal-e backup-list") or 000000010000000000000004.',
    });
  }
  const s = await openDeleteSession(config, inv);
  const backupObjects = await listAll(s.store, BASEBACKUPS_PREFIX);
  const walObjects = await listAll(s.store, WAL_PREFIX);
  const plan = sweep(backupObjects, walObjects, horizon, walHorizonFor(horizon, backupsByPosition(backupObjects)));
  logWarnings(s.store, plan);
  await execute(s.store, plan, s.confirmed, s.retries);
  return 0;
}
