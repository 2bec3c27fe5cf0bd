// The terminal progress line of backup-push and backup-fetch: its text, how often it is redrawn, that
// other output erases it first, and that nothing at all happens off a terminal.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { formatBytes, formatDuration, formatProgress, NO_PROGRESS, ProgressLine, progressOnStderr } from '../../src/log/progress';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const ERASE = '\r\x1b[K';

class FakeTty {
  isTTY = true;
  columns = 100;
  out: string[] = [];
  write(chunk: string | Uint8Array): boolean {
    this.out.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  }
  /** The redraws: writes that start with the erase sequence and carry text. */
  draws(): string[] {
    return this.out.filter((s) => s.startsWith(ERASE) && s.length > ERASE.length).map((s) => s.slice(ERASE.length));
  }
}

function clock(start = 0) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('progress text', () => {
  it('formats sizes with binary units', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1536), '1.50 KiB');
    assert.equal(formatBytes(95.3 * MiB), '95.3 MiB');
    assert.equal(formatBytes(512 * MiB), '512 MiB');
    assert.equal(formatBytes(1.2 * GiB), '1.20 GiB');
  });

  it('formats time left as m:ss or h:mm:ss', () => {
    assert.equal(formatDuration(3.4), '0:03');
    assert.equal(formatDuration(61), '1:01');
    assert.equal(formatDuration(3600 + 62), '1:01:02');
    assert.equal(formatDuration(-5), '0:00');
  });

  it('shows done / total, percentage, rate and time left once the total is final', () => {
    const text = formatProgress({ label: 'backup-push', done: 1.2 * GiB, total: 1.5 * GiB, totalFinal: true, rate: 100 * MiB });
    assert.equal(text, 'backup-push: 1.20 GiB / 1.50 GiB (80%), 100 MiB/s, 0:03 left');
  });

  it('marks a total that may still grow and gives no percentage or time left for it', () => {
    const text = formatProgress({ label: 'backup-push', done: 10 * MiB, total: 900 * MiB, totalFinal: false, rate: 5 * MiB });
    assert.equal(text, 'backup-push: 10.0 MiB / 900 MiB+, 5.00 MiB/s');
  });

  it('leaves out what is not known yet', () => {
    assert.equal(formatProgress({ label: 'backup-fetch', done: 0, total: undefined, totalFinal: false, rate: undefined }), 'backup-fetch: 0 B');
  });
});

describe('ProgressLine', () => {
  it('redraws at most once per interval however often bytes arrive', () => {
    const tty = new FakeTty();
    const c = clock();
    const line = new ProgressLine({ label: 'x', stream: tty, now: c.now, intervalMs: 250, timer: false, interceptWrites: false });
    line.total(1000 * 1000);
    line.totalFinal();
    for (let i = 0; i < 1000; i++) {
      c.t += 1; // 1000 updates over one second
      line.done(1000);
    }
    const draws = tty.draws();
    assert.ok(draws.length >= 4 && draws.length <= 5, `${draws.length} redraws in 1 s`);
    line.stop();
  });

  it('reports the rate over the recent past and the time left from it', () => {
    const tty = new FakeTty();
    const c = clock();
    const line = new ProgressLine({ label: 'x', stream: tty, now: c.now, intervalMs: 250, timer: false, interceptWrites: false });
    line.total(100 * MiB);
    line.totalFinal();
    for (let i = 0; i < 8; i++) {
      c.t += 250;
      line.done(2.5 * MiB); // 10 MiB/s
    }
    assert.equal(line.text(), 'x: 20.0 MiB / 100 MiB (20%), 10.0 MiB/s, 0:08 left');
    line.stop();
  });

  it('erases itself before other output and comes back with the next update', () => {
    const tty = new FakeTty();
    const c = clock();
    const line = new ProgressLine({ label: 'x', stream: tty, now: c.now, intervalMs: 250, timer: false });
    line.done(10);
    assert.deepEqual(tty.out, [`${ERASE}x: 10 B`]);
    tty.write('2026-01-01 12:00:00.000 UTC: a log line\n');
    assert.deepEqual(tty.out.slice(1), [ERASE, '2026-01-01 12:00:00.000 UTC: a log line\n']);
    c.t += 1; // right after output the line may come back at once
    line.done(10);
    assert.equal(tty.out.at(-1), `${ERASE}x: 20 B`);
    line.stop();
    assert.equal(tty.out.at(-1), ERASE);
    const before = tty.out.length;
    tty.write('after stop\n');
    line.done(5);
    assert.deepEqual(tty.out.slice(before), ['after stop\n'], 'no erase or redraw once stopped');
  });

  it('does not erase when nothing is shown', () => {
    const tty = new FakeTty();
    const line = new ProgressLine({ label: 'x', stream: tty, timer: false });
    tty.write('log\n');
    line.stop();
    assert.deepEqual(tty.out, ['log\n']);
  });

  it('never draws a line wider than the terminal', () => {
    const tty = new FakeTty();
    tty.columns = 20;
    const line = new ProgressLine({ label: 'a-very-long-label', stream: tty, timer: false, interceptWrites: false });
    line.total(5 * GiB);
    line.done(3 * GiB);
    assert.ok(tty.draws()[0]!.length <= 19);
    line.stop();
  });
});

describe('progressOnStderr', () => {
  it('is a no-op off a terminal and on a dumb one', () => {
    const pipe = { write: () => true, isTTY: false };
    assert.equal(progressOnStderr('x', pipe, {}), NO_PROGRESS);
    const dumb = { write: () => true, isTTY: true };
    assert.equal(progressOnStderr('x', dumb, { TERM: 'dumb' }), NO_PROGRESS);
    const tty = new FakeTty();
    const p = progressOnStderr('x', tty, { TERM: 'xterm' });
    assert.ok(p instanceof ProgressLine);
    p.stop();
  });
});
