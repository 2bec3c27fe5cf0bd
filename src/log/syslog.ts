// Syslog sink (spec §2.3). Node has no AF_UNIX datagram sockets, and journald/rsyslog listen on
// datagram sockets, so records go through util-linux `logger`, started once on the first record and
// fed one record per line. When no syslog socket exists the sink stays silent.
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';

export const SYSLOG_FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, ntp: 12, security: 13, console: 14, 'solaris-cron': 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

export const SYSLOG_SEVERITY = { DEBUG: 7, INFO: 6, WARNING: 4, ERROR: 3, CRITICAL: 2 } as const;

const CANDIDATE_SOCKETS = ['/dev/log', '/var/run/log', '/var/run/syslog'];

function isSocket(p: string): boolean {
  try {
    // No exception for a missing path: building one costs a millisecond on every start.
    return statSync(p, { throwIfNoEntry: false })?.isSocket() ?? false;
  } catch {
    return false;
  }
}

export function findSyslogSocket(override?: string): string | undefined {
  if (override) return isSocket(override) ? override : undefined;
  return CANDIDATE_SOCKETS.find(isSocket);
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

  /**
   * Hands the rest to `logger` and lets it finish on its own: the records sit in its stdin pipe, and
   * it outlives this process, so archive_command does not wait for syslog.
   */
  close(): Promise<void> {
    const child = this.child;
    if (child && !this.failed && child.exitCode === null) {
      child.stdin?.end();
      child.unref();
      (child.stdin as { unref?: () => void } | null)?.unref?.();
    }
    return Promise.resolve();
  }
}
