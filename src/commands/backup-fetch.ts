// backup-fetch PG_CLUSTER_DIRECTORY BACKUP_NAME|LATEST (spec §5.5): parallel download, decompression and
// safe extraction of a base backup; the algorithm is src/backup/fetch/fetch-backup.ts.
import type { Invocation } from '../cli/program';
import type { Config } from '../config/config';
import { fetchBackup } from '../backup/fetch/fetch-backup';
import { NO_PROGRESS, progressOnStderr } from '../log/progress';
import { encryptionFor } from '../pipeline/encryption';
import { openStore } from '../storage/open-store';
import { UserError } from '../util/errors';

export default async function backupFetch(config: Config, inv: Invocation): Promise<number> {
  const [dest, query] = inv.args as [string, string];
  const poolSize = inv.options.poolSize as number;
  if (!Number.isInteger(poolSize) || poolSize < 1) {
    throw new UserError('--pool-size must be at least 1', { detail: `The value given was ${String(poolSize)}.` });
  }
  const encryption = await encryptionFor(config);
  const store = await openStore(config);
  const progress = progressOnStderr('backup-fetch');
  try {
    await fetchBackup(store, encryption, {
      dest,
      query,
      restoreSpec: inv.options.restoreSpec as string | undefined,
      blindRestore: inv.options.blindRestore === true,
      poolSize,
      retries: config.retries,
      // Off a terminal there is no line, and no listing of partition sizes for it either.
      ...(progress === NO_PROGRESS ? {} : { progress }),
    });
  } finally {
    progress.stop();
  }
  return 0;
}
