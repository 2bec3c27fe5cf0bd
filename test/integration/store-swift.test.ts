// The swift:// store against a real OpenStack Swift (SAIO, TempAuth): the shared store contract with
// auth v1 and with auth v2 (through a v2.0 token endpoint in front of TempAuth), WAL-E's key layout,
// static large objects, listings past 10,000 objects, and the built CLI end to end (wal-push,
// wal-fetch of objects WAL-E wrote, faults injected by a proxy, no cloud SDK loaded).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SwiftSettings } from '../../src/config/credentials';
import { DEFAULT_RETRY_POLICY } from '../../src/storage/http/retry-policy';
import { parseStoreLocation } from '../../src/storage/location';
import { SwiftConnection } from '../../src/storage/swift/swift-connection';
import { SwiftStore, type SwiftStoreOptions } from '../../src/storage/swift/swift-store';
import { StoreError } from '../../src/util/errors';
import { packageRoot } from '../../src/util/dist-path';
import { FaultProxy } from '../helpers/fault-proxy';
import { startKeystoneV2, type KeystoneV2 } from '../helpers/keystone-v2';
import { logMessages, runWalE, runWalERecordingLoads, tempDir } from '../helpers/cli';
import { startService } from '../helpers/services';
import { chunksOf, readAll, storeContract } from '../helpers/store-contract';

const swift = startService('swift');
const CONTAINER = `wal-e-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const FIXTURES = join(packageRoot(), 'test', 'fixtures', 'wale-store-plain', 'wal_005');
const work = tempDir('swift');

/** Payload MD5s of WAL-E's fixture objects (what `lzop -dc` gives), from the fixture's manifest. */
const FIXTURE_PAYLOAD_MD5: Record<string, string> = {
  '000000010000000000000002': '511df642042126f183e3a4322ed80096',
  '000000010000000000000003': '5cb330ea50c6da613f47de944d1e2245',
  '00000002.history': 'ca4567fad7e9dba719aebb7b4b6d7920',
};

// Short retry budget for tests: the product default would make "permanent failure" tests take minutes.
const TEST_POLICY = { ...DEFAULT_RETRY_POLICY, maxAttempts: 4, baseDelayMs: 50, maxDelayMs: 200, requestTimeoutMs: 30_000 };

function v1Settings(authUrl = swift.SWIFT_AUTHURL!): SwiftSettings {
  return {
    authUrl,
    user: swift.SWIFT_USER,
    password: { reveal: () => swift.SWIFT_PASSWORD! } as SwiftSettings['password'],
    tenant: undefined,
    region: undefined,
    endpointType: 'publicURL',
    authVersion: '1',
    keystoneV3: {},
  };
}

/** Raw Swift access for checks and set-up, independent of the code under test. */
async function raw(method: string, path: string, init: { body?: Buffer | string; headers?: Record<string, string> } = {}): Promise<Response> {
  const login = await fetch(swift.SWIFT_AUTHURL!, { headers: { 'X-Auth-User': swift.SWIFT_USER!, 'X-Auth-Key': swift.SWIFT_PASSWORD! } });
  await login.arrayBuffer();
  return fetch(login.headers.get('x-storage-url')! + path, {
    method,
    headers: { ...init.headers, 'X-Auth-Token': login.headers.get('x-auth-token')! },
    ...(init.body !== undefined ? { body: init.body } : {}),
  });
}

async function rawNames(prefix: string): Promise<string[]> {
  const names: string[] = [];
  let marker = '';
  for (;;) {
    const res = await raw('GET', `/${CONTAINER}?format=json&prefix=${encodeURIComponent(prefix)}&marker=${encodeURIComponent(marker)}`);
    const page = (await res.json()) as { name: string }[];
    if (page.length === 0) return names;
    names.push(...page.map((o) => o.name));
    marker = page[page.length - 1]!.name;
  }
}

let serial = 0;
function swiftStore(settings: SwiftSettings, path: string, options: Partial<SwiftStoreOptions> = {}): SwiftStore {
  return new SwiftStore(parseStoreLocation(`swift://${CONTAINER}/${path}`), new SwiftConnection(settings, TEST_POLICY), options);
}
const freshPath = (label: string): string => `${label}/${++serial}-${randomBytes(3).toString('hex')}/pg`;

