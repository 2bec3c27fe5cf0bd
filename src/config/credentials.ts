// Per-store credentials and the start-up checks WAL-E made (spec §1.6). Secrets are wrapped so that
// no log line or error can print them.
import { getLogger } from '../log/logger';
import { UserError } from '../util/errors';
import { Secret, secretOrUndefined } from '../util/secret';
import type { StoreKind } from '../storage/location';
import { parseEnvBoolean, type Env } from './env';

export interface S3Settings {
  readonly accessKeyId: string | undefined;
  readonly secretAccessKey: Secret | undefined;
  readonly sessionToken: Secret | undefined;
  readonly instanceProfile: boolean;
  readonly region: string | undefined;
  readonly endpoint: string | undefined;
  readonly storageClass: string | undefined;
  /** WALE_S3_SSE: server-side encryption ("AES256", "aws:kms" or "none"); unset = AES256 on AWS, none on custom endpoints. */
  readonly serverSideEncryption: string | undefined;
  /** WALE_S3_SSE_KMS_KEY_ID: the KMS key for "aws:kms". */
  readonly sseKmsKeyId: string | undefined;
}

export interface WabsSettings {
  readonly accountName: string;
  readonly accessKey: Secret | undefined;
  readonly sasToken: Secret | undefined;
  /** WALE_WABS_ENDPOINT: blob service URL for Azurite or sovereign clouds (default https://<account>.blob.core.windows.net). */
  readonly endpoint: string | undefined;
}

export interface GsSettings {
  readonly credentialsFile: string | undefined;
  readonly project: string | undefined;
  /** STORAGE_EMULATOR_HOST: a local GCS-compatible endpoint (emulator), as Google's SDKs name it. */
  readonly emulatorHost: string | undefined;
}

export interface SwiftSettings {
  readonly authUrl: string | undefined;
  readonly user: string | undefined;
  readonly password: Secret | undefined;
  readonly tenant: string | undefined;
  readonly region: string | undefined;
  readonly endpointType: string;
  readonly authVersion: string;
  /** The Keystone v3 SWIFT_* options, passed through as WAL-E did. */
  readonly keystoneV3: Readonly<Record<string, string>>;
}

export type StoreCredentials =
  | { readonly kind: 's3'; readonly s3: S3Settings }
  | { readonly kind: 'wabs'; readonly wabs: WabsSettings }
  | { readonly kind: 'gs'; readonly gs: GsSettings }
  | { readonly kind: 'swift'; readonly swift: SwiftSettings }
  | { readonly kind: 'file' };

export interface CredentialFlags {
  awsAccessKeyId?: string | undefined;
  awsInstanceProfile?: boolean | undefined;
  wabsAccountName?: string | undefined;
}

const KEYSTONE_V3 = [
  'SWIFT_DOMAIN_ID', 'SWIFT_DOMAIN_NAME', 'SWIFT_TENANT_ID', 'SWIFT_USER_ID', 'SWIFT_USER_DOMAIN_ID',
  'SWIFT_USER_DOMAIN_NAME', 'SWIFT_PROJECT_ID', 'SWIFT_PROJECT_NAME', 'SWIFT_PROJECT_DOMAIN_ID',
  'SWIFT_PROJECT_DOMAIN_NAME',
];

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

