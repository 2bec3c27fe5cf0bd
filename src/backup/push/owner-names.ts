// uname/gname for tar headers, from the local user and group databases as Python's tarfile fills them
// ('' when unknown; spec §4.4.1). Restores match by name first, then by number.
import { readFileSync } from 'node:fs';

export interface OwnerNames {
  user(uid: number): string;
  group(gid: number): string;
}

function idMap(file: string): Map<number, string> {
  const map = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return map;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3) continue;
    const id = Number(f[2]);
    if (Number.isInteger(id) && !map.has(id)) map.set(id, f[0]!);
  }
  return map;
}

export function localOwnerNames(passwd = '/etc/passwd', group = '/etc/group'): OwnerNames {
  let users: Map<number, string> | undefined;
  let groups: Map<number, string> | undefined;
  return {
    user: (uid) => (users ??= idMap(passwd)).get(uid) ?? '',
    group: (gid) => (groups ??= idMap(group)).get(gid) ?? '',
  };
}
