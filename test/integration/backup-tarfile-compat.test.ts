// The partitions `wal-e backup-push` writes for a real PostgreSQL 15 cluster are plain tar that the usual
// readers accept: each one decompressed with `lzop -dc` lists with GNU `tar -tvf -` and is read and
// extracted by Python's tarfile (what WAL-E itself used). The member list follows WAL-E's walk rules,
// written down here from the spec (§4.4.2) and not taken from src/: runtime files, WAL and temporary
// directories are left out, the directories that hold them are kept, tablespaces appear through their
// link, and every stable file of the cluster is there with its size.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PgCluster, chownToPostgres, requireMajor } from '../helpers/postgres';
import { archivingConfig, backupsInStore, makeArchive, mustWalE, runCleanups } from '../helpers/pitr';

const MAJOR = 15;
/** More members than one partition may hold (6144), so the member limit is exercised too. */
const EMPTY_TABLES = 6500;
const PARTITION_MAX_MEMBERS = 6144;
const PARTITION_MAX_SZ = 1610612736;

// Reads a tar stream from stdin the way WAL-E's backup-fetch does (streaming, member by member),
// extracts every member under argv[1] and prints one JSON line per member.
const PY_READER = `
import json, sys, tarfile
dest = sys.argv[1]
kw = {'filter': 'fully_trusted'} if hasattr(tarfile, 'fully_trusted_filter') else {}
with tarfile.open(fileobj=sys.stdin.buffer, mode='r|') as t:
    for m in t:
        print(json.dumps({'name': m.name, 'type': m.type.decode(), 'size': m.size}))
        t.extract(m, dest, **kw)
`;

interface Member {
  name: string;
  type: string;
  size: number;
}

/** Python's view of a name ('' for the data directory itself, no trailing slash). */
const norm = (n: string) => n.replace(/^\/+/, '').replace(/\/+$/, '');

function requireTool(cmd: string, args: string[], apt: string): void {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  if (r.error || r.status !== 0) throw new Error(`${cmd} is required (apt-get install -y ${apt})`);
}

/** Relative paths of the regular files under `dir`. */
function filesUnder(dir: string, rel = ''): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of readdirSync(join(dir, rel))) {
    const p = rel ? `${rel}/${name}` : name;
    const st = statSync(join(dir, p));
    if (st.isDirectory()) for (const [k, v] of filesUnder(dir, p)) out.set(k, v);
    else if (st.isFile()) out.set(p, st.size);
  }
  return out;
}

