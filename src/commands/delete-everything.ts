// delete everything (spec §5.7): every object under basebackups_005/ and wal_005/, no name checks.
import type { Invocation } from '../cli/program';
import type { Config } from '../config/config';
import { WAL_PREFIX } from '../backup/delete/classify';
import { execute } from '../backup/delete/execute';
import { everything } from '../backup/delete/plan';
import { listAll, openDeleteSession } from '../backup/delete/session';
import { BASEBACKUPS_PREFIX } from '../layout/backup-name';

export default async function deleteEverything(config: Config, inv: Invocation): Promise<number> {
  const s = await openDeleteSession(config, inv);
  const plan = everything(await listAll(s.store, BASEBACKUPS_PREFIX), await listAll(s.store, WAL_PREFIX));
  await execute(s.store, plan, s.confirmed, s.retries);
  return 0;
}
