import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { localOwnerNames } from '../../src/backup/push/owner-names';
import type { PartitionMember } from '../../src/backup/push/partitioner';
import { UNLIMITED } from '../../src/backup/push/rate-limiter';
import { RECORD } from '../../src/backup/push/tar-header';
import { tarPartition } from '../../src/backup/push/tar-partition-stream';
import { dataDirMembers, emptyRestoreSpec, type DataDirMember } from '../../src/pg/data-dir-members';

let root: string;
let D: string;
let outside: string;
let socketServer: Server;

function put(rel: string, content = 'x'): void {
  mkdirSync(dirname(join(D, rel)), { recursive: true });
  writeFileSync(join(D, rel), content);
}

async function walk(online: boolean, dir = D) {
  const spec = emptyRestoreSpec(dir);
  const vanished: string[] = [];
  const special: string[] = [];
  const members: DataDirMember[] = [];
  for await (const m of dataDirMembers(dir, spec, { online, onVanished: (p) => vanished.push(p), onSkippedSpecial: (p) => special.push(p) })) {
    members.push(m);
  }
  return { members, names: members.map((m) => m.name), spec, vanished, special };
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'wal-e-walk-'));
  D = join(root, 'pgdata');
  outside = join(root, 'ts1');
  // A fake cluster after spec §8.3.
  put('PG_VERSION', '15\n');
  put('global/pg_control', 'control');
  put('base/1/1259', '0123456789');
  put('backup_label', 'stale label');
  for (const f of ['postmaster.pid', 'postmaster.opts', 'postgresql.conf', 'pg_hba.conf', 'pg_ident.conf', 'recovery.conf', 'recovery.done', 'promote', 'recovery.signal', 'standby.signal']) {
    put(f);
  }
  put('base/1/postgresql.conf');
  put('base/1/recovery.signal');
  put('pg_wal/000000010000000000000001', 'wal');
  put('pg_wal/archive_status/000000010000000000000001.ready', '');
  put('pg_log/postgresql.log');
  put('pg_replslot/slot/state');
  put('pg_stat_tmp/global.stat');
  put('base/pgsql_tmp/pgsql_tmp1.0');
  put('.wal-e/prefetch/running/000000010000000000000002');
  put('lost+found/x');
  put('base/lost+found/y');
  mkdirSync(join(D, 'emptydir'));
  symlinkSync('base/1/1259', join(D, 'symfile'));
  symlinkSync('/nonexistent/target', join(D, 'dangling'));
  mkdirSync(join(outside, 'PG_15_202209061', '16384'), { recursive: true });
  writeFileSync(join(outside, 'PG_15_202209061', '16384', '999'), 'tablespace data');
  mkdirSync(join(outside, 'PG_15_202209061', 'emptydir'));
  mkdirSync(join(outside, 'PG_15_202209061', 'pgsql_tmp'));
  writeFileSync(join(outside, 'PG_15_202209061', 'pgsql_tmp', 'junk'), 'temp');
  mkdirSync(join(outside, 'PG_15_202209061', 'onlydirs', 'sub'), { recursive: true });
  mkdirSync(join(D, 'pg_tblspc'));
  symlinkSync(outside, join(D, 'pg_tblspc', '16385'));
  put('pg_tblspc/16390/PG_15_202209061/1/2', 'in-place');
  symlinkSync('/nonexistent/tblspc', join(D, 'pg_tblspc', '16391'));
  socketServer = createServer();
  await new Promise<void>((r) => socketServer.listen(join(D, 'base', 'sock'), r));
});

