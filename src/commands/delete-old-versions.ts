// delete old-versions: what WAL-E meant (it always crashed, spec §5.7, §7 item 11): remove every object
// of the storage layouts before 005 (basebackups_000/ ... wal_004/), never the current one.
import type { Invocation } from '../cli/program';
import type { Config } from '../config/config';
import { execute } from '../backup/delete/execute';
import { OLD_VERSION_PREFIXES, type Deletion } from '../backup/delete/plan';
import { listAll, openDeleteSession } from '../backup/delete/session';

export default async function deleteOldVersions(config: Config, inv: Invocation): Promise<number> {
  const s = await openDeleteSession(config, inv);
  const deletions: Deletion[] = [];
  for (const prefix of OLD_VERSION_PREFIXES) {
    for (const o of await listAll(s.store, prefix)) deletions.push({ key: o.key, what: 'an object of an old storage layout version' });
  }
  await execute(s.store, { deletions, warnings: [] }, s.confirmed, s.retries);
  return 0;
}
