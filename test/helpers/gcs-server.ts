// A Google Cloud Storage JSON-API server for tests: no real GCS server runs on a CI machine, so this
// speaks the exact subset of the protocol that @google-cloud/storage 7.x uses for wal-e's operations,
// over real HTTP, with the checks real GCS makes (CRC32C/MD5 of uploads, ifGenerationMatch
// preconditions) and switches to inject faults. Objects live in memory.
//
// Requests served (B = bucket, O = URL-encoded object name; JSON routes with or without /storage/v1,
// as the SDK drops that prefix when STORAGE_EMULATOR_HOST is set):
//   POST /upload/storage/v1/b/B/o?uploadType=multipart&name=O   one-request upload (multipart/related)
//   POST /upload/storage/v1/b/B/o?uploadType=resumable&name=O   opens a session -> Location
//   PUT  <session>  Content-Range: bytes a-b/T|*, bytes */T|*    chunks (308 + Range) and finalisation
//   GET  /b/B/o/O?alt=media   body with x-goog-hash; GET /b/B/o/O metadata; GET /b/B/o list
//   DELETE /b/B/o/O; GET /b/B; POST /b?project=P (create bucket)
import { CRC32C } from '@google-cloud/storage';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

interface StoredObject {
  data: Buffer;
  generation: string;
  contentType: string;
  updated: Date;
  md5: string;
  crc32c: string;
}

interface Session {
  bucket: string;
  name: string;
  contentType: string;
  ifGenerationMatch: string | undefined;
  received: Buffer[];
  size: number;
  done: StoredObject | undefined;
}

/** What to do to a request instead of (or while) serving it. */
export type Fault =
  | { kind: 'status'; status: number }
  /** Destroy the connection before answering. */
  | { kind: 'reset' }
  /** Answer a download with its headers and only the first half of the body, then drop the connection. */
  | { kind: 'truncate' }
  /** Answer a download with a wrong body (one byte flipped) but the right hashes. */
  | { kind: 'corrupt' };

export interface FaultRule {
  fault: Fault;
  /** Which requests: "GET media", "GET meta", "GET list", "POST upload", "PUT upload", "DELETE", or any. */
  match?: (req: { method: string; path: string; query: URLSearchParams }) => boolean;
  /** How many matching requests to fault; Infinity for all. */
  times: number;
}

const crc32cOf = (b: Buffer): string => {
  const c = new CRC32C();
  c.update(b);
  return c.toString();
};
const md5Of = (b: Buffer): string => createHash('md5').update(b).digest('base64');

