// Swift with Keystone v3 (SWIFT_AUTH_VERSION=3). The request body is checked always; the live part
// runs only with WALE_TEST_SWIFT_KEYSTONE=1 and then FAILS (never skips) when Keystone is not there:
// start Swift with `SWIFT_KEYSTONE=1 scripts/services/start-swift.sh` (after stop-swift.sh if it
// already runs without Keystone).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SwiftSettings } from '../../src/config/credentials';
import { retryPolicyFor } from '../../src/storage/http/retry-policy';
import { parseStoreLocation } from '../../src/storage/location';
import { authenticate, keystoneV3Body } from '../../src/storage/swift/swift-auth';
import { SwiftConnection } from '../../src/storage/swift/swift-connection';
import { SwiftStore } from '../../src/storage/swift/swift-store';
import { Secret } from '../../src/util/secret';
import { runWalE, tempDir } from '../helpers/cli';
import { startService } from '../helpers/services';
import { chunksOf, readAll } from '../helpers/store-contract';

describe('keystone v3 request body', () => {
  it('is the documented password-method JSON with user, project and their domains', () => {
    const settings: SwiftSettings = {
      authUrl: 'http://127.0.0.1:5000/v3',
      user: 'tester',
      password: new Secret('testing'),
      tenant: undefined,
      region: 'RegionOne',
      endpointType: 'publicURL',
      authVersion: '3',
      keystoneV3: { SWIFT_USER_DOMAIN_NAME: 'Default', SWIFT_PROJECT_NAME: 'test', SWIFT_PROJECT_DOMAIN_NAME: 'Default' },
    };
    assert.deepEqual(keystoneV3Body(settings), {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { password: 'testing', name: 'tester', domain: { name: 'Default' } } },
        },
        scope: { project: { name: 'test', domain: { name: 'Default' } } },
      },
    });
    // SWIFT_TENANT stands in for the project name, ids win over names.
    const byTenant = keystoneV3Body({ ...settings, tenant: 'legacy', keystoneV3: { SWIFT_USER_DOMAIN_ID: 'default', SWIFT_PROJECT_DOMAIN_ID: 'default' } });
    assert.deepEqual((byTenant.auth as { scope: unknown }).scope, { project: { name: 'legacy', domain: { id: 'default' } } });
    const byId = keystoneV3Body({ ...settings, keystoneV3: { SWIFT_PROJECT_ID: 'p-1', SWIFT_PROJECT_NAME: 'ignored' } });
    assert.deepEqual((byId.auth as { scope: unknown }).scope, { project: { id: 'p-1' } });
  });
});

