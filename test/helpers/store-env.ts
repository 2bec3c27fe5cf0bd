// One place that knows, for every kind of store the tests use, what a wal-e process needs in its
// environment and how to reach the store directly (upload raw objects, list names, clean up) through
// the store's own SDK or HTTP API, never through wal-e's code. Each opened store gets a bucket or
// container of its own, so test files can share the long-running servers.
//
//   s3      S3 API of the real OpenStack Swift (s3api middleware, signatures checked)
//   s3rver  s3rver (pure Node S3 work-alike)
//   wabs    Azurite (Microsoft's Blob Storage emulator)
//   gs      the project's GCS JSON-API test server, started in this process on loopback
//   swift   the real OpenStack Swift with TempAuth (auth v1)
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { Storage } from '@google-cloud/storage';
import { startGcsTestServer } from './gcs-server';
import { chownToPostgres } from './postgres';
import { startService } from './services';

export type StoreKind = 's3' | 's3rver' | 'wabs' | 'gs' | 'swift';

export const STORE_LABELS: Record<StoreKind, string> = {
  s3: 's3 (Swift s3api)',
  s3rver: 's3 (s3rver)',
  wabs: 'wabs (Azurite)',
  gs: 'gs (GCS test server)',
  swift: 'swift (TempAuth v1)',
};

export interface TestStore {
  readonly kind: StoreKind;
  readonly label: string;
  /** The bucket or container made for this store; close() removes it with everything in it. */
  readonly bucket: string;
  /** WAL-E's prefix URL for `path`, e.g. s3://bucket/a/b. */
  prefixUrl(path: string): string;
  /** What a wal-e process needs for the prefix `path`: the WALE_*_PREFIX, credentials and endpoint. */
  walEnv(path: string): Record<string, string>;
  /** The store's object name for a key relative to `path` (spec §3.7: a literal leading "/" on gs and swift). */
  objectName(path: string, key: string): string;
  /** Uploads `body` under exactly `name`. */
  put(name: string, body: Buffer): Promise<void>;
  /** Every object name that starts with `prefix`, sorted. */
  list(prefix?: string): Promise<string[]>;
  close(): Promise<void>;
}

const SCHEME: Record<StoreKind, string> = { s3: 's3', s3rver: 's3', wabs: 'wabs', gs: 'gs', swift: 'swift' };
const PREFIX_VAR: Record<StoreKind, string> = {
  s3: 'WALE_S3_PREFIX',
  s3rver: 'WALE_S3_PREFIX',
  wabs: 'WALE_WABS_PREFIX',
  gs: 'WALE_GS_PREFIX',
  swift: 'WALE_SWIFT_PREFIX',
};

/** A bucket/container name every store accepts: lower case, digits, single hyphens, at most 63. */
function freshBucketName(tag: string): string {
  return `wale-${tag}-${process.pid}-${randomBytes(4).toString('hex')}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 63);
}

/** Runs `fn` over `items`, `width` at a time. */
async function eachLimited<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

/** Opens a store of `kind` with a new, empty bucket or container named after `tag`. */
export async function openTestStore(kind: StoreKind, tag: string = kind): Promise<TestStore> {
  const bucket = freshBucketName(tag);
  const common = {
    kind,
    label: STORE_LABELS[kind],
    bucket,
    prefixUrl: (path: string) => `${SCHEME[kind]}://${bucket}/${path}`,
    objectName: (path: string, key: string) => {
      const p = path.replace(/^\/+/, '').replace(/\/+$/, '');
      const name = p ? `${p}/${key}` : key;
      return kind === 'gs' || kind === 'swift' ? `/${name}` : name;
    },
  };
  const prefixEnv = (path: string) => ({ [PREFIX_VAR[kind]]: common.prefixUrl(path) });
  switch (kind) {
    case 's3':
    case 's3rver':
      return openS3(kind, common, prefixEnv);
    case 'wabs':
      return openWabs(common, prefixEnv);
    case 'gs':
      return openGs(common, prefixEnv);
    case 'swift':
      return openSwift(common, prefixEnv);
  }
}

type Common = Pick<TestStore, 'kind' | 'label' | 'bucket' | 'prefixUrl' | 'objectName'>;
type PrefixEnv = (path: string) => Record<string, string>;

async function openS3(kind: 's3' | 's3rver', common: Common, prefixEnv: PrefixEnv): Promise<TestStore> {
  const svc = startService(kind === 's3' ? 'swift' : 's3rver');
  const endpoint = kind === 's3' ? svc.SWIFT_S3_ENDPOINT! : svc.S3_ENDPOINT!;
  const accessKeyId = kind === 's3' ? svc.SWIFT_S3_ACCESS_KEY_ID! : svc.AWS_ACCESS_KEY_ID!;
  const secretAccessKey = kind === 's3' ? svc.SWIFT_S3_SECRET_ACCESS_KEY! : svc.AWS_SECRET_ACCESS_KEY!;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId, secretAccessKey },
    // Plain bodies: Swift refuses aws-chunked uploads and s3rver would store the chunk framing.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = common.bucket;
  await client.send(new CreateBucketCommand({ Bucket }));
  const list = async (prefix = ''): Promise<string[]> => {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token }));
      names.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names.sort();
  };
  return {
    ...common,
    walEnv: (path) => ({
      ...prefixEnv(path),
      WALE_S3_ENDPOINT: `http+path://${new URL(endpoint).host}`,
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: secretAccessKey,
    }),
    put: async (name, body) => {
      await client.send(new PutObjectCommand({ Bucket, Key: name, Body: body }));
    },
    list,
    close: async () => {
      // One DeleteObject per key: Swift's multi-delete wants Content-MD5, which this SDK no longer sends.
      await eachLimited(await list(), 8, async (Key) => {
        await client.send(new DeleteObjectCommand({ Bucket, Key }));
      });
      await client.send(new DeleteBucketCommand({ Bucket }));
      client.destroy();
    },
  };
}

