// wal-push, wal-fetch and wal-prefetch through the built binary on the file store: WAL-E's fixture
// objects, the exit-code contract, kill -9 safety, the look-ahead records and the prefetch folder.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync, chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync,
  rmSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { packageRoot } from '../../src/util/dist-path';
import { WAL_E_BIN, baseEnv, logMessages, runWalE, tempDir } from '../helpers/cli';
import { chownToPostgres, postgresUser, runAsPostgres } from '../helpers/postgres';
import { PLAIN_STORE_WAL_PAYLOAD_MD5 } from '../helpers/fixture-manifest';

const FIXTURE_STORE = join(packageRoot(), 'test', 'fixtures', 'wale-store-plain');

const FIXTURE_PAYLOAD_MD5 = PLAIN_STORE_WAL_PAYLOAD_MD5;

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const work = tempDir('wal-commands');
after(work.remove);
let n = 0;
const fresh = (label: string) => {
  const d = join(work.path, `${label}-${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(check: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

/** A fake data directory with pg_wal/ and archive_status/, and a store. */
function cluster(): { dir: string; store: string; env: Record<string, string> } {
  const dir = fresh('cluster');
  mkdirSync(join(dir, 'pg_wal', 'archive_status'), { recursive: true });
  const store = join(dir, 'store');
  return { dir, store, env: { WALE_FILE_PREFIX: `file://localhost${store}` } };
}

function writeSegment(dir: string, name: string, data: Buffer, ready = true): void {
  writeFileSync(join(dir, 'pg_wal', name), data);
  if (ready) writeFileSync(join(dir, 'pg_wal', 'archive_status', `${name}.ready`), '');
}

const segmentData = (seed: number) => Buffer.concat([Buffer.alloc(8 << 20, seed), randomBytes(1 << 20), Buffer.alloc(7 << 20, seed + 1)]);

describe('wal-fetch reads WAL-E 1.1.1 archives', () => {
  it('every WAL object of the fixture store fetches byte-identical', async () => {
    const dest = fresh('fixture-fetch');
    const env = { WALE_FILE_PREFIX: `file://localhost${FIXTURE_STORE}` };
    const names = readdirSync(join(FIXTURE_STORE, 'wal_005')).map((f) => f.replace(/\.lzo$/, '')).sort();
    assert.deepEqual(names, Object.keys(FIXTURE_PAYLOAD_MD5).sort());
    for (const name of names) {
      const r = await runWalE(['wal-fetch', '--prefetch', '0', name, join(dest, 'RECOVERYXLOG')], { env });
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(md5(readFileSync(join(dest, 'RECOVERYXLOG'))), FIXTURE_PAYLOAD_MD5[name], name);
    }
    // The segment itself was never archived, only its .partial: a miss is exit 1 on the file store too.
    const miss = await runWalE(['wal-fetch', '-p', '0', '00000001000000000000000F', join(dest, 'MISS')], { env });
    assert.equal(miss.code, 1, miss.stderr);
    assert.equal(existsSync(join(dest, 'MISS')), false);
  });
});

describe('wal-push: exit codes and never-overwrite', () => {
  it('hit: exit 0, object in wal_005/<name>.lzo that lzop -d restores; history, partial and backup-label files too', async () => {
    const c = cluster();
    const files: Record<string, Buffer> = {
      '000000010000000000000001': segmentData(1),
      '00000002.history': Buffer.from('1\t0/3000000\tno recovery target specified\n'),
      '000000010000000000000005.partial': segmentData(5),
      '000000010000000000000002.00000028.backup': Buffer.from('START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n'),
    };
    for (const [name, data] of Object.entries(files)) {
      writeSegment(c.dir, name, data, false);
      const r = await runWalE(['wal-push', `pg_wal/${name}`], { env: c.env, cwd: c.dir });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(logMessages(r.stderr).map((m) => m.msg), ['begin archiving a file', 'completed archiving to a file']);
      const obj = join(c.store, 'wal_005', `${name}.lzo`);
      assert.ok(execFileSync('lzop', ['-dc', obj], { maxBuffer: 64 << 20 }).equals(data), name);
    }
  });

  it('miss: exit 1, WAL-E\'s stdout line and message, nothing stored', async () => {
    const c = cluster();
    const r = await runWalE(['wal-push', 'pg_wal/000000010000000000000009'], { env: c.env, cwd: c.dir });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "[Errno 2] No such file or directory: 'pg_wal/000000010000000000000009'\n");
    assert.match(r.stderr, /MSG: could not find file for wal-push\n +DETAIL: The operating system reported: No such file or directory 'pg_wal\/000000010000000000000009'/);
    assert.equal(existsSync(join(c.store, 'wal_005', '000000010000000000000009.lzo')), false);
  });

  it('a directory or an unreadable file: exit 1 with a clear message', async () => {
    const c = cluster();
    mkdirSync(join(c.dir, 'pg_wal', '000000010000000000000003'));
    const dirCase = await runWalE(['wal-push', 'pg_wal/000000010000000000000003'], { env: c.env, cwd: c.dir });
    assert.equal(dirCase.code, 1, dirCase.stderr);
    assert.match(dirCase.stderr, /MSG: could not read the file for wal-push/);
    if (postgresUser()) {
      // Root reads anything; the unprivileged user PostgreSQL runs as does not.
      const u = cluster();
      chownToPostgres(u.dir);
      writeSegment(u.dir, '000000010000000000000004', segmentData(4));
      chmodSync(join(u.dir, 'pg_wal', '000000010000000000000004'), 0o600);
      const r = await runAsPostgres(process.execPath, [WAL_E_BIN(), 'wal-push', 'pg_wal/000000010000000000000004'], {
        cwd: u.dir,
        env: baseEnv(u.env),
      });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /MSG: could not read the file for wal-push\n +DETAIL: The operating system reported: EACCES/);
    }
  });

  it('a store that cannot be written: exit 2, one clear record, no stack trace', async () => {
    const c = cluster();
    writeSegment(c.dir, '000000010000000000000001', segmentData(1));
    writeFileSync(join(c.dir, 'not-a-dir'), 'x');
    const r = await runWalE(['wal-push', 'pg_wal/000000010000000000000001'], {
      env: { WALE_FILE_PREFIX: `file://${join(c.dir, 'not-a-dir', 'store')}` },
      cwd: c.dir,
    });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /ERROR +MSG: could not create temporary file/);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  });

  it('a bad name: exit 2', async () => {
    const c = cluster();
    writeFileSync(join(c.dir, 'pg_wal', 'bad name'), 'x');
    const r = await runWalE(['wal-push', 'pg_wal/bad name'], { env: c.env, cwd: c.dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /MSG: invalid WAL file name/);
  });

  it('the same content again: exit 0 without rewriting; different content: refused, archive untouched', async () => {
    const c = cluster();
    const data = segmentData(7);
    writeSegment(c.dir, '000000010000000000000007', data);
    assert.equal((await runWalE(['wal-push', '-p', '1', 'pg_wal/000000010000000000000007'], { env: c.env, cwd: c.dir })).code, 0);
    const again = await runWalE(['wal-push', '-p', '1', 'pg_wal/000000010000000000000007'], { env: c.env, cwd: c.dir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /MSG: WAL file already archived with identical content/);
    writeSegment(c.dir, '000000010000000000000007', segmentData(8));
    const different = await runWalE(['wal-push', '-p', '1', 'pg_wal/000000010000000000000007'], { env: c.env, cwd: c.dir });
    assert.equal(different.code, 1);
    assert.match(different.stderr, /ERROR +MSG: refusing to overwrite an archived WAL file with different content/);
    const obj = join(c.store, 'wal_005', '000000010000000000000007.lzo');
    assert.ok(execFileSync('lzop', ['-dc', obj], { maxBuffer: 64 << 20 }).equals(data));
  });

  it('an archived object that cannot be decoded (a partial write of WAL-E) is replaced by the intact file', async () => {
    const c = cluster();
    const data = segmentData(9);
    writeSegment(c.dir, '000000010000000000000009', data);
    mkdirSync(join(c.store, 'wal_005'), { recursive: true });
    const obj = join(c.store, 'wal_005', '000000010000000000000009.lzo');
    copyFileSync(join(FIXTURE_STORE, 'wal_005', '000000010000000000000002.lzo'), obj);
    writeFileSync(obj, readFileSync(obj).subarray(0, 5000));
    const r = await runWalE(['wal-push', '-p', '1', 'pg_wal/000000010000000000000009'], { env: c.env, cwd: c.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /WARNING +MSG: replacing an archived WAL file that cannot be decoded/);
    assert.ok(execFileSync('lzop', ['-dc', obj], { maxBuffer: 64 << 20 }).equals(data));
  });

  it('kill -9 during an upload leaves no object at the final key; the rerun succeeds and sweeps the temp file', async () => {
    const c = cluster();
    const big = randomBytes(192 << 20);
    writeSegment(c.dir, '000000010000000000000010', big);
    const child = spawn(process.execPath, [WAL_E_BIN(), 'wal-push', 'pg_wal/000000010000000000000010'], {
      cwd: c.dir,
      env: baseEnv(c.env),
      stdio: 'ignore',
    });
    const tmpDir = join(c.store, 'wal_005', '.wal-e-tmp');
    await waitFor(() => existsSync(tmpDir) && readdirSync(tmpDir).length > 0, 20_000, 'the upload to start');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const final = join(c.store, 'wal_005', '000000010000000000000010.lzo');
    assert.equal(existsSync(final), false);
    const r = await runWalE(['wal-push', 'pg_wal/000000010000000000000010'], { env: c.env, cwd: c.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(execFileSync('lzop', ['-dc', final], { maxBuffer: 256 << 20 }).equals(big));
    assert.deepEqual(existsSync(tmpDir) ? readdirSync(tmpDir) : [], []);
  });
});

describe('wal-push look-ahead', () => {
  it('uploads other .ready segments without touching any .ready file, then confirms them from its records', async () => {
    const c = cluster();
    const segs = ['000000010000000000000011', '000000010000000000000012', '000000010000000000000013'];
    segs.forEach((s, i) => writeSegment(c.dir, s, segmentData(20 + i)));
    writeSegment(c.dir, '00000002.history', Buffer.from('1\t0/12000000\tno recovery target specified\n'));
    writeSegment(c.dir, '000000010000000000000014.partial', segmentData(30));
    const statusBefore = readdirSync(join(c.dir, 'pg_wal', 'archive_status')).sort();

    const first = await runWalE(['wal-push', `pg_wal/${segs[0]}`], { env: c.env, cwd: c.dir });
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(readdirSync(join(c.dir, 'pg_wal', 'archive_status')).sort(), statusBefore, 'no .ready was renamed');
    assert.deepEqual(readdirSync(join(c.store, 'wal_005')).filter((f) => f.endsWith('.lzo')).sort(), segs.map((s) => `${s}.lzo`));
    assert.deepEqual(readdirSync(join(c.dir, 'pg_wal', '.wal-e', 'pushed')).sort(), segs.slice(1));

    // PostgreSQL marks the requested one done, then asks for the next: served from the record.
    renameSync(join(c.dir, 'pg_wal', 'archive_status', `${segs[0]}.ready`), join(c.dir, 'pg_wal', 'archive_status', `${segs[0]}.done`));
    const second = await runWalE(['wal-push', `pg_wal/${segs[1]}`], { env: c.env, cwd: c.dir });
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(logMessages(second.stderr).map((m) => m.msg), ['WAL file was archived ahead of time']);
    assert.deepEqual(readdirSync(join(c.dir, 'pg_wal', '.wal-e', 'pushed')), [segs[2]], 'a used record is removed');

    // A record whose file changed is ignored: the archive's copy differs, so the push is refused.
    writeSegment(c.dir, segs[2]!, segmentData(99));
    const third = await runWalE(['wal-push', `pg_wal/${segs[2]}`], { env: c.env, cwd: c.dir });
    assert.equal(third.code, 1);
    assert.match(third.stderr, /refusing to overwrite an archived WAL file with different content/);
    assert.doesNotMatch(third.stderr, /archived ahead of time/);
  });

  it('--pool-size 1 uploads only the requested file', async () => {
    const c = cluster();
    writeSegment(c.dir, '000000010000000000000021', segmentData(1));
    writeSegment(c.dir, '000000010000000000000022', segmentData(2));
    const r = await runWalE(['wal-push', '--pool-size', '1', 'pg_wal/000000010000000000000021'], { env: c.env, cwd: c.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(join(c.store, 'wal_005')).filter((f) => f.endsWith('.lzo')), ['000000010000000000000021.lzo']);
  });
});

describe('wal-fetch: exit codes and atomic destination', () => {
  const store = () => {
    const s = fresh('store');
    cpSync(FIXTURE_STORE, s, { recursive: true });
    return { store: s, env: { WALE_FILE_PREFIX: `file://${s}` } };
  };

  it('miss: exit 1 quickly, no destination, WAL-E\'s message', async () => {
    const { env } = store();
    const dest = join(fresh('dest'), 'RECOVERYXLOG');
    const r = await runWalE(['wal-fetch', '000000010000000000000099', dest], { env });
    assert.equal(r.code, 1);
    assert.equal(existsSync(dest), false);
    assert.match(r.stderr, /MSG: could no longer locate object while performing wal restore\n +DETAIL: The absolute URI that could not be located is file:\/\/.*000000010000000000000099\.lzo\./);
  });

  it('unwritable destination: exit 2, nothing written', async () => {
    const { env } = store();
    const missingDir = join(fresh('dest'), 'no-such-dir');
    for (const p of ['0', '8']) {
      const r = await runWalE(['wal-fetch', '-p', p, '000000010000000000000002', join(missingDir, 'RECOVERYXLOG')], { env });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(existsSync(missingDir), false);
    }
  });

  it('store error: exit 2', async () => {
    const d = fresh('broken');
    writeFileSync(join(d, 'file'), 'x');
    const dest = join(d, 'RECOVERYXLOG');
    const r = await runWalE(['wal-fetch', '-p', '0', '000000010000000000000002', dest], { env: { WALE_FILE_PREFIX: `file://${join(d, 'file', 'store')}` } });
    assert.equal(r.code, 2, r.stderr);
    assert.equal(existsSync(dest), false);
  });

  it('bad name: exit 2', async () => {
    const { env } = store();
    const dest = join(fresh('dest'), 'X');
    const r = await runWalE(['wal-fetch', '../../etc/passwd', dest], { env });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /MSG: invalid WAL file name/);
  });

  it('corrupt object: exit 2 naming the object, no destination, no temp file', async () => {
    const { store: s, env } = store();
    const obj = join(s, 'wal_005', '000000010000000000000003.lzo');
    const bytes = readFileSync(obj);
    bytes[Math.floor(bytes.length / 2)] ^= 0x55;
    writeFileSync(obj, bytes);
    const destDir = fresh('dest');
    const r = await runWalE(['wal-fetch', '-p', '0', '000000010000000000000003', join(destDir, 'RECOVERYXLOG')], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /lzop: corrupt object "wal_005\/000000010000000000000003\.lzo"/);
    assert.deepEqual(readdirSync(destDir), []);
  });

  it('kill -9 during a download leaves no destination; the next run completes', async () => {
    const c = cluster();
    const big = randomBytes(192 << 20);
    writeSegment(c.dir, '000000010000000000000030', big);
    assert.equal((await runWalE(['wal-push', '-p', '1', 'pg_wal/000000010000000000000030'], { env: c.env, cwd: c.dir })).code, 0);
    const destDir = fresh('dest');
    const dest = join(destDir, 'RECOVERYXLOG');
    const child = spawn(process.execPath, [WAL_E_BIN(), 'wal-fetch', '-p', '0', '000000010000000000000030', dest], {
      env: baseEnv(c.env),
      stdio: 'ignore',
    });
    await waitFor(() => readdirSync(destDir).some((f) => f.includes('.wal-e-tmp.')), 20_000, 'the download to start');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    assert.equal(existsSync(dest), false);
    const r = await runWalE(['wal-fetch', '-p', '0', '000000010000000000000030', dest], { env: c.env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(readFileSync(dest).equals(big));
    assert.deepEqual(readdirSync(destDir), ['RECOVERYXLOG'], 'the killed run\'s temp file was swept');
  });
});

describe('prefetch', () => {
  const setup = () => {
    const s = fresh('pstore');
    cpSync(FIXTURE_STORE, s, { recursive: true });
    const data = fresh('pgdata');
    mkdirSync(join(data, 'pg_wal'));
    return { env: { WALE_FILE_PREFIX: `file://${s}` }, walDir: join(data, 'pg_wal'), dest: join(data, 'pg_wal', 'RECOVERYXLOG') };
  };
  const prefetchDir = (walDir: string) => join(walDir, '.wal-e', 'prefetch');

  it('downloads the next segments in the background and promotes them by rename', async () => {
    const { env, walDir, dest } = setup();
    const r = await runWalE(['wal-fetch', '--prefetch', '2', '000000010000000000000002', dest], { env });
    assert.equal(r.code, 0, r.stderr);
    const pf = prefetchDir(walDir);
    await waitFor(() => existsSync(join(pf, '000000010000000000000003')) && existsSync(join(pf, '000000010000000000000004')), 20_000, 'prefetched files');
    await waitFor(() => readdirSync(join(pf, 'running')).length === 0, 20_000, 'running/ to empty');
    const r2 = await runWalE(['wal-fetch', '--prefetch', '2', '000000010000000000000003', dest], { env });
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(logMessages(r2.stderr).map((m) => m.msg), ['promoted prefetched wal segment']);
    assert.equal(md5(readFileSync(dest)), FIXTURE_PAYLOAD_MD5['000000010000000000000003']);
    assert.equal(existsSync(join(pf, '000000010000000000000003')), false);
  });

  it('waits for a prefetch that is still growing, then promotes it', async () => {
    const { env, walDir, dest } = setup();
    const pf = prefetchDir(walDir);
    const seg = '000000010000000000000005';
    mkdirSync(join(pf, 'running', seg), { recursive: true });
    const partial = join(pf, 'running', seg, 'tmpABCDEFGH');
    writeFileSync(partial, Buffer.alloc(1000));
    const timer = setInterval(() => appendFileSync(partial, Buffer.alloc(100_000)), 150);
    const child = runWalE(['wal-fetch', '--prefetch', '1', seg, dest], { env });
    await sleep(1500);
    clearInterval(timer);
    // The "prefetcher" completes: the real payload appears under prefetch/, running/ goes away.
    execFileSync('sh', ['-c', `lzop -dc '${join(FIXTURE_STORE, 'wal_005', `${seg}.lzo`)}' > '${join(pf, 'staging')}'`]);
    renameSync(join(pf, 'staging'), join(pf, seg));
    rmSync(join(pf, 'running', seg), { recursive: true });
    const r = await child;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(logMessages(r.stderr).map((m) => m.msg), ['promoted prefetched wal segment']);
    assert.equal(md5(readFileSync(dest)), FIXTURE_PAYLOAD_MD5[seg]);
  });

  it('a stale running entry is not waited for and is cleaned up', async () => {
    const { env, walDir, dest } = setup();
    const pf = prefetchDir(walDir);
    const seg = '000000010000000000000006';
    mkdirSync(join(pf, 'running', seg), { recursive: true });
    writeFileSync(join(pf, 'running', seg, 'tmpSTALEXXX'), Buffer.alloc(5000));
    const t0 = Date.now();
    const r = await runWalE(['wal-fetch', '--prefetch', '1', seg, dest], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 10_000);
    assert.equal(md5(readFileSync(dest)), FIXTURE_PAYLOAD_MD5[seg]);
    assert.equal(existsSync(join(pf, 'running', seg)), false);
  });

  /** running/<SEG> -> the pid in its owner-<PID> file (claims whose owner is recorded). */
  const owners = (walDir: string): Map<string, number> => {
    const running = join(prefetchDir(walDir), 'running');
    const out = new Map<string, number>();
    for (const seg of existsSync(running) ? readdirSync(running) : []) {
      for (const f of readdirSync(join(running, seg), { withFileTypes: false }) as string[]) {
        if (f.startsWith('owner-')) out.set(seg, Number(f.slice('owner-'.length)));
      }
    }
    return out;
  };
  const seg = (n: number) => `00000001000000000000000${n.toString(16).toUpperCase()}`;
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => seg(from + i));
  /** The one prefetcher the last wal-fetch started, stopped before it gets far (SIGCONT resumes it). */
  const stopPrefetcher = (walDir: string): number => {
    const pids = new Set(owners(walDir).values());
    assert.equal(pids.size, 1, `one prefetcher process holds the claims (${[...pids].join(', ')})`);
    const pid = [...pids][0]!;
    process.kill(pid, 'SIGSTOP');
    return pid;
  };
  const entries = (walDir: string, segs: string[]) =>
    segs.filter((s) => existsSync(join(prefetchDir(walDir), s)) || existsSync(join(prefetchDir(walDir), 'running', s)));
  const gone = (pid: number) => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };

  it('one process prefetches the whole window; the window is refilled in batches; each segment promotes', async () => {
    const { env, walDir, dest } = setup();
    const r = await runWalE(['wal-fetch', '--prefetch', '8', seg(2), dest], { env });
    assert.equal(r.code, 0, r.stderr);
    const first = stopPrefetcher(walDir);
    assert.deepEqual(entries(walDir, range(3, 0xa)), range(3, 0xa), 'all 8 segments claimed or done');
    process.kill(first, 'SIGCONT');
    await waitFor(() => range(3, 0xa).every((s) => existsSync(join(prefetchDir(walDir), s))), 20_000, 'the batch');
    await waitFor(() => gone(first), 20_000, 'the prefetcher to exit');
    assert.deepEqual(readdirSync(join(prefetchDir(walDir), 'running')), []);

    // 03..05: more than half of the window is ahead, so no new process is started.
    for (const n of [3, 4, 5]) {
      const p = await runWalE(['wal-fetch', '--prefetch', '8', seg(n), dest], { env });
      assert.equal(p.code, 0, p.stderr);
      assert.deepEqual(logMessages(p.stderr).map((m) => m.msg), ['promoted prefetched wal segment']);
      assert.equal(md5(readFileSync(dest)), FIXTURE_PAYLOAD_MD5[seg(n)]);
      assert.deepEqual(owners(walDir), new Map(), `no prefetcher after ${seg(n)}`);
      assert.deepEqual(readdirSync(join(prefetchDir(walDir), 'running')), []);
    }
    // 06: only 07..0A are ahead (half of 8): one new process claims the missing part, 0B..0E.
    const p6 = await runWalE(['wal-fetch', '--prefetch', '8', seg(6), dest], { env });
    assert.equal(p6.code, 0, p6.stderr);
    assert.deepEqual(logMessages(p6.stderr).map((m) => m.msg), ['promoted prefetched wal segment']);
    const second = stopPrefetcher(walDir);
    assert.notEqual(second, first);
    assert.deepEqual(entries(walDir, range(0xb, 0xe)), range(0xb, 0xe));
    process.kill(second, 'SIGCONT');
    for (let n = 7; n <= 0xe; n++) {
      const p = await runWalE(['wal-fetch', '--prefetch', '8', seg(n), dest], { env });
      assert.equal(p.code, 0, p.stderr);
      assert.deepEqual(logMessages(p.stderr).map((m) => m.msg), ['promoted prefetched wal segment'], seg(n));
      assert.equal(md5(readFileSync(dest)), FIXTURE_PAYLOAD_MD5[seg(n)]);
    }
  });

  it('wal-fetch arriving before the batch prefetcher reached its segment waits for it', async () => {
    const { env, walDir, dest } = setup();
    assert.equal((await runWalE(['wal-fetch', '--prefetch', '4', seg(2), dest], { env })).code, 0);
    const pid = stopPrefetcher(walDir);
    // 06 is last in the batch: certainly not started while the prefetcher is stopped.
    assert.ok(owners(walDir).has(seg(6)));
    let done = false;
    const waiting = runWalE(['wal-fetch', '--prefetch', '4', seg(6), `${dest}-6`], { env }).finally(() => {
      done = true;
    });
    await sleep(1500);
    assert.equal(done, false, 'wal-fetch waits for the live prefetcher');
    assert.equal(existsSync(`${dest}-6`), false);
    process.kill(pid, 'SIGCONT');
    const r = await waiting;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(logMessages(r.stderr).map((m) => m.msg), ['promoted prefetched wal segment'], 'not downloaded twice');
    assert.equal(md5(readFileSync(`${dest}-6`)), FIXTURE_PAYLOAD_MD5[seg(6)]);
  });

  it('a batch prefetcher killed with kill -9 holds wal-fetch up no longer than a check', async () => {
    const { env, walDir, dest } = setup();
    assert.equal((await runWalE(['wal-fetch', '--prefetch', '8', seg(2), dest], { env })).code, 0);
    const pid = stopPrefetcher(walDir);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => gone(pid), 5000, 'the prefetcher to die');
    const t0 = Date.now();
    const r = await runWalE(['wal-fetch', '--prefetch', '8', seg(3), dest], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
    assert.ok(logMessages(r.stderr).some((m) => m.msg === 'begin wal restore'), 'downloaded by wal-fetch itself');
    assert.equal(md5(readFileSync(dest)), FIXTURE_PAYLOAD_MD5[seg(3)]);
    // The dead claims were taken over by a new prefetcher: whole files only.
    await waitFor(() => range(4, 0xb).every((s) => existsSync(join(prefetchDir(walDir), s))), 20_000, 'the new batch');
    for (const s of range(4, 0xb)) assert.equal(md5(readFileSync(join(prefetchDir(walDir), s))), FIXTURE_PAYLOAD_MD5[s], s);
    await waitFor(() => readdirSync(join(prefetchDir(walDir), 'running')).length === 0, 20_000, 'running/ to empty');
  });

  it('a stalled batch prefetcher holds wal-fetch up only for the bound, then gives its claims back', async () => {
    const { env, walDir, dest } = setup();
    assert.equal((await runWalE(['wal-fetch', '--prefetch', '4', seg(2), dest], { env })).code, 0);
    const pid = stopPrefetcher(walDir);
    try {
      const t0 = Date.now();
      const r = await runWalE(['wal-fetch', '--prefetch', '4', seg(5), dest], { env });
      const took = Date.now() - t0;
      assert.equal(r.code, 0, r.stderr);
      assert.ok(took >= 4000 && took < 15_000, `took ${took} ms`);
      assert.ok(logMessages(r.stderr).some((m) => m.msg === 'begin wal restore'));
      assert.equal(md5(readFileSync(dest)), FIXTURE_PAYLOAD_MD5[seg(5)]);
      assert.ok(![...owners(walDir).values()].includes(pid), 'the stalled prefetcher\'s claims were withdrawn');
    } finally {
      process.kill(pid, 'SIGKILL');
    }
  });

  it('wal-prefetch BASE SEG by hand works as WAL-E\'s; more segments are taken in order', async () => {
    const { env, walDir } = setup();
    const pf = prefetchDir(walDir);
    const one = await runWalE(['wal-prefetch', walDir, seg(4)], { env });
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(readdirSync(pf).sort(), [seg(4), 'running']);
    assert.deepEqual(readdirSync(join(pf, 'running')), []);
    assert.equal(md5(readFileSync(join(pf, seg(4)))), FIXTURE_PAYLOAD_MD5[seg(4)]);

    const miss = await runWalE(['wal-prefetch', walDir, '000000010000000000000010'], { env });
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /^Failed to prefetch 000000010000000000000010$/m);
    assert.deepEqual(readdirSync(pf).sort(), [seg(4), 'running']);
    assert.deepEqual(readdirSync(join(pf, 'running')), []);

    const bad = await runWalE(['wal-prefetch', walDir, 'nope'], { env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /MSG: invalid WAL segment name/);

    // A batch stops at the first segment the archive lacks and gives the rest back.
    const batch = await runWalE(['wal-prefetch', walDir, seg(0xd), seg(0xe), '00000001000000000000000F', '000000010000000000000010'], { env });
    assert.equal(batch.code, 1, batch.stderr);
    assert.match(batch.stderr, /^Failed to prefetch 00000001000000000000000F$/m);
    assert.doesNotMatch(batch.stderr, /000000010000000000000010/);
    assert.deepEqual(readdirSync(pf).sort(), [seg(4), seg(0xd), seg(0xe), 'running']);
    assert.deepEqual(readdirSync(join(pf, 'running')), []);
    for (const s of [seg(0xd), seg(0xe)]) assert.equal(md5(readFileSync(join(pf, s))), FIXTURE_PAYLOAD_MD5[s]);
  });

  it('a batch prefetcher leaves alone a segment another prefetcher has claimed since', async () => {
    const { env, walDir } = setup();
    const pf = prefetchDir(walDir);
    // seg(6) was taken back from this prefetcher and claimed by another, live one (this test process).
    mkdirSync(join(pf, 'running', seg(6)), { recursive: true });
    writeFileSync(join(pf, 'running', seg(6), `owner-${process.pid}`), '');
    writeFileSync(join(pf, 'running', seg(6), 'tmpOTHER01'), 'the other prefetcher\'s download');
    const r = await runWalE(['wal-prefetch', walDir, seg(5), seg(6), seg(7)], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(pf).sort(), [seg(5), seg(7), 'running']);
    for (const s of [seg(5), seg(7)]) assert.equal(md5(readFileSync(join(pf, s))), FIXTURE_PAYLOAD_MD5[s]);
    assert.deepEqual(readdirSync(join(pf, 'running')), [seg(6)]);
    assert.deepEqual(readdirSync(join(pf, 'running', seg(6))).sort(), [`owner-${process.pid}`, 'tmpOTHER01']);
  });

  it('a failed prefetch leaves nothing behind; a .history fetch starts none and clears the cache', async () => {
    const { env, walDir, dest } = setup();
    const pf = prefetchDir(walDir);
    // After ...0E comes ...0F, archived only as .partial, and ...10, never archived on timeline 1.
    const r = await runWalE(['wal-fetch', '--prefetch', '2', '00000001000000000000000E', dest], { env });
    assert.equal(r.code, 0, r.stderr);
    await waitFor(() => existsSync(join(pf, 'running')) && readdirSync(join(pf, 'running')).length === 0, 20_000, 'the prefetchers to give up');
    assert.deepEqual(readdirSync(pf).filter((f) => f !== 'running'), []);

    writeFileSync(join(pf, '00000001000000000000000D'), 'leftover');
    writeFileSync(join(pf, 'README'), 'not a segment: kept');
    const h = await runWalE(['wal-fetch', '--prefetch', '2', '00000002.history', dest], { env });
    assert.equal(h.code, 0, h.stderr);
    assert.equal(md5(readFileSync(dest)), FIXTURE_PAYLOAD_MD5['00000002.history']);
    assert.deepEqual(readdirSync(pf).sort(), ['README', 'running']);
  });
});
