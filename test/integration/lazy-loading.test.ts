// `wal-e version` and file:// commands must not load any cloud SDK: archive_command starts one process
// per WAL segment and every import costs. A module-resolution hook records what a run loads.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runWalERecordingLoads, tempDir } from '../helpers/cli';

const CLOUD_SDK = /@aws-sdk|@smithy|@azure|@google-cloud|google-auth-library|gaxios|openstack|pkgcloud|chunks\/(s3|wabs|azure|gs|gcs|swift)-store/;

const work = tempDir('lazy');
after(work.remove);


async function loadedBy(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  return (await runWalERecordingLoads(args, { env })).loaded;
}

describe('lazy loading', () => {
  it('wal-e version loads the CLI bundle and no cloud SDK', async () => {
    const loaded = await loadedBy(['version']);
    assert.ok(loaded.some((u) => u.endsWith('/dist/wal-e.mjs')), `the hook saw the bundle load: ${loaded.join(', ')}`);
    assert.deepEqual(loaded.filter((u) => CLOUD_SDK.test(u)), []);
  });

  it('a file:// command loads no cloud SDK', async () => {
    const store = join(work.path, 'store');
    const loaded = await loadedBy(['backup-list'], { WALE_FILE_PREFIX: `file://${store}` });
    assert.ok(loaded.some((u) => u.endsWith('/dist/wal-e.mjs')));
    assert.deepEqual(loaded.filter((u) => CLOUD_SDK.test(u)), []);
  });
});
