// One immutable Config per run, built from the parsed command line and the environment (flag wins).
import type { LogSettings } from '../log/logger';
import { SYSLOG_FACILITIES } from '../log/syslog';
import { parseStoreLocation, type StoreLocation } from '../storage/location';
import { UserError } from '../util/errors';
import { Secret, secretOrUndefined } from '../util/secret';
import { resolveCredentials, type StoreCredentials } from './credentials';
import { parseEnvBoolean, type Env } from './env';
import { PREFIX_ENV_ORDER, choosePrefix, type PrefixCandidate } from './prefix';

/** Global options as the command line gave them (undefined when absent). */
export interface GlobalFlags {
  awsAccessKeyId?: string | undefined;
  awsInstanceProfile?: boolean | undefined;
  gsAccessKeyId?: string | undefined;
  wabsAccountName?: string | undefined;
  s3Prefix?: string | undefined;
  wabsPrefix?: string | undefined;
  gsPrefix?: string | undefined;
  filePrefix?: string | undefined;
  gpgKeyId?: string | undefined;
  terse?: boolean | undefined;
}

/** Encryption settings (WAL-E: only the key id; the rest are wal-e's additions, see docs/encryption.md). */
export interface GpgSettings {
  readonly keyId: string | undefined;
  /** WALE_GPG_PUBLIC_KEY_FILE: armored or binary public key to encrypt to, instead of the gpg keyring. */
  readonly publicKeyFile: string | undefined;
  /** WALE_GPG_SECRET_KEY_FILE: secret key for in-process decryption, instead of gpg and its agent. */
  readonly secretKeyFile: string | undefined;
  /** WALE_GPG_PASSPHRASE, or the first line of WALE_GPG_PASSPHRASE_FILE, for that secret key. */
  readonly passphrase: Secret | undefined;
  readonly passphraseFile: string | undefined;
  /** GNUPGHOME for the gpg keyring and agent. */
  readonly gnupgHome: string | undefined;
}

/** PostgreSQL-side settings of backup-push; the connection itself follows libpq's PG* variables. */
export interface PgSettings {
  /** WALE_ARCHIVE_WAIT_TIMEOUT (seconds, default 600): how long backup-push waits for its last WAL segment to be archived; 0 = do not wait. */
  readonly archiveWaitTimeoutSeconds: number;
  /** WALE_BACKUP_FAST_CHECKPOINT=1: an immediate checkpoint at backup start instead of WAL-E's spread one. */
  readonly fastCheckpoint: boolean;
}

export interface Config {
  readonly store: StoreLocation;
  readonly credentials: StoreCredentials;
  /** Where the prefix came from ("--s3-prefix", "WALE_S3_PREFIX", ...). */
  readonly prefixSource: string;
  /** Other prefixes that were set and lost to it. */
  readonly ignoredPrefixSources: readonly string[];
  readonly gpgKeyId: string | undefined;
  readonly gpg: GpgSettings;
  readonly pg: PgSettings;
  readonly terse: boolean;
  /** WALE_RETRIES: attempts of WAL-E-level retry loops; 0 means unlimited. */
  readonly retries: number;
  /** Full stack traces for unexpected errors (WALE_DEBUG=1). */
  readonly debug: boolean;
}

export function logSettings(env: Env, terse: boolean): LogSettings {
  const destinations = (env.WALE_LOG_DESTINATION ?? 'stderr,syslog').split(',');
  const facilityName = (env.WALE_SYSLOG_FACILITY ?? 'user').toLowerCase();
  let syslogFacility = SYSLOG_FACILITIES[facilityName];
  if (syslogFacility === undefined) {
    // WAL-E's exact words, printed directly rather than logged (spec §2.3).
    process.stderr.write('invalid syslog facility level specified\n');
    syslogFacility = SYSLOG_FACILITIES.user!;
  }
  return { destinations, syslogFacility, terse, syslogSocket: env.WALE_SYSLOG_SOCKET };
}

export function isDebug(env: Env): boolean {
  return env.WALE_DEBUG === '1' || env.WALE_DEBUG === 'true';
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

function parseNonNegativeInt(name: string, v: string | undefined, dflt: number): number {
  if (v === undefined || v === '') return dflt;
  if (!/^\s*\d+\s*$/.test(v)) {
    throw new UserError(`${name} must be a whole number of seconds`, { detail: `The value "${v}" is not one.` });
  }
  return Number.parseInt(v, 10);
}

function parseRetries(v: string | undefined): number {
  if (v === undefined || v === '') return 100;
  if (!/^\s*[-+]?\d+\s*$/.test(v)) {
    throw new UserError('WALE_RETRIES must be an integer', { detail: `The value "${v}" is not an integer.` });
  }
  const n = Number.parseInt(v, 10);
  return n <= 0 ? 0 : n;
}

export function prefixCandidates(flags: GlobalFlags, env: Env): PrefixCandidate[] {
  return [
    { source: '--file-prefix', value: flags.filePrefix },
    { source: '--gs-prefix', value: flags.gsPrefix },
    { source: '--s3-prefix', value: flags.s3Prefix },
    { source: '--wabs-prefix', value: flags.wabsPrefix },
    ...PREFIX_ENV_ORDER.map((name) => ({ source: name, value: env[name] })),
  ];
}

/** Builds the Config; throws the UserError WAL-E would report for a missing or bad prefix or credential. */
export function buildConfig(flags: GlobalFlags, env: Env): Config {
  const choice = choosePrefix(prefixCandidates(flags, env));
  const store = parseStoreLocation(choice.value);
  const credentials = resolveCredentials(store.kind, env, {
    awsAccessKeyId: flags.awsAccessKeyId,
    awsInstanceProfile: flags.awsInstanceProfile,
    wabsAccountName: flags.wabsAccountName,
  });
  const gpg = flags.gpgKeyId ?? env.WALE_GPG_KEY_ID;
  return Object.freeze({
    store: Object.freeze(store),
    credentials: Object.freeze(credentials),
    prefixSource: choice.source,
    ignoredPrefixSources: Object.freeze(choice.ignored.map((c) => c.source)),
    gpgKeyId: gpg === undefined || gpg === '' ? undefined : gpg,
    gpg: Object.freeze({
      keyId: gpg === undefined || gpg === '' ? undefined : gpg,
      publicKeyFile: nonEmpty(env.WALE_GPG_PUBLIC_KEY_FILE),
      secretKeyFile: nonEmpty(env.WALE_GPG_SECRET_KEY_FILE),
      passphrase: secretOrUndefined(env.WALE_GPG_PASSPHRASE),
      passphraseFile: nonEmpty(env.WALE_GPG_PASSPHRASE_FILE),
      gnupgHome: nonEmpty(env.GNUPGHOME),
    }),
    pg: Object.freeze({
      archiveWaitTimeoutSeconds: parseNonNegativeInt('WALE_ARCHIVE_WAIT_TIMEOUT', env.WALE_ARCHIVE_WAIT_TIMEOUT, 600),
      fastCheckpoint: parseEnvBoolean(env.WALE_BACKUP_FAST_CHECKPOINT) === true,
    }),
    terse: flags.terse === true,
    retries: parseRetries(env.WALE_RETRIES),
    debug: isDebug(env),
  });
}
