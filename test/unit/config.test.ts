import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { buildConfig } from '../../src/config/config';
import { UserError } from '../../src/util/errors';

const S3_ENV = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'sekrit-value-123', AWS_REGION: 'us-east-1' };

describe('Config: prefix precedence (spec §1.5)', () => {
  const all = {
    flags: { filePrefix: 'file:///o1', gsPrefix: 'gs://o2/x', s3Prefix: 's3://o3/x', wabsPrefix: 'wabs://opt4/x' },
    env: {
      WALE_FILE_PREFIX: 'file:///e1',
      WALE_GS_PREFIX: 'gs://e2/x',
      WALE_S3_PREFIX: 's3://e3/x',
      WALE_SWIFT_PREFIX: 'swift://e4/x',
      WALE_WABS_PREFIX: 'wabs://env5/x',
    },
  };
  const order = ['--file-prefix', '--gs-prefix', '--s3-prefix', '--wabs-prefix', 'WALE_FILE_PREFIX', 'WALE_GS_PREFIX', 'WALE_S3_PREFIX', 'WALE_SWIFT_PREFIX', 'WALE_WABS_PREFIX'];
  const credEnv = { ...S3_ENV, WABS_ACCOUNT_NAME: 'acct', WABS_ACCESS_KEY: 'k' };

  it('takes the first non-empty candidate in WAL-E order and lists the others as ignored', () => {
    const flagKeys = ['filePrefix', 'gsPrefix', 's3Prefix', 'wabsPrefix'] as const;
    for (let i = 0; i < order.length; i++) {
      const flags: Record<string, string> = {};
      const env: Record<string, string> = { ...credEnv };
      for (let j = i; j < order.length; j++) {
        if (j < 4) flags[flagKeys[j]!] = all.flags[flagKeys[j]!];
        else env[order[j]!] = (all.env as Record<string, string>)[order[j]!]!;
      }
      const c = buildConfig(flags, env);
      assert.equal(c.prefixSource, order[i]);
      assert.deepEqual(c.ignoredPrefixSources, order.slice(i + 1));
    }
  });

  it('skips empty values and selects the backend by the URL scheme, not by the source', () => {
    const c = buildConfig({ filePrefix: '' }, { WALE_S3_PREFIX: 'file:///x/y' });
    assert.equal(c.store.kind, 'file');
    assert.equal(c.store.pathPrefix, 'x/y/');
    assert.equal(c.prefixSource, 'WALE_S3_PREFIX');
  });

  it('no prefix: WAL-E message and hint', () => {
    assert.throws(() => buildConfig({}, {}), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.message, 'no storage prefix defined');
      assert.match(e.hint ?? '', /^Either set one of the --file-prefix/);
      assert.equal(e.exitCode, 1);
      return true;
    });
  });

  it('an empty WALE_WABS_PREFIX alone fails the scheme check, as in WAL-E', () => {
    assert.throws(() => buildConfig({}, { WALE_WABS_PREFIX: '' }), /bad S3, Windows Azure/);
  });
});

describe('Config: credentials (spec §1.6)', () => {
  it('S3: access key then secret key, with WAL-E messages; the region may be left to discovery', () => {
    const p = { s3Prefix: 's3://bucket/p' };
    assert.throws(() => buildConfig(p, {}), /AWS Access Key credential is required but not provided/);
    assert.throws(() => buildConfig(p, { AWS_ACCESS_KEY_ID: 'a' }), /AWS Secret Key credential is required/);
    // Neither AWS_REGION nor WALE_S3_ENDPOINT: WAL-E refused; here the adapter discovers the region.
    const discovered = buildConfig(p, { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
    assert.ok(discovered.credentials.kind === 's3' && discovered.credentials.s3.region === undefined);
    const c = buildConfig({ ...p, awsAccessKeyId: 'FLAGKEY' }, S3_ENV);
    assert.ok(c.credentials.kind === 's3');
    assert.equal(c.credentials.s3.accessKeyId, 'FLAGKEY', 'the flag wins over the environment');
    assert.equal(c.credentials.s3.secretAccessKey?.reveal(), 'sekrit-value-123');
  });

  it('S3: instance profile needs no keys; AWS_INSTANCE_PROFILE has a strict boolean grammar', () => {
    const p = { s3Prefix: 's3://bucket/p' };
    assert.equal(buildConfig({ ...p, awsInstanceProfile: true }, { AWS_REGION: 'eu-north-1' }).credentials.kind, 's3');
    for (const v of ['1', 'TRUE', 'true']) buildConfig(p, { AWS_INSTANCE_PROFILE: v, AWS_REGION: 'x' });
    assert.throws(() => buildConfig(p, { AWS_INSTANCE_PROFILE: 'yes', AWS_REGION: 'x' }), /invalid value for AWS_INSTANCE_PROFILE/);
  });

  it('WABS: account name then key or SAS token', () => {
    const p = { wabsPrefix: 'wabs://container/p' };
    assert.throws(() => buildConfig(p, {}), /WABS account name is undefined/);
    assert.throws(() => buildConfig(p, { WABS_ACCOUNT_NAME: 'a' }), /WABS access credentials is required but not provided/);
    const c = buildConfig({ ...p, wabsAccountName: 'flagacct' }, { WABS_ACCOUNT_NAME: 'envacct', WABS_SAS_TOKEN: 'sv=x' });
    assert.ok(c.credentials.kind === 'wabs');
    assert.equal(c.credentials.wabs.accountName, 'flagacct');
  });

  it('GS and Swift are not validated at start-up; file needs nothing', () => {
    assert.equal(buildConfig({ gsPrefix: 'gs://b/p' }, {}).credentials.kind, 'gs');
    assert.equal(buildConfig({}, { WALE_SWIFT_PREFIX: 'swift://c/p' }).credentials.kind, 'swift');
    assert.equal(buildConfig({ filePrefix: 'file:///tmp/x' }, {}).credentials.kind, 'file');
  });

  it('never shows a secret when the Config is printed or serialized', () => {
    const c = buildConfig({ s3Prefix: 's3://bucket/p' }, { ...S3_ENV, AWS_SECURITY_TOKEN: 'tok-secret-999' });
    const text = inspect(c, { depth: 10 }) + JSON.stringify(c.credentials) + String(c.credentials.kind === 's3' && c.credentials.s3.secretAccessKey);
    assert.doesNotMatch(text, /sekrit-value-123|tok-secret-999/);
  });

  it('WALE_RETRIES: default 100, <= 0 unlimited, non-integer is a clear error', () => {
    const p = { filePrefix: 'file:///tmp/x' };
    assert.equal(buildConfig(p, {}).retries, 100);
    assert.equal(buildConfig(p, { WALE_RETRIES: '-1' }).retries, 0);
    assert.equal(buildConfig(p, { WALE_RETRIES: '7' }).retries, 7);
    assert.throws(() => buildConfig(p, { WALE_RETRIES: 'many' }), /WALE_RETRIES must be an integer/);
  });

  it('the Config is immutable', () => {
    const c = buildConfig({ filePrefix: 'file:///tmp/x' }, {});
    assert.throws(() => {
      (c as { terse: boolean }).terse = true;
    });
  });
});
