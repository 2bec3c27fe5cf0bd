// The process-wide logger: WAL-E's destinations (stderr, syslog), level (INFO, or WARNING with --terse)
// and record shape. Configured once at start-up from Config; until then it logs INFO to stderr.
import type { LogLevel } from '../util/errors';
import { formatBody, formatLine, nowWithMicros, type LogRecord } from './format';
import { SYSLOG_SEVERITY, SyslogSink, findSyslogSocket } from './syslog';

const LEVEL_ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 };

export interface LogSettings {
  destinations: readonly string[];
  syslogFacility: number;
  terse: boolean;
  syslogSocket?: string | undefined;
}

interface State {
  level: number;
  stderr: boolean;
  syslog: SyslogSink | undefined;
  /** No handler at all: Python's last-resort behaviour, bare WARNING+ messages on stderr. */
  lastResort: boolean;
}

const state: State = { level: LEVEL_ORDER.INFO, stderr: true, syslog: undefined, lastResort: false };

export function configureLogging(s: LogSettings): void {
  state.level = s.terse ? LEVEL_ORDER.WARNING : LEVEL_ORDER.INFO;
  state.stderr = s.destinations.includes('stderr');
  const wantSyslog = s.destinations.includes('syslog');
  state.lastResort = !state.stderr && !wantSyslog;
  const socket = wantSyslog ? findSyslogSocket(s.syslogSocket) : undefined;
  state.syslog = socket ? new SyslogSink(socket, s.syslogFacility) : undefined;
}

export function log(rec: LogRecord): void {
  const levelNo = LEVEL_ORDER[rec.level];
  if (state.lastResort) {
    if (levelNo >= LEVEL_ORDER.WARNING) {
      const t = nowWithMicros();
      process.stderr.write(formatBody(rec, t.date, process.pid, t.micros) + '\n');
    }
    return;
  }
  if (levelNo < state.level) return;
  const t = nowWithMicros();
  const line = formatLine(rec, t.date, process.pid, t.micros);
  if (state.stderr) process.stderr.write(line + '\n');
  state.syslog?.write(SYSLOG_SEVERITY[rec.level], line);
}

/** A named logger, as WAL-E's module loggers (`wal_e.main`, `wal_e.worker.upload`, ...). */
export class Logger {
  constructor(readonly name: string) {}

  private emit(level: LogLevel, msg: string, o: Omit<LogRecord, 'logger' | 'level' | 'msg'> = {}): void {
    log({ logger: this.name, level, msg, ...o });
  }
  debug(msg: string, o?: Omit<LogRecord, 'logger' | 'level' | 'msg'>): void { this.emit('DEBUG', msg, o); }
  info(msg: string, o?: Omit<LogRecord, 'logger' | 'level' | 'msg'>): void { this.emit('INFO', msg, o); }
  warning(msg: string, o?: Omit<LogRecord, 'logger' | 'level' | 'msg'>): void { this.emit('WARNING', msg, o); }
  error(msg: string, o?: Omit<LogRecord, 'logger' | 'level' | 'msg'>): void { this.emit('ERROR', msg, o); }
  critical(msg: string, o?: Omit<LogRecord, 'logger' | 'level' | 'msg'>): void { this.emit('CRITICAL', msg, o); }
}

export function getLogger(name: string): Logger {
  return new Logger(name);
}

/** Waits for the syslog child to take every record; call before exiting. */
export async function flushLogs(): Promise<void> {
  await state.syslog?.close();
}
