// The AWS SDK's retry hook driven by the shared policy (src/storage/http/retry-policy.ts): the SDK
// retries each request (each multipart part on its own) and asks this strategy whether and when.
// Decisions: classify() (401/403/404 and other client errors never; throttling, 5xx, resets and
// timeouts yes); delays: full-jitter backoff, or the server's Retry-After when it is longer; one
// WARNING line per retry; no retry that would end past the operation's deadline (spec §6.6,
// USER-PAINS 7 and 11).
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import { backoffMs, classify, logRetry, retryLabel, type RetryPolicy } from '../http/retry-policy';

class Token implements RetryToken {
  constructor(
    readonly startedAt: number,
    private readonly retryCount: number,
    private readonly delayMs: number,
  ) {}
  getRetryCount(): number {
    return this.retryCount;
  }
  getRetryDelay(): number {
    return this.delayMs;
  }
}

export class PolicyRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';

  constructor(private readonly policy: RetryPolicy) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return new Token(Date.now(), 0, 0);
  }

  async refreshRetryTokenForRetry(previous: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const token = previous as Token;
    const attempt = token.getRetryCount() + 1;
    const c = classify(info.error);
    if (!c.retryable || attempt >= this.policy.maxAttempts) throw info.error ?? new Error(c.reason);
    let delay = backoffMs(this.policy, attempt);
    if (info.retryAfterHint) {
      delay = Math.min(this.policy.maxDelayMs, Math.max(delay, info.retryAfterHint.getTime() - Date.now()));
    }
    if (Date.now() + delay - token.startedAt >= this.policy.deadlineMs) throw info.error ?? new Error(c.reason);
    logRetry(retryLabel('S3 request'), c.reason, attempt, this.policy.maxAttempts, delay);
    return new Token(token.startedAt, attempt, delay);
  }

  recordSuccess(): void {
    // no shared retry budget: each request has its own attempts and the operation its deadline
  }
}