export class GcsTestServer {
  readonly buckets = new Map<string, Map<string, StoredObject>>();
  /** Every request as "METHOD path?query", for assertions about what the client sent. */
  readonly requests: string[] = [];
  private readonly sessions = new Map<string, Session>();
  private readonly faults: FaultRule[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private generation = Date.now() * 1000;
  endpoint = '';

  constructor(buckets: readonly string[] = []) {
    for (const b of buckets) this.buckets.set(b, new Map());
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        if (!res.headersSent) this.error(res, 500, 'backendError', err.message);
        else res.destroy();
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  inject(rule: FaultRule): void {
    this.faults.push(rule);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Stores an object as if some other client (WAL-E) had uploaded it. */
  putObject(bucket: string, name: string, data: Buffer, contentType = 'application/octet-stream'): void {
    this.bucketOf(bucket, true)!.set(name, this.makeObject(data, contentType));
  }

  object(bucket: string, name: string): Buffer | undefined {
    return this.buckets.get(bucket)?.get(name)?.data;
  }

  names(bucket: string): string[] {
    return [...(this.buckets.get(bucket)?.keys() ?? [])].sort();
  }

  private bucketOf(name: string, create = false): Map<string, StoredObject> | undefined {
    let b = this.buckets.get(name);
    if (!b && create) this.buckets.set(name, (b = new Map()));
    return b;
  }

  private makeObject(data: Buffer, contentType: string): StoredObject {
    return { data, generation: String(++this.generation), contentType, updated: new Date(), md5: md5Of(data), crc32c: crc32cOf(data) };
  }

  private objectJson(bucket: string, name: string, o: StoredObject): Record<string, unknown> {
    const enc = encodeURIComponent(name);
    return {
      kind: 'storage#object',
      id: `${bucket}/${name}/${o.generation}`,
      selfLink: `${this.endpoint}/storage/v1/b/${bucket}/o/${enc}`,
      mediaLink: `${this.endpoint}/download/storage/v1/b/${bucket}/o/${enc}?generation=${o.generation}&alt=media`,
      name,
      bucket,
      generation: o.generation,
      metageneration: '1',
      contentType: o.contentType,
      storageClass: 'STANDARD',
      size: String(o.data.length),
      md5Hash: o.md5,
      crc32c: o.crc32c,
      etag: `C${o.generation}`,
      timeCreated: o.updated.toISOString(),
      updated: o.updated.toISOString(),
    };
  }

  private error(res: ServerResponse, status: number, reason: string, message: string): void {
    const body = JSON.stringify({ error: { code: status, message, errors: [{ message, domain: 'global', reason }] } });
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  private takeFault(method: string, path: string, query: URLSearchParams): Fault | undefined {
    const i = this.faults.findIndex((f) => f.times > 0 && (!f.match || f.match({ method, path, query })));
    if (i === -1) return undefined;
    const rule = this.faults[i]!;
    rule.times--;
    return rule.fault;
  }

  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of req) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    const fault = this.takeFault(method, url.pathname, url.searchParams);
    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      await this.readBody(req).catch(() => undefined);
      this.error(res, fault.status, fault.status === 429 ? 'rateLimitExceeded' : 'backendError', `Injected HTTP ${fault.status}`);
      return;
    }
    let path = url.pathname;
    if (path.startsWith('/upload/storage/v1/')) return this.upload(req, res, path.slice('/upload/storage/v1'.length), url.searchParams);
    if (path.startsWith('/storage/v1/')) path = path.slice('/storage/v1'.length);
    const m = /^\/b(?:\/([^/]+)(?:\/o(?:\/(.+))?)?)?$/.exec(path);
    if (!m) return this.error(res, 404, 'notFound', `Not Found: ${path}`);
    const bucket = m[1] ? decodeURIComponent(m[1]) : undefined;
    const isObjects = path.includes('/o');
    const name = m[2] !== undefined ? decodeURIComponent(m[2]) : undefined;
    if (!bucket) {
      if (method !== 'POST') return this.error(res, 405, 'methodNotAllowed', 'Only bucket creation is served');
      const meta = JSON.parse((await this.readBody(req)).toString() || '{}') as { name?: string };
      if (!meta.name) return this.error(res, 400, 'invalid', 'Bucket name missing');
      if (this.buckets.has(meta.name)) return this.error(res, 409, 'conflict', 'Your previous request to create the named bucket succeeded and you already own it.');
      this.buckets.set(meta.name, new Map());
      return this.json(res, 200, { kind: 'storage#bucket', id: meta.name, name: meta.name });
    }
    const objects = this.buckets.get(bucket);
    if (!objects) {
      await this.readBody(req).catch(() => undefined);
      return this.error(res, 404, 'notFound', 'The specified bucket does not exist.');
    }
    if (!isObjects) return this.json(res, 200, { kind: 'storage#bucket', id: bucket, name: bucket });
    if (name === undefined) {
      if (method !== 'GET') return this.error(res, 405, 'methodNotAllowed', 'Method not allowed');
      return this.list(res, bucket, objects, url.searchParams);
    }
    const o = objects.get(name);
    if (method === 'DELETE') {
      if (!o) return this.error(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
      objects.delete(name);
      res.writeHead(204).end();
      return;
    }
    if (method !== 'GET') return this.error(res, 405, 'methodNotAllowed', 'Method not allowed');
    if (!o) return this.error(res, 404, 'notFound', `No such object: ${bucket}/${name}`);
    if (url.searchParams.get('alt') !== 'media') return this.json(res, 200, this.objectJson(bucket, name, o));
    return this.media(req, res, o, fault);
  }

  private media(req: IncomingMessage, res: ServerResponse, o: StoredObject, fault: Fault | undefined): void {
    const headers: Record<string, string | number> = {
      'content-type': o.contentType,
      'x-goog-generation': o.generation,
      'x-goog-stored-content-encoding': 'identity',
      'x-goog-stored-content-length': o.data.length,
      'x-goog-hash': `crc32c=${o.crc32c},md5=${o.md5}`,
      etag: `C${o.generation}`,
    };
    let body = o.data;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), o.data.length - 1) : o.data.length - 1;
      body = o.data.subarray(start, end + 1);
      status = 206;
      headers['content-range'] = `bytes ${start}-${end}/${o.data.length}`;
    }
    headers['content-length'] = body.length;
    if (fault?.kind === 'corrupt' && body.length > 0) {
      body = Buffer.from(body);
      body[body.length >> 1] ^= 0xff;
    }
    res.writeHead(status, headers);
    if (fault?.kind === 'truncate') {
      res.write(body.subarray(0, body.length >> 1), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(body);
  }

  private list(res: ServerResponse, bucket: string, objects: Map<string, StoredObject>, q: URLSearchParams): void {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const max = Math.min(Number(q.get('maxResults') ?? 1000) || 1000, 1000);
    const after = q.get('pageToken') ? Buffer.from(q.get('pageToken')!, 'base64url').toString() : undefined;
    const names = [...objects.keys()].filter((n) => n.startsWith(prefix) && (after === undefined || n > after)).sort();
    const items: Record<string, unknown>[] = [];
    const prefixes = new Set<string>();
    let last: string | undefined;
    let truncated = false;
    for (const n of names) {
      if (items.length + prefixes.size >= max) {
        truncated = true;
        break;
      }
      last = n;
      const cut = delimiter ? n.indexOf(delimiter, prefix.length) : -1;
      if (cut !== -1) prefixes.add(n.slice(0, cut + delimiter.length));
      else items.push(this.objectJson(bucket, n, objects.get(n)!));
    }
    this.json(res, 200, {
      kind: 'storage#objects',
      ...(items.length ? { items } : {}),
      ...(prefixes.size ? { prefixes: [...prefixes] } : {}),
      ...(truncated && last !== undefined ? { nextPageToken: Buffer.from(last).toString('base64url') } : {}),
    });
  }

  /** ifGenerationMatch as GCS checks it: 0 = "must not exist", N = "current generation is N". */
  private preconditionFails(objects: Map<string, StoredObject>, name: string, ifGenerationMatch: string | undefined): boolean {
    if (ifGenerationMatch === undefined) return false;
    const cur = objects.get(name);
    return ifGenerationMatch === '0' ? cur !== undefined : cur?.generation !== ifGenerationMatch;
  }

  private commit(res: ServerResponse, bucket: string, name: string, data: Buffer, contentType: string, ifGenerationMatch: string | undefined, claimed: { crc32c?: string; md5?: string }): StoredObject | undefined {
    const objects = this.bucketOf(bucket)!;
    const o = this.makeObject(data, contentType);
    if ((claimed.crc32c && claimed.crc32c !== o.crc32c) || (claimed.md5 && claimed.md5 !== o.md5)) {
      this.error(res, 400, 'invalid', 'Provided CRC32C or MD5 hash does not match the data received.');
      return undefined;
    }
    if (this.preconditionFails(objects, name, ifGenerationMatch)) {
      this.error(res, 412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
      return undefined;
    }
    objects.set(name, o);
    this.json(res, 200, this.objectJson(bucket, name, o));
    return o;
  }

  private async upload(req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams): Promise<void> {
    const uploadId = q.get('upload_id');
    if (uploadId !== null) return this.resumableChunk(req, res, uploadId);
    const m = /^\/b\/([^/]+)\/o$/.exec(path);
    if (!m || req.method !== 'POST') return this.error(res, 404, 'notFound', `Not Found: ${path}`);
    const bucket = decodeURIComponent(m[1]!);
    const body = await this.readBody(req);
    const objects = this.buckets.get(bucket);
    if (!objects) return this.error(res, 404, 'notFound', 'The specified bucket does not exist.');
    const ifGenerationMatch = q.get('ifGenerationMatch') ?? undefined;
    const type = q.get('uploadType');
    if (type === 'multipart') {
      const boundary = /boundary="?([^";]+)"?/.exec(String(req.headers['content-type'] ?? ''))?.[1];
      if (!boundary) return this.error(res, 400, 'invalid', 'multipart upload without a boundary');
      const parts = splitMultipart(body, boundary);
      if (parts.length !== 2) return this.error(res, 400, 'invalid', `multipart upload with ${parts.length} parts`);
      const meta = JSON.parse(parts[0]!.body.toString() || '{}') as { name?: string; contentType?: string; crc32c?: string; md5Hash?: string };
      const name = q.get('name') ?? meta.name;
      if (!name) return this.error(res, 400, 'required', 'Required object name');
      const contentType = meta.contentType ?? parts[1]!.headers['content-type'] ?? 'application/octet-stream';
      this.commit(res, bucket, name, parts[1]!.body, contentType, ifGenerationMatch, { crc32c: meta.crc32c, md5: meta.md5Hash });
      return;
    }
    if (type === 'resumable') {
      const meta = JSON.parse(body.toString() || '{}') as { name?: string; contentType?: string };
      const name = q.get('name') ?? meta.name;
      if (!name) return this.error(res, 400, 'required', 'Required object name');
      if (this.preconditionFails(objects, name, ifGenerationMatch)) {
        return this.error(res, 412, 'conditionNotMet', 'At least one of the pre-conditions you specified did not hold.');
      }
      const id = randomBytes(12).toString('hex');
      this.sessions.set(id, {
        bucket,
        name,
        contentType: String(req.headers['x-upload-content-type'] ?? meta.contentType ?? 'application/octet-stream'),
        ifGenerationMatch,
        received: [],
        size: 0,
        done: undefined,
      });
      res.writeHead(200, { location: `${this.endpoint}/upload/storage/v1/b/${encodeURIComponent(bucket)}/o?uploadType=resumable&name=${encodeURIComponent(name)}&upload_id=${id}`, 'content-length': 0 });
      res.end();
      return;
    }
    this.error(res, 400, 'invalid', `unsupported uploadType ${type}`);
  }

