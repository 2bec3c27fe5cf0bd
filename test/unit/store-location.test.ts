import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizePathPrefix, objectName, objectUrl, parseStoreLocation, splitUrl } from '../../src/storage/location';
import { UserError } from '../../src/util/errors';

describe('prefix URL parsing (spec §3.1, §3.7)', () => {
  it('normalizes PATH_PREFIX as WAL-E does', () => {
    assert.equal(normalizePathPrefix('/a/b'), 'a/b/');
    assert.equal(normalizePathPrefix('/a/b/'), 'a/b/');
    assert.equal(normalizePathPrefix(''), '');
    assert.equal(normalizePathPrefix('/'), '');
    assert.equal(normalizePathPrefix('///a'), 'a/');
  });

  it('splits scheme, netloc and path like urlsplit', () => {
    assert.deepEqual(splitUrl('s3://bucket/a/b'), { scheme: 's3', netloc: 'bucket', path: '/a/b' });
    assert.deepEqual(splitUrl('S3://Bucket'), { scheme: 's3', netloc: 'Bucket', path: '' });
    assert.deepEqual(splitUrl('file://backups/pg'), { scheme: 'file', netloc: 'backups', path: '/pg' });
    assert.deepEqual(splitUrl('/just/a/path'), { scheme: '', netloc: '', path: '/just/a/path' });
  });

  it('parses each of the five schemes', () => {
    for (const [url, kind, container, pathPrefix] of [
      ['s3://bucket/a/b', 's3', 'bucket', 'a/b/'],
      ['s3://my.dotted.bucket', 's3', 'my.dotted.bucket', ''],
      ['wabs://container/pg/main/', 'wabs', 'container', 'pg/main/'],
      ['gs://bucket/pg', 'gs', 'bucket', 'pg/'],
      ['swift://container/x', 'swift', 'container', 'x/'],
      ['file://localhost/backups/pg', 'file', '', 'backups/pg/'],
      ['file:///backups/pg', 'file', '', 'backups/pg/'],
      ['file://anything/backups/pg', 'file', '', 'backups/pg/'],
      ['file://backups/pg', 'file', '', 'pg/'],
    ] as const) {
      const loc = parseStoreLocation(url);
      assert.deepEqual([loc.kind, loc.container, loc.pathPrefix], [kind, container, pathPrefix], url);
    }
  });

  it('rejects unknown schemes with WAL-E message and a missing bucket or container with a clear one', () => {
    assert.throws(() => parseStoreLocation('ftp://x/y'), (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, /bad S3, Windows Azure Blob Storage, OpenStack Swift, Google Cloud Storage or File URL scheme passed/);
      assert.equal(e.detail, 'The scheme ftp was passed when "s3", "wabs", "swift", "gs", or "file" was expected.');
      return true;
    });
    for (const url of ['s3://', 's3:/bucket/x', 'wabs:///x', 'gs://', 'swift:///c']) {
      assert.throws(() => parseStoreLocation(url), /prefix has no (bucket|container) name/, url);
    }
    assert.throws(() => parseStoreLocation('s3://bad bucket/x'), /invalid bucket name/);
    assert.throws(() => parseStoreLocation('wabs://Upper/x'), /invalid container name/);
    assert.throws(() => parseStoreLocation(''), /bad S3/);
  });

  it('names objects per store: GS and Swift names begin with "/", S3 and WABS do not', () => {
    const key = 'wal_005/000000010000000000000003.lzo';
    assert.equal(objectName(parseStoreLocation('s3://b/pg'), key), 'pg/' + key);
    assert.equal(objectName(parseStoreLocation('wabs://cont/pg'), key), 'pg/' + key);
    assert.equal(objectName(parseStoreLocation('gs://b/pg'), key), '/pg/' + key);
    assert.equal(objectName(parseStoreLocation('swift://c/pg'), key), '/pg/' + key);
    assert.equal(objectName(parseStoreLocation('file://localhost/srv/pg'), key), '/srv/pg/' + key);
    assert.equal(objectName(parseStoreLocation('s3://b'), key), key);
  });

  it('builds log URLs from the prefix as given', () => {
    assert.equal(objectUrl(parseStoreLocation('file:///tmp/store/pfx'), 'wal_005/X.lzo'), 'file:///tmp/store/pfx/wal_005/X.lzo');
    assert.equal(objectUrl(parseStoreLocation('s3://b/p/'), 'wal_005/X.lzo'), 's3://b/p/wal_005/X.lzo');
  });
});
