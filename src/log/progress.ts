// One self-updating progress line on stderr for the long commands (backup-push, backup-fetch), shown
// only when stderr is a terminal: bytes done of the total (when known), rate and time left. It is
// redrawn a few times a second at most, and erased before anything else is written to stderr so that
// log lines stay whole and clean; it comes back with the next redraw. Off a terminal nothing changes.

export interface ProgressSnapshot {
  label: string;
  done: number;
  /** Total bytes, when known. */
  total: number | undefined;
  /** The total may still grow (a walk that has not finished). */
  totalFinal: boolean;
  /** Bytes per second, undefined until there is enough to say. */
  rate: number | undefined;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(n: number): string {
  let v = n;
  let u = 0;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${UNITS[u]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** The line's text, e.g. "backup-push: 1.20 GiB / 1.50 GiB (80%), 95.3 MiB/s, 0:03 left". */
export function formatProgress(s: ProgressSnapshot): string {
  let text = `${s.label}: ${formatBytes(s.done)}`;
  if (s.total !== undefined && s.total > 0) {
    // While the total may still grow, say so ("at least") and give no percentage or time left.
    text += s.totalFinal
      ? ` / ${formatBytes(s.total)} (${Math.min(100, Math.floor((s.done / s.total) * 100))}%)`
      : ` / ${formatBytes(s.total)}+`;
  }
  if (s.rate !== undefined) {
    text += `, ${formatBytes(s.rate)}/s`;
    if (s.total !== undefined && s.totalFinal && s.rate > 0) text += `, ${formatDuration(Math.max(0, s.total - s.done) / s.rate)} left`;
  }
  return text;
}

/** What the commands report to; the no-op one is used off a terminal. */
export interface Progress {
  /** Bytes processed. */
  done(bytes: number): void;
  /** Bytes discovered (adds to the total). */
  total(bytes: number): void;
  /** No more total will be added. */
  totalFinal(): void;
  /** Erases the line for good. */
  stop(): void;
}

export const NO_PROGRESS: Progress = { done() {}, total() {}, totalFinal() {}, stop() {} };

/** The parts of a tty.WriteStream the line uses (a fake in tests). */
export interface ProgressStream {
  write(chunk: string | Uint8Array, ...rest: unknown[]): boolean;
  columns?: number;
  isTTY?: boolean;
}

export interface ProgressLineOptions {
  label: string;
  stream: ProgressStream;
  /** Minimum time between redraws. */
  intervalMs?: number;
  now?: () => number;
  /** Redraw on a timer too (so the rate decays while nothing moves); off in tests. */
  timer?: boolean;
  /** Take over stream.write so that other output first erases the line; off in tests of the drawing. */
  interceptWrites?: boolean;
}

const ERASE = '\r\x1b[K';
/** The rate is measured over roughly this window, so it follows changes in speed. */
const RATE_WINDOW_MS = 5000;

export class ProgressLine implements Progress {
  private doneBytes = 0;
  private totalBytes: number | undefined;
  private final = false;
  private shown = false;
  private stopped = false;
  private lastDraw = -Infinity;
  private readonly started: number;
  private readonly samples: { t: number; done: number }[] = [];
  private readonly interval: number;
  private readonly now: () => number;
  private readonly rawWrite: ProgressStream['write'];
  private readonly restoreWrite: (() => void) | undefined;
  private readonly ticker: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly o: ProgressLineOptions) {
    this.interval = o.intervalMs ?? 250;
    this.now = o.now ?? (() => performance.now());
    this.started = this.now();
    this.samples.push({ t: this.started, done: 0 });
    const stream = o.stream;
    this.rawWrite = stream.write.bind(stream);
    if (o.interceptWrites !== false) {
      const original = stream.write;
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        this.erase();
        return this.rawWrite(chunk, ...rest);
      }) as ProgressStream['write'];
      this.restoreWrite = () => {
        stream.write = original;
      };
    }
    if (o.timer !== false) {
      this.ticker = setInterval(() => this.draw(false), this.interval);
      this.ticker.unref();
    }
  }

  done(bytes: number): void {
    this.doneBytes += bytes;
    this.draw(false);
  }

  total(bytes: number): void {
    this.totalBytes = (this.totalBytes ?? 0) + bytes;
  }

  totalFinal(): void {
    this.final = true;
    this.totalBytes ??= 0;
  }

  stop(): void {
    if (this.stopped) return;
    this.erase();
    this.stopped = true;
    if (this.ticker !== undefined) clearInterval(this.ticker);
    this.restoreWrite?.();
  }

  /** The current line's text (what a redraw would show). */
  text(): string {
    const t = this.now();
    const rate = this.rate(t);
    return formatProgress({ label: this.o.label, done: this.doneBytes, total: this.totalBytes, totalFinal: this.final, rate });
  }

  /** Redraws when the interval has passed since the last redraw (or always, with force). */
  draw(force: boolean): void {
    if (this.stopped) return;
    const t = this.now();
    if (!force && t - this.lastDraw < this.interval) return;
    this.lastDraw = t;
    this.samples.push({ t, done: this.doneBytes });
    while (this.samples.length > 2 && t - this.samples[1]!.t >= RATE_WINDOW_MS) this.samples.shift();
    let line = this.text();
    // A line longer than the terminal would wrap, and "\r" could then no longer erase it.
    const width = (this.o.stream.columns ?? 80) - 1;
    if (width > 0 && line.length > width) line = line.slice(0, width);
    this.rawWrite(`${ERASE}${line}`);
    this.shown = true;
  }

  private rate(t: number): number | undefined {
    const first = this.samples[0]!;
    const span = t - first.t;
    // Less than a second of history says little about the speed.
    if (t - this.started < 1000 || span <= 0) return undefined;
    return ((this.doneBytes - first.done) * 1000) / span;
  }

  private erase(): void {
    if (!this.shown || this.stopped) return;
    this.shown = false;
    // The next redraw may come right away: output just moved the line out of sight.
    this.lastDraw = -Infinity;
    this.rawWrite(ERASE);
  }
}

/** A progress line on stderr when it is a terminal, else nothing. */
export function progressOnStderr(label: string, stream: ProgressStream = process.stderr, env: NodeJS.ProcessEnv = process.env): Progress {
  if (stream.isTTY !== true || env.TERM === 'dumb') return NO_PROGRESS;
  return new ProgressLine({ label, stream });
}