async function openWabs(common: Common, prefixEnv: PrefixEnv): Promise<TestStore> {
  const svc = startService('azurite');
  const account = svc.AZURE_STORAGE_ACCOUNT!;
  const key = svc.AZURE_STORAGE_KEY!;
  const endpoint = svc.AZURE_STORAGE_BLOB_ENDPOINT!;
  const container = new BlobServiceClient(endpoint, new StorageSharedKeyCredential(account, key)).getContainerClient(common.bucket);
  await container.create();
  return {
    ...common,
    walEnv: (path) => ({ ...prefixEnv(path), WABS_ACCOUNT_NAME: account, WABS_ACCESS_KEY: key, WALE_WABS_ENDPOINT: endpoint }),
    put: async (name, body) => {
      await container.getBlockBlobClient(name).uploadData(body);
    },
    list: async (prefix = '') => {
      const names: string[] = [];
      for await (const b of container.listBlobsFlat({ prefix })) names.push(b.name);
      return names.sort();
    },
    close: async () => {
      await container.delete();
    },
  };
}

async function openGs(common: Common, prefixEnv: PrefixEnv): Promise<TestStore> {
  const server = await startGcsTestServer([common.bucket]);
  const bucket = new Storage({ apiEndpoint: server.endpoint, projectId: 'test-project' }).bucket(common.bucket);
  return {
    ...common,
    walEnv: (path) => ({
      ...prefixEnv(path),
      STORAGE_EMULATOR_HOST: server.endpoint,
      GOOGLE_CLOUD_PROJECT: 'test-project',
      // Safety nets: nothing may reach a metadata server from a test.
      METADATA_SERVER_DETECTION: 'none',
      GCE_METADATA_HOST: '127.0.0.1:9',
    }),
    put: async (name, body) => {
      await bucket.file(name).save(body, { resumable: false });
    },
    list: async (prefix = '') => {
      const [files] = await bucket.getFiles({ prefix });
      return files.map((f) => f.name).sort();
    },
    close: () => server.stop(),
  };
}

async function openSwift(common: Common, prefixEnv: PrefixEnv): Promise<TestStore> {
  const svc = startService('swift');
  let session: { url: string; token: string } | undefined;
  const login = async (): Promise<{ url: string; token: string }> => {
    const res = await fetch(svc.SWIFT_AUTHURL!, { headers: { 'X-Auth-User': svc.SWIFT_USER!, 'X-Auth-Key': svc.SWIFT_PASSWORD! } });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`Swift TempAuth login: HTTP ${res.status}`);
    return { url: res.headers.get('x-storage-url')!, token: res.headers.get('x-auth-token')! };
  };
  /** A request to the container; `name` is an object name, used verbatim (a leading "/" gives "container//..."). */
  const request = async (method: string, name: string | null, query = '', body?: Buffer | string, headers: Record<string, string> = {}) => {
    session ??= await login();
    const path = name === null ? '' : '/' + name.split('/').map(encodeURIComponent).join('/');
    const res = await fetch(`${session.url}/${encodeURIComponent(common.bucket)}${path}${query}`, {
      method,
      headers: { ...headers, 'X-Auth-Token': session.token },
      ...(body !== undefined ? { body } : {}),
    });
    return res;
  };
  const created = await request('PUT', null);
  await created.arrayBuffer();
  if (created.status !== 201 && created.status !== 202) throw new Error(`Swift container create: HTTP ${created.status}`);
  const list = async (prefix = ''): Promise<string[]> => {
    const names: string[] = [];
    let marker = '';
    for (;;) {
      const res = await request('GET', null, `?format=json&prefix=${encodeURIComponent(prefix)}&marker=${encodeURIComponent(marker)}`);
      if (!res.ok) throw new Error(`Swift listing: HTTP ${res.status}`);
      const page = (await res.json()) as { name: string }[];
      if (page.length === 0) return names.sort();
      names.push(...page.map((o) => o.name));
      marker = page[page.length - 1]!.name;
    }
  };
  return {
    ...common,
    walEnv: (path) => ({
      ...prefixEnv(path),
      SWIFT_AUTHURL: svc.SWIFT_AUTHURL!,
      SWIFT_USER: svc.SWIFT_USER!,
      SWIFT_PASSWORD: svc.SWIFT_PASSWORD!,
      SWIFT_AUTH_VERSION: '1',
    }),
    put: async (name, body) => {
      const res = await request('PUT', name, '', body);
      await res.arrayBuffer();
      if (res.status !== 201) throw new Error(`Swift PUT ${name}: HTTP ${res.status}`);
    },
    list,
    close: async () => {
      await eachLimited(await list(), 8, async (name) => {
        const res = await request('DELETE', name);
        await res.arrayBuffer();
        if (!res.ok && res.status !== 404) throw new Error(`Swift DELETE ${name}: HTTP ${res.status}`);
      });
      await (await request('DELETE', null)).arrayBuffer();
    },
  };
}

/**
 * Writes `env` as an envdir (one file per variable, as daemontools' envdir reads it) readable by the
 * postgres user, whose archive_command and restore_command run `envdir DIR wal-e ...`.
 */
export function writeEnvDir(dir: string, env: Record<string, string>): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [k, v] of Object.entries(env)) writeFileSync(join(dir, k), `${v}\n`, { mode: 0o600 });
  chownToPostgres(dir);
  return dir;
}