if (process.env.WALE_TEST_SWIFT_KEYSTONE === '1') {
  describe('swift store with Keystone v3 (live)', () => {
    const env = startService('swift', { SWIFT_KEYSTONE: '1' });
    const container = `wal-e-ks-${process.pid}-${randomBytes(3).toString('hex')}`;
    const work = tempDir('swift-keystone');
    let settings: SwiftSettings;
    let storageUrl = '';
    let token = '';

    before(async () => {
      assert.ok(
        env.SWIFT_KEYSTONE_AUTHURL,
        'WALE_TEST_SWIFT_KEYSTONE=1 but the running Swift has no Keystone: stop it and start it with SWIFT_KEYSTONE=1',
      );
      settings = {
        authUrl: env.SWIFT_KEYSTONE_AUTHURL,
        user: env.SWIFT_KEYSTONE_USER,
        password: new Secret(env.SWIFT_KEYSTONE_PASSWORD!),
        tenant: undefined,
        region: env.SWIFT_KEYSTONE_REGION,
        endpointType: 'publicURL',
        authVersion: '3',
        keystoneV3: {
          SWIFT_USER_DOMAIN_NAME: env.SWIFT_KEYSTONE_DOMAIN!,
          SWIFT_PROJECT_NAME: env.SWIFT_KEYSTONE_PROJECT!,
          SWIFT_PROJECT_DOMAIN_NAME: env.SWIFT_KEYSTONE_DOMAIN!,
        },
      };
      const auth = await authenticate(settings, AbortSignal.timeout(30_000));
      assert.match(auth.storageUrl, /\/v1\/KEY_[0-9a-f]+$/, 'the catalog gave the project account');
      storageUrl = auth.storageUrl;
      token = auth.token.reveal();
      const res = await fetch(`${storageUrl}/${container}`, { method: 'PUT', headers: { 'X-Auth-Token': token } });
      assert.ok(res.status === 201 || res.status === 202, `container created: HTTP ${res.status}`);
    });

    after(async () => {
      work.remove();
      if (!token) return;
      const list = await fetch(`${storageUrl}/${container}?format=json`, { headers: { 'X-Auth-Token': token } });
      const names = list.ok ? ((await list.json()) as { name: string }[]).map((o) => o.name) : [];
      for (const n of names) {
        await (await fetch(`${storageUrl}/${container}/${n.split('/').map(encodeURIComponent).join('/')}`, { method: 'DELETE', headers: { 'X-Auth-Token': token } })).arrayBuffer();
      }
      await (await fetch(`${storageUrl}/${container}`, { method: 'DELETE', headers: { 'X-Auth-Token': token } })).arrayBuffer();
    });

    it('put, get, list and delete through a v3 token', async () => {
      const store = new SwiftStore(parseStoreLocation(`swift://${container}/ks/pg`), new SwiftConnection(settings, retryPolicyFor({ retries: 3 })));
      const data = randomBytes(100_000);
      await store.put('wal_005/000000010000000000000001.lzo', chunksOf(data));
      assert.deepEqual(await readAll(await store.get('wal_005/000000010000000000000001.lzo')), data);
      const keys: string[] = [];
      for await (const o of store.list('')) keys.push(o.key);
      assert.deepEqual(keys, ['wal_005/000000010000000000000001.lzo']);
      await store.deleteMany(keys);
      assert.equal(await store.head('wal_005/000000010000000000000001.lzo'), undefined);
    });

    it('wal-push and wal-fetch with SWIFT_AUTH_VERSION=3 through the CLI', async () => {
      const cli = {
        WALE_SWIFT_PREFIX: `swift://${container}/cli/pg`,
        SWIFT_AUTHURL: env.SWIFT_KEYSTONE_AUTHURL!,
        SWIFT_AUTH_VERSION: '3',
        SWIFT_USER: env.SWIFT_KEYSTONE_USER!,
        SWIFT_PASSWORD: env.SWIFT_KEYSTONE_PASSWORD!,
        SWIFT_USER_DOMAIN_NAME: env.SWIFT_KEYSTONE_DOMAIN!,
        SWIFT_PROJECT_NAME: env.SWIFT_KEYSTONE_PROJECT!,
        SWIFT_PROJECT_DOMAIN_NAME: env.SWIFT_KEYSTONE_DOMAIN!,
        SWIFT_REGION: env.SWIFT_KEYSTONE_REGION!,
      };
      const data = Buffer.alloc(16 * 1024 * 1024, 7);
      randomBytes(100_000).copy(data);
      const wal = join(work.path, '000000010000000000000002');
      writeFileSync(wal, data);
      const push = await runWalE(['wal-push', wal], { env: cli });
      assert.equal(push.code, 0, push.stderr);
      const dest = join(work.path, 'restored');
      const fetched = await runWalE(['wal-fetch', '--prefetch', '0', '000000010000000000000002', dest], { env: cli });
      assert.equal(fetched.code, 0, fetched.stderr);
      assert.equal(createHash('md5').update(readFileSync(dest)).digest('hex'), createHash('md5').update(data).digest('hex'));
      const miss = await runWalE(['wal-fetch', '--prefetch', '0', '000000010000000000000003', join(work.path, 'miss')], { env: cli });
      assert.equal(miss.code, 1, miss.stderr);
    });
  });
}
