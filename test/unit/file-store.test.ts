// File store: the shared contract, plus what only a local filesystem can show (atomicity after kill -9,
// temp-file sweeping, directory pruning, WAL-E's last-modified text).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FileStore, fileLastModified } from '../../src/storage/file/file-store';
import { TEMP_DIR_NAME } from '../../src/storage/file/temp-files';
import { parseStoreLocation } from '../../src/storage/location';
import { tempDir } from '../helpers/cli';
import { chunksOf, readAll, storeContract } from '../helpers/store-contract';

// Child mode: this same file, run with WALE_TEST_SLOW_PUT=<dir>, performs a slow 100 MiB put and is
// killed with SIGKILL by the parent test.
if (process.env.WALE_TEST_SLOW_PUT) {
  const store = new FileStore(parseStoreLocation(`file://${process.env.WALE_TEST_SLOW_PUT}`));
  async function* slow(): AsyncIterable<Uint8Array> {
    const chunk = Buffer.alloc(1 << 20, 0x5a);
    for (let i = 0; i < 100; i++) {
      if (i === 10) process.stdout.write('halfway\n');
      await new Promise((r) => setTimeout(r, i >= 10 ? 50 : 0));
      yield chunk;
    }
  }
  await store.put('wal_005/000000010000000000000010.lzo', slow());
  process.exit(0);
}

const dirs: (() => void)[] = [];
after(() => dirs.forEach((d) => d()));

function freshStore(): { store: FileStore; root: string } {
  const d = tempDir('file-store');
  dirs.push(d.remove);
  const root = join(d.path, 'archive', 'pg');
  return { store: new FileStore(parseStoreLocation(`file://localhost${root}`)), root };
}

describe('file store: BlobStore contract', () => {
  storeContract(async () => freshStore().store);
});

describe('file store: local guarantees', () => {
  it('kill -9 during a 100 MiB put leaves no object at the final key, and the next put sweeps the temp file', async () => {
    const { store, root } = freshStore();
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, WALE_TEST_SLOW_PUT: root, NODE_TEST_CONTEXT: undefined },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('halfway')) resolve();
      });
      child.on('exit', () => reject(new Error('child exited before it was killed')));
    });
    const tmpDir = join(root, 'wal_005', TEMP_DIR_NAME);
    assert.equal(readdirSync(tmpDir).length, 1, 'the writer has a temp file in flight');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    assert.equal(existsSync(join(root, 'wal_005', '000000010000000000000010.lzo')), false);
    assert.equal(await store.head('wal_005/000000010000000000000010.lzo'), undefined);
    const listed: string[] = [];
    for await (const o of store.list('wal_005/')) listed.push(o.key);
    assert.deepEqual(listed, [], 'listing never shows temp files');

    await store.put('wal_005/000000010000000000000011.lzo', chunksOf(Buffer.from('next run')));
    assert.deepEqual(existsSync(tmpDir) ? readdirSync(tmpDir) : [], [], 'the dead writer\'s temp file was swept');
  });

  it('SIGTERM during a put removes the temp file', async () => {
    const { root } = freshStore();
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, WALE_TEST_SLOW_PUT: root, NODE_TEST_CONTEXT: undefined },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('halfway') && resolve()));
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 143);
    const tmpDir = join(root, 'wal_005', TEMP_DIR_NAME);
    assert.deepEqual(existsSync(tmpDir) ? readdirSync(tmpDir) : [], []);
    assert.equal(existsSync(join(root, 'wal_005', '000000010000000000000010.lzo')), false);
  });

  it('writes where WAL-E does: /PATH_PREFIX/key, host ignored', async () => {
    const { store, root } = freshStore();
    await store.put('basebackups_005/base_x/extended_version.txt', chunksOf(Buffer.from('PostgreSQL 15')));
    assert.equal(statSync(join(root, 'basebackups_005/base_x/extended_version.txt')).size, 13);
  });

  it('deleteMany prunes directories left empty, never the prefix root', async () => {
    const { store, root } = freshStore();
    await store.put('basebackups_005/base_a/tar_partitions/part_00000000.tar.lzo', chunksOf(Buffer.from('x')));
    await store.put('wal_005/k.lzo', chunksOf(Buffer.from('y')));
    await store.deleteMany(['basebackups_005/base_a/tar_partitions/part_00000000.tar.lzo', 'wal_005/k.lzo']);
    assert.equal(existsSync(join(root, 'basebackups_005')), false);
    assert.equal(existsSync(join(root, 'wal_005')), false);
    assert.equal(existsSync(root), true);
  });

  it('last-modified text is WAL-E\'s: UTC ISO, no zone, microseconds only when non-zero', async () => {
    assert.equal(fileLastModified(1485978935123456789n).text, '2017-02-01T19:55:35.123456');
    assert.equal(fileLastModified(1485978935000000000n).text, '2017-02-01T19:55:35');
    const { store, root } = freshStore();
    await store.put('basebackups_005/s.json', chunksOf(Buffer.from('{}')));
    utimesSync(join(root, 'basebackups_005/s.json'), 1485978935, 1485978935);
    assert.equal((await store.head('basebackups_005/s.json'))?.lastModified, '2017-02-01T19:55:35');
  });

  it('refuses keys that climb out of the prefix', async () => {
    const { store } = freshStore();
    await assert.rejects(store.put('wal_005/../../escape', chunksOf(Buffer.from('x'))), /invalid object key/);
    await assert.rejects(store.get('../x'), /invalid object key/);
  });

  it('get streams a large object back intact', async () => {
    const { store } = freshStore();
    const data = Buffer.alloc(5 * 1024 * 1024 + 17, 3);
    await store.put('big', chunksOf(data, 1 << 20));
    assert.deepEqual(await readAll(await store.get('big')), data);
  });
});
