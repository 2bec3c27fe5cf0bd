// One PostgreSQL session over the wire protocol (node-postgres, loaded lazily). backup-push keeps a single
// session from backup start to stop, as the non-exclusive backup API requires (spec §7 item 1).
import { readFile, stat } from 'node:fs/promises';
import type { Env } from '../config/env';
import { getLogger } from '../log/logger';
import { UserError } from '../util/errors';
import { describeTarget, type ConnectionParams } from './connection-params';
import { lookupPgpass } from './pgpass';

const log = getLogger('wal_e.operator.backup');

/** A query failed on the server or the connection broke; the message is the server's. */
export class PgQueryError extends UserError {}

export interface PgSession {
  /** Rows as objects keyed by column name; text values except where the driver parses numbers/booleans. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

interface MinimalClient {
  connect(): Promise<void>;
  query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  end(): Promise<void>;
  on(event: 'error', cb: (err: Error) => void): void;
}

export async function openSession(params: ConnectionParams, env: Env): Promise<PgSession> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({
    host: params.host,
    port: params.port,
    user: params.user,
    database: params.database,
    password: () => passwordFor(params),
    // WAL-E ran psql with PGOPTIONS + " --statement-timeout=0" (spec §5.4.1): a backup may take hours.
    options: `${env.PGOPTIONS ?? ''} -c statement_timeout=0`.trim(),
    application_name: env.PGAPPNAME || 'wal-e backup-push',
    keepAlive: true,
  }) as unknown as MinimalClient;
  let broken: Error | undefined;
  client.on('error', (err) => {
    broken = err;
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new UserError('could not connect to PostgreSQL', {
      detail: `Connecting by ${describeTarget(params)} failed: ${messageOf(err)}`,
      hint: 'Set PGHOST, PGPORT, PGUSER, PGDATABASE and PGPASSWORD or PGPASSFILE as you would for psql.',
    });
  }
  return {
    async query<T>(sql: string, args?: unknown[]): Promise<T[]> {
      if (broken) throw new PgQueryError('the connection to PostgreSQL was lost', { detail: broken.message });
      try {
        return (await client.query(sql, args)).rows as T[];
      } catch (err) {
        throw new PgQueryError('a PostgreSQL query failed', { detail: `${messageOf(err)} (while running: ${sql})` });
      }
    },
    async close(): Promise<void> {
      await client.end().catch(() => undefined);
    },
  };
}

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length) return err.errors.map(messageOf).join('; ');
  return err instanceof Error ? err.message : String(err);
}

/** PGPASSWORD, else the password file entry, as libpq picks them; asked only if the server wants one. */
async function passwordFor(params: ConnectionParams): Promise<string> {
  if (params.password !== undefined) return params.password;
  if (params.passfile) {
    try {
      const st = await stat(params.passfile);
      if (!st.isFile()) {
        log.warning('password file is not a plain file', { detail: `"${params.passfile}" was ignored.` });
      } else if ((st.mode & 0o077) !== 0) {
        log.warning('password file has group or world access; permissions should be u=rw (0600) or less', {
          detail: `"${params.passfile}" was ignored, as libpq ignores it.`,
        });
      } else {
        const found = lookupPgpass(await readFile(params.passfile, 'utf8'), {
          host: params.pgpassHost,
          port: String(params.port),
          database: params.database,
          user: params.user,
        });
        if (found !== undefined) return found;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new UserError('PostgreSQL asked for a password, but none was supplied', {
    detail: `No PGPASSWORD, and no matching line in ${params.passfile ? `"${params.passfile}"` : 'a password file'}.`,
  });
}
