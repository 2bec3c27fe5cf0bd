// Tar member names -> safe relative paths. WAL-E's tars start with a member named "/" (the data
// directory itself, spec §4.4 and the fixtures' tar listing); Python's reader strips trailing "/" so that
// it becomes "" = the restore directory. Anything else absolute, or any ".." component, is refused: a
// member must never name a place outside the restore directory (spec §4.6 made no such check).
import { UserError } from '../../util/errors';

/** A member that would write outside the restore directory, or that cannot be restored safely. */
export class UnsafeMemberError extends UserError {
  constructor(member: string, why: string, partition: string) {
    super('refusing to restore an unsafe tar member', {
      detail: `The member "${member}" of ${partition} ${why}.`,
      hint: 'Nothing was written outside the restore directory. The backup may have been tampered with; check where it came from.',
    });
  }
}

/**
 * The path components of a member name relative to the restore directory ([] = the directory itself), or
 * a reason to refuse it.
 */
export function memberPathParts(raw: string): { parts: string[] } | { refused: string } {
  if (raw.includes('\0')) return { refused: 'holds a NUL character' };
  let name = raw.replace(/\/+$/, '');
  if (raw.length > 0 && name === '') return { parts: [] };
  if (name.startsWith('/')) return { refused: 'has an absolute path' };
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') return { refused: 'climbs out of its directory with ".."' };
    parts.push(p);
  }
  if (parts.length === 0 && raw.length === 0) return { refused: 'has an empty name' };
  return { parts };
}

/**
 * Where a symlink's target points, as path components relative to the restore directory, judged by the
 * text alone; undefined when it leaves the directory (absolute targets are always outside).
 */
export function symlinkTargetParts(linkParts: readonly string[], target: string): string[] | undefined {
  if (target === '' || target.startsWith('/')) return undefined;
  const out = linkParts.slice(0, -1);
  for (const p of target.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else {
      out.push(p);
    }
  }
  return out;
}
