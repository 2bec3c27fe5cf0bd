// Retries and deadlines for every HTTP store, in one place (spec §6.6, USER-PAINS 7 and 11): exponential
// backoff with full jitter on throttling, 5xx and connection errors only; 401/403/404 and other client
// errors are never retried; every request has a timeout and every operation an overall deadline; one
// log line per retry says what is retried and why. SDK adapters plug these numbers and this
// classification into their SDK's own retry hook (so multipart parts retry per part); clients without
// one wrap requests in withRetries().
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Config } from '../../config/config';
import { getLogger } from '../../log/logger';

const log = getLogger('wal_e.retries');

export interface RetryPolicy {
  /** Attempts per request, first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** One request (or one part) may take this long before it is abandoned and retried. */
  readonly requestTimeoutMs: number;
  /** A connection attempt may take this long. */
  readonly connectTimeoutMs: number;
  /** A connection may sit this long without a byte either way (a stalled server) before it is dropped and the request retried. */
  readonly idleTimeoutMs: number;
  /** A whole operation (all attempts of one request) gives up after this long. */
  readonly deadlineMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 200,
  maxDelayMs: 20_000,
  requestTimeoutMs: 120_000,
  connectTimeoutMs: 10_000,
  // boto's socket timeout under WAL-E was 5 s (spec §6.1); 30 s tolerates slow work-alikes.
  idleTimeoutMs: 30_000,
  deadlineMs: 15 * 60_000,
};

/** WALE_RETRIES bounds the attempts (0 = WAL-E's "unlimited", which stays bounded by the deadline). */
export function retryPolicyFor(config: Pick<Config, 'retries'>): RetryPolicy {
  const maxAttempts = config.retries === 0 ? 1000 : Math.max(1, Math.min(config.retries, DEFAULT_RETRY_POLICY.maxAttempts));
  return { ...DEFAULT_RETRY_POLICY, maxAttempts };
}

/** Full-jitter exponential backoff before attempt `attempt + 1` (attempt counts from 1). */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(Math.random() * cap);
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRYABLE_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH',
  'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED', 'RequestTimeout', 'RequestTimeTooSkewed', 'SlowDown', 'Throttling', 'ThrottlingException',
  'ServerBusy', 'InternalError', 'ServiceUnavailable', 'OperationTimedOut',
  // S3: a concurrent conditional write to the same key is in progress; AWS asks clients to retry.
  'ConditionalRequestConflict',
]);
/** Client errors that are worth another attempt despite a 4xx status. */
const RETRYABLE_CLIENT_CODES = new Set(['RequestTimeout', 'RequestTimeTooSkewed', 'ConditionalRequestConflict', 'SlowDown', 'Throttling', 'ThrottlingException']);

export interface Classified {
  readonly retryable: boolean;
  /** Short text for the log line: "HTTP 503 SlowDown", "ECONNRESET", ... */
  readonly reason: string;
}

/** Decides whether an error from a store request is worth another attempt. */
export function classify(err: unknown, status?: number): Classified {
  const e = err as { code?: string; name?: string; message?: string; cause?: unknown; $metadata?: { httpStatusCode?: number } };
  const httpStatus = status ?? e?.$metadata?.httpStatusCode;
  const code = e?.code ?? (e?.cause as { code?: string } | undefined)?.code ?? e?.name;
  if (httpStatus !== undefined) {
    const reason = `HTTP ${httpStatus}${code && code !== 'Error' ? ` ${code}` : ''}`;
    const retryable =
      RETRYABLE_STATUS.has(httpStatus) ||
      (code !== undefined && RETRYABLE_CODES.has(code) && httpStatus >= 500) ||
      (code !== undefined && RETRYABLE_CLIENT_CODES.has(code));
    return { retryable, reason };
  }
  if (code && RETRYABLE_CODES.has(code)) return { retryable: true, reason: code };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return { retryable: true, reason: 'request timed out' };
  if (/socket hang up|premature close|terminated|other side closed/i.test(e?.message ?? '')) {
    return { retryable: true, reason: e?.message ?? 'connection lost' };
  }
  return { retryable: false, reason: code ?? e?.message ?? String(err) };
}

const labels = new AsyncLocalStorage<string>();

/**
 * Runs `fn` with a description of the operation ("PUT s3://b/k") that retry hooks deep inside an SDK
 * can read with retryLabel() to say what they retry.
 */
export function withRetryLabel<T>(what: string, fn: () => Promise<T>): Promise<T> {
  return labels.run(what, fn);
}

export function retryLabel(fallback = 'storage request'): string {
  return labels.getStore() ?? fallback;
}

export function logRetry(what: string, reason: string, attempt: number, maxAttempts: number, delayMs: number): void {
  log.warning('retrying a storage request after a transient error', {
    detail: `${what}: ${reason}; attempt ${attempt} of ${maxAttempts} failed, retrying in ${(delayMs / 1000).toFixed(1)} s.`,
  });
}

/**
 * Runs `op` until it succeeds, fails with a non-retryable error, runs out of attempts or passes the
 * deadline. Each attempt gets an AbortSignal that fires after the per-request timeout.
 */
export async function withRetries<T>(
  what: string,
  policy: RetryPolicy,
  op: (signal: AbortSignal, attempt: number) => Promise<T>,
  classifyError: (err: unknown) => Classified = (err) => classify(err),
): Promise<T> {
  const deadline = Date.now() + policy.deadlineMs;
  for (let attempt = 1; ; attempt++) {
    const signal = AbortSignal.timeout(Math.max(1, Math.min(policy.requestTimeoutMs, deadline - Date.now())));
    try {
      return await op(signal, attempt);
    } catch (err) {
      const c = classifyError(err);
      const delay = backoffMs(policy, attempt);
      if (!c.retryable || attempt >= policy.maxAttempts || Date.now() + delay >= deadline) throw err;
      logRetry(what, c.reason, attempt, policy.maxAttempts, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
