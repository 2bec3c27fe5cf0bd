// Swift authentication as python-swiftclient did it for WAL-E (spec §6.4): v1 (TempAuth-style: a GET
// with X-Auth-User/X-Auth-Key), v2 (Keystone v2.0 POST /tokens) and v3 (Keystone v3 POST /auth/tokens).
// Each yields a token and the object-store URL. The token is a Secret: no log line or error shows it.
import type { SwiftSettings } from '../../config/credentials';
import { StoreError } from '../../util/errors';
import { Secret } from '../../util/secret';
import { SwiftHttpError, drain } from './swift-http-error';

export interface SwiftAuth {
  readonly token: Secret;
  /** The account's storage URL, e.g. http://127.0.0.1:8080/v1/AUTH_test (no trailing "/"). */
  readonly storageUrl: string;
}

type Json = Record<string, unknown>;

const ENDPOINT_INTERFACE: Record<string, string> = { publicURL: 'public', internalURL: 'internal', adminURL: 'admin' };

function required(value: string | undefined, name: string, version: string): string {
  if (value === undefined) {
    throw new StoreError(`${name} is required for Swift auth version ${version}`, {
      detail: `Set the environment variable ${name}.`,
    });
  }
  return value;
}

/** Keystone v2.0 request body: passwordCredentials scoped to SWIFT_TENANT (or SWIFT_TENANT_ID). */
export function keystoneV2Body(s: SwiftSettings): Json {
  const auth: Json = {
    passwordCredentials: { username: required(s.user, 'SWIFT_USER', '2'), password: s.password?.reveal() ?? '' },
  };
  const tenantId = s.keystoneV3.SWIFT_TENANT_ID;
  if (s.tenant !== undefined) auth.tenantName = s.tenant;
  else if (tenantId !== undefined) auth.tenantId = tenantId;
  return { auth };
}

function idOrName(id: string | undefined, name: string | undefined): Json | undefined {
  if (id !== undefined) return { id };
  if (name !== undefined) return { name };
  return undefined;
}

/**
 * Keystone v3 request body (password method), built from the SWIFT_* options the way swiftclient's
 * keystone path read them: the user by SWIFT_USER_ID or SWIFT_USER (+ SWIFT_USER_DOMAIN_ID/NAME); the
 * scope is the project (SWIFT_PROJECT_ID, else SWIFT_PROJECT_NAME, else SWIFT_TENANT_ID/SWIFT_TENANT,
 * + SWIFT_PROJECT_DOMAIN_ID/NAME), else the domain (SWIFT_DOMAIN_ID/NAME).
 */
export function keystoneV3Body(s: SwiftSettings): Json {
  const o = s.keystoneV3;
  const user: Json = { password: s.password?.reveal() ?? '' };
  if (o.SWIFT_USER_ID !== undefined) user.id = o.SWIFT_USER_ID;
  else user.name = required(s.user, 'SWIFT_USER', '3');
  const userDomain = idOrName(o.SWIFT_USER_DOMAIN_ID, o.SWIFT_USER_DOMAIN_NAME);
  if (userDomain && user.id === undefined) user.domain = userDomain;

  const auth: Json = { identity: { methods: ['password'], password: { user } } };
  const project = idOrName(o.SWIFT_PROJECT_ID, o.SWIFT_PROJECT_NAME) ?? idOrName(o.SWIFT_TENANT_ID, s.tenant);
  if (project) {
    const projectDomain = idOrName(o.SWIFT_PROJECT_DOMAIN_ID, o.SWIFT_PROJECT_DOMAIN_NAME);
    if (projectDomain && project.id === undefined) project.domain = projectDomain;
    auth.scope = { project };
  } else {
    const domain = idOrName(o.SWIFT_DOMAIN_ID, o.SWIFT_DOMAIN_NAME);
    if (domain) auth.scope = { domain };
  }
  return { auth };
}

interface CatalogChoice {
  region: string | undefined;
  endpointType: string;
}

/** The object-store URL from a v2 serviceCatalog: the endpoint in SWIFT_REGION (or the first), of SWIFT_ENDPOINT_TYPE. */
export function pickV2Endpoint(catalog: unknown, want: CatalogChoice): string | undefined {
  if (!Array.isArray(catalog)) return undefined;
  for (const service of catalog as Json[]) {
    if (service?.type !== 'object-store' || !Array.isArray(service.endpoints)) continue;
    for (const ep of service.endpoints as Json[]) {
      if (want.region !== undefined && ep.region !== want.region) continue;
      const url = ep[want.endpointType];
      if (typeof url === 'string') return url;
    }
  }
  return undefined;
}

/** The object-store URL from a v3 catalog: publicURL/internalURL/adminURL map to interface public/internal/admin. */
export function pickV3Endpoint(catalog: unknown, want: CatalogChoice): string | undefined {
  if (!Array.isArray(catalog)) return undefined;
  const iface = ENDPOINT_INTERFACE[want.endpointType] ?? want.endpointType;
  for (const service of catalog as Json[]) {
    if (service?.type !== 'object-store' || !Array.isArray(service.endpoints)) continue;
    for (const ep of service.endpoints as Json[]) {
      if (ep.interface !== iface) continue;
      if (want.region !== undefined && ep.region_id !== want.region && ep.region !== want.region) continue;
      if (typeof ep.url === 'string') return ep.url;
    }
  }
  return undefined;
}

