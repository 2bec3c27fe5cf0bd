// The wabs:// adapter against Azurite (Microsoft's emulator, real Blob REST API with SharedKey and SAS
// checks): the BlobStore contract, WAL-E's blob names (spec §3.7) and SAS handling.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Config } from '../../src/config/config';
import type { WabsSettings } from '../../src/config/credentials';
import { parseStoreLocation } from '../../src/storage/location';
import { createWabsStore } from '../../src/storage/wabs/wabs-store';
import { Secret } from '../../src/util/secret';
import { startService } from '../helpers/services';
import { chunksOf, readAll, storeContract } from '../helpers/store-contract';

const env = startService('azurite');
const CONTAINER = env.AZURE_STORAGE_CONTAINER!;
const ENDPOINT = env.AZURE_STORAGE_BLOB_ENDPOINT!;
const ACCOUNT = env.AZURE_STORAGE_ACCOUNT!;
const KEY = env.AZURE_STORAGE_KEY!;
const config = { retries: 3 } as Config;
const keySettings: WabsSettings = { accountName: ACCOUNT, accessKey: new Secret(KEY), sasToken: undefined, endpoint: ENDPOINT };

function prefix(): string {
  return `wabs://${CONTAINER}/t-${randomBytes(6).toString('hex')}/pg`;
}

async function rawBlobNames(namePrefix: string): Promise<string[]> {
  const { ContainerClient, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  const c = new ContainerClient(`${ENDPOINT}/${CONTAINER}`, new StorageSharedKeyCredential(ACCOUNT, KEY));
  const names: string[] = [];
  for await (const b of c.listBlobsFlat({ prefix: namePrefix })) names.push(b.name);
  return names.sort();
}

/** A container SAS with the given permissions, made by hand (the SDK's helper needs its own types). */
async function containerSas(permissions: string): Promise<string> {
  const { generateBlobSASQueryParameters, ContainerSASPermissions, SASProtocol, StorageSharedKeyCredential } = await import('@azure/storage-blob');
  return generateBlobSASQueryParameters(
    {
      containerName: CONTAINER,
      permissions: ContainerSASPermissions.parse(permissions),
      expiresOn: new Date(Date.now() + 3600_000),
      protocol: SASProtocol.HttpsAndHttp,
    },
    new StorageSharedKeyCredential(ACCOUNT, KEY),
  ).toString();
}

describe('wabs store (Azurite): contract', () => {
  storeContract(() => createWabsStore(parseStoreLocation(prefix()), keySettings, config));
});

describe('wabs store (Azurite): names and credentials', () => {
  it('writes blob names exactly as WAL-E: PATH_PREFIX + key, no leading "/"', async () => {
    const p = `wabs://${CONTAINER}/n-${randomBytes(4).toString('hex')}/a/b`;
    const store = await createWabsStore(parseStoreLocation(p), keySettings, config);
    await store.put('wal_005/000000010000000000000001.lzo', chunksOf(Buffer.from('x')));
    await store.put('basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json', chunksOf(Buffer.from('{}')));
    const base = p.slice(`wabs://${CONTAINER}/`.length);
    assert.deepEqual(await rawBlobNames(base), [
      `${base}/basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json`,
      `${base}/wal_005/000000010000000000000001.lzo`,
    ]);
    assert.equal(store.url('wal_005/000000010000000000000001.lzo'), `${p}/wal_005/000000010000000000000001.lzo`);
    const listed: string[] = [];
    for await (const o of store.list('')) {
      listed.push(o.key);
      assert.match(o.lastModified, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);
    }
    assert.deepEqual(listed.sort(), ['basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json', 'wal_005/000000010000000000000001.lzo']);
  });

  it('a multi-block body (3 blocks) round-trips and keeps its MD5', async () => {
    const store = await createWabsStore(parseStoreLocation(prefix()), keySettings, config);
    const data = randomBytes(9 * 1024 * 1024 + 17);
    const r = await store.putIfAbsent('basebackups_005/part.tar.lzo', chunksOf(data, 1000_003));
    assert.deepEqual(r, { size: data.length, created: true });
    assert.deepEqual(await readAll(await store.get('basebackups_005/part.tar.lzo')), data);
  });

  for (const [label, lead] of [['without', ''], ['with', '?']] as const) {
    it(`a container SAS token ${label} a leading "?" reads, writes, lists and deletes`, async () => {
      const sas = lead + (await containerSas('racwdl'));
      const store = await createWabsStore(parseStoreLocation(prefix()), { accountName: ACCOUNT, accessKey: undefined, sasToken: new Secret(sas), endpoint: ENDPOINT }, config);
      await store.put('wal_005/x.lzo', chunksOf(Buffer.from('via sas')));
      assert.equal((await readAll(await store.get('wal_005/x.lzo'))).toString(), 'via sas');
      const keys: string[] = [];
      for await (const o of store.list('wal_005/')) keys.push(o.key);
      assert.deepEqual(keys, ['wal_005/x.lzo']);
      await store.deleteMany(['wal_005/x.lzo', 'wal_005/y.lzo']);
      assert.equal(await store.head('wal_005/x.lzo'), undefined);
    });
  }

  it('a read-only SAS fails a put with a StoreError that shows no signature, and is not retried', async () => {
    const sas = await containerSas('rl');
    const store = await createWabsStore(parseStoreLocation(prefix()), { accountName: ACCOUNT, accessKey: undefined, sasToken: new Secret(sas), endpoint: ENDPOINT }, config);
    const started = Date.now();
    await assert.rejects(store.put('wal_005/x.lzo', chunksOf(Buffer.from('no'))), (err: Error & { detail?: string }) => {
      assert.match(err.message, /could not upload/);
      assert.match(err.detail ?? '', /403/);
      const sig = /sig=([^&]+)/.exec(sas)![1]!;
      assert.ok(!`${err.message} ${err.detail}`.includes(decodeURIComponent(sig)) && !`${err.message} ${err.detail}`.includes(sig));
      return true;
    });
    assert.ok(Date.now() - started < 5000, 'a 403 is not retried');
  });

  it('a wrong account key is refused (HTTP 403), not retried', async () => {
    const bad = Buffer.from(createHmac('sha256', 'x').update('y').digest()).toString('base64');
    const store = await createWabsStore(parseStoreLocation(prefix()), { ...keySettings, accessKey: new Secret(bad) }, config);
    await assert.rejects(store.head('wal_005/x.lzo'), /could not read the metadata/);
  });
});
