// WALE_S3_ENDPOINT in WAL-E's grammar, `<protocol>+<convention>://[host][:port]` (spec §6.1): protocol
// http|https, convention path|subdomain|virtualhost; no user, password, path, query or fragment. The
// messages are WAL-E's, so scripts that grep them keep working.
import { UserError } from '../../util/errors';

export type AddressingConvention = 'path' | 'subdomain' | 'virtualhost';

export interface S3Endpoint {
  readonly protocol: 'http' | 'https';
  readonly convention: AddressingConvention;
  /** Host name (or IP literal, IPv6 without brackets); boto's default when the value named none. */
  readonly host: string;
  /** Explicit port, or undefined for the protocol's default (80, 443). */
  readonly port: number | undefined;
}

/** boto's host when WALE_S3_ENDPOINT names none. */
export const DEFAULT_S3_HOST = 's3.amazonaws.com';

export function parseS3Endpoint(value: string): S3Endpoint {
  const m = /^([^:/?#]*):\/\/(.*)$/s.exec(value);
  const scheme = m ? m[1]! : value.includes(':') ? value.slice(0, value.indexOf(':')) : '';
  const sm = /^(http|https)\+(virtualhost|path|subdomain)$/i.exec(scheme);
  if (!m || !sm) {
    throw new UserError('WALE_S3_ENDPOINT URI scheme is invalid', {
      detail: `The scheme defined is '${scheme}'`,
      hint: 'An example of a valid scheme is https+virtualhost.',
    });
  }
  const rest = m[2]!;
  // WAL-E's URL parsing did not split off fragments, so "#x" counts as a path (spec §6.1).
  const end = rest.search(/[/?#]/);
  const netloc = end === -1 ? rest : rest.slice(0, end);
  const tail = end === -1 ? '' : rest.slice(end);
  if (netloc.includes('@')) {
    throw new UserError('WALE_S3_ENDPOINT does not support username or password');
  }
  const q = tail.indexOf('?');
  const path = q === -1 ? tail : tail.slice(0, q);
  if (path !== '') {
    throw new UserError('WALE_S3_ENDPOINT does not support a URI path', { detail: `Path is '${path}'` });
  }
  if (q !== -1) {
    throw new UserError('WALE_S3_ENDPOINT does not support query parameters');
  }
  const { host, port } = splitHostPort(netloc, value);
  return {
    protocol: sm[1]!.toLowerCase() as 'http' | 'https',
    convention: sm[2]!.toLowerCase() as AddressingConvention,
    host: host === '' ? DEFAULT_S3_HOST : host,
    port,
  };
}

function splitHostPort(netloc: string, value: string): { host: string; port: number | undefined } {
  let host = netloc;
  let portText: string | undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(.*))?$/.exec(netloc);
  if (v6) {
    host = v6[1]!;
    portText = v6[2];
  } else if (netloc.includes(':')) {
    const i = netloc.lastIndexOf(':');
    host = netloc.slice(0, i);
    portText = netloc.slice(i + 1);
  }
  if (host !== '' && !/^[A-Za-z0-9._:-]+$/.test(host)) {
    throw new UserError('WALE_S3_ENDPOINT has an invalid host name', { detail: `The value is '${value}'.` });
  }
  if (portText === undefined || portText === '') return { host, port: undefined };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) {
    throw new UserError('WALE_S3_ENDPOINT has an invalid port', {
      detail: `The port '${portText}' is not a number between 1 and 65535.`,
    });
  }
  return { host, port };
}

/** The base URL the SDK talks to for a bucket, honouring the convention (boto semantics, spec §6.1). */
export function endpointUrl(ep: S3Endpoint, host = ep.host): string {
  const h = host.includes(':') ? `[${host}]` : host;
  return `${ep.protocol}://${h}${ep.port === undefined ? '' : `:${ep.port}`}`;
}
