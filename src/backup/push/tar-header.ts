// One tar member header, as bytes: POSIX ustar, preceded by a pax extended header ('x') only when a value
// does not fit ustar (long or non-ASCII names and link names, sizes of 8 GiB and more, large ids). Python's
// tarfile - WAL-E's reader - and GNU tar read both (spec §4.4.1). Pure: no I/O.

export const BLOCK = 512;
/** Python's tarfile pads the archive to whole 20-block records (spec §4.4.1). */
export const RECORD = 20 * BLOCK;

export type TarType = 'file' | 'dir' | 'symlink';

export interface TarHeader {
  /** Member name without a trailing slash; '' is the archive root (written "/" as WAL-E did). */
  name: string;
  type: TarType;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  linkname?: string;
  uname?: string;
  gname?: string;
}

const TYPEFLAG: Record<TarType, string> = { file: '0', dir: '5', symlink: '2' };

const MAX_OCTAL_11 = 0o77777777777; // size and mtime fields
const MAX_OCTAL_7 = 0o7777777; // mode, uid, gid fields

/** Header block(s) for one member: [pax 'x' header + its records] + the ustar header. */
export function encodeTarHeader(h: TarHeader): Buffer {
  const name = h.type === 'dir' ? `${h.name}/` : h.name;
  const linkname = h.linkname ?? '';
  const pax: [string, string][] = [];
  if (!fitsField(name, 100)) pax.push(['path', name]);
  if (!fitsField(linkname, 100)) pax.push(['linkpath', linkname]);
  if (h.size > MAX_OCTAL_11) pax.push(['size', String(h.size)]);
  if (h.uid > MAX_OCTAL_7) pax.push(['uid', String(h.uid)]);
  if (h.gid > MAX_OCTAL_7) pax.push(['gid', String(h.gid)]);
  const mtime = Math.max(0, Math.min(Math.floor(h.mtime), MAX_OCTAL_11));
  if (h.uname && !fitsField(h.uname, 32)) pax.push(['uname', h.uname]);
  if (h.gname && !fitsField(h.gname, 32)) pax.push(['gname', h.gname]);

  const ustar = ustarBlock({
    name: asciiField(name, 100),
    mode: h.mode & 0o7777,
    uid: Math.min(h.uid, MAX_OCTAL_7),
    gid: Math.min(h.gid, MAX_OCTAL_7),
    size: h.type === 'file' ? Math.min(h.size, MAX_OCTAL_11) : 0,
    mtime,
    typeflag: TYPEFLAG[h.type],
    linkname: asciiField(linkname, 100),
    uname: fitsField(h.uname ?? '', 32) ? (h.uname ?? '') : '',
    gname: fitsField(h.gname ?? '', 32) ? (h.gname ?? '') : '',
  });
  if (pax.length === 0) return ustar;
  const records = Buffer.from(pax.map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
  const paxHeader = ustarBlock({
    name: '././@PaxHeader',
    mode: 0,
    uid: 0,
    gid: 0,
    size: records.length,
    mtime: 0,
    typeflag: 'x',
    linkname: '',
    uname: '',
    gname: '',
  });
  return Buffer.concat([paxHeader, records, Buffer.alloc(paddingFor(records.length)), ustar]);
}

/** NUL bytes after `size` bytes of member data, up to the next block. */
export function paddingFor(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** The end of an archive of `written` bytes so far: two zero blocks, then zeros to a whole record. */
export function endOfArchive(written: number): Buffer {
  const withEnd = written + 2 * BLOCK;
  return Buffer.alloc(2 * BLOCK + ((RECORD - (withEnd % RECORD)) % RECORD));
}

/** "<len> key=value\n" where len counts the whole record, itself included. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body, 'utf8');
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length + bodyLen !== len) len = bodyLen + String(len).length;
  return `${len}${body}`;
}

function fitsField(s: string, width: number): boolean {
  return /^[\x00-\x7f]*$/.test(s) && s.length <= width;
}

function asciiField(s: string, width: number): string {
  return s.replace(/[^\x00-\x7f]/g, '?').slice(0, width);
}

interface UstarFields {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
}

function ustarBlock(f: UstarFields): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name, 0, 100, 'latin1');
  b.write(octal(f.mode, 8), 100, 'latin1');
  b.write(octal(f.uid, 8), 108, 'latin1');
  b.write(octal(f.gid, 8), 116, 'latin1');
  b.write(octal(f.size, 12), 124, 'latin1');
  b.write(octal(f.mtime, 12), 136, 'latin1');
  b.write(' '.repeat(8), 148, 'latin1');
  b.write(f.typeflag, 156, 'latin1');
  b.write(f.linkname, 157, 100, 'latin1');
  b.write('ustar\x0000', 257, 'latin1');
  b.write(f.uname, 265, 32, 'latin1');
  b.write(f.gname, 297, 32, 'latin1');
  // devmajor/devminor stay NUL for non-device members, as Python's tarfile leaves them.
  let sum = 0;
  for (const byte of b) sum += byte;
  // Python's tarfile: six octal digits, NUL, space.
  b.write(`${sum.toString(8).padStart(6, '0')}\x00 `, 148, 'latin1');
  return b;
}

/** Zero-padded octal in width-1 digits plus a NUL, as Python's tarfile writes numbers. */
function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\x00`;
}