  /** One PUT of a resumable session: data at an offset, a status query, or the finalising request. */
  private async resumableChunk(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) {
      await this.readBody(req).catch(() => undefined);
      return this.error(res, 404, 'notFound', 'No such upload session');
    }
    const range = String(req.headers['content-range'] ?? '');
    const m = /^bytes (?:(\d+)-(\d+|\*)|\*)\/(\d+|\*)$/.exec(range);
    if (!m) {
      await this.readBody(req).catch(() => undefined);
      return this.error(res, 400, 'invalid', `bad Content-Range "${range}"`);
    }
    // Accept bytes only as they arrive whole: a request cut mid-way persists nothing (as GCS persists
    // only what it acknowledged), so a resend from the acknowledged offset is always consistent.
    const body = await this.readBody(req);
    if (s.done) return this.json(res, 200, this.objectJson(s.bucket, s.name, s.done));
    if (m[1] !== undefined) {
      const start = Number(m[1]);
      if (start > s.size) return this.error(res, 400, 'invalid', `chunk starts at ${start}, ${s.size} bytes received`);
      const fresh = body.subarray(s.size - start);
      s.received.push(fresh);
      s.size += fresh.length;
    }
    const total = m[3] === '*' ? undefined : Number(m[3]);
    const finalByStream = m[2] === '*'; // "bytes 0-*/*": the whole object in this one request
    if (total !== undefined && s.size > total) return this.error(res, 400, 'invalid', `received ${s.size} bytes of ${total}`);
    if (finalByStream || (total !== undefined && s.size === total)) {
      const claimed = parseGoogHash(req.headers['x-goog-hash']);
      const o = this.commit(res, s.bucket, s.name, Buffer.concat(s.received, s.size), s.contentType, s.ifGenerationMatch, claimed);
      if (o) s.done = o;
      else this.sessions.delete(id);
      return;
    }
    res.writeHead(308, { ...(s.size > 0 ? { range: `bytes=0-${s.size - 1}` } : {}), 'content-length': 0 });
    res.end();
  }
}

