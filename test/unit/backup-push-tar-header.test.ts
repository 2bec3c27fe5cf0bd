import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BLOCK, RECORD, encodeTarHeader, endOfArchive, paddingFor, paxRecord } from '../../src/backup/push/tar-header';
import { packageRoot } from '../../src/util/dist-path';

/** Bytes of a `hexdump`-style listing where '*' repeats the previous line up to the next offset. */
function fromHexDump(text: string): Buffer {
  const out: number[] = [];
  let prev: number[] = [];
  let repeating = false;
  for (const line of text.split('\n')) {
    if (line.trim() === '*') {
      repeating = true;
      continue;
    }
    const m = /^([0-9a-f]{8}): ((?:[0-9a-f]{4} ?){1,8})/.exec(line);
    if (!m) continue;
    const offset = Number.parseInt(m[1]!, 16);
    if (repeating) {
      while (out.length < offset) out.push(...prev);
      repeating = false;
    }
    const bytes = m[2]!.replace(/ /g, '').match(/../g)!.map((h) => Number.parseInt(h, 16));
    out.push(...bytes);
    prev = bytes;
  }
  return Buffer.from(out);
}

function field(b: Buffer, start: number, len: number): string {
  return b.subarray(start, start + len).toString('latin1').replace(/\0+$/, '');
}

function checksumOk(b: Buffer): boolean {
  const copy = Buffer.from(b);
  copy.fill(' ', 148, 156);
  let sum = 0;
  for (const x of copy) sum += x;
  return Number.parseInt(field(b, 148, 7), 8) === sum;
}

describe('tar member headers (spec §4.4.1, §4.4.3)', () => {
  const wale = fromHexDump(readFileSync(join(packageRoot(), 'test', 'fixtures', 'backup-push', 'wale-partition-first-2560-bytes.hex.txt'), 'utf8'));

  it('writes the data directory entry byte for byte as WAL-E (Python tarfile) did', () => {
    // WAL-E's partition: pax header (mtime only) at 0, its record at 512, the ustar header of "/" at 1024.
    const theirs = wale.subarray(1024, 1536);
    const ours = encodeTarHeader({
      name: '',
      type: 'dir',
      size: 0,
      mode: 0o700,
      uid: 0o145,
      gid: 0o150,
      mtime: 1795391799.2565634,
      uname: 'postgres',
      gname: 'postgres',
    });
    assert.equal(ours.length, BLOCK, 'no pax header is needed');
    assert.deepEqual(ours, theirs);
  });

  it('writes regular files and symlinks with valid checksums', () => {
    const f = encodeTarHeader({ name: 'base/1/1259', type: 'file', size: 8192, mode: 0o100600, uid: 1, gid: 2, mtime: 100 });
    assert.equal(field(f, 0, 100), 'base/1/1259');
    assert.equal(field(f, 100, 8), '0000600', 'only the permission bits');
    assert.equal(field(f, 124, 12), '00000020000');
    assert.equal(field(f, 156, 1), '0');
    assert.equal(field(f, 257, 6), 'ustar');
    assert.ok(checksumOk(f));
    const l = encodeTarHeader({ name: 'pg_wal', type: 'symlink', size: 0, mode: 0o777, uid: 0, gid: 0, mtime: 0, linkname: '/mnt/wal' });
    assert.equal(field(l, 156, 1), '2');
    assert.equal(field(l, 157, 100), '/mnt/wal');
    assert.equal(field(l, 124, 12), '00000000000');
    assert.ok(checksumOk(l));
  });

  it('carries long and non-ASCII names, long link targets and huge sizes in a pax header', () => {
    const long = `pg_tblspc/16385/PG_15_202209061/16384/${'x'.repeat(120)}`;
    const h = encodeTarHeader({ name: long, type: 'file', size: 10 * 2 ** 30, mode: 0o600, uid: 0, gid: 0, mtime: 0, linkname: undefined });
    assert.equal(h.length, 3 * BLOCK);
    assert.equal(field(h, 0, 100), '././@PaxHeader');
    assert.equal(field(h, 156, 1), 'x');
    assert.ok(checksumOk(h.subarray(0, BLOCK)));
    const size = Number.parseInt(field(h, 124, 12), 8);
    const records = h.subarray(BLOCK, BLOCK + size).toString('utf8');
    assert.equal(records, paxRecord('path', long) + paxRecord('size', String(10 * 2 ** 30)));
    assert.ok(checksumOk(h.subarray(2 * BLOCK)));

    const utf = encodeTarHeader({ name: 'base/é', type: 'symlink', size: 0, mode: 0o777, uid: 0, gid: 0, mtime: 0, linkname: `/${'l'.repeat(150)}` });
    const recs = utf.subarray(BLOCK, 2 * BLOCK).toString('utf8');
    assert.ok(recs.includes(' path=base/é\n') && recs.includes(` linkpath=/${'l'.repeat(150)}\n`));
  });

  it('counts pax record lengths including their own digits', () => {
    assert.equal(paxRecord('path', 'a'), '9 path=a\n');
    // 1 + " path=" (6) + value + "\n": the total crosses from 2 to 3 digits here.
    const r = paxRecord('path', 'x'.repeat(91));
    assert.equal(r.length, Number(r.split(' ')[0]));
    for (let n = 85; n < 100; n++) {
      const s = paxRecord('path', 'y'.repeat(n));
      assert.equal(Buffer.byteLength(s), Number(s.split(' ')[0]), `value length ${n}`);
    }
  });

  it('pads data to blocks and the archive to 20-block records', () => {
    assert.equal(paddingFor(0), 0);
    assert.equal(paddingFor(1), 511);
    assert.equal(paddingFor(512), 0);
    assert.equal(endOfArchive(0).length, RECORD);
    assert.equal(endOfArchive(RECORD - 2 * BLOCK).length, 2 * BLOCK);
    assert.equal((1536 + endOfArchive(1536).length) % RECORD, 0);
    assert.ok(endOfArchive(1536).every((b) => b === 0));
  });
});