/** The environment a CLI run needs for a prefix in the test container. */
function cliEnv(path: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    WALE_SWIFT_PREFIX: `swift://${CONTAINER}/${path}`,
    SWIFT_AUTHURL: swift.SWIFT_AUTHURL!,
    SWIFT_USER: swift.SWIFT_USER!,
    SWIFT_PASSWORD: swift.SWIFT_PASSWORD!,
    SWIFT_AUTH_VERSION: '1',
    ...extra,
  };
}

before(async () => {
  const res = await raw('PUT', `/${CONTAINER}`);
  assert.ok(res.status === 201 || res.status === 202, `container created: HTTP ${res.status}`);
});

after(async () => {
  // Leave the shared server as we found it: every object of the test container, then the container.
  const names = await rawNames('').catch(() => []);
  for (let i = 0; i < names.length; i += 10_000) {
    const body = names.slice(i, i + 10_000).map((n) => encodeURI(`/${CONTAINER}/${n}`)).join('\n');
    await (await raw('POST', '?bulk-delete', { body, headers: { 'Content-Type': 'text/plain', Accept: 'application/json' } })).text();
  }
  await (await raw('DELETE', `/${CONTAINER}`)).arrayBuffer();
  work.remove();
});

describe('swift store contract, auth v1 (TempAuth)', () => {
  storeContract(async () => swiftStore(v1Settings(), freshPath('contract-v1')));
});

describe('swift store contract, auth v2 (Keystone v2.0 token endpoint)', () => {
  let keystone: KeystoneV2;
  before(async () => {
    keystone = await startKeystoneV2({ tempauthUrl: swift.SWIFT_AUTHURL! });
  });
  after(() => keystone.close());
  const v2 = (): SwiftSettings => ({
    ...v1Settings(keystone.authUrl),
    user: 'tester',
    tenant: 'test',
    region: 'RegionOne',
    authVersion: '2',
  });
  storeContract(async () => swiftStore(v2(), freshPath('contract-v2')));

  it('asked the v2 endpoint for tenant "test", user "tester"', () => {
    assert.ok(keystone.requests.length >= 1);
    assert.deepEqual(keystone.requests[0], { tenantName: 'test', username: 'tester' });
  });

  it('a wrong password is refused once, without retries', async () => {
    const before = keystone.requests.length;
    const store = swiftStore({ ...v2(), password: { reveal: () => 'wrong' } as SwiftSettings['password'] }, freshPath('v2-bad'));
    await assert.rejects(store.head('wal_005/x.lzo'), (err: unknown) => err instanceof StoreError && /authentication failed/.test(err.message));
    assert.equal(keystone.requests.length - before, 1);
  });
});

describe('swift key layout (spec §3.7)', () => {
  it('objects under swift://container/a/b are exactly /a/b/wal_005/<seg>.lzo, sent as container//a/b/...', async () => {
    const store = swiftStore(v1Settings(), 'a/b');
    await store.put('wal_005/000000010000000000000001.lzo', chunksOf(Buffer.from('layout')));
    assert.deepEqual(await rawNames('/a/b/'), ['/a/b/wal_005/000000010000000000000001.lzo']);
    const res = await raw('GET', `/${CONTAINER}//a/b/wal_005/000000010000000000000001.lzo`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'layout');
    assert.equal(store.url('wal_005/000000010000000000000001.lzo'), `swift://${CONTAINER}/a/b/wal_005/000000010000000000000001.lzo`);
    await store.deleteMany(['wal_005/000000010000000000000001.lzo']);
    assert.deepEqual(await rawNames('/a/b/'), []);
  });

  it('a missing container is one clear error, not retried', async () => {
    const store = new SwiftStore(parseStoreLocation('swift://no-such-container-for-wal-e/pg'), new SwiftConnection(v1Settings(), TEST_POLICY));
    await assert.rejects(store.put('wal_005/x.lzo', chunksOf(Buffer.from('x'))), /container "no-such-container-for-wal-e" does not exist/);
    assert.deepEqual(await readAllKeys(store), []);
  });
});

async function readAllKeys(store: SwiftStore, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  for await (const o of store.list(prefix)) keys.push(o.key);
  return keys;
}

