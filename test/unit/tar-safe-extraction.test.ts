// Safe extraction and tar dialects: crafted archives (built byte by byte below, so each case is exactly
// what a hostile or odd writer could produce) go through the same reader and extractor backup-fetch uses.
import { strict as assert } from 'node:assert';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SafeExtractor } from '../../src/backup/fetch/extractor';
import { extractTarStream } from '../../src/backup/fetch/fetch-partition';
import { UnsafeMemberError } from '../../src/backup/fetch/member-path';
import { CorruptObjectError } from '../../src/util/errors';

type Format = 'pax' | 'gnu' | 'ustar';
interface Member {
  name: string;
  type?: '0' | '1' | '2' | '5' | '3';
  data?: string;
  mode?: number;
  linkname?: string;
}

function header(name: string, type: string, size: number, mode: number, linkname: string, format: Format): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => Buffer.from(s, 'utf8').copy(h, off, 0, len);
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, '0') + '\0', off, len);
  put(name, 0, 100);
  oct(mode, 100, 8);
  oct(101, 108, 8);
  oct(104, 116, 8);
  oct(size, 124, 12);
  oct(1_795_391_799, 136, 12);
  h[156] = type.charCodeAt(0);
  put(linkname, 157, 100);
  if (format === 'gnu') put('ustar  \0', 257, 8);
  else put('ustar\u000000', 257, 8);
  put('postgres', 265, 32);
  put('postgres', 297, 32);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

/** A tar archive as Python's tarfile writes it: pax (3.8+) with an mtime record per member, or GNU (<= 3.7). */
function tar(members: Member[], format: Format = 'pax'): Buffer {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const type = m.type ?? '0';
    const data = Buffer.from(m.data ?? '');
    const mode = m.mode ?? (type === '5' ? 0o700 : 0o600);
    let name = m.name;
    if (format === 'pax') {
      const records = paxRecord('mtime', '1795391799.2565634') + (Buffer.byteLength(name) > 100 ? paxRecord('path', name) : '');
      if (Buffer.byteLength(name) > 100) name = name.slice(0, 99);
      blocks.push(header('././@PaxHeader', 'x', Buffer.byteLength(records), 0, '', format), pad(Buffer.from(records)));
    } else if (format === 'gnu' && Buffer.byteLength(name) > 100) {
      const long = Buffer.from(name + '\0');
      blocks.push(header('././@LongLink', 'L', long.length, 0, '', format), pad(long));
      name = name.slice(0, 99);
    }
    blocks.push(header(name, type, type === '0' ? data.length : 0, mode, m.linkname ?? '', format));
    if (type === '0') blocks.push(pad(data));
  }
  blocks.push(Buffer.alloc(1024));
  const raw = Buffer.concat(blocks);
  return Buffer.concat([raw, Buffer.alloc((10240 - (raw.length % 10240)) % 10240)]);
}

let box: string;
let dest: string;

beforeEach(() => {
  box = realpathSync(mkdtempSync(join(tmpdir(), 'wal-e-tar-')));
  dest = join(box, 'dest');
  mkdirSync(dest, { mode: 0o700 });
});
afterEach(() => rmSync(box, { recursive: true, force: true }));

function extractor(tablespaces: Map<string, string> = new Map()): SafeExtractor {
  return new SafeExtractor({ dest, tablespaces });
}

async function restore(archives: Buffer[], ex = extractor()): Promise<number> {
  let bytes = 0;
  for (const [i, a] of archives.entries()) bytes += await extractTarStream(Readable.from([a]), ex, `part_${i}`);
  await ex.finish();
  return bytes;
}

/** Nothing but dest exists in the sandbox (plus what a test put there itself). */
function assertNothingOutside(allowed: string[] = ['dest']): void {
  assert.deepEqual(readdirSync(box).sort(), allowed.sort());
}

async function assertRefused(archives: Buffer[], pattern: RegExp, ex?: SafeExtractor): Promise<void> {
  await assert.rejects(restore(archives, ex), (err: unknown) => {
    assert.ok(err instanceof UnsafeMemberError, `expected UnsafeMemberError, got ${String(err)}`);
    assert.match(`${err.message} ${err.detail}`, pattern);
    return true;
  });
}

