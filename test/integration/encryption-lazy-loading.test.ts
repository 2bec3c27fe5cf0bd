// openpgp is large: archive_command starts one process per WAL segment, so a run without a key id must
// not load it. A module-resolution hook records what each run loads.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { packageRoot } from '../../src/util/dist-path';
import { runWalE } from '../helpers/cli';

const OPENPGP = /\/node_modules\/openpgp\//;
const work = mkdtempSync(join(tmpdir(), 'wal-e-enc-lazy-'));
after(() => rmSync(work, { recursive: true, force: true }));

const hook = join(work, 'record-loads.mjs');
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

async function pushLoads(seg: string, env: Record<string, string>): Promise<string[]> {
  const log = join(work, `loads-${seg}.txt`);
  writeFileSync(log, '');
  const wal = join(work, seg);
  writeFileSync(wal, Buffer.alloc(1 << 16, 1));
  const r = await runWalE(['wal-push', '--pool-size', '1', wal], {
    nodeArgs: ['--import', hook],
    env: { WALE_FILE_PREFIX: `file://${join(work, 'store')}`, WALE_TEST_LOAD_LOG: log, ...env },
  });
  assert.equal(r.code, 0, r.stderr);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('openpgp is loaded only when a key id is set', () => {
  it('wal-push without WALE_GPG_KEY_ID does not load openpgp', async () => {
    const loaded = await pushLoads('000000010000000000000001', {});
    assert.ok(loaded.some((u) => u.endsWith('/dist/wal-e.mjs')), 'the hook saw the bundle load');
    assert.deepEqual(loaded.filter((u) => OPENPGP.test(u)), []);
  });

  it('wal-push with WALE_GPG_KEY_ID loads it (so the check above can fail)', async () => {
    const loaded = await pushLoads('000000010000000000000002', {
      WALE_GPG_KEY_ID: '1F265DAD38738C6ABDA28E97D058DD2E00A9D5A8',
      WALE_GPG_PUBLIC_KEY_FILE: join(packageRoot(), 'test', 'fixtures', 'gpg-test-key', 'test-key-nopass.pub.asc'),
    });
    assert.ok(loaded.some((u) => OPENPGP.test(u)), `openpgp among: ${loaded.join(', ')}`);
  });
});
