// `wal-e version` and file:// commands must not load any cloud SDK: archive_command starts one process
// per WAL segment and every import costs. A module-resolution hook records what a run loads.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runWalE, tempDir } from '../helpers/cli';

const CLOUD_SDK = /@aws-sdk|@smithy|@azure|@google-cloud|google-auth-library|gaxios|openstack|pkgcloud|chunks\/(s3|wabs|azure|gs|gcs|swift)-store/;

const work = tempDir('lazy');
after(work.remove);

const hook = join(work.path, 'record-loads.mjs');
writeFileSync(
  hook,
  `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`
  import { appendFileSync } from 'node:fs';
  export async function resolve(specifier, context, next) {
    const r = await next(specifier, context);
    appendFileSync(process.env.WALE_TEST_LOAD_LOG, r.url + '\\\\n');
    return r;
  }\`));
`,
);

async function loadedBy(args: string[], env: Record<string, string> = {}): Promise<string[]> {
  const log = join(work.path, `loads-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(log, '');
  await runWalE(args, { nodeArgs: ['--import', hook], env: { ...env, WALE_TEST_LOAD_LOG: log } });
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
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
