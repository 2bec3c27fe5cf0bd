// The contract every BlobStore adapter passes: one suite, run once per store.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { it } from 'node:test';
import type { BlobStore } from '../../src/storage/blob-store';
import { NotFoundError } from '../../src/util/errors';

export async function* chunksOf(data: Buffer, size = 64 * 1024): AsyncIterable<Uint8Array> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}

export async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

async function listKeys(store: BlobStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys.sort();
}

/** Registers the contract tests; makeStore gives a fresh, empty store for each test. */
export function storeContract(makeStore: () => Promise<BlobStore>): void {
  it('put then get returns the same bytes; head reports the size', async () => {
    const store = await makeStore();
    const data = randomBytes(300_000);
    const r = await store.put('wal_005/000000010000000000000001.lzo', chunksOf(data));
    assert.equal(r.size, data.length);
    assert.deepEqual(await readAll(await store.get('wal_005/000000010000000000000001.lzo')), data);
    const info = await store.head('wal_005/000000010000000000000001.lzo');
    assert.equal(info?.size, data.length);
    assert.ok(info && info.lastModifiedMs > Date.now() - 3_600_000);
  });

  it('put of an empty body stores an empty object', async () => {
    const store = await makeStore();
    await store.put('basebackups_005/empty', chunksOf(Buffer.alloc(0)));
    assert.equal((await readAll(await store.get('basebackups_005/empty'))).length, 0);
  });

  it('put replaces an existing object whole', async () => {
    const store = await makeStore();
    await store.put('k/obj', chunksOf(Buffer.from('first version, longer')));
    await store.put('k/obj', chunksOf(Buffer.from('second')));
    assert.equal((await readAll(await store.get('k/obj'))).toString(), 'second');
  });

  it('get of a missing key rejects with NotFoundError; head gives undefined', async () => {
    const store = await makeStore();
    await assert.rejects(store.get('wal_005/000000010000000000000099.lzo'), NotFoundError);
    assert.equal(await store.head('wal_005/000000010000000000000099.lzo'), undefined);
  });

  it('putIfAbsent creates once and never replaces', async () => {
    const store = await makeStore();
    const a = await store.putIfAbsent('wal_005/A.lzo', chunksOf(Buffer.from('original')));
    assert.equal(a.created, true);
    const b = await store.putIfAbsent('wal_005/A.lzo', chunksOf(Buffer.from('impostor')));
    assert.equal(b.created, false);
    assert.equal((await readAll(await store.get('wal_005/A.lzo'))).toString(), 'original');
  });

  it('concurrent putIfAbsent of one key: exactly one creates it (when the store says it is atomic)', async () => {
    const store = await makeStore();
    // Asked before the race: a store may learn during it that the server ignores conditional writes.
    const atomic = store.capabilities.atomicPutIfAbsent;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => store.putIfAbsent('wal_005/race.lzo', chunksOf(Buffer.from(`writer ${i}`)))),
    );
    const created = results.filter((r) => r.created).length;
    if (atomic) assert.equal(created, 1);
    // A store without an atomic conditional write (HEAD, then PUT) may let several writers through,
    // but at least one, and the object is always one writer's whole content.
    else assert.ok(created >= 1, `created ${created}`);
    assert.match((await readAll(await store.get('wal_005/race.lzo'))).toString(), /^writer \d$/);
  });

  it('list by prefix yields every object under it, with sizes, and nothing else', async () => {
    const store = await makeStore();
    const keys = [
      'basebackups_005/base_000000010000000000000002_00000040/extended_version.txt',
      'basebackups_005/base_000000010000000000000002_00000040/tar_partitions/part_00000000.tar.lzo',
      'basebackups_005/base_000000010000000000000002_00000040_backup_stop_sentinel.json',
      'wal_005/000000010000000000000002.lzo',
      'wal_005/000000010000000000000003.lzo',
    ];
    for (const [i, k] of keys.entries()) await store.put(k, chunksOf(Buffer.alloc(i + 1, 1)));
    assert.deepEqual(await listKeys(store, 'wal_005/'), keys.slice(3));
    assert.deepEqual(await listKeys(store, 'basebackups_005/'), keys.slice(0, 3));
    assert.deepEqual(await listKeys(store, 'wal_005/000000010000000000000003'), [keys[4]]);
    assert.deepEqual(await listKeys(store, 'nothing_here/'), []);
    const sizes: Record<string, number> = {};
    for await (const o of store.list('')) sizes[o.key] = o.size;
    assert.deepEqual(sizes, Object.fromEntries(keys.map((k, i) => [k, i + 1])));
  });

  it('deleteMany removes the keys, ignores missing ones, leaves the rest', async () => {
    const store = await makeStore();
    for (const k of ['wal_005/a.lzo', 'wal_005/b.lzo', 'wal_005/c.lzo']) await store.put(k, chunksOf(Buffer.from(k)));
    await store.deleteMany(['wal_005/a.lzo', 'wal_005/c.lzo', 'wal_005/never-existed.lzo']);
    assert.deepEqual(await listKeys(store, 'wal_005/'), ['wal_005/b.lzo']);
  });

  it('lists and deletes more than 1000 keys (pagination and delete batches hidden)', async () => {
    const store = await makeStore();
    const n = 1100;
    const keys = Array.from({ length: n }, (_, i) => `wal_005/${i.toString(16).toUpperCase().padStart(24, '0')}.lzo`);
    for (let i = 0; i < n; i += 25) {
      await Promise.all(keys.slice(i, i + 25).map((k) => store.put(k, chunksOf(Buffer.from(k)))));
    }
    await store.put('basebackups_005/outside', chunksOf(Buffer.from('x')));
    // Container listings are eventually consistent on some stores (Swift updates them asynchronously
    // under load): allow them a bounded time to catch up, then insist on every key.
    let listed = await listKeys(store, 'wal_005/');
    for (let waited = 0; listed.length < n && waited < 30_000; waited += 500) {
      await new Promise((r) => setTimeout(r, 500));
      listed = await listKeys(store, 'wal_005/');
    }
    assert.equal(listed.length, n);
    assert.deepEqual(listed, [...keys].sort());
    assert.equal(new Set(listed).size, n, 'no key listed twice across pages');
    await store.deleteMany(keys);
    let left = await listKeys(store, 'wal_005/');
    for (let waited = 0; left.length > 0 && waited < 30_000; waited += 500) {
      await new Promise((r) => setTimeout(r, 500));
      left = await listKeys(store, 'wal_005/');
    }
    assert.deepEqual(left, []);
    assert.deepEqual(await listKeys(store, ''), ['basebackups_005/outside']);
  });

  it('a put whose body fails leaves no object', async () => {
    const store = await makeStore();
    async function* failing(): AsyncIterable<Uint8Array> {
      yield Buffer.alloc(1000, 7);
      throw new Error('source broke');
    }
    await assert.rejects(store.put('wal_005/broken.lzo', failing()), /source broke/);
    assert.equal(await store.head('wal_005/broken.lzo'), undefined);
    assert.deepEqual(await listKeys(store, 'wal_005/'), []);
  });
}
