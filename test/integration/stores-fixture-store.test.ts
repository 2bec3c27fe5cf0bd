// WAL-E's key layout on every remote store, both ways. First, the store WAL-E 1.1.1 wrote
// (test/fixtures/wale-store-plain) is uploaded object by object under the prefix a/b/ with each store's
// own SDK or HTTP API, named as WAL-E names them (S3/WABS `a/b/<key>`, GCS/Swift `/a/b/<key>` with the
// literal leading slash, spec §3.7); wal-e must list both backups, fetch every WAL object to its
// recorded payload, and restore backup B1 file for file as it restores it from the file:// original.
// Second, what wal-e itself writes there (wal-push + backup-push into <scheme>://bucket/a/b) must be
// exactly WAL-E's keys, listed from the store directly.
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runWalE, tempDir } from '../helpers/cli';
import {
  PgCluster,
  assertPostgresCanAccess,
  baseEnv,
  repoRoot,
  requireMajor,
  runAsPostgres,
} from '../helpers/postgres';
import { STORE_LABELS, openTestStore, type StoreKind } from '../helpers/store-env';
import { PLAIN_STORE_WAL_PAYLOAD_MD5 } from '../helpers/fixture-manifest';

const STORES: StoreKind[] = ['s3', 's3rver', 'wabs', 'gs', 'swift'];
const PATH = 'a/b';
const FIXTURE_STORE = join(repoRoot(), 'test', 'fixtures', 'wale-store-plain');
const B1 = 'base_000000010000000000000040_00000040';
const B2 = 'base_000000020000000000000010_00000010';
const TS_OID = '16384';
const HEADER =
  'name\tlast_modified\texpanded_size_bytes\twal_segment_backup_start\twal_segment_offset_backup_start\t' +
  'wal_segment_backup_stop\twal_segment_offset_backup_stop';

const PAYLOAD_MD5 = PLAIN_STORE_WAL_PAYLOAD_MD5;

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const work = tempDir('stores-fixture');
after(work.remove);

/** Every file of `dir` as a path relative to it, sorted. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (lstatSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * A restored tree (data directory and relocated tablespace under `base`) as one line per entry: path,
 * type, mode, and size plus sha1 of regular files or the link target with `base` replaced.
 */
function treeOf(base: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(base, p);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${rel} link ${readlinkSync(p).replace(base, '<base>')}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/ dir ${mode}`);
        walk(p);
      } else out.push(`${rel} file ${mode} ${st.size} ${createHash('sha1').update(readFileSync(p)).digest('hex')}`);
    }
  };
  walk(base);
  return out;
}

/** backup-fetch of B1 with a restore spec that puts the data under base/data and the tablespace under base/tblspc. */
async function fetchB1(env: Record<string, string>, label: string): Promise<string> {
  const base = join(work.path, label, 'restore');
  mkdirSync(base, { recursive: true });
  const spec = join(work.path, label, 'spec.json');
  writeFileSync(
    spec,
    JSON.stringify({ base_prefix: `${base}/data/`, tablespaces: [TS_OID], [TS_OID]: { loc: `${base}/tblspc/`, link: `pg_tblspc/${TS_OID}` } }),
  );
  const r = await runWalE(['backup-fetch', '--restore-spec', spec, join(base, 'data'), B1], { env, timeoutMs: 180_000 });
  assert.equal(r.code, 0, `backup-fetch ${B1} (${label}):\n${r.stderr}`);
  return base;
}

/** Runs `fn` over `items`, `width` at a time. */
async function eachLimited<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

describe("WAL-E's fixture store, uploaded as it is, on every store", { concurrency: 1, timeout: 600_000 }, () => {
  const fixtureKeys = filesUnder(FIXTURE_STORE);
  let reference: string[];

  before(async () => {
    const base = await fetchB1({ WALE_FILE_PREFIX: `file://localhost${FIXTURE_STORE}` }, 'file');
    reference = treeOf(base);
    assert.ok(reference.includes(`tblspc/PG_15_202209061/ dir 700`), 'the reference restore has the relocated tablespace');
  });

  for (const kind of STORES) {
    it(`${STORE_LABELS[kind]}: backup-list, wal-fetch of every WAL object, backup-fetch of ${B1}`, async (t) => {
      const store = await openTestStore(kind, 'fixture');
      t.after(() => store.close());
      assert.equal(fixtureKeys.length, 24);
      await eachLimited(fixtureKeys, 4, (key) => store.put(store.objectName(PATH, key), readFileSync(join(FIXTURE_STORE, key))));
      assert.deepEqual(await store.list(), fixtureKeys.map((k) => store.objectName(PATH, k)).sort(), 'the store holds exactly the fixture');
      const env = store.walEnv(PATH);

      // Both backups, in the store's (lexicographic) listing order, with the start position from the name.
      const list = await runWalE(['backup-list'], { env });
      assert.equal(list.code, 0, list.stderr);
      assert.match(
        list.stdout,
        new RegExp(
          `^${HEADER}\\r\\n` +
            `${B1}\\t[^\\t\\r\\n]+\\t\\t000000010000000000000040\\t00000040\\t\\t\\r\\n` +
            `${B2}\\t[^\\t\\r\\n]+\\t\\t000000020000000000000010\\t00000010\\t\\t\\r\\n$`,
        ),
      );
      // --detail reads the sentinels WAL-E wrote.
      const detail = await runWalE(['backup-list', '--detail'], { env });
      assert.equal(detail.code, 0, detail.stderr);
      const rows = detail.stdout.split('\r\n').slice(1, -1).map((l) => l.split('\t'));
      assert.deepEqual(
        rows.map((f) => [f[0], f[2], f[3], f[4], f[5], f[6]]),
        [
          [B1, '23774101', '000000010000000000000040', '00000040', '000000010000000000000040', '00000040'],
          [B2, '23782293', '000000020000000000000010', '00000010', '000000020000000000000010', '00000010'],
        ],
      );

      // Every WAL object, segments, .partial and .history alike, decompresses to the recorded payload.
      const walDir = join(work.path, kind, 'wal');
      mkdirSync(walDir, { recursive: true });
      await eachLimited(Object.keys(PAYLOAD_MD5), 3, async (name) => {
        const dest = join(walDir, name);
        const r = await runWalE(['wal-fetch', '--prefetch', '0', name, dest], { env });
        assert.equal(r.code, 0, `wal-fetch ${name}:\n${r.stderr}`);
        assert.equal(md5(readFileSync(dest)), PAYLOAD_MD5[name], name);
      });

      // B1 restores to the same files, modes, sizes and bytes as from the file:// original.
      const restored = treeOf(await fetchB1(env, kind));
      assert.equal(restored.length, reference.length, 'same number of entries');
      assert.deepEqual(restored, reference);
    });
  }
});

