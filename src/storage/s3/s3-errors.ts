// S3 failures as the CLI's typed errors: "not found" -> NotFoundError (wal-fetch exit 1), everything
// else -> StoreError with a one-line message that names the request, the HTTP status and S3's error
// code, and whether another attempt could help. Secrets never appear: SDK messages carry none.
import { NotFoundError, StoreError, WalEError } from '../../util/errors';
import { classify } from '../http/retry-policy';

export interface SdkErrorLike {
  name?: string;
  code?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $response?: { statusCode?: number; headers?: Record<string, string> };
}

export function httpStatusOf(err: unknown): number | undefined {
  const e = err as SdkErrorLike | undefined;
  return e?.$metadata?.httpStatusCode ?? e?.$response?.statusCode;
}

export function errorCodeOf(err: unknown): string | undefined {
  const e = err as SdkErrorLike | undefined;
  return e?.Code ?? e?.code ?? e?.name;
}

export function isNotFound(err: unknown): boolean {
  const code = errorCodeOf(err);
  return httpStatusOf(err) === 404 && code !== 'NoSuchBucket' && code !== 'NoSuchUpload';
}

/** What the S3 answer means for the user, in one short phrase. */
function explain(status: number | undefined, code: string | undefined): string | undefined {
  if (status === 403 || status === 401) {
    if (code === 'SignatureDoesNotMatch') return 'the secret access key is wrong';
    if (code === 'InvalidAccessKeyId') return 'the access key id is unknown to the server';
    if (code === 'ExpiredToken') return 'the session token has expired';
    return 'access denied: check the credentials and the bucket policy';
  }
  if (code === 'NoSuchBucket') return 'the bucket does not exist';
  return undefined;
}

/** A failed S3 request, keeping the HTTP status and S3 error code for callers that branch on them. */
export class S3RequestError extends StoreError {
  constructor(
    msg: string,
    parts: { detail?: string; retryable?: boolean },
    readonly httpStatus: number | undefined,
    readonly s3Code: string | undefined,
  ) {
    super(msg, parts);
  }
}

const GENERIC_CODES = new Set(['Error', 'Unknown', 'UnknownError']);

/** Turns an SDK (or network) error into the error the CLI reports. */
export function toStoreError(err: unknown, action: string, url: string): WalEError {
  if (err instanceof WalEError) return err;
  if (isNotFound(err)) return new NotFoundError(url);
  const status = httpStatusOf(err);
  const code = errorCodeOf(err);
  const e = err as SdkErrorLike;
  const c = classify(err);
  const known = code !== undefined && !GENERIC_CODES.has(code);
  const what = [status !== undefined ? `HTTP ${status}` : undefined, known ? code : undefined].filter(Boolean).join(' ');
  const why = explain(status, code);
  let msg = (e?.message ?? String(err)).split('\n')[0]!;
  // HEAD answers carry no body, so the SDK has no S3 error code or message to report.
  if (GENERIC_CODES.has(msg)) msg = 'the server sent no error details';
  return new S3RequestError(
    `could not ${action} "${url}"${why ? `: ${why}` : ''}`,
    {
      detail: `${what ? `${what}: ` : ''}${msg}${e?.$metadata?.requestId ? ` (request id ${e.$metadata.requestId})` : ''}`,
      // A 412 on a resumed read means the object was replaced: starting over can succeed.
      retryable: c.retryable || status === 412,
    },
    status,
    code,
  );
}


