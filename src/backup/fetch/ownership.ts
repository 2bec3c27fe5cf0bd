// Ownership of restored files when running as root: by user/group name, falling back to the numeric
// ids in the header, as WAL-E did (spec §4.6). Non-root runs own what they write.
import { readFileSync } from 'node:fs';

function readIds(file: string): Map<string, number> {
  const ids = new Map<string, number>();
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 3 && f[0] && /^\d+$/.test(f[2]!)) ids.set(f[0], Number(f[2]));
    }
  } catch {
    // no database: numeric ids only
  }
  return ids;
}

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

export class OwnerMap {
  private users: Map<string, number> | undefined;
  private groups: Map<string, number> | undefined;
  readonly enabled = typeof process.getuid === 'function' && process.getuid() === 0;

  ownerOf(uname: string | undefined, gname: string | undefined, uid: number, gid: number): Owner | undefined {
    if (!this.enabled) return undefined;
    this.users ??= readIds('/etc/passwd');
    this.groups ??= readIds('/etc/group');
    return {
      uid: (uname ? this.users.get(uname) : undefined) ?? uid,
      gid: (gname ? this.groups.get(gname) : undefined) ?? gid,
    };
  }
}