describe("what wal-e writes to <scheme>://bucket/a/b is exactly WAL-E's keys", { concurrency: 1, timeout: 600_000 }, () => {
  const walEPath = join(repoRoot(), 'bin', 'wal-e');
  let cluster: PgCluster;
  const seg = '000000010000000000000042';
  const pgWal = join(work.path, 'push', 'pg_wal');

  before(async () => {
    requireMajor(15);
    await assertPostgresCanAccess([walEPath, join(repoRoot(), 'dist', 'wal-e.mjs')]);
    // No archiving: the layout is the point here, so backup-push is told not to wait for its last
    // segment (WALE_ARCHIVE_WAIT_TIMEOUT=0) and the prefix holds only what the two commands wrote.
    cluster = await PgCluster.create({ major: 15 });
    await cluster.start();
    await cluster.sql('CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 10000) g');
    mkdirSync(join(pgWal, 'archive_status'), { recursive: true });
    // A WAL-sized file; its content does not matter here, only where it lands.
    writeFileSync(join(pgWal, seg), Buffer.alloc(16 << 20, 'x'));
  });

  after(async () => {
    await cluster?.destroy();
  });

  for (const kind of STORES) {
    it(`${STORE_LABELS[kind]}: wal-push and backup-push`, async (t) => {
      const store = await openTestStore(kind, 'layout');
      t.after(() => store.close());
      const env = store.walEnv(PATH);
      const push = await runWalE(['wal-push', '--pool-size', '1', join(pgWal, seg)], { env });
      assert.equal(push.code, 0, push.stderr);
      const backup = await runAsPostgres(process.execPath, [walEPath, 'backup-push', cluster.dataDir], {
        env: baseEnv({ ...env, ...cluster.env(), WALE_LOG_DESTINATION: 'stderr', WALE_BACKUP_FAST_CHECKPOINT: '1', WALE_ARCHIVE_WAIT_TIMEOUT: '0' }),
        timeoutMs: 180_000,
      });
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(backup.stderr, /WARNING +MSG: not waiting for the backup's last WAL segment to be archived/);
      const list = await runWalE(['backup-list'], { env });
      assert.equal(list.code, 0, list.stderr);
      const name = /\r\n(base_[0-9A-F]{24}_\d{8})\t/.exec(list.stdout)?.[1];
      assert.ok(name, list.stdout);

      const keys = await store.list();
      const parts = keys.filter((k) => k.includes('/tar_partitions/')).length;
      assert.ok(parts >= 1, keys.join('\n'));
      const expected = [
        `wal_005/${seg}.lzo`,
        `basebackups_005/${name}/extended_version.txt`,
        ...Array.from({ length: parts }, (_, i) => `basebackups_005/${name}/tar_partitions/part_${String(i).padStart(8, '0')}.tar.lzo`),
        `basebackups_005/${name}_backup_stop_sentinel.json`,
      ].map((k) => store.objectName(PATH, k));
      assert.deepEqual(keys, expected.sort());
      for (const k of keys) assert.ok(k.startsWith(kind === 'gs' || kind === 'swift' ? '/a/b/' : 'a/b/'), k);
    });
  }
});
