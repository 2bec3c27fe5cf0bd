// Which other WAL segments wal-push may upload ahead of PostgreSQL's request (spec §5.1 step 3): the
// segments with an archive_status/<24 hex>.ready file, in name order. History, backup-label and partial
// files are only ever archived when PostgreSQL names them.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

const READY_SEGMENT = /^([0-9A-F]{24})\.ready$/;

export async function readySegments(walDir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(walDir, 'archive_status'));
  } catch {
    // No archive_status next to the file (e.g. a path without a directory part): no look-ahead.
    return [];
  }
  return names
    .map((n) => READY_SEGMENT.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
}