after(() => {
  socketServer?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('data directory walk and exclusions (spec §4.4.2)', () => {
  it('archives what WAL-E archives, minus the PG 12+ signal files', async () => {
    const { names, spec, special, members } = await walk(false);
    assert.equal(names[0], '', 'the data directory itself comes first');
    const expected = [
      '',
      'PG_VERSION',
      'backup_label',
      'global',
      'global/pg_control',
      'base',
      'base/1',
      'base/1/1259',
      'base/1/postgresql.conf',
      'base/1/recovery.signal',
      'base/pgsql_tmp',
      'pg_wal',
      'pg_log',
      'pg_replslot',
      'pg_stat_tmp',
      '.wal-e',
      'emptydir',
      'symfile',
      'dangling',
      'pg_tblspc',
      'pg_tblspc/16385/PG_15_202209061',
      'pg_tblspc/16385/PG_15_202209061/pgsql_tmp',
      'pg_tblspc/16385/PG_15_202209061/emptydir',
      'pg_tblspc/16385/PG_15_202209061/onlydirs',
      'pg_tblspc/16385/PG_15_202209061/onlydirs/sub',
      'pg_tblspc/16385/PG_15_202209061/16384/999',
      'pg_tblspc/16390',
      'pg_tblspc/16390/PG_15_202209061',
      'pg_tblspc/16390/PG_15_202209061/1',
      'pg_tblspc/16390/PG_15_202209061/1/2',
      'pg_tblspc/16391',
    ];
    assert.deepEqual([...names].sort(), [...expected].sort());
    assert.deepEqual(spec, {
      base_prefix: `${D}/`,
      tablespaces: ['16385'],
      '16385': { loc: `${outside}/`, link: 'pg_tblspc/16385' },
    });
    assert.deepEqual(special, [join(D, 'base', 'sock')], 'the socket is skipped, not a crash');
    const byName = new Map(members.map((m) => [m.name, m]));
    assert.equal(byName.get('symfile')?.kind, 'symlink');
    assert.equal(byName.get('symfile')?.linkTarget, 'base/1/1259');
    assert.equal(byName.get('pg_tblspc/16391')?.kind, 'symlink', 'a dangling tablespace link is kept as a link');
    assert.equal(byName.get('base/1/1259')?.size, 10);
    assert.equal(byName.get('pg_wal')?.kind, 'dir');
    // Tablespace members come right after pg_tblspc's own entry.
    assert.equal(names.indexOf('pg_tblspc/16385/PG_15_202209061') > names.indexOf('pg_tblspc'), true);
    // Each directory comes before its contents.
    assert.ok(names.indexOf('base') < names.indexOf('base/1') && names.indexOf('base/1') < names.indexOf('base/1/1259'));
  });

  it('leaves out an on-disk backup_label and tablespace_map in online mode (the stop call provides them)', async () => {
    put('tablespace_map', 'stale');
    try {
      const online = await walk(true);
      assert.ok(!online.names.includes('backup_label') && !online.names.includes('tablespace_map'));
      const offline = await walk(false);
      assert.ok(offline.names.includes('backup_label') && offline.names.includes('tablespace_map'));
    } finally {
      unlinkSync(join(D, 'tablespace_map'));
    }
  });

  it('skips a file that vanishes during the walk, without looping or failing', async () => {
    const dir = join(root, 'vanish');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'gone'), 'soon gone');
    writeFileSync(join(dir, 'sub', 'stays'), 'here');
    const spec = emptyRestoreSpec(dir);
    const vanished: string[] = [];
    const seen: string[] = [];
    for await (const m of dataDirMembers(dir, spec, { online: false, onVanished: (p) => vanished.push(p) })) {
      seen.push(m.name);
      if (m.name === 'sub') unlinkSync(join(dir, 'sub', 'gone')); // listed already, lstat'ed later
    }
    assert.deepEqual(seen.sort(), ['', 'sub', 'sub/stays']);
    assert.deepEqual(vanished, [join(dir, 'sub', 'gone')]);
  });

  it('fails clearly when the data directory does not exist', async () => {
    await assert.rejects(walk(false, join(root, 'missing')), /ENOENT/);
  });
});

describe('partition tar stream (spec §4.4.5)', () => {
  it('pads a shrunk file, cuts a grown one, omits a vanished one; GNU tar reads the result', async () => {
    const dir = join(root, 'changing');
    mkdirSync(dir);
    const original = Buffer.alloc(1000, 'a');
    for (const n of ['shrinks', 'grows', 'vanishes', 'steady']) writeFileSync(join(dir, n), original);
    const { members } = await walk(false, dir);
    truncateSync(join(dir, 'shrinks'), 10);
    appendFileSync(join(dir, 'grows'), Buffer.alloc(5000, 'b'));
    unlinkSync(join(dir, 'vanishes'));
    const extra: PartitionMember = { ...members[1]!, name: 'backup_label', path: join(dir, 'backup_label'), size: 5, content: Buffer.from('label') };
    const vanished: string[] = [];
    const resized: string[] = [];
    const chunks: Buffer[] = [];
    for await (const c of tarPartition([...members, extra], {
      limiter: UNLIMITED,
      owners: localOwnerNames(),
      onVanished: (m) => vanished.push(m.name),
      onResized: (m) => resized.push(m.name),
    })) {
      chunks.push(c);
    }
    const tar = Buffer.concat(chunks);
    assert.equal(tar.length % RECORD, 0);
    assert.deepEqual(vanished, ['vanishes']);
    assert.deepEqual(resized.sort(), ['grows', 'shrinks']);
    const listing = execFileSync('tar', ['-tf', '-'], { input: tar, stdio: ['pipe', 'pipe', 'ignore'] }).toString().split('\n').filter(Boolean);
    assert.deepEqual(listing.sort(), ['/', 'backup_label', 'grows', 'shrinks', 'steady'].sort());
    const read = (n: string) => execFileSync('tar', ['-xOf', '-', n], { input: tar });
    assert.deepEqual(read('shrinks'), Buffer.concat([Buffer.alloc(10, 'a'), Buffer.alloc(990)]));
    assert.deepEqual(read('grows'), original);
    assert.deepEqual(read('steady'), original);
    assert.equal(read('backup_label').toString(), 'label');
  });
});
