// libpq's password file (~/.pgpass or PGPASSFILE): "host:port:database:user:password" lines, '*' matches
// anything, '\' escapes ':' and '\', the first matching line wins. libpq ignores the file when group or
// others may read it; so do we (the caller warns).

export interface PgpassQuery {
  host: string;
  port: string;
  database: string;
  user: string;
}

/** Splits one line into its fields, undoing backslash escapes; undefined for comments and short lines. */
export function parsePgpassLine(line: string): string[] | undefined {
  if (line.startsWith('#') || line.trim() === '') return undefined;
  const fields: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
    } else if (c === ':' && fields.length < 4) {
      fields.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  fields.push(cur);
  return fields.length === 5 ? fields : undefined;
}

export function lookupPgpass(text: string, q: PgpassQuery): string | undefined {
  const want = [q.host, q.port, q.database, q.user];
  for (const raw of text.split(/\r?\n/)) {
    const f = parsePgpassLine(raw);
    if (!f) continue;
    if (want.every((w, i) => f[i] === '*' || f[i] === w)) return f[4];
  }
  return undefined;
}