describe('swift static large objects (small segment size)', () => {
  const SEG = 100_000;
  const path = freshPath('slo');
  const segmentsOf = async (): Promise<string[]> => rawNames(`.segments/${path}/`);

  it('a body bigger than one segment is stored as segments plus a manifest and reads back whole', async () => {
    const store = swiftStore(v1Settings(), path, { segmentBytes: SEG });
    const data = randomBytes(350_000);
    const r = await store.put('basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo', chunksOf(data, 30_000));
    assert.equal(r.size, data.length);
    assert.deepEqual(await readAll(await store.get('basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo')), data);
    assert.equal((await store.head('basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo'))?.size, data.length);
    const segs = await segmentsOf();
    assert.equal(segs.length, 4);
    assert.ok(segs.every((s) => s.startsWith(`.segments/${path}/basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo/slo/`)));
    const manifest = (await (await raw('GET', `/${CONTAINER}//${path}/basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo?multipart-manifest=get`)).json()) as { bytes: number }[];
    assert.deepEqual(manifest.map((m) => m.bytes), [SEG, SEG, SEG, 50_000]);
    // Segments never show in the prefix's listing (WAL-E's listings start with "/").
    const listed: [string, number][] = [];
    for await (const o of store.list('')) listed.push([o.key, o.size]);
    assert.deepEqual(listed, [['basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo', data.length]]);
  });

  it('putIfAbsent of a large body on a taken key uploads nothing and reports created: false', async () => {
    const store = swiftStore(v1Settings(), path, { segmentBytes: SEG });
    const before = await segmentsOf();
    const r = await store.putIfAbsent('basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo', chunksOf(randomBytes(250_000)));
    assert.equal(r.created, false);
    assert.deepEqual(await segmentsOf(), before);
  });

  it('replacing a large object removes the old segments', async () => {
    const store = swiftStore(v1Settings(), path, { segmentBytes: SEG });
    const data = randomBytes(250_000);
    await store.put('basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo', chunksOf(data));
    assert.deepEqual(await readAll(await store.get('basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo')), data);
    assert.equal((await segmentsOf()).length, 3);
  });

  it('a large upload whose body fails leaves no object and no segments', async () => {
    const store = swiftStore(v1Settings(), path, { segmentBytes: SEG });
    const before = await segmentsOf();
    async function* failing(): AsyncIterable<Uint8Array> {
      yield randomBytes(250_000);
      throw new Error('source broke');
    }
    await assert.rejects(store.put('basebackups_005/base_2/tar_partitions/part_00000000.tar.lzo', failing()), /source broke/);
    assert.equal(await store.head('basebackups_005/base_2/tar_partitions/part_00000000.tar.lzo'), undefined);
    assert.deepEqual(await segmentsOf(), before);
  });

  it('putIfAbsent creates a new large object; deleteMany removes objects with their segments', async () => {
    const store = swiftStore(v1Settings(), path, { segmentBytes: SEG });
    const r = await store.putIfAbsent('basebackups_005/base_3/tar_partitions/part_00000000.tar.lzo', chunksOf(randomBytes(120_000)));
    assert.deepEqual(r, { size: 120_000, created: true });
    assert.equal((await segmentsOf()).length, 5);
    await store.deleteMany(['basebackups_005/base_1/tar_partitions/part_00000000.tar.lzo', 'basebackups_005/base_3/tar_partitions/part_00000000.tar.lzo']);
    assert.deepEqual(await readAllKeys(store), []);
    assert.deepEqual(await segmentsOf(), []);
  });
});

/**
 * A pass-through proxy that caps every container listing at `cap` names per page, as a cluster with
 * `container_listing_limit = cap` would (the shared test Swift cannot be restarted with another
 * limit, and filling 10,000+ objects into it takes minutes). The client asks for 10,000 per page,
 * as against any Swift, and must keep paging past short pages.
 */
