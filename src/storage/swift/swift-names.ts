// Swift object names and request paths. WAL-E's object names begin with "/" (spec §3.7), and
// python-swiftclient quoted them with "/" kept, so `/pg/wal_005/X.lzo` in container `c` is the request
// path `<storage-url>/c//pg/wal_005/X.lzo`; Swift's proxy splits off the container at the first "/"
// and keeps the rest, leading "/" included, as the object name. We send exactly the same paths.
import { StoreError } from '../../util/errors';

/** Percent-encodes one path segment the way Python's quote(safe='/') does for a whole path. */
function quoteSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * The URL path (relative to the storage URL) of an object. "." and ".." segments would be collapsed by
 * every URL parser on the way (ours included), so names holding them are refused rather than silently
 * rewritten.
 */
export function objectPath(container: string, name: string): string {
  const segments = name.split('/');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new StoreError(`invalid Swift object name "${name}"`, {
      detail: 'Object names with "." or ".." path segments cannot be sent unchanged over HTTP.',
    });
  }
  return `/${quoteSegment(container)}/${segments.map(quoteSegment).join('/')}`;
}

export function containerPath(container: string): string {
  return `/${quoteSegment(container)}`;
}

/**
 * Segments of a static large object live in the same container (a user limited to one container can
 * still write them) under a name that never starts with "/", so no WAL-E listing (always "/"-prefixed)
 * ever sees them: `.segments/pg/basebackups_005/.../part_00000000.tar.lzo/slo/<upload id>/00000003`.
 */
export const SEGMENTS_PREFIX = '.segments';

export function segmentsPrefixFor(objectName: string): string {
  return `${SEGMENTS_PREFIX}${objectName}/slo/`;
}

export function segmentName(objectName: string, uploadId: string, index: number): string {
  return `${segmentsPrefixFor(objectName)}${uploadId}/${String(index).padStart(8, '0')}`;
}

/**
 * Swift's listing `last_modified` text ("2026-11-23T00:38:16.005780", UTC, no zone) for an
 * X-Timestamp header value ("1795394296.00578"), so head() and list() report the same string.
 */
export function lastModifiedFromTimestamp(xTimestamp: string): { text: string; ms: number } | undefined {
  const m = /^(\d+)(?:\.(\d{1,6}))?/.exec(xTimestamp);
  if (!m) return undefined;
  const seconds = Number(m[1]);
  const micros = (m[2] ?? '').padEnd(6, '0');
  const ms = seconds * 1000 + Math.floor(Number(micros) / 1000);
  return { text: `${new Date(seconds * 1000).toISOString().slice(0, 19)}.${micros}`, ms };
}

/** Milliseconds for a listing's `last_modified` text (UTC without a zone designator). */
export function lastModifiedMs(text: string): number {
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : text + 'Z');
  return Number.isNaN(ms) ? 0 : ms;
}
