// One authenticated session with Swift over Node's built-in fetch (undici, keep-alive). Every request
// goes through the shared retry policy (spec §6.6, USER-PAINS 7): transient failures are retried with
// backoff and one WARNING line each; a 401 triggers one re-authentication and one immediate resend
// (the token expired or was revoked); 403/404 and other answers are returned or thrown, never retried.
import type { SwiftSettings } from '../../config/credentials';
import { withRetries, type RetryPolicy } from '../http/retry-policy';
import { authenticate, type SwiftAuth } from './swift-auth';
import { SwiftHttpError, classifySwiftError, drain } from './swift-http-error';

export interface SwiftRequest {
  readonly method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'DELETE';
  /** Path and query below the storage URL, already encoded: "/c//pg/wal_005/X.lzo", "/c?format=json". */
  readonly path: string;
  readonly headers?: Record<string, string>;
  /** A complete body, so that a retry can send it again. */
  readonly body?: Uint8Array;
  /** Statuses that are answers for the caller (e.g. 404, 412); any other non-2xx status is an error. */
  readonly accept?: readonly number[];
}

export type Authenticator = (settings: SwiftSettings, signal: AbortSignal) => Promise<SwiftAuth>;

export class SwiftConnection {
  private session: Promise<SwiftAuth> | undefined;
  private current: SwiftAuth | undefined;

  constructor(
    private readonly settings: SwiftSettings,
    readonly policy: RetryPolicy,
    private readonly authenticator: Authenticator = authenticate,
  ) {}

  /** The current token and storage URL, authenticating once for all concurrent callers. */
  auth(): Promise<SwiftAuth> {
    if (!this.session) {
      const s = this.authenticator(this.settings, AbortSignal.timeout(this.policy.requestTimeoutMs));
      this.session = s;
      s.then(
        (a) => {
          if (this.session === s) this.current = a;
        },
        () => {
          if (this.session === s) this.session = undefined;
        },
      );
    }
    return this.session;
  }

  /** Forgets a token Swift refused, unless a concurrent request already replaced it. */
  private expire(stale: SwiftAuth): void {
    if (this.current === stale) {
      this.session = undefined;
      this.current = undefined;
    }
  }

  private async sendOnce(req: SwiftRequest, auth: SwiftAuth, signal: AbortSignal): Promise<Response> {
    return fetch(auth.storageUrl + req.path, {
      method: req.method,
      headers: { ...req.headers, 'X-Auth-Token': auth.token.reveal() },
      ...(req.body !== undefined ? { body: req.body } : {}),
      signal,
      redirect: 'manual',
    });
  }

  /**
   * Sends a request (with retries) and hands the response to `read` inside the same attempt, so a
   * failure while reading the body is retried too. `what` names the request in retry log lines.
   * When `streaming` is set, the per-attempt timeout stops applying once the headers have arrived:
   * the caller then owns the body and its stall detection.
   */
  request<T>(
    what: string,
    req: SwiftRequest,
    read: (res: Response, attempt: number) => Promise<T>,
    opts: { signal?: AbortSignal | undefined; streaming?: boolean } = {},
  ): Promise<T> {
    return withRetries(
      what,
      this.policy,
      async (attemptSignal, attempt) => {
        const headersPhase = new AbortController();
        const onAbort = (): void => headersPhase.abort(attemptSignal.reason);
        attemptSignal.addEventListener('abort', onAbort, { once: true });
        const signal = opts.signal ? AbortSignal.any([headersPhase.signal, opts.signal]) : headersPhase.signal;
        try {
          let auth = await this.auth();
          let res = await this.sendOnce(req, auth, signal);
          if (res.status === 401) {
            await drain(res, 0);
            this.expire(auth);
            auth = await this.auth();
            res = await this.sendOnce(req, auth, signal);
          }
          if (opts.streaming) attemptSignal.removeEventListener('abort', onAbort);
          if ((res.status < 200 || res.status >= 300) && !req.accept?.includes(res.status)) {
            const text = (await drain(res, 300)).trim().replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ');
            throw new SwiftHttpError(res.status, `${what} failed with HTTP ${res.status}`, {
              detail: text || undefined,
              hint: res.status === 401 || res.status === 403 ? 'Check the Swift credentials and the container ACLs.' : undefined,
            });
          }
          return await read(res, attempt);
        } finally {
          if (!opts.streaming) attemptSignal.removeEventListener('abort', onAbort);
        }
      },
      classifySwiftError,
    );
  }
}