describe('tar dialects WAL-E wrote', () => {
  it('pax (Python >= 3.8): first member "/", directories with "/", long names by pax path', async () => {
    const long = `base/5/${'x'.repeat(120)}`;
    const bytes = await restore([
      tar([
        { name: '/', type: '5', mode: 0o700 },
        { name: 'pg_wal/', type: '5' },
        { name: 'PG_VERSION', data: '15\n' },
        { name: long, data: 'long' },
      ]),
    ]);
    assert.equal(bytes, 7);
    assert.equal(readFileSync(join(dest, 'PG_VERSION'), 'utf8'), '15\n');
    assert.equal(readFileSync(join(dest, long), 'utf8'), 'long');
    assert.ok(statSync(join(dest, 'pg_wal')).isDirectory());
    assert.equal(statSync(dest).mode & 0o777, 0o700);
    assert.equal(statSync(join(dest, 'base', '5')).mode & 0o777, 0o700, 'missing parents are created 0700');
    assert.equal(statSync(join(dest, 'PG_VERSION')).mtime.getTime(), 1_795_391_799_256, 'pax float mtime applied');
  });

  it('GNU (Python <= 3.7): ././@LongLink long names, "ustar  " magic', async () => {
    const long = `global/${'y'.repeat(150)}`;
    await restore([tar([{ name: 'global/', type: '5' }, { name: long, data: 'gnu' }, { name: 'short', data: 's' }], 'gnu')]);
    assert.equal(readFileSync(join(dest, long), 'utf8'), 'gnu');
    assert.equal(readFileSync(join(dest, 'short'), 'utf8'), 's');
  });

  it('applies PostgreSQL modes: no world bits, owner always rw/rwx, group bits kept', async () => {
    await restore([tar([{ name: 'a', data: 'a', mode: 0o644 }, { name: 'g', type: '5', mode: 0o755 }, { name: 'b', data: 'b', mode: 0o400 }], 'ustar')]);
    assert.equal(statSync(join(dest, 'a')).mode & 0o777, 0o640);
    assert.equal(statSync(join(dest, 'g')).mode & 0o777, 0o750);
    assert.equal(statSync(join(dest, 'b')).mode & 0o777, 0o600);
  });

  it('restores symlinks and hard links that stay inside, even a hard link to a later partition', async () => {
    await restore([
      tar([{ name: 'sub/', type: '5' }, { name: 'sub/f', data: 'data' }, { name: 'rel', type: '2', linkname: 'sub/f' }, { name: 'early', type: '1', linkname: 'late/file' }]),
      tar([{ name: 'late/file', data: 'later' }]),
    ]);
    assert.equal(readlinkSync(join(dest, 'rel')), 'sub/f');
    assert.equal(statSync(join(dest, 'early')).ino, statSync(join(dest, 'late', 'file')).ino);
  });

  it('a corrupt or truncated tar stream is a corrupt object', async () => {
    const good = tar([{ name: 'f', data: 'x'.repeat(2000) }]);
    await assert.rejects(restore([good.subarray(0, 1500)]), CorruptObjectError);
    const bad = Buffer.from(good);
    bad[1024 + 10] ^= 0xff; // the member header's checksum no longer matches
    await assert.rejects(restore([bad]), CorruptObjectError);
  });
});

