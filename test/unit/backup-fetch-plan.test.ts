// backup-fetch's pure parts: restore specs (spec §4.5, §5.5), partition completeness, tablespace_map.
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { memberPathParts, symlinkTargetParts } from '../../src/backup/fetch/member-path';
import { missingPartitions } from '../../src/backup/fetch/partitions';
import { planRestore } from '../../src/backup/fetch/restore-spec';
import { formatTablespaceMap, parseTablespaceMap, rewriteTablespaceMap } from '../../src/backup/fetch/tablespace-map';
import { UserError } from '../../src/util/errors';

const SENTINEL_SPEC = { base_prefix: '/orig/data/', tablespaces: ['16384'], '16384': { loc: '/orig/ts/', link: 'pg_tblspc/16384' } };

describe('member names', () => {
  it('"/" is the directory itself; "./", "//" and trailing "/" are normalised; ".." and absolute paths refused', () => {
    assert.deepEqual(memberPathParts('/'), { parts: [] });
    assert.deepEqual(memberPathParts('./base//1/'), { parts: ['base', '1'] });
    assert.ok('refused' in memberPathParts('/etc/passwd'));
    assert.ok('refused' in memberPathParts('a/../../b'));
    assert.ok('refused' in memberPathParts('a/../b'), 'any ".." is refused, even one that stays inside');
    assert.ok('refused' in memberPathParts(''));
  });

  it('symlink targets are judged from the link\'s directory', () => {
    assert.deepEqual(symlinkTargetParts(['a', 'l'], '../b'), ['b']);
    assert.equal(symlinkTargetParts(['l'], '../b'), undefined);
    assert.equal(symlinkTargetParts(['l'], '/abs'), undefined);
  });
});

describe('partitions', () => {
  it('must be numbered 0..n-1 without gaps', () => {
    assert.deepEqual(missingPartitions([0, 1, 2]), []);
    assert.deepEqual(missingPartitions([1, 2]), [0]);
    assert.deepEqual(missingPartitions([0, 3]), [1, 2]);
  });
});

describe('restore plans', () => {
  it('no spec: the command-line directory, tablespaces from the sentinel for verification only', async () => {
    const p = await planRestore('/r/data', undefined, SENTINEL_SPEC);
    assert.equal(p.basePrefix, '/r/data');
    assert.equal(p.createLinks, false);
    assert.deepEqual(p.tablespaces.map((t) => t.oid), ['16384']);
  });

  it('SOURCE: the sentinel\'s tablespace locations, but into the command-line directory', async () => {
    const p = await planRestore('/r/data', 'SOURCE', SENTINEL_SPEC);
    assert.equal(p.basePrefix, '/r/data');
    assert.deepEqual(p.tablespaces, [{ oid: '16384', loc: '/orig/ts/' }]);
    await assert.rejects(planRestore('/r/data', 'SOURCE', undefined), UserError);
  });

  it('a file is merged over the sentinel spec; its own base_prefix wins, none means the command line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wal-e-spec-'));
    try {
      const f = join(dir, 's.json');
      writeFileSync(f, JSON.stringify({ '16384': { loc: '/new/ts', link: 'pg_tblspc/16384' } }));
      const p = await planRestore('/r/data', f, SENTINEL_SPEC);
      assert.equal(p.basePrefix, '/r/data');
      assert.deepEqual(p.tablespaces, [{ oid: '16384', loc: '/new/ts' }]);
      writeFileSync(f, JSON.stringify({ base_prefix: '/elsewhere/', tablespaces: [] }));
      assert.equal((await planRestore('/r/data', f, SENTINEL_SPEC)).basePrefix, '/elsewhere/');
      for (const bad of ['{', '[]', '{"tablespaces": ["../x"], "../x": {"loc": "/t"}}', '{"tablespaces": ["1"], "1": {"loc": "rel"}}', '{"tablespaces": ["1"], "1": {"loc": "/t", "link": "/etc"}}']) {
        writeFileSync(f, bad);
        await assert.rejects(planRestore('/r/data', f, undefined), UserError, bad);
      }
      await assert.rejects(planRestore('/r/data', join(dir, 'missing.json'), undefined), /Restore specification does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tablespace_map', () => {
  it('is rewritten to the restored locations; in-place tablespaces are dropped; escapes survive', () => {
    const map = parseTablespaceMap('16384 /orig/ts\n16390 /orig/with\\\nnewline\n');
    assert.deepEqual(map, [{ oid: '16384', path: '/orig/ts' }, { oid: '16390', path: '/orig/with\nnewline' }]);
    const { lines, dropped } = rewriteTablespaceMap(map, new Map([['16384', '/new/ts']]));
    assert.deepEqual(dropped, ['16390']);
    assert.equal(formatTablespaceMap(lines), '16384 /new/ts\n');
    assert.equal(formatTablespaceMap([{ oid: '1', path: '/a\nb' }]), '1 /a\\\nb\n');
  });
});
