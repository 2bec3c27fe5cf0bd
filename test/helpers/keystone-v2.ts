// A Keystone v2.0 token endpoint for tests. Keystone removed the v2.0 API (Queens), so no real one can
// run here; this one answers `POST /v2.0/tokens` by logging in to the real Swift's TempAuth with
// "<tenantName>:<username>" and the password, and hands out Swift's real token and storage URL in a
// v2 `access.token` / `access.serviceCatalog` response. Swift itself then checks every request.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface KeystoneV2 {
  /** The value for SWIFT_AUTHURL, e.g. http://127.0.0.1:PORT/v2.0 */
  readonly authUrl: string;
  /** Token requests seen, with the tenant and user they named. */
  readonly requests: { tenantName: string | undefined; username: string | undefined }[];
  close(): Promise<void>;
}

export interface KeystoneV2Options {
  /** TempAuth URL of the real Swift (…/auth/v1.0). */
  readonly tempauthUrl: string;
  /** Region of the real endpoint. A decoy region pointing nowhere is listed first. */
  readonly region?: string;
}

function send(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startKeystoneV2(opts: KeystoneV2Options): Promise<KeystoneV2> {
  const region = opts.region ?? 'RegionOne';
  const requests: KeystoneV2['requests'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        if (req.method !== 'POST' || req.url?.replace(/\/+$/, '') !== '/v2.0/tokens') {
          return send(res, 404, { error: { code: 404, title: 'Not Found', message: 'only POST /v2.0/tokens' } });
        }
        let body: { auth?: { tenantName?: string; passwordCredentials?: { username?: string; password?: string } } };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          return send(res, 400, { error: { code: 400, title: 'Bad Request', message: 'body is not JSON' } });
        }
        const tenantName = body.auth?.tenantName;
        const username = body.auth?.passwordCredentials?.username;
        requests.push({ tenantName, username });
        const login = await fetch(opts.tempauthUrl, {
          headers: { 'X-Auth-User': `${tenantName}:${username}`, 'X-Auth-Key': body.auth?.passwordCredentials?.password ?? '' },
        });
        await login.arrayBuffer();
        const token = login.headers.get('x-auth-token');
        const storageUrl = login.headers.get('x-storage-url');
        if (login.status !== 200 || !token || !storageUrl) {
          return send(res, 401, { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } });
        }
        send(res, 200, {
          access: {
            token: { id: token, expires: new Date(Date.now() + 3_600_000).toISOString(), tenant: { id: tenantName, name: tenantName } },
            serviceCatalog: [
              { type: 'identity', name: 'keystone', endpoints: [{ region, publicURL: 'http://127.0.0.1:1/v2.0' }] },
              {
                type: 'object-store',
                name: 'swift',
                endpoints: [
                  // A decoy: choosing it (wrong region or endpoint type) fails with "connection refused".
                  { region: 'DecoyRegion', publicURL: 'http://127.0.0.1:1/v1/AUTH_decoy', internalURL: 'http://127.0.0.1:1/v1/AUTH_decoy', adminURL: 'http://127.0.0.1:1/v1/AUTH_decoy' },
                  { region, publicURL: storageUrl, internalURL: storageUrl, adminURL: 'http://127.0.0.1:1/v1/AUTH_admin-decoy' },
                ],
              },
            ],
            user: { id: username, name: username },
          },
        });
      })().catch((err: Error) => send(res, 500, { error: { code: 500, message: err.message } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    authUrl: `http://127.0.0.1:${port}/v2.0`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
