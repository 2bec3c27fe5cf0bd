// A partition upload that the store fails part-way is retried with a fresh stream, and the failed
// attempt's stream is destroyed: its compressor would otherwise keep a slot of the shared lzop pool, and
// enough failed attempts would leave every later partition waiting for a slot for ever.
import assert from 'node:assert/strict';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, test } from 'node:test';
import { localOwnerNames } from '../../src/backup/push/owner-names';
import type { Partition } from '../../src/backup/push/partitioner';
import { UNLIMITED } from '../../src/backup/push/rate-limiter';
import { uploadPartition } from '../../src/backup/push/upload-partition';
import { partitionKey } from '../../src/layout/backup-name';
import { closeSharedLzoPools, lzopDecode } from '../../src/pipeline/lzop/index';
import type { BlobStore, PutOptions, PutResult } from '../../src/storage/blob-store';
import { FileStore } from '../../src/storage/file/file-store';
import { parseStoreLocation } from '../../src/storage/location';
import { StoreError } from '../../src/util/errors';
import { tempDir } from '../helpers/cli';

after(() => closeSharedLzoPools());

/** The file store, except that the first `failures` puts of each key read one chunk and then fail. */
function flakyStore(inner: FileStore, failures: number): { store: BlobStore; bodies: Readable[] } {
  const attempts = new Map<string, number>();
  const bodies: Readable[] = [];
  const store = Object.create(inner) as BlobStore;
  store.put = async (key: string, body: AsyncIterable<Uint8Array>, opts?: PutOptions): Promise<PutResult> => {
    bodies.push(body as Readable);
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    if (n > failures) return inner.put(key, body, opts);
    const it = body[Symbol.asyncIterator]();
    await it.next();
    // Like an SDK that gives up on a request: the body is neither read further nor closed here.
    throw new StoreError('connection reset by peer', { retryable: true });
  };
  return { store, bodies };
}

test('failed partition attempts release their stream: many at once never starve the lzop pool', { timeout: 120_000 }, async () => {
  const dir = tempDir('upload-retry');
  try {
    const data = join(dir.path, 'data');
    mkdirSync(data);
    const files: Buffer[] = [];
    const partitions: Partition[] = [];
    // Ten partitions at once, each failing twice: twenty abandoned attempts, more than the slots of
    // the pool on any usual machine (two per core).
    for (let i = 0; i < 10; i++) {
      const content = randomFillSync(Buffer.alloc(3 * 1024 * 1024 + i * 1000));
      const path = join(data, `f${i}`);
      writeFileSync(path, content);
      files.push(content);
      partitions.push({
        number: i,
        bytes: content.length,
        members: [{ name: `base/1/${1000 + i}`, path, kind: 'file', size: content.length, mode: 0o600, uid: process.getuid!(), gid: process.getgid!(), mtimeMs: Date.now() }],
      } as Partition);
    }
    const inner = new FileStore(parseStoreLocation(`file://localhost${join(dir.path, 'store')}`));
    const { store, bodies } = flakyStore(inner, 2);
    await Promise.all(
      partitions.map((p) =>
        uploadPartition(p, {
          store,
          backupName: 'base_000000010000000000000002_00000040',
          encryption: undefined,
          stream: { limiter: UNLIMITED, owners: localOwnerNames() },
          attempts: 3,
        }),
      ),
    );
    assert.equal(bodies.length, 30);
    const failed = bodies.filter((b) => !b.readableEnded);
    assert.equal(failed.length, 20, 'twenty attempts were cut short');
    for (const b of failed) assert.equal(b.destroyed, true, 'a failed attempt\'s stream is destroyed');
    // Every partition arrived whole on the third attempt: its tar member holds the file's bytes.
    for (const p of partitions) {
      const key = partitionKey('base_000000010000000000000002_00000040', p.number);
      const parts: Buffer[] = [];
      for await (const b of lzopDecode(await inner.get(key), key)) parts.push(b);
      const tar = Buffer.concat(parts);
      assert.ok(tar.subarray(512, 512 + files[p.number]!.length).equals(files[p.number]!), `partition ${p.number}`);
    }
  } finally {
    dir.remove();
  }
});
