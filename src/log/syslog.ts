// Syslog sink (spec §2.3). Node has no AF_UNIX datagram sockets, and journald/rsyslog listen on
// datagram sockets, so records go through util-linux `logger`, started once on the first record and
// fed one record per line; the process waits for it to drain before exiting. When no syslog socket
// exists the sink stays silent, as the issue asks.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export const SYSLOG_FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, ntp: 12, security: 13, console: 14, 'solaris-cron': 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

export const SYSLOG_SEVERITY = { DEBUG: 7, INFO: 6, WARNING: 4, ERROR: 3, CRITICAL: 2 } as const;

const CANDIDATE_SOCKETS = ['/dev/log', '/var/run/log', '/var/run/syslog'];

export function findSyslogSocket(override?: string): string | undefined {
  if (override) return existsSync(override) ? override : undefined;
  return CANDIDATE_SOCKETS.find((p) => existsSync(p));
}

export class SyslogSink {
  private child: ChildProcess | undefined;
  private failed = false;

  constructor(private readonly socketPath: string, private readonly facility: number) {}

  write(severity: number, text: string): void {
    if (this.failed) return;
    if (!this.child) {
      try {
        this.child = spawn(
          'logger',
          ['--socket-errors=off', '-u', this.socketPath, '--prio-prefix', '-t', 'wal-e', '--id=' + process.pid],
          { stdio: ['pipe', 'ignore', 'ignore'] },
        );
        this.child.on('error', () => {
          this.failed = true;
        });
        this.child.stdin?.on('error', () => {
          this.failed = true;
        });
      } catch {
        this.failed = true;
        return;
      }
    }
    // One record per line: continuation lines are joined so a multi-line record stays one message.
    const pri = this.facility * 8 + severity;
    this.child.stdin?.write(`<${pri}>${text.replace(/\n\s*/g, ' ')}\n`);
  }

  /** Resolves once every record has been handed to the syslog socket (bounded wait). */
  close(): Promise<void> {
    const child = this.child;
    if (!child || this.failed || child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 2000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('error', () => {
        clearTimeout(timer);
        resolve();
      });
      child.stdin?.end();
    });
  }
}
