// Builds the AWS SDK client for one bucket: the SDK is imported here, lazily, so that only s3://
// commands load it. Settings that work on AWS and on the work-alikes we test (Swift s3api, s3rver), see
// docs/stores/s3.md: checksums only when an operation requires them (no aws-chunked bodies, which Swift
// refuses and s3rver stores verbatim), Content-MD5 on every upload and on DeleteObjects, path style for
// custom endpoints and dotted names, the shared retry policy, and no stray SDK output on stderr.
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from '../../config/credentials';
import { StoreError, UserError } from '../../util/errors';
import type { RetryPolicy } from '../http/retry-policy';
import type { S3Options } from './s3-options';
import { PolicyRetryStrategy } from './s3-retry-strategy';

export type S3Sdk = typeof import('@aws-sdk/client-s3');

export interface S3Connection {
  readonly sdk: S3Sdk;
  readonly client: S3Client;
  readonly region: string;
}

/** The SDK's own logger and the HTTP handler's warnings go nowhere: stderr carries WAL-E lines only. */
const SILENT_LOGGER = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

let warningFilterInstalled = false;

/**
 * The SDK announces through process.emitWarning that it will drop Node 20 in 2027. That text on stderr
 * would break WAL-E's log format (DESIGN.md); every other warning passes through untouched.
 */
export function silenceSdkNodeVersionWarning(): void {
  if (warningFilterInstalled) return;
  warningFilterInstalled = true;
  const original = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning?.message ?? '';
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (text.startsWith('NodeVersionSupportWarning') || type === 'NodeVersionSupportWarning') return;
    original(warning, ...rest);
  }) as typeof process.emitWarning;
}

function md5Base64(body: unknown): string | undefined {
  if (typeof body === 'string' || body instanceof Uint8Array) return createHash('md5').update(body).digest('base64');
  return undefined;
}

/** Commands whose bodies get a Content-MD5 the server verifies (S3 answers BadDigest on a mismatch). */
const MD5_COMMANDS = new Set(['PutObjectCommand', 'UploadPartCommand', 'DeleteObjectsCommand']);

interface MiddlewareArgs {
  request: { hostname?: string; path?: string; headers: Record<string, string>; body?: unknown };
}

/**
 * Content-MD5 on uploads (integrity on AWS and every work-alike; Swift s3api requires it on
 * DeleteObjects), and a check of the returned ETag for single-part uploads when it is a plain MD5.
 */
function addIntegrityMiddleware(client: S3Client): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const req = (args as unknown as MiddlewareArgs).request;
      if (!MD5_COMMANDS.has(context.commandName ?? '') || !req?.headers) return next(args);
      const md5 = req.headers['content-md5'] ?? md5Base64(req.body);
      if (md5 !== undefined) req.headers['content-md5'] = md5;
      const result = await next(args);
      if (md5 !== undefined && context.commandName !== 'DeleteObjectsCommand') {
        const headers = (result.response as { headers?: Record<string, string> } | undefined)?.headers ?? {};
        const etag = (headers.etag ?? headers.ETag ?? '').replace(/"/g, '');
        const kms = (headers['x-amz-server-side-encryption'] ?? '').startsWith('aws:kms') || headers['x-amz-server-side-encryption-customer-algorithm'];
        const want = Buffer.from(md5, 'base64').toString('hex');
        if (!kms && /^[0-9a-f]{32}$/i.test(etag) && etag.toLowerCase() !== want) {
          throw new StoreError('the stored object does not match the uploaded bytes', {
            detail: `The server returned ETag ${etag} for data whose MD5 is ${want}.`,
            retryable: false,
          });
        }
      }
      return result;
    },
    { step: 'build', name: 'walEContentMd5', priority: 'high' },
  );
}

