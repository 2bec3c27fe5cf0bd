// --cluster-read-rate-limit in-process: one token bucket shared by every reader of the data directory,
// so the whole backup reads at most `bytesPerSecond` (WAL-E split the limit per partition with pv, and
// crashed when it was smaller than the pool size: spec §5.4.3, §7 item 26).

export interface RateLimiter {
  /** Resolves when `bytes` may be read. */
  take(bytes: number): Promise<void>;
  /** A read size that keeps the flow smooth at this rate. */
  readonly chunkSize: number;
}

export const UNLIMITED: RateLimiter = { take: async () => undefined, chunkSize: 1 << 20 };

export class TokenBucket implements RateLimiter {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();
  readonly chunkSize: number;

  constructor(
    private readonly bytesPerSecond: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(bytesPerSecond > 0)) throw new RangeError('the rate must be positive');
    // Reads of about a tenth of a second's worth, between 4 KiB and 1 MiB; the burst is one second's worth.
    this.chunkSize = Math.max(4096, Math.min(1 << 20, Math.floor(bytesPerSecond / 10)));
    this.tokens = Math.min(bytesPerSecond, this.chunkSize);
    this.last = now();
  }

  take(bytes: number): Promise<void> {
    // Callers queue in order, so no reader starves another.
    const turn = this.queue.then(() => this.wait(bytes));
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async wait(bytes: number): Promise<void> {
    const t = this.now();
    this.tokens = Math.min(this.bytesPerSecond, this.tokens + ((t - this.last) / 1000) * this.bytesPerSecond);
    this.last = t;
    this.tokens -= bytes;
    if (this.tokens < 0) await this.sleep((-this.tokens / this.bytesPerSecond) * 1000);
  }
}
