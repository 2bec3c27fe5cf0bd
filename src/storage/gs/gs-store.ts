// The gs:// store adapter. Not implemented yet: every command on this store fails clearly.
import type { Config } from '../../config/config';
import type { GsSettings } from '../../config/credentials';
import { NotImplementedError } from '../../util/errors';
import type { BlobStore } from '../blob-store';
import type { StoreLocation } from '../location';

export async function createGsStore(_location: StoreLocation, _settings: GsSettings, _config: Config): Promise<BlobStore> {
  throw new NotImplementedError('the gs:// store');
}