/** WAL-E's "virtualhost" convention: requests go to http(s)://<bucket>[:port]/<key> (CNAME buckets). */
function addBucketAsHostMiddleware(client: S3Client, bucket: string): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const req = (args as unknown as MiddlewareArgs).request;
      const prefix = `/${encodeURIComponent(bucket)}`;
      if (req?.path !== undefined && (req.path === prefix || req.path.startsWith(prefix + '/'))) {
        req.hostname = bucket;
        req.path = req.path.slice(prefix.length) || '/';
        delete req.headers.host;
      }
      return next(args);
    },
    { step: 'build', name: 'walEBucketAsHost', priority: 'high' },
  );
}

async function credentialsFor(settings: S3Settings) {
  if (settings.instanceProfile) {
    const { fromInstanceMetadata } = await import('@smithy/credential-provider-imds');
    // IMDSv2 (session token) first, v1 as fallback; the SDK refreshes before expiry.
    const imds = fromInstanceMetadata({ timeout: 2000, maxRetries: 2 });
    return async () => {
      try {
        return await imds();
      } catch (err) {
        throw new UserError('Could not retrieve secret key from instance profile.', {
          detail: (err as Error).message,
          hint: 'Check that your instance has an IAM profile or set --aws-access-key-id',
        });
      }
    };
  }
  return {
    accessKeyId: settings.accessKeyId!,
    secretAccessKey: settings.secretAccessKey!.reveal(),
    ...(settings.sessionToken ? { sessionToken: settings.sessionToken.reveal() } : {}),
  };
}

async function makeClient(
  sdk: S3Sdk,
  bucket: string,
  settings: S3Settings,
  options: S3Options,
  policy: RetryPolicy,
  region: string,
  followRegionRedirects: boolean,
): Promise<S3Client> {
  const { NodeHttpHandler } = await import('@smithy/node-http-handler');
  const agentOptions = { keepAlive: true, maxSockets: 64 };
  const client = new sdk.S3Client({
    region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle || options.bucketIsHost,
    followRegionRedirects,
    credentials: await credentialsFor(settings),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    retryStrategy: new PolicyRetryStrategy(policy),
    maxAttempts: policy.maxAttempts,
    logger: SILENT_LOGGER,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: policy.connectTimeoutMs,
      requestTimeout: policy.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: policy.idleTimeoutMs,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
      logger: SILENT_LOGGER,
    }),
  });
  addIntegrityMiddleware(client);
  if (options.bucketIsHost) addBucketAsHostMiddleware(client, bucket);
  return client;
}

/**
 * The bucket's region, asked of AWS once per process when AWS_REGION is unset (USER-PAINS 9): HeadBucket
 * answers with x-amz-bucket-region even on a 301 redirect or a 403.
 */
async function discoverRegion(sdk: S3Sdk, client: S3Client, bucket: string): Promise<string | undefined> {
  try {
    const out = await client.send(new sdk.HeadBucketCommand({ Bucket: bucket }));
    return out.BucketRegion;
  } catch (err) {
    const headers = (err as { $response?: { headers?: Record<string, string> } }).$response?.headers;
    return headers?.['x-amz-bucket-region'];
  }
}

export async function connectS3(bucket: string, settings: S3Settings, options: S3Options, policy: RetryPolicy): Promise<S3Connection> {
  silenceSdkNodeVersionWarning();
  const sdk = await import('@aws-sdk/client-s3');
  if (options.region !== undefined) {
    // A wrong AWS_REGION still works: the SDK follows the 301 to the bucket's region.
    const client = await makeClient(sdk, bucket, settings, options, policy, options.region, !options.customEndpoint);
    return { sdk, client, region: options.region };
  }
  const probe = await makeClient(sdk, bucket, settings, options, policy, 'us-east-1', false);
  const region = (await discoverRegion(sdk, probe, bucket)) ?? 'us-east-1';
  if (region === 'us-east-1') return { sdk, client: probe, region };
  probe.destroy();
  return { sdk, client: await makeClient(sdk, bucket, settings, options, policy, region, true), region };
}
