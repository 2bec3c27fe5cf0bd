// WAL-E's log-line shape (spec §2.1, §2.2): "%(name)-12s %(levelname)-8s %(message)s", every newline in
// the record followed by 8 spaces, and a message body of MSG/DETAIL/HINT/STRUCTURED lines.
import type { LogLevel } from '../util/errors';

export interface LogRecord {
  logger: string;
  level: LogLevel;
  msg: string;
  detail?: string | undefined;
  hint?: string | undefined;
  /** Extra STRUCTURED items besides time and pid. */
  structured?: Record<string, string | number> | undefined;
  /** A raw record (third-party style): printed without the MSG/STRUCTURED body. */
  raw?: boolean;
}

/** UTC "YYYY-MM-DDTHH:MM:SS.ffffff-00" as WAL-E prints it. */
export function structuredTime(d: Date, micros = d.getUTCMilliseconds() * 1000): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(micros, 6)}-00`
  );
}

/** The wall clock with microseconds (Date has milliseconds only). */
export function nowWithMicros(): { date: Date; micros: number } {
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  return { date: new Date(Math.floor(us / 1000)), micros: us % 1_000_000 };
}

export function formatBody(rec: LogRecord, now: Date, pid: number, micros?: number): string {
  if (rec.raw) return rec.msg;
  const lines = [`MSG: ${rec.msg}`];
  if (rec.detail) lines.push(`DETAIL: ${rec.detail}`);
  if (rec.hint) lines.push(`HINT: ${rec.hint}`);
  // Items are sorted as whole "key=value" strings, after time and pid (spec §2.2).
  const items = Object.entries(rec.structured ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  lines.push(['STRUCTURED:', `time=${structuredTime(now, micros)}`, `pid=${pid}`, ...items].join(' '));
  return lines.join('\n');
}

export function formatLine(rec: LogRecord, now: Date, pid: number, micros?: number): string {
  const text = `${rec.logger.padEnd(12)} ${rec.level.padEnd(8)} ${formatBody(rec, now, pid, micros)}`;
  return text.replace(/\n/g, '\n        ');
}

/** Python's "{0:02g}" for transfer rates: %g with 6 significant digits, "NaN" for a zero duration. */
export function formatRate(kibPerSecond: number): string {
  if (!Number.isFinite(kibPerSecond)) return 'NaN';
  if (kibPerSecond === 0) return '00';
  const exp = Math.floor(Math.log10(Math.abs(kibPerSecond)));
  if (exp < -4 || exp >= 6) {
    const [m, e] = kibPerSecond.toExponential(5).split('e') as [string, string];
    const mant = m.includes('.') ? m.replace(/0+$/, '').replace(/\.$/, '') : m;
    const en = Number(e);
    return `${mant}e${en < 0 ? '-' : '+'}${String(Math.abs(en)).padStart(2, '0')}`;
  }
  const s = kibPerSecond.toPrecision(6);
  const out = s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
  return out.length < 2 ? out.padStart(2, '0') : out;
}
