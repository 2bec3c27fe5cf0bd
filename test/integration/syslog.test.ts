// Syslog destination: records reach a real datagram socket with WAL-E's priority (facility*8 +
// severity); with no socket, syslog is skipped quietly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runWalE, tempDir } from '../helpers/cli';

const work = tempDir('syslog');
after(work.remove);

/** A syslog daemon stand-in: binds a Unix datagram socket (Node cannot) and prints what arrives. */
function startListener(socketPath: string) {
  const py = spawn('python3', [
    '-c',
    `import socket,sys
s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(10)
print('ready', flush=True)
try:
    while True:
        print(s.recv(65536).decode('utf-8','replace').replace('\\n','\\\\n'), flush=True)
except socket.timeout:
    pass`,
    socketPath,
  ]);
  let out = '';
  py.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const ready = new Promise<void>((resolve) => {
    const check = () => (out.includes('ready') ? resolve() : setTimeout(check, 20));
    check();
  });
  return { ready, messages: () => out.split('\n').filter((l) => l.startsWith('<')), stop: () => py.kill() };
}

describe('syslog', () => {
  it('sends each record to the socket with facility and severity', async () => {
    const sock = join(work.path, 'log.sock');
    const l = startListener(sock);
    await l.ready;
    try {
      const r = await runWalE(['backup-list'], {
        env: { WALE_LOG_DESTINATION: 'syslog', WALE_SYSLOG_FACILITY: 'LOCAL3', WALE_SYSLOG_SOCKET: sock },
      });
      assert.equal(r.code, 1);
      assert.equal(r.stderr, '', 'syslog only: nothing on stderr');
      for (let i = 0; i < 100 && l.messages().length < 2; i++) await new Promise((res) => setTimeout(res, 20));
      const msgs = l.messages();
      assert.equal(msgs.length, 2, msgs.join('\n'));
      // local3 = 19: INFO -> 19*8+6 = 158, ERROR -> 19*8+3 = 155.
      assert.match(msgs[0]!, /^<158>.*wal_e\.main +INFO +MSG: starting WAL-E DETAIL: The subcommand is "backup-list"\. STRUCTURED: time=/);
      assert.match(msgs[1]!, /^<155>.*wal_e\.main +ERROR +MSG: no storage prefix defined HINT: /);
    } finally {
      l.stop();
    }
  });

  it('stderr and syslog together: both get the records', async () => {
    const sock = join(work.path, 'log2.sock');
    const l = startListener(sock);
    await l.ready;
    try {
      const r = await runWalE(['backup-list'], { env: { WALE_LOG_DESTINATION: 'stderr,syslog', WALE_SYSLOG_SOCKET: sock } });
      assert.match(r.stderr, /MSG: no storage prefix defined/);
      for (let i = 0; i < 100 && l.messages().length < 2; i++) await new Promise((res) => setTimeout(res, 20));
      // user = 1: ERROR -> 11.
      assert.ok(l.messages().some((m) => m.startsWith('<11>')), l.messages().join('\n'));
    } finally {
      l.stop();
    }
  });

  it('no syslog socket: skipped quietly, stderr still works', async () => {
    const missing = join(work.path, 'no-such.sock');
    assert.equal(existsSync(missing), false);
    const r = await runWalE(['backup-list'], { env: { WALE_LOG_DESTINATION: 'stderr,syslog', WALE_SYSLOG_SOCKET: missing } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^wal_e\.main +ERROR +MSG: no storage prefix defined/m);
    assert.doesNotMatch(r.stderr, /syslog|logger/i);
  });
});
