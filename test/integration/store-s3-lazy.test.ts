// The AWS SDK is loaded only by s3:// commands: a file:// wal-push (one process per WAL segment) must
// not pay for it. A module-resolution hook records what each run loads.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runWalERecordingLoads, tempDir } from '../helpers/cli';
import { startService } from '../helpers/services';

const AWS_SDK = /@aws-sdk|@smithy/;
const work = tempDir('s3lazy');
after(work.remove);


async function walPushLoads(env: Record<string, string>): Promise<{ code: number | null; stderr: string; loaded: string[] }> {
  const cwd = join(work.path, `c-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(cwd, 'pg_wal', 'archive_status'), { recursive: true });
  writeFileSync(join(cwd, 'pg_wal', '000000010000000000000001'), Buffer.alloc(1024 * 1024, 7));
  return runWalERecordingLoads(['wal-push', 'pg_wal/000000010000000000000001', '--pool-size', '1'], { cwd, env });
}

describe('S3 SDK lazy loading', () => {
  it('an s3:// wal-push loads @aws-sdk', async () => {
    const s = startService('s3rver');
    const r = await walPushLoads({
      WALE_S3_PREFIX: `s3://${s.S3_BUCKET}/lazy-${Date.now().toString(36)}`,
      WALE_S3_ENDPOINT: s.WALE_S3_ENDPOINT!,
      AWS_ACCESS_KEY_ID: s.AWS_ACCESS_KEY_ID!,
      AWS_SECRET_ACCESS_KEY: s.AWS_SECRET_ACCESS_KEY!,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.loaded.some((u) => /@aws-sdk\/client-s3/.test(u)), 'client-s3 loaded');
  });

  it('a file:// wal-push loads neither @aws-sdk nor @smithy', async () => {
    const r = await walPushLoads({ WALE_FILE_PREFIX: `file://${join(work.path, 'store')}` });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.loaded.some((u) => u.endsWith('/dist/wal-e.mjs')), 'the hook saw the bundle load');
    assert.deepEqual(r.loaded.filter((u) => AWS_SDK.test(u)), []);
  });
});