async function listingCapProxy(cap: number): Promise<{ url: string; pages: number; close: () => Promise<void> }> {
  const { createServer, request } = await import('node:http');
  const target = new URL(swift.SWIFT_AUTHURL!);
  const state = { url: '', pages: 0, close: async () => undefined as void };
  const server = createServer((req, res) => {
    let path = req.url ?? '/';
    if (req.method === 'GET' && /[?&]format=json/.test(path)) {
      state.pages++;
      path = path.replace(/([?&]limit=)(\d+)/, (_, k: string, n: string) => `${k}${Math.min(Number(n), cap)}`);
    }
    const up = request({ host: target.hostname, port: target.port, method: req.method, path, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.rawHeaders);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  state.close = () => new Promise<void>((r) => server.close(() => r()));
  return state;
}

describe('swift listing pagination (WAL-E stopped at one page: wal-e#373)', () => {
  it('pages through every object when the server returns fewer names than asked for', async () => {
    const cap = await listingCapProxy(100);
    try {
      const path = freshPath('paging');
      const store = swiftStore(v1Settings(`${cap.url}/auth/v1.0`), path);
      const keys = Array.from({ length: 250 }, (_, i) => `wal_005/${i.toString(16).toUpperCase().padStart(24, '0')}.lzo`);
      for (let i = 0; i < keys.length; i += 25) {
        await Promise.all(keys.slice(i, i + 25).map((k) => store.put(k, chunksOf(Buffer.from(k)))));
      }
      cap.pages = 0;
      const listed = await readAllKeys(store, 'wal_005/');
      assert.deepEqual(listed, keys);
      assert.equal(cap.pages, 4, 'pages of 100, 100, 50, then an empty page ends the listing');
      await store.deleteMany(keys);
      assert.deepEqual(await readAllKeys(store), []);
    } finally {
      await cap.close();
    }
  });

  it('pages with markers when the client page size is small', async () => {
    const store = swiftStore(v1Settings(), freshPath('paging-small'), { listingLimit: 7 });
    const keys = Array.from({ length: 30 }, (_, i) => `basebackups_005/k${String(i).padStart(3, '0')}`);
    await Promise.all(keys.map((k) => store.put(k, chunksOf(Buffer.from(k)))));
    assert.deepEqual(await readAllKeys(store, 'basebackups_005/'), keys);
    await store.deleteMany(keys);
  });
});

/** A WAL-segment-like file: 16 MiB, partly random so that it does not compress to nothing. */
function walFile(name: string): { path: string; md5: string } {
  const data = Buffer.alloc(16 * 1024 * 1024);
  randomBytes(256 * 1024).copy(data, 0);
  data.write(name, 1_000_000);
  const path = join(work.path, name);
  writeFileSync(path, data);
  return { path, md5: createHash('md5').update(data).digest('hex') };
}

const md5File = (p: string): string => createHash('md5').update(readFileSync(p)).digest('hex');

describe('wal-e CLI on swift:// (built binary)', () => {
  it('wal-push then wal-fetch round-trips a segment; a missing segment exits 1', async () => {
    const path = freshPath('cli');
    const wal = walFile('000000010000000000000021');
    const push = await runWalE(['wal-push', wal.path], { env: cliEnv(path) });
    assert.equal(push.code, 0, push.stderr);
    assert.deepEqual(await rawNames(`/${path}/`), [`/${path}/wal_005/000000010000000000000021.lzo`]);
    const dest = join(work.path, 'restored-21');
    const fetched = await runWalE(['wal-fetch', '000000010000000000000021', dest], { env: cliEnv(path) });
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.equal(md5File(dest), wal.md5);
    const miss = await runWalE(['wal-fetch', '000000010000000000000022', join(work.path, 'never')], { env: cliEnv(path) });
    assert.equal(miss.code, 1, miss.stderr);
    assert.ok(logMessages(miss.stderr).some((m) => m.msg === 'could no longer locate object while performing wal restore'));
  });

  it('wal-push of the same segment again succeeds without rewriting it', async () => {
    const path = freshPath('cli-again');
    const wal = walFile('000000010000000000000031');
    assert.equal((await runWalE(['wal-push', wal.path], { env: cliEnv(path) })).code, 0);
    const again = await runWalE(['wal-push', wal.path], { env: cliEnv(path) });
    assert.equal(again.code, 0, again.stderr);
    assert.ok(logMessages(again.stderr).some((m) => m.msg === 'WAL file already archived with identical content'));
  });

  it('wal-fetch reads objects WAL-E wrote, uploaded as-is, byte-identical to their payload', async () => {
    const path = freshPath('wale-objects');
    for (const name of readdirSync(FIXTURES)) {
      const res = await raw('PUT', `/${CONTAINER}//${path}/wal_005/${name}`, { body: readFileSync(join(FIXTURES, name)) });
      assert.equal(res.status, 201);
    }
    for (const [seg, payloadMd5] of Object.entries(FIXTURE_PAYLOAD_MD5)) {
      const dest = join(work.path, `fixture-${seg}`);
      const r = await runWalE(['wal-fetch', seg, dest], { env: cliEnv(path) });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(md5File(dest), payloadMd5, seg);
    }
  });

  it('auth v2 through the CLI (SWIFT_TENANT, SWIFT_REGION, default SWIFT_AUTH_VERSION)', async () => {
    const keystone = await startKeystoneV2({ tempauthUrl: swift.SWIFT_AUTHURL! });
    try {
      const path = freshPath('cli-v2');
      const env = cliEnv(path, { SWIFT_AUTHURL: keystone.authUrl, SWIFT_USER: 'tester', SWIFT_TENANT: 'test', SWIFT_REGION: 'RegionOne' });
      delete (env as Record<string, string | undefined>).SWIFT_AUTH_VERSION;
      const wal = walFile('000000010000000000000041');
      const push = await runWalE(['wal-push', wal.path], { env });
      assert.equal(push.code, 0, push.stderr);
      const dest = join(work.path, 'restored-41');
      assert.equal((await runWalE(['wal-fetch', '000000010000000000000041', dest], { env })).code, 0);
      assert.equal(md5File(dest), wal.md5);
      assert.ok(keystone.requests.length >= 2);
    } finally {
      await keystone.close();
    }
  });

  it('wrong credentials: one clear error, exit 2, no secret in the output', async () => {
    const r = await runWalE(['wal-fetch', '000000010000000000000001', join(work.path, 'x')], {
      env: cliEnv(freshPath('badauth'), { SWIFT_PASSWORD: 'not-the-password-123' }),
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /Swift authentication failed/);
    assert.doesNotMatch(r.stderr, /not-the-password-123|AUTH_tk|Traceback|    at /);
    assert.equal(logMessages(r.stderr).filter((m) => m.level === 'WARNING').length, 0, 'an auth failure is not retried');
  });

  it('a swift:// run loads no cloud SDK (no pkgcloud, no AWS/Azure/Google libraries)', async () => {
    const r = await runWalERecordingLoads(['wal-fetch', '000000010000000000000001', join(work.path, 'y')], {
      env: cliEnv(freshPath('lazy')),
    });
    assert.equal(r.code, 1, r.stderr);
    const loaded = r.loaded;
    assert.ok(loaded.some((u) => u.endsWith('/dist/wal-e.mjs')));
    assert.deepEqual(loaded.filter((u) => /node_modules|pkgcloud|openstack|@aws-sdk|@smithy|@azure|@google-cloud/.test(u)), []);
  });
});

describe('swift faults (loopback fault proxy in front of the real Swift)', () => {
  let proxy: FaultProxy;
  before(async () => {
    proxy = await FaultProxy.start(new URL(swift.SWIFT_AUTHURL!).origin);
  });
  after(() => proxy.close());
  const viaProxy = (path: string, extra: Record<string, string> = {}): Record<string, string> =>
    cliEnv(path, { SWIFT_AUTHURL: `${proxy.url}/auth/v1.0`, ...extra });
  const retryWarnings = (stderr: string): number =>
    logMessages(stderr).filter((m) => m.level === 'WARNING' && m.msg === 'retrying a storage request after a transient error').length;

  it('wal-push succeeds through two 503s and a reset, with one WARNING per retry', async () => {
    proxy.clearRules();
    const path = freshPath('fault-push');
    proxy.addRule({ match: { method: 'PUT', path: /wal_005/ }, fault: { kind: 'status', status: 503 }, times: 2 });
    proxy.addRule({ match: { method: 'PUT', path: /wal_005/ }, fault: { kind: 'reset' }, times: 1 });
    const wal = walFile('000000010000000000000051');
    const r = await runWalE(['wal-push', wal.path], { env: viaProxy(path) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(retryWarnings(r.stderr), 3, r.stderr);
    assert.deepEqual(await rawNames(`/${path}/`), [`/${path}/wal_005/000000010000000000000051.lzo`]);
  });

  it('wal-fetch succeeds through a reset and a truncated body; the file is whole', async () => {
    proxy.clearRules();
    proxy.clearRequests();
    const path = freshPath('fault-fetch');
    const wal = walFile('000000010000000000000052');
    assert.equal((await runWalE(['wal-push', wal.path], { env: cliEnv(path) })).code, 0);
    proxy.addRule({ match: { method: 'GET', path: /wal_005/ }, fault: { kind: 'reset' }, times: 1 });
    proxy.addRule({ match: { method: 'GET', path: /wal_005/ }, fault: { kind: 'truncate', afterBytes: 1000 }, times: 1 });
    const dest = join(work.path, 'restored-52');
    // --prefetch 0: background prefetchers would add their own requests to the proxy's log.
    const r = await runWalE(['wal-fetch', '--prefetch', '0', '000000010000000000000052', dest], { env: viaProxy(path) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(md5File(dest), wal.md5);
    assert.deepEqual(proxy.faultCounts(), { reset: 1, truncate: 1 });
  });

  it('an expired token (401) is renewed once and the request resent', async () => {
    proxy.clearRules();
    proxy.clearRequests();
    const path = freshPath('fault-401');
    proxy.addRule({ match: { method: 'PUT', path: /wal_005/ }, fault: { kind: 'status', status: 401 }, times: 1 });
    const wal = walFile('000000010000000000000053');
    const r = await runWalE(['wal-push', wal.path], { env: viaProxy(path) });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy.requests.filter((q) => q.path.startsWith('/auth/')).length, 2, 'authenticated again after the 401');
    assert.equal(retryWarnings(r.stderr), 0, 'a re-authentication is not a retry');
  });

  it('a permanent 503 fails wal-push in bounded time with a non-zero exit and no object', async () => {
    proxy.clearRules();
    proxy.clearRequests();
    const path = freshPath('fault-permanent');
    proxy.addRule({ match: { method: 'PUT', path: /wal_005/ }, fault: { kind: 'status', status: 503 } });
    const wal = walFile('000000010000000000000054');
    const started = Date.now();
    const r = await runWalE(['wal-push', wal.path], { env: viaProxy(path, { WALE_RETRIES: '3' }) });
    assert.notEqual(r.code, 0);
    assert.ok(Date.now() - started < 30_000, 'gave up within the retry budget');
    assert.equal(proxy.requests.filter((q) => q.method === 'PUT').length, 3, 'WALE_RETRIES=3 attempts');
    assert.equal(retryWarnings(r.stderr), 2);
    assert.deepEqual(await rawNames(`/${path}/`), []);
  });

  it('403 and 404 answers are never retried', async () => {
    proxy.clearRules();
    proxy.clearRequests();
    proxy.addRule({ match: { method: 'GET', path: /wal_005/ }, fault: { kind: 'status', status: 403 } });
    const r = await runWalE(['wal-fetch', '--prefetch', '0', '000000010000000000000055', join(work.path, 'z')], { env: viaProxy(freshPath('fault-403')) });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(proxy.requests.filter((q) => q.method === 'GET' && /wal_005/.test(q.path)).length, 1);
    proxy.clearRules();
  });

  it('a download that stalls mid-body fails with a retryable error instead of hanging', async () => {
    proxy.clearRules();
    const path = freshPath('fault-stall');
    const direct = swiftStore(v1Settings(), path);
    const data = randomBytes(200_000);
    await direct.put('wal_005/stall.lzo', chunksOf(data));
    proxy.addRule({ match: { method: 'GET', path: /stall/ }, fault: { kind: 'stall-body', afterBytes: 50_000, ms: 5_000 }, times: 1 });
    const store = new SwiftStore(
      parseStoreLocation(`swift://${CONTAINER}/${path}`),
      new SwiftConnection(v1Settings(`${proxy.url}/auth/v1.0`), { ...TEST_POLICY, requestTimeoutMs: 1_000 }),
    );
    const started = Date.now();
    await assert.rejects(readAll(await store.get('wal_005/stall.lzo')), (err: unknown) => err instanceof StoreError && err.retryable && /stalled/.test(err.message));
    assert.ok(Date.now() - started < 4_000);
    assert.deepEqual(await readAll(await store.get('wal_005/stall.lzo')), data);
  });
});
