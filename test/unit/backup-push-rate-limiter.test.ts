import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TokenBucket } from '../../src/backup/push/rate-limiter';

describe('cluster read rate limit (token bucket)', () => {
  it('holds readers to the rate across all of them, with a fake clock', async () => {
    let now = 0;
    const sleeps: number[] = [];
    const bucket = new TokenBucket(
      1000,
      () => now,
      async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    );
    // Ten readers take 500 bytes each: 5000 bytes at 1000 B/s minus the initial burst of 1000 -> ~4 s.
    await Promise.all(Array.from({ length: 10 }, () => bucket.take(500)));
    assert.ok(Math.abs(now - 4000) < 1e-6, `took ${now} ms`);
    assert.ok(sleeps.length > 0);
  });

  it('does not sleep while under the rate', async () => {
    let now = 0;
    const bucket = new TokenBucket(1_000_000, () => now, async () => assert.fail('no sleep expected'));
    now += 1000;
    await bucket.take(100_000);
    now += 1000;
    await bucket.take(500_000);
  });

  it('reads in chunks of about a tenth of a second, within bounds', () => {
    assert.equal(new TokenBucket(100).chunkSize, 4096);
    assert.equal(new TokenBucket(10_000_000).chunkSize, 1_000_000);
    assert.equal(new TokenBucket(1e12).chunkSize, 1 << 20);
    assert.throws(() => new TokenBucket(0), RangeError);
  });

  it('really waits in real time', async () => {
    const bucket = new TokenBucket(200_000);
    const t0 = performance.now();
    for (let i = 0; i < 6; i++) await bucket.take(20_000); // 120 kB, 20 kB of burst: ~0.5 s
    const ms = performance.now() - t0;
    assert.ok(ms >= 400 && ms < 2000, `took ${ms} ms`);
  });
});