describe('safe extraction refuses members that leave the restore directory', () => {
  it('"../x"', async () => {
    await assertRefused([tar([{ name: '../escaped', data: 'no' }])], /\.\./);
    assertNothingOutside();
  });

  it('"a/../../x" hidden in the middle', async () => {
    await assertRefused([tar([{ name: 'a/../../escaped', data: 'no' }])], /\.\./);
    assertNothingOutside();
  });

  it('an absolute path', async () => {
    await assertRefused([tar([{ name: `${box}/abs`, data: 'no' }])], /absolute/);
    assertNothingOutside();
  });

  it('a symlink to an absolute path outside', async () => {
    await assertRefused([tar([{ name: 'link', type: '2', linkname: `${box}/outside` }])], /outside the restore directory/);
    assertNothingOutside();
  });

  it('a symlink climbing out with ".."', async () => {
    await assertRefused([tar([{ name: 'a/link', type: '2', linkname: '../../outside' }])], /outside/);
    assertNothingOutside();
  });

  it('a symlink that escapes only through another symlink', async () => {
    await assertRefused([tar([{ name: 'a', type: '2', linkname: '.' }, { name: 'b', type: '2', linkname: 'a/..' }])], /leads to/);
    assertNothingOutside();
    assert.equal(existsSync(join(dest, 'b')), false, 'the escaping link was removed');
  });

  it('a hard link to a path outside', async () => {
    mkdirSync(join(box, 'secret'));
    await assertRefused([tar([{ name: 'hl', type: '1', linkname: '../secret/x' }])], /hard link/);
    await assertRefused([tar([{ name: 'hl', type: '1', linkname: '/etc/passwd' }])], /hard link/);
    assertNothingOutside(['dest', 'secret']);
    assert.equal(existsSync(join(dest, 'hl')), false);
  });

  it('a member written through a symlink from the backup (same or another partition)', async () => {
    mkdirSync(join(box, 'target'));
    await assertRefused([tar([{ name: 'evil', type: '2', linkname: 'inside' }, { name: 'evil/x', data: 'no' }])], /through the symbolic link/);
    // The link could not leave, but even a link to an inside directory is never written through.
    const ex = extractor();
    await assertRefused([tar([{ name: 'sub/', type: '5' }, { name: 'l', type: '2', linkname: 'sub' }]), tar([{ name: 'l/y', data: 'no' }])], /through the symbolic link/, ex);
    assertNothingOutside(['dest', 'target']);
    assert.deepEqual(readdirSync(join(box, 'target')), []);
  });

  it('a member written through a symlink that was already in the directory', async () => {
    mkdirSync(join(box, 'target'));
    const { symlinkSync } = await import('node:fs');
    symlinkSync(join(box, 'target'), join(dest, 'base'));
    await assertRefused([tar([{ name: 'base/1/x', data: 'no' }])], /through the symbolic link/);
    assert.deepEqual(readdirSync(join(box, 'target')), []);
  });

  it('a file member never follows an existing symlink at its own name', async () => {
    const { symlinkSync, writeFileSync } = await import('node:fs');
    writeFileSync(join(box, 'victim'), 'keep');
    symlinkSync(join(box, 'victim'), join(dest, 'PG_VERSION'));
    await restore([tar([{ name: 'PG_VERSION', data: '15\n' }])]);
    assert.equal(readFileSync(join(box, 'victim'), 'utf8'), 'keep');
    assert.ok(lstatSync(join(dest, 'PG_VERSION')).isFile());
  });

  it('device nodes are refused', async () => {
    await assertRefused([tar([{ name: 'dev', type: '3' }])], /type/);
  });

  it('pg_wal may be a symlink to another file system (initdb --waldir)', async () => {
    await restore([tar([{ name: 'pg_wal', type: '2', linkname: `${box}/waldisk` }])]);
    assert.equal(readlinkSync(join(dest, 'pg_wal')), `${box}/waldisk`);
  });
});

describe('tablespaces', () => {
  it('members under pg_tblspc/<oid>/ go through the prepared symlink to its directory', async () => {
    const loc = join(box, 'ts');
    mkdirSync(loc);
    mkdirSync(join(dest, 'pg_tblspc'));
    const { symlinkSync } = await import('node:fs');
    symlinkSync(loc, join(dest, 'pg_tblspc', '16384'));
    await restore([tar([{ name: 'pg_tblspc/', type: '5' }, { name: 'pg_tblspc/16384/PG_15_202209061/', type: '5' }, { name: 'pg_tblspc/16384/PG_15_202209061/5/16385', data: 'rel' }])],
      extractor(new Map([['16384', loc]])));
    assert.equal(readFileSync(join(loc, 'PG_15_202209061', '5', '16385'), 'utf8'), 'rel');
    assert.ok(lstatSync(join(dest, 'pg_tblspc', '16384')).isSymbolicLink());
  });

  it('without a symlink, a tablespace lands inside the data directory (--blind-restore)', async () => {
    await restore([tar([{ name: 'pg_tblspc/', type: '5' }, { name: 'pg_tblspc/16384/PG_15_202209061/5/1', data: 'x' }])]);
    assert.ok(statSync(join(dest, 'pg_tblspc', '16384')).isDirectory());
  });
});
