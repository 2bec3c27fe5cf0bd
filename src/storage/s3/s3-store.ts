// The s3:// store adapter. Not implemented yet: every command on this store fails clearly.
import type { Config } from '../../config/config';
import type { S3Settings } from '../../config/credentials';
import { NotImplementedError } from '../../util/errors';
import type { BlobStore } from '../blob-store';
import type { StoreLocation } from '../location';

export async function createS3Store(_location: StoreLocation, _settings: S3Settings, _config: Config): Promise<BlobStore> {
  throw new NotImplementedError('the s3:// store');
}
