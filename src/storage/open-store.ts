// Store kind -> adapter. Each adapter (and its cloud SDK) is imported only when its scheme is used,
// so a file:// run loads no SDK at all.
import type { Config } from '../config/config';
import type { BlobStore } from './blob-store';

export async function openStore(config: Config): Promise<BlobStore> {
  const c = config.credentials;
  switch (c.kind) {
    case 'file': {
      const { FileStore } = await import('./file/file-store');
      return new FileStore(config.store);
    }
    case 's3': {
      const { createS3Store } = await import('./s3/s3-store');
      return createS3Store(config.store, c.s3, config);
    }
    case 'wabs': {
      const { createWabsStore } = await import('./wabs/wabs-store');
      return createWabsStore(config.store, c.wabs, config);
    }
    case 'gs': {
      const { createGsStore } = await import('./gs/gs-store');
      return createGsStore(config.store, c.gs, config);
    }
    case 'swift': {
      const { createSwiftStore } = await import('./swift/swift-store');
      return createSwiftStore(config.store, c.swift, config);
    }
  }
}