describe('backup partitions read with GNU tar and Python tarfile', { timeout: 600_000 }, () => {
  const cleanups: (() => unknown)[] = [];
  after(() => runCleanups(cleanups));

  it(`PostgreSQL ${MAJOR}: every partition lists and extracts, and the members follow WAL-E's rules`, async () => {
    requireMajor(MAJOR);
    requireTool('tar', ['--version'], 'tar');
    requireTool('lzop', ['--version'], 'lzop');
    requireTool('python3', ['-c', 'import tarfile'], 'python3');
    const a = await makeArchive('tarfile');
    cleanups.push(() => a.remove());
    const tsDir = join(a.work, 'ts');
    mkdirSync(tsDir, { mode: 0o700 });
    chownToPostgres(tsDir);
    // backup-push asks for a spread checkpoint, as WAL-E did; after thousands of CREATE TABLEs the
    // default pacing would take minutes.
    const primary = await PgCluster.create({ major: MAJOR, config: archivingConfig(a, { checkpoint_completion_target: '0' }) });
    cleanups.push(() => primary.destroy());
    await primary.start();
    const d = primary.dataDir;
    const started = Date.now();
    const stamp = (what: string) => console.log(`# ${what} at ${((Date.now() - started) / 1000).toFixed(1)} s`);

    await primary.sql(`CREATE TABLESPACE tar_ts LOCATION '${tsDir}'`);
    await primary.sql(`CREATE TABLE ts_rows TABLESPACE tar_ts AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 20000) g`);
    await primary.sql(`CREATE TABLE rows AS SELECT g AS id, repeat('x', 200) AS v FROM generate_series(1, 50000) g`);
    await primary.sql(`DO $$ BEGIN FOR i IN 1..${EMPTY_TABLES} LOOP EXECUTE format('CREATE TABLE empty_%s (a int)', i); END LOOP; END $$`);
    await primary.sql(`SELECT pg_create_physical_replication_slot('tar_slot', true)`);
    stamp('tables created');
    const tsOid = await primary.sql(`SELECT oid FROM pg_tablespace WHERE spcname = 'tar_ts'`);
    const tsVersionDir = readdirSync(tsDir).find((n) => n.startsWith(`PG_${MAJOR}_`))!;

    // Things the walk must leave out, or keep only as empty directories, planted where a server,
    // an operator or wal-e itself would leave them; and look-alikes deeper down that must be kept.
    const plant = (rel: string, root = d) => {
      const p = join(root, rel);
      mkdirSync(join(p, '..'), { recursive: true, mode: 0o700 });
      writeFileSync(p, 'planted\n', { mode: 0o600 });
    };
    for (const f of ['recovery.done', 'recovery.conf', 'promote', 'pg_log/postgresql-1.log', 'lost+found/#123', 'pg_stat_tmp/db_0.stat']) plant(f);
    plant('.wal-e/prefetch/running/000000010000000000000099');
    plant('base/pgsql_tmp/pgsql_tmp1234.0');
    plant('base/5/pgsql_tmp/pgsql_tmp1234.1');
    plant('base/lost+found/lost');
    for (const f of ['postmaster.pid', 'postgresql.conf', 'pg_wal/keep', 'pg_replslot/keep', 'deep/pgsql_tmp/x', 'deep/.wal-e/x', 'deep/lost+found/x']) plant(`wale_extra/${f}`);
    plant(`${tsVersionDir}/pgsql_tmp/pgsql_tmp99.0`, tsDir);
    plant(`${tsVersionDir}/lost+found/kept-in-tablespaces`, tsDir);
    chownToPostgres(d);
    chownToPostgres(tsDir);
    const before = filesUnder(d);

    await mustWalE(a, ['backup-push', d], { env: primary.env() });
    const [backup] = backupsInStore(a.store);
    assert.ok(backup, 'the backup completed');
    stamp('backup-push done');
    const after_ = filesUnder(d);

    const partsDir = join(a.store, 'basebackups_005', backup, 'tar_partitions');
    const parts = readdirSync(partsDir).sort();
    assert.ok(parts.length >= 3, `${EMPTY_TABLES} tables need two partitions, plus the backup_label one: ${parts.join(' ')}`);
    assert.deepEqual(parts, parts.map((_, i) => `part_${String(i).padStart(8, '0')}.tar.lzo`));

    const extractTo = mkdtempSync(join(tmpdir(), 'wal-e-tarfile-'));
    cleanups.push(() => rmSync(extractTo, { recursive: true, force: true }));
    const members: Member[] = [];
    const membersOfPart: Member[][] = [];
    for (const part of parts) {
      const tar = execFileSync('lzop', ['-dc', join(partsDir, part)], { maxBuffer: 2 ** 31 });
      assert.equal(tar.length % 512, 0, `${part}: a whole number of tar blocks`);

      const gnu = spawnSync('tar', ['-tvf', '-'], { input: tar, maxBuffer: 256 << 20, encoding: 'utf8' });
      assert.equal(gnu.status, 0, `${part}: GNU tar failed: ${gnu.stderr}`);
      // GNU tar says so for the "/" member, as it does for WAL-E's partitions; nothing else.
      assert.equal(gnu.stderr.split('\n').filter((l) => l && !/Removing leading .\/' from member names/.test(l)).join('\n'), '', `${part}: GNU tar complaints`);
      const gnuNames = gnu.stdout.trimEnd().split('\n').map((l) => norm(l.split(/\s+/).slice(5).join(' ')));

      const py = spawnSync('python3', ['-c', PY_READER, extractTo], { input: tar, maxBuffer: 256 << 20, encoding: 'utf8' });
      assert.equal(py.status, 0, `${part}: Python tarfile failed: ${py.stderr}`);
      const list: Member[] = py.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(gnuNames, list.map((m) => m.name), `${part}: GNU tar and Python see the same members`);
      assert.ok(list.length <= PARTITION_MAX_MEMBERS, `${part}: ${list.length} members`);
      assert.ok(list.reduce((s, m) => s + m.size, 0) < PARTITION_MAX_SZ);
      for (const m of list) assert.ok(m.type === '0' || m.type === '5', `${m.name}: type ${m.type}`);
      membersOfPart.push(list);
      members.push(...list);
    }

    stamp('partitions read');
    const names = members.map((m) => m.name);
    const byName = new Map(members.map((m) => [m.name, m]));
    assert.equal(byName.size, members.length, 'no member appears twice');
    assert.equal(names[0], '', 'the first member is the data directory itself');
    const dirs = new Set(members.filter((m) => m.type === '5').map((m) => m.name));
    const isUnder = (n: string, dir: string) => n.startsWith(`${dir}/`);

    // Top level: runtime and configuration files are never archived.
    for (const f of ['postmaster.pid', 'postmaster.opts', 'postgresql.conf', 'pg_hba.conf', 'pg_ident.conf', 'recovery.conf', 'recovery.done', 'promote']) {
      assert.ok(!byName.has(f), `${f} must not be archived`);
    }
    // Top level: these directories are kept, empty.
    for (const dir of ['pg_wal', 'pg_replslot', 'pg_log']) {
      assert.ok(dirs.has(dir), `${dir}/ is a directory member`);
      assert.deepEqual(names.filter((n) => isUnder(n, dir)), [], `nothing under ${dir}/`);
    }
    // Any level outside tablespaces: kept empty, or (lost+found) dropped entirely.
    const inTablespace = (n: string) => isUnder(n, 'pg_tblspc');
    for (const n of names.filter((x) => !inTablespace(x))) {
      const parts_ = n.split('/');
      for (const dir of ['pgsql_tmp', 'pg_stat_tmp', '.wal-e']) {
        assert.ok(!parts_.slice(0, -1).includes(dir), `${n}: nothing under a ${dir} directory`);
      }
      assert.ok(!parts_.includes('lost+found'), `${n}: lost+found is not archived`);
    }
    for (const dir of ['pg_stat_tmp', '.wal-e', 'base/pgsql_tmp', 'base/5/pgsql_tmp', 'wale_extra/deep/pgsql_tmp', 'wale_extra/deep/.wal-e']) {
      assert.ok(dirs.has(dir), `${dir}/ is a directory member`);
    }
    // The same names deeper down are ordinary files and directories.
    for (const f of ['wale_extra/postmaster.pid', 'wale_extra/postgresql.conf', 'wale_extra/pg_wal/keep', 'wale_extra/pg_replslot/keep']) {
      assert.equal(byName.get(f)?.type, '0', `${f} is archived`);
    }

    // Tablespaces: through the link, which itself is not a member; pgsql_tmp kept empty, lost+found kept.
    const tsRoot = `pg_tblspc/${tsOid}`;
    assert.ok(!byName.has(tsRoot), 'the tablespace link is not archived');
    assert.ok(dirs.has(`${tsRoot}/${tsVersionDir}`));
    assert.ok(dirs.has(`${tsRoot}/${tsVersionDir}/pgsql_tmp`));
    assert.ok(!byName.has(`${tsRoot}/${tsVersionDir}/pgsql_tmp/pgsql_tmp99.0`));
    assert.equal(byName.get(`${tsRoot}/${tsVersionDir}/lost+found/kept-in-tablespaces`)?.type, '0', 'lost+found is not special inside tablespaces');
    const tsFiles = filesUnder(tsDir);
    for (const [f, size] of tsFiles) {
      if (f.includes('/pgsql_tmp/')) continue;
      assert.ok(byName.has(`${tsRoot}/${f}`), `tablespace file ${f} is archived`);
      if (!f.includes('/pgsql_tmp/') && size > 0) assert.ok(byName.get(`${tsRoot}/${f}`)!.size > 0);
    }

    // What a restore needs, backup_label and tablespace_map in the last partition.
    for (const f of ['PG_VERSION', 'global/pg_control', 'postgresql.auto.conf']) assert.equal(byName.get(f)?.type, '0', `${f} is archived`);
    const last = membersOfPart.at(-1)!.map((m) => m.name);
    assert.deepEqual(last.filter((n) => n === 'backup_label' || n === 'tablespace_map').sort(), ['backup_label', 'tablespace_map']);
    assert.match(readFileSync(join(extractTo, 'backup_label'), 'utf8'), /^START WAL LOCATION: /);
    assert.equal(readFileSync(join(extractTo, 'tablespace_map'), 'utf8'), `${tsOid} ${tsDir}\n`);

    // Completeness: every file that existed before and after the backup, outside the excluded places,
    // is a member, and one whose size was the same before and after with that size (relation files only
    // grow between vacuums, so it had that size when the walk read it).
    const excluded = (f: string) =>
      /^(postmaster\.(pid|opts)|postgresql\.conf|pg_hba\.conf|pg_ident\.conf|recovery\.(conf|done)|promote)$/.test(f) ||
      /^(pg_wal|pg_replslot|pg_log)\//.test(f) ||
      /(^|\/)(pgsql_tmp|pg_stat_tmp|\.wal-e|lost\+found)\//.test(f) ||
      f.startsWith('pg_tblspc/');
    for (const [f, size] of before) {
      if (excluded(f) || !after_.has(f)) continue;
      assert.ok(byName.has(f), `${f} is archived`);
      if (after_.get(f) === size && /^(PG_VERSION|global\/\d+|base\/\d+\/\d+)$/.test(f)) assert.equal(byName.get(f)!.size, size, `${f} has its size`);
    }
    assert.ok(names.filter((n) => /^base\/5\/\d+$/.test(n)).length >= EMPTY_TABLES, 'every table of the database is there');

    // Python extracted every member: the files are there with their sizes.
    for (const m of members) {
      if (m.type !== '0') continue;
      assert.equal(statSync(join(extractTo, m.name)).size, m.size, `extracted ${m.name}`);
    }
    assert.equal(readFileSync(join(extractTo, 'PG_VERSION'), 'utf8'), readFileSync(join(d, 'PG_VERSION'), 'utf8'));
    assert.ok(statSync(join(extractTo, 'pg_wal')).isDirectory());

    // The sentinel's expanded_size_bytes is the sum of the member sizes, as WAL-E computed it.
    const sentinel = JSON.parse(readFileSync(join(a.store, 'basebackups_005', `${backup}_backup_stop_sentinel.json`), 'utf8'));
    assert.equal(sentinel.expanded_size_bytes, members.reduce((s, m) => s + m.size, 0));
  });
});
