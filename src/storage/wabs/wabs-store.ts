// The wabs:// store adapter. Not implemented yet: every command on this store fails clearly.
import type { Config } from '../../config/config';
import type { WabsSettings } from '../../config/credentials';
import { NotImplementedError } from '../../util/errors';
import type { BlobStore } from '../blob-store';
import type { StoreLocation } from '../location';

export async function createWabsStore(_location: StoreLocation, _settings: WabsSettings, _config: Config): Promise<BlobStore> {
  throw new NotImplementedError('the wabs:// store');
}
