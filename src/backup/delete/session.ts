// What every delete subcommand does first (spec §5.7): decide dry run vs real deletion, say which, and
// list the objects of a prefix in full (pagination is the store's business).
import type { Invocation } from '../../cli/program';
import type { Config } from '../../config/config';
import { getLogger } from '../../log/logger';
import type { BlobStore, ObjectInfo } from '../../storage/blob-store';
import { openStore } from '../../storage/open-store';

const log = getLogger('wal_e.main');

export interface DeleteSession {
  readonly store: BlobStore;
  /** Real deletion only with --confirm and without --dry-run. */
  readonly confirmed: boolean;
  readonly retries: number;
}

export async function openDeleteSession(config: Config, inv: Invocation): Promise<DeleteSession> {
  const confirmed = inv.options.confirm === true && inv.options.dryRun !== true;
  log.info(confirmed ? 'deleting data in the store' : 'performing dry run of data deletion');
  return { store: await openStore(config), confirmed, retries: config.retries };
}

export async function listAll(store: BlobStore, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  for await (const o of store.list(prefix)) out.push(o);
  return out;
}
