// The S3 adapter against real servers: OpenStack Swift's s3api (signatures checked, real multipart, no
// conditional PUT) and s3rver (a light fake that ignores If-None-Match and has no
// AbortMultipartUpload). The BlobStore contract, then what is S3-specific: WAL-E's key layout, multipart
// uploads, aborted uploads leaving no parts, and put-if-absent detection.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from '../../src/config/credentials';
import { DEFAULT_RETRY_POLICY } from '../../src/storage/http/retry-policy';
import { parseStoreLocation } from '../../src/storage/location';
import { openS3Store, type S3Store } from '../../src/storage/s3/s3-store';
import { Secret } from '../../src/util/secret';
import { startService } from '../helpers/services';
import { chunksOf, readAll, storeContract } from '../helpers/store-contract';

interface Target {
  name: string;
  settings: () => S3Settings;
  bucket: string;
  raw: () => S3Client;
  /** Does the server implement AbortMultipartUpload (and list pending uploads)? */
  abortsUploads: boolean;
}

function settings(endpoint: string, key: string, secret: string): S3Settings {
  return {
    accessKeyId: key,
    secretAccessKey: new Secret(secret),
    sessionToken: undefined,
    instanceProfile: false,
    region: undefined,
    endpoint,
    storageClass: undefined,
    serverSideEncryption: undefined,
    sseKmsKeyId: undefined,
  };
}

function rawClient(endpoint: string, key: string, secret: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: key, secretAccessKey: secret },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const swift: Target = {
  name: 'Swift s3api',
  bucket: 'wale-s3-contract',
  abortsUploads: true,
  settings: () => {
    const e = startService('swift');
    return settings(`http+path://${new URL(e.SWIFT_S3_ENDPOINT!).host}`, e.SWIFT_S3_ACCESS_KEY_ID!, e.SWIFT_S3_SECRET_ACCESS_KEY!);
  },
  raw: () => {
    const e = startService('swift');
    return rawClient(e.SWIFT_S3_ENDPOINT!, e.SWIFT_S3_ACCESS_KEY_ID!, e.SWIFT_S3_SECRET_ACCESS_KEY!);
  },
};

const s3rver: Target = {
  name: 's3rver',
  bucket: 'wale-test',
  abortsUploads: false,
  settings: () => {
    const e = startService('s3rver');
    return settings(e.WALE_S3_ENDPOINT!, e.AWS_ACCESS_KEY_ID!, e.AWS_SECRET_ACCESS_KEY!);
  },
  raw: () => {
    const e = startService('s3rver');
    return rawClient(e.S3_ENDPOINT!, e.AWS_ACCESS_KEY_ID!, e.AWS_SECRET_ACCESS_KEY!);
  },
};

const run = Date.now().toString(36);
let seq = 0;

for (const target of [swift, s3rver]) {
  describe(`S3 store on ${target.name}`, () => {
    let raw: S3Client;
    const open = (path: string): Promise<S3Store> =>
      openS3Store(parseStoreLocation(`s3://${target.bucket}/${path}`), target.settings(), DEFAULT_RETRY_POLICY);

    before(async () => {
      raw = target.raw();
      await raw.send(new CreateBucketCommand({ Bucket: target.bucket })).catch((e: Error) => {
        if (!/BucketAlready/.test(e.name)) throw e;
      });
    });
    after(() => raw.destroy());

    describe('contract', () => {
      storeContract(() => open(`contract-${run}/${++seq}`));
    });

    it('stores objects under exactly WAL-E\'s keys: PATH_PREFIX + key', async () => {
      const store = await open(`layout-${run}/a/b`);
      await store.put('wal_005/000000010000000000000002.lzo', chunksOf(Buffer.from('x')));
      const out = await raw.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: `layout-${run}/` }));
      assert.deepEqual(out.Contents?.map((o) => o.Key), [`layout-${run}/a/b/wal_005/000000010000000000000002.lzo`]);
    });

    it('reads objects another tool wrote under WAL-E\'s keys (runs of "/" in the prefix collapse, as boto did)', async () => {
      const key = `layout2-${run}/a/b/wal_005/000000010000000000000003.lzo`;
      await raw.send(new PutObjectCommand({ Bucket: target.bucket, Key: key, Body: 'from elsewhere' }));
      const store = await open(`layout2-${run}//a/b`);
      assert.equal((await readAll(await store.get('wal_005/000000010000000000000003.lzo'))).toString(), 'from elsewhere');
      assert.deepEqual((await collect(store.list('wal_005/'))).map((o) => o.key), ['wal_005/000000010000000000000003.lzo']);
    });

    it('a 20 MiB body goes up as a multipart upload and comes back identical', async () => {
      const store = await open(`multipart-${run}`);
      const data = randomBytes(20 * 1024 * 1024 + 123);
      const r = await store.put('basebackups_005/base_x/tar_partitions/part_00000000.tar.lzo', chunksOf(data, 1 << 20));
      assert.equal(r.size, data.length);
      const back = await readAll(await store.get('basebackups_005/base_x/tar_partitions/part_00000000.tar.lzo'));
      assert.equal(back.length, data.length);
      assert.ok(back.equals(data));
      assert.equal((await store.head('basebackups_005/base_x/tar_partitions/part_00000000.tar.lzo'))?.size, data.length);
    });

    it('a multipart upload whose body fails leaves no object' + (target.abortsUploads ? ' and no pending upload' : ''), async () => {
      const prefix = `mpfail-${run}`;
      const store = await open(prefix);
      async function* failing(): AsyncIterable<Uint8Array> {
        for (let i = 0; i < 20; i++) yield randomBytes(1 << 20);
        throw new Error('source broke late');
      }
      await assert.rejects(store.put('wal_005/big.lzo', failing()), /source broke late/);
      assert.equal(await store.head('wal_005/big.lzo'), undefined);
      if (target.abortsUploads) {
        const pending = await raw.send(new ListMultipartUploadsCommand({ Bucket: target.bucket, Prefix: `${prefix}/` }));
        assert.deepEqual(pending.Uploads ?? [], []);
      }
    });

    it('putIfAbsent of a multipart-sized body never replaces an existing object', async () => {
      const store = await open(`mpcond-${run}`);
      await store.put('wal_005/X.lzo', chunksOf(Buffer.from('original')));
      const r = await store.putIfAbsent('wal_005/X.lzo', chunksOf(randomBytes(18 * 1024 * 1024), 1 << 20));
      assert.equal(r.created, false);
      assert.equal((await readAll(await store.get('wal_005/X.lzo'))).toString(), 'original');
    });
  });
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
