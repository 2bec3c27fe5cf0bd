// The gs:// adapter driven through the real @google-cloud/storage SDK against the project's GCS
// JSON-API test server (no real GCS server runs here): the BlobStore contract, WAL-E's object names
// with their leading "/" (spec §3.7), integrity checks and preconditions as GCS applies them.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Config } from '../../src/config/config';
import type { GsSettings } from '../../src/config/credentials';
import { createGsStore } from '../../src/storage/gs/gs-store';
import { emulatorEndpoint } from '../../src/storage/gs/gs-client';
import { parseStoreLocation } from '../../src/storage/location';
import { NotFoundError } from '../../src/util/errors';
import { startGcsTestServer, type GcsTestServer } from '../helpers/gcs-server';
import { chunksOf, readAll, storeContract } from '../helpers/store-contract';

const BUCKET = 'wale-test';
const config = { retries: 3 } as Config;
let server: GcsTestServer;
let settings: GsSettings;

before(async () => {
  server = await startGcsTestServer([BUCKET]);
  settings = { credentialsFile: undefined, project: 'test-project', emulatorHost: server.endpoint };
});
after(() => server.stop());

const prefix = (): string => `gs://${BUCKET}/t-${randomBytes(6).toString('hex')}/pg`;

describe('gs store (GCS test server): contract', () => {
  storeContract(() => createGsStore(parseStoreLocation(prefix()), settings, config));
});

describe('gs store (GCS test server): names, integrity, preconditions', () => {
  it('writes object names exactly as WAL-E: "/" + PATH_PREFIX + key', async () => {
    const p = `gs://${BUCKET}/a/b`;
    const store = await createGsStore(parseStoreLocation(p), settings, config);
    await store.put('wal_005/000000010000000000000001.lzo', chunksOf(Buffer.from('x')));
    await store.put('basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json', chunksOf(Buffer.from('{}')));
    assert.deepEqual(server.names(BUCKET).filter((n) => n.startsWith('/a/b/')), [
      '/a/b/basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json',
      '/a/b/wal_005/000000010000000000000001.lzo',
    ]);
    // Listing asks for the same leading "/" (spec §6.3: list_blobs(prefix="/" + prefix)).
    const listed: string[] = [];
    for await (const o of store.list('wal_005/')) {
      listed.push(o.key);
      assert.match(o.lastModified, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    }
    assert.deepEqual(listed, ['wal_005/000000010000000000000001.lzo']);
    assert.ok(server.requests.some((r) => r.includes('prefix=%2Fa%2Fb%2Fwal_005%2F')), server.requests.join('\n'));
  });

  it('a body larger than one upload chunk goes through a chunked resumable session and round-trips', async () => {
    const store = await createGsStore(parseStoreLocation(prefix()), settings, config);
    const data = randomBytes(19 * 1024 * 1024 + 5);
    const before = server.requests.length;
    const r = await store.putIfAbsent('basebackups_005/part.tar.lzo', chunksOf(data, 1_000_003));
    assert.deepEqual(r, { size: data.length, created: true });
    const sent = server.requests.slice(before);
    assert.ok(sent.some((x) => x.startsWith('POST /upload/storage/v1/b/wale-test/o?') && x.includes('uploadType=resumable') && x.includes('ifGenerationMatch=0')), sent.join('\n'));
    assert.equal(sent.filter((x) => x.startsWith('PUT ') && x.includes('upload_id=')).length, 3, sent.join('\n'));
    assert.deepEqual(await readAll(await store.get('basebackups_005/part.tar.lzo')), data);
    const again = await store.putIfAbsent('basebackups_005/part.tar.lzo', chunksOf(randomBytes(10 * 1024 * 1024)));
    assert.equal(again.created, false);
    assert.deepEqual(await readAll(await store.get('basebackups_005/part.tar.lzo')), data);
  });

  it('a download whose bytes do not match x-goog-hash fails instead of returning corrupt data', async () => {
    const store = await createGsStore(parseStoreLocation(prefix()), settings, config);
    await store.put('wal_005/c.lzo', chunksOf(randomBytes(50_000)));
    server.inject({ fault: { kind: 'corrupt' }, times: 1, match: (r) => r.query.get('alt') === 'media' });
    await assert.rejects(async () => readAll(await store.get('wal_005/c.lzo')), /download|mismatch|CONTENT_DOWNLOAD_MISMATCH/i);
  });

  it('a missing bucket is a store error with a hint, not "not found"', async () => {
    const store = await createGsStore(parseStoreLocation('gs://no-such-bucket/x'), settings, config);
    await assert.rejects(store.get('wal_005/000000010000000000000001.lzo'), (err: Error & { hint?: string }) => {
      assert.ok(!(err instanceof NotFoundError));
      assert.match(err.hint ?? '', /bucket does not exist/);
      return true;
    });
  });

  it('STORAGE_EMULATOR_HOST forms all map to the same endpoint', () => {
    assert.equal(emulatorEndpoint('127.0.0.1:4443'), 'http://127.0.0.1:4443');
    assert.equal(emulatorEndpoint('http://127.0.0.1:4443/'), 'http://127.0.0.1:4443');
    assert.equal(emulatorEndpoint('http://127.0.0.1:4443/storage/v1'), 'http://127.0.0.1:4443');
    assert.equal(emulatorEndpoint('https://gcs.example:8443'), 'https://gcs.example:8443');
  });
});