function s3Credentials(env: Env, flags: CredentialFlags): S3Settings {
  let instanceProfile = flags.awsInstanceProfile === true;
  if (!instanceProfile) {
    const b = parseEnvBoolean(env.AWS_INSTANCE_PROFILE);
    if (b === undefined) {
      throw new UserError('invalid value for AWS_INSTANCE_PROFILE', {
        detail: 'The value is not one of 1, true, 0, false (any case) or empty.',
      });
    }
    instanceProfile = b;
  }
  const accessKeyId = nonEmpty(flags.awsAccessKeyId) ?? nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = secretOrUndefined(env.AWS_SECRET_ACCESS_KEY);
  if (!instanceProfile) {
    if (accessKeyId === undefined) {
      throw new UserError('AWS Access Key credential is required but not provided', {
        hint: 'Pass "--aws-access-key-id" or set the environment variable "AWS_ACCESS_KEY_ID".',
      });
    }
    if (secretAccessKey === undefined) {
      throw new UserError('AWS Secret Key credential is required but not provided', {
        hint: 'Set the environment variable AWS_SECRET_ACCESS_KEY.',
      });
    }
  }
  const region = nonEmpty(env.AWS_REGION);
  const endpoint = nonEmpty(env.WALE_S3_ENDPOINT);
  // Neither set: WAL-E refused to start; the S3 adapter discovers the bucket's region instead.
  if (region !== undefined && endpoint !== undefined) {
    getLogger('wal_e.main').warning('WALE_S3_ENDPOINT defined, ignoring AWS_REGION', {
      detail: 'AWS_REGION is used only as the SigV4 signing region for that endpoint.',
      hint:
        'AWS_REGION is only intended for use with AWS S3, and not interface-compatible use cases supported by ' +
        'WALE_S3_ENDPOINT',
    });
  }
  return {
    accessKeyId: instanceProfile ? undefined : accessKeyId,
    secretAccessKey: instanceProfile ? undefined : secretAccessKey,
    // WAL-E read only AWS_SECURITY_TOKEN; AWS_SESSION_TOKEN is what every other AWS tool sets.
    sessionToken: instanceProfile ? undefined : secretOrUndefined(env.AWS_SECURITY_TOKEN ?? env.AWS_SESSION_TOKEN),
    instanceProfile,
    region,
    endpoint,
    storageClass: nonEmpty(env.WALE_S3_STORAGE_CLASS),
    serverSideEncryption: nonEmpty(env.WALE_S3_SSE),
    sseKmsKeyId: nonEmpty(env.WALE_S3_SSE_KMS_KEY_ID),
  };
}

function wabsCredentials(env: Env, flags: CredentialFlags): WabsSettings {
  const accountName = nonEmpty(flags.wabsAccountName) ?? nonEmpty(env.WABS_ACCOUNT_NAME);
  if (accountName === undefined) {
    throw new UserError('WABS account name is undefined', {
      hint: 'Pass "--wabs-account-name" or set the environment variable "WABS_ACCOUNT_NAME".',
    });
  }
  const accessKey = secretOrUndefined(env.WABS_ACCESS_KEY);
  const sasToken = secretOrUndefined(env.WABS_SAS_TOKEN);
  if (accessKey === undefined && sasToken === undefined) {
    throw new UserError('WABS access credentials is required but not provided', {
      hint: 'Define one of the WABS_ACCESS_KEY or WABS_SAS_TOKEN environment variables.',
    });
  }
  return { accountName, accessKey, sasToken, endpoint: nonEmpty(env.WALE_WABS_ENDPOINT) };
}

export function resolveCredentials(kind: StoreKind, env: Env, flags: CredentialFlags): StoreCredentials {
  switch (kind) {
    case 's3':
      return { kind, s3: s3Credentials(env, flags) };
    case 'wabs':
      return { kind, wabs: wabsCredentials(env, flags) };
    case 'gs':
      // No start-up validation, as WAL-E: application default credentials resolve on first use.
      return {
        kind,
        gs: {
          credentialsFile: nonEmpty(env.GOOGLE_APPLICATION_CREDENTIALS),
          project: nonEmpty(env.GOOGLE_CLOUD_PROJECT) ?? nonEmpty(env.GCLOUD_PROJECT),
          emulatorHost: nonEmpty(env.STORAGE_EMULATOR_HOST),
        },
      };
    case 'swift': {
      const keystoneV3: Record<string, string> = {};
      for (const k of KEYSTONE_V3) {
        const v = nonEmpty(env[k]);
        if (v !== undefined) keystoneV3[k] = v;
      }
      return {
        kind,
        swift: {
          authUrl: nonEmpty(env.SWIFT_AUTHURL),
          user: nonEmpty(env.SWIFT_USER),
          password: secretOrUndefined(env.SWIFT_PASSWORD),
          tenant: nonEmpty(env.SWIFT_TENANT),
          region: nonEmpty(env.SWIFT_REGION),
          endpointType: nonEmpty(env.SWIFT_ENDPOINT_TYPE) ?? 'publicURL',
          authVersion: nonEmpty(env.SWIFT_AUTH_VERSION) ?? '2',
          keystoneV3,
        },
      };
    }
    case 'file':
      return { kind };
  }
}
