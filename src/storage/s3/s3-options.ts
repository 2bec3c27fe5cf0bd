// What the S3 adapter does with the user's settings, decided once and without I/O: where requests go
// (AWS or WALE_S3_ENDPOINT, path or virtual-host style), which region signs them, and the headers every
// PUT carries (storage class, server-side encryption). Spec §6.1; USER-PAINS 9 and 10.
import type { S3Settings } from '../../config/credentials';
import { UserError } from '../../util/errors';
import { endpointUrl, parseS3Endpoint, type S3Endpoint } from './s3-endpoint';

export interface S3Options {
  /** Base URL for requests; undefined = AWS's own endpoints for the region. */
  readonly endpoint: string | undefined;
  readonly forcePathStyle: boolean;
  /** WAL-E's "virtualhost" convention: the bucket name is the host name (CNAME buckets). */
  readonly bucketIsHost: boolean;
  /** Signing region; undefined = discover the bucket's region (AWS only). */
  readonly region: string | undefined;
  /** A non-AWS server: If-None-Match cannot be trusted until it has answered 412 (see s3-conditional-put.ts). */
  readonly customEndpoint: boolean;
  readonly storageClass: string;
  readonly serverSideEncryption: 'AES256' | 'aws:kms' | undefined;
  readonly sseKmsKeyId: string | undefined;
  readonly parsedEndpoint: S3Endpoint | undefined;
}

/** Region used for signing when a custom endpoint is set and AWS_REGION is not (what MinIO, Ceph and Swift expect). */
export const DEFAULT_WORKALIKE_REGION = 'us-east-1';

/**
 * A bucket name that can be a DNS label under TLS: lower case, 3-63 characters, no "_", and no "."
 * (dots break the *.s3.amazonaws.com wildcard certificate, so WAL-E used path style for them, spec §6.1).
 */
export function isVirtualHostable(bucket: string): boolean {
  return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket);
}

function resolveSse(settings: S3Settings, custom: boolean): { sse: 'AES256' | 'aws:kms' | undefined; keyId: string | undefined } {
  const raw = settings.serverSideEncryption;
  let sse: 'AES256' | 'aws:kms' | undefined;
  if (raw === undefined) {
    // WAL-E sent AES256 on every PUT; work-alikes (MinIO, DigitalOcean) reject it, wal-e#404.
    sse = custom ? undefined : 'AES256';
  } else if (raw.toUpperCase() === 'AES256') {
    sse = 'AES256';
  } else if (raw.toLowerCase() === 'aws:kms') {
    sse = 'aws:kms';
  } else if (raw.toLowerCase() === 'none') {
    sse = undefined;
  } else {
    throw new UserError('WALE_S3_SSE is invalid', {
      detail: `The value is "${raw}".`,
      hint: 'Use AES256, aws:kms or none.',
    });
  }
  if (settings.sseKmsKeyId !== undefined && sse !== 'aws:kms') {
    throw new UserError('WALE_S3_SSE_KMS_KEY_ID is set but WALE_S3_SSE is not aws:kms', {
      hint: 'Set WALE_S3_SSE=aws:kms to encrypt with that KMS key.',
    });
  }
  return { sse, keyId: sse === 'aws:kms' ? settings.sseKmsKeyId : undefined };
}

export function resolveS3Options(bucket: string, settings: S3Settings): S3Options {
  const parsed = settings.endpoint === undefined ? undefined : parseS3Endpoint(settings.endpoint);
  const { sse, keyId } = resolveSse(settings, parsed !== undefined);
  const common = {
    storageClass: settings.storageClass ?? 'STANDARD',
    serverSideEncryption: sse,
    sseKmsKeyId: keyId,
    parsedEndpoint: parsed,
  };
  if (parsed === undefined) {
    return {
      ...common,
      endpoint: undefined,
      forcePathStyle: !isVirtualHostable(bucket),
      bucketIsHost: false,
      region: settings.region,
      customEndpoint: false,
    };
  }
  const https = parsed.protocol === 'https';
  return {
    ...common,
    endpoint: endpointUrl(parsed),
    // "subdomain" with a dotted name over TLS would fail certificate checks: such names go path style.
    forcePathStyle: parsed.convention === 'path' || (parsed.convention === 'subdomain' && (https ? !isVirtualHostable(bucket) : !/^[a-z0-9.-]+$/.test(bucket))),
    bucketIsHost: parsed.convention === 'virtualhost',
    region: settings.region ?? DEFAULT_WORKALIKE_REGION,
    customEndpoint: true,
  };
}
