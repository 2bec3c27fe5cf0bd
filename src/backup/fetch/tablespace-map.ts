// tablespace_map (PostgreSQL 9.5+): at start-up PostgreSQL recreates each pg_tblspc/<oid> symlink from
// this file, so a map naming the original locations would undo a relocation (wal-e#291, #354; spec §7
// item 8). It is rewritten to name where each tablespace was actually restored.

export interface MapLine {
  oid: string;
  path: string;
}

/** Parses the file as PostgreSQL's read_tablespace_map does: "<oid> <path>", backslash escapes a char. */
export function parseTablespaceMap(text: string): MapLine[] {
  const out: MapLine[] = [];
  let line = '';
  let escaped = false;
  const flush = () => {
    const sp = line.indexOf(' ');
    if (sp > 0) out.push({ oid: line.slice(0, sp), path: line.slice(sp + 1) });
    line = '';
  };
  for (const ch of text) {
    if (escaped) {
      line += ch;
      escaped = false;
    } else if (ch === '\\') {
      escaped = true;
    } else if (ch === '\n' || ch === '\r') {
      flush();
    } else {
      line += ch;
    }
  }
  if (line !== '') flush();
  return out;
}

export function formatTablespaceMap(lines: readonly MapLine[]): string {
  return lines.map((l) => `${l.oid} ${l.path.replace(/[\\\n\r]/g, (c) => `\\${c}`)}\n`).join('');
}

/**
 * The map rewritten for the restored layout: a tablespace restored through a symlink points at its
 * directory; one restored in place (no symlink) is dropped, or PostgreSQL would replace it by a symlink
 * to the original location.
 */
export function rewriteTablespaceMap(lines: readonly MapLine[], restoredAt: ReadonlyMap<string, string>): { lines: MapLine[]; dropped: string[] } {
  const out: MapLine[] = [];
  const dropped: string[] = [];
  for (const l of lines) {
    const at = restoredAt.get(l.oid);
    if (at === undefined) dropped.push(l.oid);
    else out.push({ oid: l.oid, path: at });
  }
  return { lines: out, dropped };
}
