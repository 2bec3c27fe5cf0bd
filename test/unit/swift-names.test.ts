// Swift request paths and listing timestamps: the leading "/" of WAL-E's object names must survive as
// "container//path" (what python-swiftclient sent), and head() must report the listing's text.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lastModifiedFromTimestamp, lastModifiedMs, objectPath, segmentName, segmentsPrefixFor } from '../../src/storage/swift/swift-names';
import { StoreError } from '../../src/util/errors';

describe('swift object paths', () => {
  it('keeps the leading "/" of the object name as a double slash after the container', () => {
    assert.equal(objectPath('c', '/pg/wal_005/000000010000000000000001.lzo'), '/c//pg/wal_005/000000010000000000000001.lzo');
  });

  it('percent-encodes each segment as quote(safe="/") does', () => {
    assert.equal(objectPath('my container', '/a b/ü?#%/x+y'), '/my%20container//a%20b/%C3%BC%3F%23%25/x%2By');
    assert.equal(objectPath('c', "/it's(1)*"), "/c//it%27s%281%29%2A");
  });

  it('refuses "." and ".." segments, which URL parsers would collapse', () => {
    assert.throws(() => objectPath('c', '/pg/../wal_005/x'), StoreError);
    assert.throws(() => objectPath('c', '/pg/./x'), StoreError);
  });

  it('puts segments of large objects under a name that no "/"-prefixed listing can match', () => {
    const name = '/pg/basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo';
    assert.equal(segmentName(name, '17-ab', 3), `.segments${name}/slo/17-ab/00000003`);
    assert.ok(segmentName(name, '17-ab', 3).startsWith(segmentsPrefixFor(name)));
    assert.ok(!segmentName(name, '17-ab', 3).startsWith('/'));
  });
});

describe('swift last-modified text', () => {
  it('turns X-Timestamp into the listing format with six fraction digits', () => {
    assert.deepEqual(lastModifiedFromTimestamp('1795394296.00578'), { text: '2026-11-23T00:38:16.005780', ms: 1795394296005 });
    assert.deepEqual(lastModifiedFromTimestamp('1795394296'), { text: '2026-11-23T00:38:16.000000', ms: 1795394296000 });
    assert.equal(lastModifiedFromTimestamp('garbage'), undefined);
  });

  it('reads listing times as UTC', () => {
    assert.equal(lastModifiedMs('2026-11-23T00:38:16.005780'), 1795394296005);
    assert.equal(lastModifiedMs('not a date'), 0);
  });
});
