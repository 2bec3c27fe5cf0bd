// Logs and performs (or, in a dry run, only logs) a deletion plan (spec §5.7): one INFO line per key,
// then store.deleteMany in batches of 1000. Deleting is idempotent, so a failed run can simply be repeated.
import { getLogger } from '../../log/logger';
import type { BlobStore } from '../../storage/blob-store';
import { CriticalError, PartialDeleteError, StoreError } from '../../util/errors';
import type { Plan } from './plan';

const log = getLogger('wal_e.worker.delete');
const BATCH = 1000;

/** `<scheme>://<container>/<key>` as WAL-E's delete logs printed it (no leading "/" in the key). */
export function deleteUrl(store: BlobStore, key: string): string {
  const loc = store.location;
  return `${loc.kind}://${loc.container}/${loc.pathPrefix}${key}`;
}

export function logWarnings(store: BlobStore, plan: Plan): void {
  for (const w of plan.warnings) {
    log.warning("skipping non-qualifying key in 'delete before'", {
      detail: `The unexpected key is "${deleteUrl(store, w.key)}", and ${w.why}.`,
      hint: 'This means an unexpected key was found in a WAL-E prefix.  It can be harmless, or the result a bug or misconfiguration.',
    });
  }
}

async function deleteBatch(store: BlobStore, keys: string[], retries: number): Promise<void> {
  const max = retries === 0 ? 5 : Math.min(retries, 5);
  for (let attempt = 1; ; attempt++) {
    try {
      await store.deleteMany(keys);
      return;
    } catch (err) {
      if (err instanceof PartialDeleteError) {
        // WAL-E printed the per-key failures as a table on stdout before the error (spec §1.10).
        process.stdout.write(err.failuresTsv());
        throw err;
      }
      const retryable = err instanceof StoreError && err.retryable;
      if (!retryable || attempt >= max) {
        throw new CriticalError('Some keys were not deleted', {
          detail: `Failed keys: first ${keys[0]}, last ${keys[keys.length - 1]}, ${keys.length} total: ${(err as Error).message}`,
          hint: 'Deletion is idempotent: run the same delete command again.',
        });
      }
      await new Promise((r) => setTimeout(r, Math.min(8000, 500 * 2 ** (attempt - 1))));
    }
  }
}

export async function execute(store: BlobStore, plan: Plan, confirmed: boolean, retries: number): Promise<void> {
  let batch: string[] = [];
  let deleted = 0;
  for (const d of plan.deletions) {
    log.info(`deleting ${d.what}`, {
      detail: `The key being deleted is ${deleteUrl(store, d.key)}.`,
      hint: confirmed ? undefined : 'This is only a dry run -- no actual data is being deleted',
    });
    if (!confirmed) continue;
    batch.push(d.key);
    if (batch.length >= BATCH) {
      await deleteBatch(store, batch, retries);
      deleted += batch.length;
      batch = [];
    }
  }
  if (confirmed && batch.length > 0) {
    await deleteBatch(store, batch, retries);
    deleted += batch.length;
  }
  log.info(confirmed ? 'deletion complete' : 'dry run complete', {
    detail: confirmed ? `Deleted ${deleted} object(s).` : `${plan.deletions.length} object(s) would be deleted; add --confirm to delete them.`,
  });
}
