// The Swift session's request rules, against a local HTTP server: a 401 renews the token once and
// resends; a second 401 is final; 5xx is retried under the shared policy; 404 is an answer.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { SwiftSettings } from '../../src/config/credentials';
import { DEFAULT_RETRY_POLICY } from '../../src/storage/http/retry-policy';
import { SwiftConnection } from '../../src/storage/swift/swift-connection';
import { SwiftHttpError } from '../../src/storage/swift/swift-http-error';
import { Secret } from '../../src/util/secret';

const settings = { authVersion: '1' } as SwiftSettings;
const policy = { ...DEFAULT_RETRY_POLICY, maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, requestTimeoutMs: 5_000 };

let server: Server;
let base = '';
const seen: { path: string; token: string | undefined }[] = [];
/** Tokens the server accepts, and how many 503s to answer first. */
const state = { valid: new Set<string>(), failures: 0 };

before(async () => {
  server = createServer((req, res) => {
    const token = req.headers['x-auth-token'] as string | undefined;
    seen.push({ path: req.url ?? '', token });
    if (!token || !state.valid.has(token)) {
      res.writeHead(401).end('<html>401 Unauthorized</html>');
    } else if (state.failures > 0) {
      state.failures--;
      res.writeHead(503).end('busy');
    } else if (req.url?.includes('missing')) {
      res.writeHead(404).end('not here');
    } else {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/AUTH_t`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

function connection(tokens: string[]): { conn: SwiftConnection; logins: () => number } {
  let n = 0;
  const conn = new SwiftConnection(settings, policy, async () => ({ token: new Secret(tokens[Math.min(n++, tokens.length - 1)]!), storageUrl: base }));
  return { conn, logins: () => n };
}

const text = (res: Response): Promise<string> => res.text();

describe('swift connection', () => {
  it('authenticates once for concurrent requests', async () => {
    state.valid = new Set(['a']);
    const { conn, logins } = connection(['a']);
    const r = await Promise.all([1, 2, 3].map((i) => conn.request(`GET ${i}`, { method: 'GET', path: `/c/o${i}` }, text)));
    assert.deepEqual(r, ['ok', 'ok', 'ok']);
    assert.equal(logins(), 1);
  });

  it('a 401 renews the token once and resends the request', async () => {
    state.valid = new Set(['fresh']);
    seen.length = 0;
    const { conn, logins } = connection(['expired', 'fresh']);
    assert.equal(await conn.request('GET o', { method: 'GET', path: '/c/o' }, text), 'ok');
    assert.equal(logins(), 2);
    assert.deepEqual(seen.map((s) => s.token), ['expired', 'fresh']);
  });

  it('a second 401 is final: no retries, no third login', async () => {
    state.valid = new Set();
    seen.length = 0;
    const { conn, logins } = connection(['x', 'y', 'z']);
    await assert.rejects(conn.request('GET o', { method: 'GET', path: '/c/o' }, text), (err: unknown) => err instanceof SwiftHttpError && err.status === 401 && !err.retryable);
    assert.equal(logins(), 2);
    assert.equal(seen.length, 2);
  });

  it('503 is retried under the shared policy; 404 is handed to the caller when accepted', async () => {
    state.valid = new Set(['a']);
    state.failures = 2;
    seen.length = 0;
    const { conn } = connection(['a']);
    assert.equal(await conn.request('GET o', { method: 'GET', path: '/c/o' }, text), 'ok');
    assert.equal(seen.length, 3);
    const status = await conn.request('GET missing', { method: 'GET', path: '/c/missing', accept: [404] }, async (res) => (await res.arrayBuffer(), res.status));
    assert.equal(status, 404);
    await assert.rejects(conn.request('GET missing', { method: 'GET', path: '/c/missing' }, text), (err: unknown) => err instanceof SwiftHttpError && err.status === 404);
  });

  it('gives up after maxAttempts on a permanent 503', async () => {
    state.valid = new Set(['a']);
    state.failures = 100;
    seen.length = 0;
    const { conn } = connection(['a']);
    await assert.rejects(conn.request('GET o', { method: 'GET', path: '/c/o' }, text), (err: unknown) => err instanceof SwiftHttpError && err.status === 503);
    assert.equal(seen.length, policy.maxAttempts);
    state.failures = 0;
  });
});