function parseGoogHash(h: string | string[] | undefined): { crc32c?: string; md5?: string } {
  const out: { crc32c?: string; md5?: string } = {};
  for (const part of (Array.isArray(h) ? h.join(',') : (h ?? '')).split(',')) {
    const i = part.indexOf('=');
    if (i === -1) continue;
    const k = part.slice(0, i).trim();
    if (k === 'crc32c' || k === 'md5') out[k] = part.slice(i + 1).trim();
  }
  return out;
}

function splitMultipart(body: Buffer, boundary: string): { headers: Record<string, string>; body: Buffer }[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  let pos = body.indexOf(delim);
  while (pos !== -1) {
    const start = pos + delim.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delim, start);
    if (next === -1) break;
    // Each part: CRLF, headers, CRLF CRLF, content, CRLF before the next delimiter.
    const chunk = body.subarray(start + 2, next - 2);
    const sep = chunk.indexOf('\r\n\r\n');
    const headers: Record<string, string> = {};
    for (const line of chunk.subarray(0, sep === -1 ? 0 : sep).toString().split('\r\n')) {
      const c = line.indexOf(':');
      if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
    }
    parts.push({ headers, body: sep === -1 ? Buffer.alloc(0) : chunk.subarray(sep + 4) });
    pos = next;
  }
  return parts;
}

/** Starts a server with the given buckets; stop() when done. */
export async function startGcsTestServer(buckets: readonly string[] = ['wale-test']): Promise<GcsTestServer> {
  const s = new GcsTestServer(buckets);
  await s.start();
  return s;
}
