// Prefix URLs as WAL-E parses them (spec §3.1, §3.7): scheme, container (netloc) and PATH_PREFIX.
import { UserError } from '../util/errors';

export type StoreKind = 's3' | 'wabs' | 'gs' | 'swift' | 'file';
export const STORE_KINDS: readonly StoreKind[] = ['s3', 'wabs', 'swift', 'gs', 'file'];

export interface StoreLocation {
  readonly kind: StoreKind;
  /** Bucket or container; empty for file:// (its host is ignored). */
  readonly container: string;
  /** The path with all leading "/" removed and one trailing "/" when non-empty (spec §3.1). */
  readonly pathPrefix: string;
  /** The prefix as the user gave it. */
  readonly url: string;
}

interface SplitUrl {
  scheme: string;
  netloc: string;
  path: string;
}

/** Python urlsplit's view of scheme/netloc/path, which is what decided WAL-E's behaviour. */
export function splitUrl(url: string): SplitUrl {
  let rest = url;
  let scheme = '';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(rest);
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = rest.slice(m[0].length);
  }
  let netloc = '';
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    const end = rest.search(/[/?#]/);
    netloc = end === -1 ? rest : rest.slice(0, end);
    rest = end === -1 ? '' : rest.slice(end);
  }
  const q = rest.search(/[?#]/);
  const path = q === -1 ? rest : rest.slice(0, q);
  return { scheme, netloc, path };
}

export function normalizePathPrefix(path: string): string {
  const stripped = path.replace(/^\/+/, '');
  return stripped === '' || stripped.endsWith('/') ? stripped : stripped + '/';
}

const CONTAINER_WORD: Record<Exclude<StoreKind, 'file'>, string> = {
  s3: 'bucket',
  wabs: 'container',
  gs: 'bucket',
  swift: 'container',
};

export function parseStoreLocation(url: string): StoreLocation {
  const { scheme, netloc, path } = splitUrl(url);
  if (!(STORE_KINDS as readonly string[]).includes(scheme)) {
    throw new UserError(
      'bad S3, Windows Azure Blob Storage, OpenStack Swift, Google Cloud Storage or File URL scheme passed',
      { detail: `The scheme ${scheme} was passed when "s3", "wabs", "swift", "gs", or "file" was expected.` },
    );
  }
  const kind = scheme as StoreKind;
  if (kind === 'file') {
    if (!/^file:\/\//i.test(url)) {
      throw new UserError('the file prefix must be an absolute directory', {
        detail: `The prefix "${url}" has no "//"; relative directories cannot be used.`,
        hint: 'Write it as file:///absolute/path (or file://localhost/absolute/path).',
      });
    }
    if (normalizePathPrefix(path) === '') {
      throw new UserError('the file prefix names no directory', {
        detail: `The prefix "${url}" would put the archive at the root of the filesystem.`,
        hint: 'Write it as file:///absolute/path.',
      });
    }
    // The host is ignored, as WAL-E did: file://localhost/x, file:///x and file://any/x all mean /x.
    return { kind, container: '', pathPrefix: normalizePathPrefix(path), url };
  }
  if (netloc === '') {
    throw new UserError(`the ${kind} prefix has no ${CONTAINER_WORD[kind]} name`, {
      detail: `The prefix "${url}" does not name a ${CONTAINER_WORD[kind]}.`,
      hint: `Write it as ${kind}://${CONTAINER_WORD[kind].toUpperCase()}/path/to/prefix.`,
    });
  }
  // Legacy us-east-1 buckets may hold upper case and "_", so S3 names are only checked for characters.
  if (kind === 's3' && !/^[A-Za-z0-9._-]{1,255}$/.test(netloc)) {
    throw new UserError('the s3 prefix has an invalid bucket name', {
      detail: `"${netloc}" is not a valid S3 bucket name (letters, digits, ".", "_" and "-").`,
    });
  }
  if (kind === 'wabs' && !/^([a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]|\$root|\$web)$/.test(netloc)) {
    throw new UserError('the wabs prefix has an invalid container name', {
      detail: `"${netloc}" is not a valid Azure container name (3-63 characters: lower-case letters, digits and single "-").`,
    });
  }
  return { kind, container: netloc, pathPrefix: normalizePathPrefix(path), url };
}

/**
 * The store-native object name for a key relative to PATH_PREFIX (spec §3.7): GS and Swift names begin
 * with a literal "/", S3 and WABS names do not, file paths are absolute.
 */
export function objectName(loc: StoreLocation, relativeKey: string): string {
  const name = loc.pathPrefix + relativeKey;
  switch (loc.kind) {
    case 'gs':
    case 'swift':
    case 'file':
      return '/' + name;
    default:
      return name;
  }
}

/** The object URL WAL-E prints in log lines: the prefix as given, trailing "/" stripped, then "/" + key. */
export function objectUrl(loc: StoreLocation, relativeKey: string): string {
  return `${loc.url.replace(/\/+$/, '')}/${relativeKey}`;
}
