// Connection settings by libpq's conventions (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGPASSFILE),
// resolved here so that backup-push behaves like psql did for WAL-E (spec §5.4.1) without a psql binary.
// node-postgres reads some PG* variables itself but defaults to TCP localhost and the USER variable;
// libpq defaults to the Unix socket directory and the OS user, and reads the password file.
import type { Env } from '../config/env';

/** Where psql looks for the server's socket when PGHOST is unset: Debian's directory, then upstream's. */
export const DEFAULT_SOCKET_DIRS = ['/var/run/postgresql', '/tmp'] as const;

export interface ConnectionParams {
  /** Host name, IP address or (when it starts with '/') a Unix socket directory. */
  host: string;
  port: number;
  user: string;
  database: string;
  /** The host as libpq names it when matching the password file ("localhost" for the default socket). */
  pgpassHost: string;
  /** PGPASSWORD when set; never logged. */
  password: string | undefined;
  /** The password file to consult when the server asks for a password and PGPASSWORD is unset. */
  passfile: string | undefined;
}

export interface ParamDeps {
  /** The OS user name (libpq's default for PGUSER). */
  osUser: string;
  homeDir: string | undefined;
  /** Whether a Unix socket file exists (to find the default socket directory). */
  socketExists(path: string): boolean;
}

export function resolveConnectionParams(env: Env, deps: ParamDeps): ConnectionParams {
  const portText = env.PGPORT?.split(',')[0]?.trim() || '5432';
  if (!/^\d+$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new Error(`invalid port number: "${portText}"`);
  }
  const port = Number(portText);
  // A comma-separated PGHOST lists alternatives; like libpq we try the first (the rest are not supported).
  const hostSetting = env.PGHOST?.split(',')[0]?.trim() || env.PGHOSTADDR?.trim() || '';
  let host = hostSetting;
  let pgpassHost = hostSetting;
  if (host === '') {
    host = DEFAULT_SOCKET_DIRS.find((d) => deps.socketExists(`${d}/.s.PGSQL.${port}`)) ?? DEFAULT_SOCKET_DIRS[0];
    pgpassHost = 'localhost';
  } else if (host.startsWith('/') && (DEFAULT_SOCKET_DIRS as readonly string[]).includes(host.replace(/\/+$/, ''))) {
    pgpassHost = 'localhost';
  }
  const user = env.PGUSER?.trim() || deps.osUser;
  // WAL-E ran `psql -d postgres`; PGDATABASE is honoured as an addition.
  const database = env.PGDATABASE?.trim() || 'postgres';
  const password = env.PGPASSWORD !== undefined && env.PGPASSWORD !== '' ? env.PGPASSWORD : undefined;
  const passfile = env.PGPASSFILE?.trim() || (deps.homeDir ? `${deps.homeDir}/.pgpass` : undefined);
  return { host, port, user, database, pgpassHost, password, passfile };
}

/** How the target reads in messages: never includes the password. */
export function describeTarget(p: ConnectionParams): string {
  const where = p.host.startsWith('/') ? `socket "${p.host}/.s.PGSQL.${p.port}"` : `host "${p.host}" port ${p.port}`;
  return `${where} as user "${p.user}" to database "${p.database}"`;
}
