// Store kind -> adapter. Each adapter (and its cloud SDK) is imported only when its scheme is used,
// so a file:// run loads no SDK at all.
import type { Config } from '../config/config';
import { NotImplementedError } from '../util/errors';
import type { BlobStore } from './blob-store';

export async function openStore(config: Config): Promise<BlobStore> {
  switch (config.store.kind) {
    case 'file': {
      const { FileStore } = await import('./file/file-store');
      return new FileStore(config.store);
    }
    default:
      throw new NotImplementedError(`the ${config.store.kind}:// store`);
  }
}