function noEndpoint(s: SwiftSettings): StoreError {
  return new StoreError('no object-store endpoint in the Swift service catalog', {
    detail: `No endpoint of type ${s.endpointType}${s.region ? ` in region ${s.region}` : ''} was offered.`,
    hint: 'Check SWIFT_REGION and SWIFT_ENDPOINT_TYPE (publicURL, internalURL or adminURL).',
  });
}

async function readJson(res: Response, what: string): Promise<Json> {
  try {
    return (await res.json()) as Json;
  } catch (err) {
    throw new StoreError(`${what} returned a response that is not JSON`, { detail: (err as Error).message });
  }
}

/** Authentication failures are answers, not faults: 401/403 and other 4xx are never retried. */
async function authFailure(res: Response, what: string): Promise<never> {
  const text = (await drain(res, 400)).trim().replace(/\s+/g, ' ');
  throw new SwiftHttpError(res.status, `Swift authentication failed (${what})`, {
    detail: `The auth service answered HTTP ${res.status}${text ? `: ${text}` : ''}.`,
    hint: res.status === 401 || res.status === 403 ? 'Check SWIFT_USER, SWIFT_PASSWORD, SWIFT_TENANT and SWIFT_AUTH_VERSION.' : undefined,
  });
}

const stripSlash = (u: string): string => u.replace(/\/+$/, '');

async function authV1(s: SwiftSettings, url: string, signal: AbortSignal): Promise<SwiftAuth> {
  const res = await fetch(url, {
    method: 'GET',
    headers: { 'X-Auth-User': required(s.user, 'SWIFT_USER', '1'), 'X-Auth-Key': s.password?.reveal() ?? '' },
    signal,
  });
  if (res.status < 200 || res.status >= 300) return authFailure(res, 'v1');
  await drain(res, 0);
  const token = res.headers.get('x-auth-token') ?? res.headers.get('x-storage-token');
  const storageUrl = res.headers.get('x-storage-url');
  if (!token || !storageUrl) {
    throw new StoreError('Swift v1 auth response has no X-Auth-Token or X-Storage-Url', { detail: `Auth URL: ${url}` });
  }
  return { token: new Secret(token), storageUrl: stripSlash(storageUrl) };
}

async function authV2(s: SwiftSettings, url: string, signal: AbortSignal): Promise<SwiftAuth> {
  const res = await fetch(`${stripSlash(url)}/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(keystoneV2Body(s)),
    signal,
  });
  if (res.status < 200 || res.status >= 300) return authFailure(res, 'v2');
  const access = ((await readJson(res, 'Keystone v2')).access ?? {}) as Json;
  const token = ((access.token ?? {}) as Json).id;
  if (typeof token !== 'string') throw new StoreError('Keystone v2 response has no access.token.id');
  const storageUrl = pickV2Endpoint(access.serviceCatalog, s);
  if (!storageUrl) throw noEndpoint(s);
  return { token: new Secret(token), storageUrl: stripSlash(storageUrl) };
}

/** SWIFT_AUTHURL may name the Keystone root or its /v3 endpoint; both work. */
export function keystoneV3TokensUrl(authUrl: string): string {
  const base = stripSlash(authUrl);
  return `${/\/v3$/.test(base) ? base : `${base}/v3`}/auth/tokens`;
}

async function authV3(s: SwiftSettings, url: string, signal: AbortSignal): Promise<SwiftAuth> {
  const res = await fetch(keystoneV3TokensUrl(url), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(keystoneV3Body(s)),
    signal,
  });
  if (res.status < 200 || res.status >= 300) return authFailure(res, 'v3');
  const body = await readJson(res, 'Keystone v3');
  const token = res.headers.get('x-subject-token');
  if (!token) throw new StoreError('Keystone v3 response has no X-Subject-Token header');
  const storageUrl = pickV3Endpoint(((body.token ?? {}) as Json).catalog, s);
  if (!storageUrl) throw noEndpoint(s);
  return { token: new Secret(token), storageUrl: stripSlash(storageUrl) };
}

/** One authentication round trip for SWIFT_AUTH_VERSION 1, 2 or 3 (also "1.0", "2.0", "3.0"). */
export async function authenticate(s: SwiftSettings, signal: AbortSignal): Promise<SwiftAuth> {
  if (s.authUrl === undefined) {
    throw new StoreError('SWIFT_AUTHURL is not set', {
      detail: 'The swift:// store needs the URL of its authentication service.',
      hint: 'Set SWIFT_AUTHURL (and SWIFT_USER, SWIFT_PASSWORD, SWIFT_AUTH_VERSION).',
    });
  }
  switch (s.authVersion.replace(/\.0$/, '')) {
    case '1':
      return authV1(s, s.authUrl, signal);
    case '2':
      return authV2(s, s.authUrl, signal);
    case '3':
      return authV3(s, s.authUrl, signal);
    default:
      throw new StoreError(`unsupported SWIFT_AUTH_VERSION "${s.authVersion}"`, { hint: 'Use 1, 2 or 3.' });
  }
}
