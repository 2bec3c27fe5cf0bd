// The tar stream reads a file's next chunk while its consumer still works on the current one. A read
// that fails meanwhile must surface as the stream's error when the next chunk is asked for, never as an
// unhandled rejection (which would end backup-push abruptly, without its clean-up).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { localOwnerNames } from '../../src/backup/push/owner-names';
import type { PartitionMember } from '../../src/backup/push/partitioner';
import { tarPartition } from '../../src/backup/push/tar-partition-stream';
import { tempDir } from '../helpers/cli';

test('a read ahead that fails while the consumer holds a chunk is the next chunk\'s error, not an unhandled rejection', async () => {
  const dir = tempDir('read-ahead');
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown): void => {
    unhandled.push(e);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    const path = join(dir.path, 'f');
    writeFileSync(path, Buffer.alloc(3 * 4096, 7));
    let takes = 0;
    const limiter = {
      chunkSize: 4096,
      take: async (): Promise<void> => {
        if (++takes === 2) throw new Error('read failed');
      },
    };
    const member = { name: 'base/1/f', path, kind: 'file', size: 3 * 4096, mode: 0o600, uid: 0, gid: 0, mtimeMs: 0 } as PartitionMember;
    const chunks = tarPartition([member], { limiter, owners: localOwnerNames(), reuseReadBuffer: true });
    assert.equal((await chunks.next()).value?.length, 512, 'the header');
    assert.equal((await chunks.next()).value?.length, 4096, 'the first chunk; the second read is under way and fails');
    // The consumer is busy (a compressor waiting for a free slot, say) while the read fails.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await assert.rejects(chunks.next(), /read failed/);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    dir.remove();
  }
});
