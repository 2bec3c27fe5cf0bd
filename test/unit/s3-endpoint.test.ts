// WALE_S3_ENDPOINT's grammar (spec §6.1) and what the adapter makes of the S3 settings.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { S3Settings } from '../../src/config/credentials';
import { endpointUrl, parseS3Endpoint } from '../../src/storage/s3/s3-endpoint';
import { isVirtualHostable, resolveS3Options } from '../../src/storage/s3/s3-options';
import { UserError } from '../../src/util/errors';
import { Secret } from '../../src/util/secret';

function fails(value: string, msg: string, detail?: string): void {
  assert.throws(
    () => parseS3Endpoint(value),
    (e: unknown) => e instanceof UserError && e.message === msg && (detail === undefined || e.detail === detail),
    value,
  );
}

describe('WALE_S3_ENDPOINT', () => {
  it('accepts every protocol and convention, with and without a port', () => {
    assert.deepEqual(parseS3Endpoint('http+path://hostname'), { protocol: 'http', convention: 'path', host: 'hostname', port: undefined });
    assert.deepEqual(parseS3Endpoint('https+path://s3.example.com:9000'), { protocol: 'https', convention: 'path', host: 's3.example.com', port: 9000 });
    assert.deepEqual(parseS3Endpoint('http+subdomain://minio.local:80'), { protocol: 'http', convention: 'subdomain', host: 'minio.local', port: 80 });
    assert.deepEqual(parseS3Endpoint('https+virtualhost://cdn.example.com'), { protocol: 'https', convention: 'virtualhost', host: 'cdn.example.com', port: undefined });
    assert.deepEqual(parseS3Endpoint('http+path://deis-store-gateway:8888'), { protocol: 'http', convention: 'path', host: 'deis-store-gateway', port: 8888 });
    assert.deepEqual(parseS3Endpoint('http+path://s3-us-west-1.amazonaws.com:80').host, 's3-us-west-1.amazonaws.com');
    assert.deepEqual(parseS3Endpoint('HTTPS+PATH://h').protocol, 'https');
  });

  it('defaults the host to s3.amazonaws.com, as boto did', () => {
    assert.equal(parseS3Endpoint('https+path://').host, 's3.amazonaws.com');
    assert.deepEqual(parseS3Endpoint('https+path://:8443'), { protocol: 'https', convention: 'path', host: 's3.amazonaws.com', port: 8443 });
  });

  it('accepts IPv4 and bracketed IPv6 hosts', () => {
    assert.equal(endpointUrl(parseS3Endpoint('http+path://127.0.0.1:8080')), 'http://127.0.0.1:8080');
    const v6 = parseS3Endpoint('http+path://[::1]:9000');
    assert.equal(v6.host, '::1');
    assert.equal(endpointUrl(v6), 'http://[::1]:9000');
  });

  it('rejects bad schemes with WAL-E\'s message', () => {
    fails('ftp+path://h', 'WALE_S3_ENDPOINT URI scheme is invalid', "The scheme defined is 'ftp+path'");
    fails('https://h', 'WALE_S3_ENDPOINT URI scheme is invalid', "The scheme defined is 'https'");
    fails('http+vhost://h', 'WALE_S3_ENDPOINT URI scheme is invalid');
    fails('hostname:9000', 'WALE_S3_ENDPOINT URI scheme is invalid', "The scheme defined is 'hostname'");
    fails('hostname', 'WALE_S3_ENDPOINT URI scheme is invalid', "The scheme defined is ''");
  });

  it('rejects user info, paths (even "/" and fragments), queries and bad ports', () => {
    fails('https+path://user:pw@h', 'WALE_S3_ENDPOINT does not support username or password');
    fails('https+path://:@h', 'WALE_S3_ENDPOINT does not support username or password');
    fails('https+path://h/', 'WALE_S3_ENDPOINT does not support a URI path', "Path is '/'");
    fails('https+path://h/bucket', 'WALE_S3_ENDPOINT does not support a URI path', "Path is '/bucket'");
    fails('https+path://h#x', 'WALE_S3_ENDPOINT does not support a URI path', "Path is '#x'");
    fails('https+path://h?a=b', 'WALE_S3_ENDPOINT does not support query parameters');
    fails('https+path://h:99999', 'WALE_S3_ENDPOINT has an invalid port');
    fails('https+path://h:port', 'WALE_S3_ENDPOINT has an invalid port');
    fails('https+path://h h', 'WALE_S3_ENDPOINT has an invalid host name');
  });
});

const base: S3Settings = {
  accessKeyId: 'AKIA',
  secretAccessKey: new Secret('s'),
  sessionToken: undefined,
  instanceProfile: false,
  region: undefined,
  endpoint: undefined,
  storageClass: undefined,
  serverSideEncryption: undefined,
  sseKmsKeyId: undefined,
};

describe('S3 options', () => {
  it('on AWS: AES256 and STANDARD by default, region discovered when unset, path style only for names DNS cannot carry', () => {
    const o = resolveS3Options('my-bucket', base);
    assert.equal(o.endpoint, undefined);
    assert.equal(o.serverSideEncryption, 'AES256');
    assert.equal(o.storageClass, 'STANDARD');
    assert.equal(o.region, undefined);
    assert.equal(o.forcePathStyle, false);
    assert.equal(resolveS3Options('my.dotted.bucket', base).forcePathStyle, true);
    assert.equal(resolveS3Options('Legacy_Bucket', base).forcePathStyle, true);
    assert.equal(resolveS3Options('b', { ...base, region: 'eu-north-1' }).region, 'eu-north-1');
  });

  it('with WALE_S3_ENDPOINT: no SSE unless asked (wal-e#404), us-east-1 signing unless AWS_REGION, conventions', () => {
    const path = resolveS3Options('b', { ...base, endpoint: 'http+path://127.0.0.1:9000' });
    assert.deepEqual([path.endpoint, path.forcePathStyle, path.bucketIsHost, path.serverSideEncryption, path.region, path.customEndpoint], [
      'http://127.0.0.1:9000', true, false, undefined, 'us-east-1', true,
    ]);
    const sub = resolveS3Options('my-bucket', { ...base, endpoint: 'https+subdomain://objects.example.com' });
    assert.deepEqual([sub.endpoint, sub.forcePathStyle, sub.bucketIsHost], ['https://objects.example.com', false, false]);
    assert.equal(resolveS3Options('my.bucket', { ...base, endpoint: 'https+subdomain://objects.example.com' }).forcePathStyle, true);
    const vh = resolveS3Options('cdn.example.com', { ...base, endpoint: 'https+virtualhost://s3.example.com' });
    assert.equal(vh.bucketIsHost, true);
    assert.equal(resolveS3Options('b', { ...base, endpoint: 'http+path://h', region: 'nyc3' }).region, 'nyc3');
    assert.equal(resolveS3Options('b', { ...base, endpoint: 'http+path://h', serverSideEncryption: 'AES256' }).serverSideEncryption, 'AES256');
  });

  it('WALE_S3_SSE: AES256, aws:kms with a key, none; anything else is one clear error', () => {
    assert.equal(resolveS3Options('b', { ...base, serverSideEncryption: 'none' }).serverSideEncryption, undefined);
    const kms = resolveS3Options('b', { ...base, serverSideEncryption: 'aws:kms', sseKmsKeyId: 'arn:aws:kms:eu-west-1:1:key/k' });
    assert.deepEqual([kms.serverSideEncryption, kms.sseKmsKeyId], ['aws:kms', 'arn:aws:kms:eu-west-1:1:key/k']);
    assert.throws(() => resolveS3Options('b', { ...base, serverSideEncryption: 'rot13' }), /WALE_S3_SSE is invalid/);
    assert.throws(() => resolveS3Options('b', { ...base, sseKmsKeyId: 'k' }), /WALE_S3_SSE_KMS_KEY_ID is set but WALE_S3_SSE is not aws:kms/);
    assert.equal(resolveS3Options('b', { ...base, storageClass: 'STANDARD_IA' }).storageClass, 'STANDARD_IA');
  });

  it('virtual-hostable names', () => {
    for (const ok of ['abc', 'my-bucket-1', 'a'.repeat(63)]) assert.equal(isVirtualHostable(ok), true, ok);
    for (const bad of ['ab', 'my.bucket', 'My-Bucket', 'under_score', '-lead', 'trail-', 'a'.repeat(64)]) assert.equal(isVirtualHostable(bad), false, bad);
  });
});
