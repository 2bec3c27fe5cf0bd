// A loopback HTTP proxy that sits in front of any HTTP store server (S3, Swift, Azure, GCS) and
// injects faults by rule: error answers (500, 503 SlowDown, 403, ...), connection resets, stalls and
// truncated response bodies. Requests are forwarded byte for byte, Host header included, so signed
// requests (SigV4, SharedKey) still verify at the real server: point the client's endpoint at
// proxy.url instead of the server's.
//
//   const proxy = await FaultProxy.start('http://127.0.0.1:8080');
//   proxy.addRule({ match: { method: 'PUT' }, fault: { kind: 'status', status: 503, code: 'SlowDown' }, times: 2 });
//   proxy.addRule({ match: { method: 'GET', path: /wal_005/ }, fault: { kind: 'truncate', afterBytes: 1000 } });
//   ... run the client against proxy.url ...
//   proxy.requests  // what went through, and which fault each one got
//   await proxy.close();
//
// Rules are checked in the order added; the first matching rule that still has uses left applies
// (`skip` lets that many matching requests through first, `times` bounds how often it fires; default
// unlimited). A request no rule claims is forwarded untouched.
import { once } from 'node:events';
import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /** Answer locally with this status; with `code`, an S3-style XML error body (override with `body`). */
  | { kind: 'status'; status: number; code?: string; message?: string; body?: string; headers?: Record<string, string> }
  /** Drop the connection without answering (ECONNRESET at the client). */
  | { kind: 'reset' }
  /** Hold the request this long without a byte of answer, then forward it (if the client is still there). */
  | { kind: 'stall'; ms: number }
  /** Forward, but cut the response body after this many bytes and drop the connection. */
  | { kind: 'truncate'; afterBytes: number }
  /** Forward, but hold the response body this long after its first `afterBytes` bytes (a mid-body stall). */
  | { kind: 'stall-body'; afterBytes: number; ms: number };

export interface RequestMatch {
  method?: string | RegExp;
  /** Tested against the path and query, e.g. "/bucket/key?uploadId=...". */
  path?: RegExp;
  /** Request header (lower-case name) -> pattern. */
  headers?: Record<string, RegExp>;
}

export interface FaultRule {
  match?: RequestMatch;
  fault: Fault;
  /** How many matching requests get the fault (default: all). */
  times?: number;
  /** How many matching requests pass untouched before the fault starts. */
  skip?: number;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  /** The fault applied, if any. */
  readonly fault: Fault['kind'] | undefined;
  /** Status sent to the client (undefined when the connection was dropped first). */
  status: number | undefined;
}

interface LiveRule extends FaultRule {
  fired: number;
  skipped: number;
}

function matches(m: RequestMatch | undefined, req: IncomingMessage): boolean {
  if (!m) return true;
  const method = req.method ?? '';
  if (m.method !== undefined && !(typeof m.method === 'string' ? m.method === method : m.method.test(method))) return false;
  if (m.path && !m.path.test(req.url ?? '')) return false;
  for (const [name, re] of Object.entries(m.headers ?? {})) {
    const v = req.headers[name];
    if (!re.test(Array.isArray(v) ? v.join(',') : (v ?? ''))) return false;
  }
  return true;
}

export function s3ErrorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`;
}

export class FaultProxy {
  readonly requests: RequestRecord[] = [];
  private rules: LiveRule[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly agent = new Agent({ keepAlive: true });

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
  ) {}

  /** Starts a proxy on 127.0.0.1 (a free port) forwarding to `target` ("http://host:port"). */
  static async start(target: string, rules: FaultRule[] = []): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, new URL(target));
    for (const r of rules) proxy.addRule(r);
    server.on('request', (req, res) => void proxy.handle(req, res, false));
    // "Expect: 100-continue" (the AWS SDK sends it for large bodies): the client sends the body only
    // after a 100, and an early final answer (S3's 412, Swift's 501) means no body at all. The proxy
    // passes that exchange through instead of answering 100 itself.
    server.on('checkContinue', (req, res) => void proxy.handle(req, res, true));
    server.on('connection', (s) => {
      proxy.sockets.add(s);
      s.on('close', () => proxy.sockets.delete(s));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** http://127.0.0.1:PORT */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  addRule(rule: FaultRule): void {
    this.rules.push({ ...rule, fired: 0, skipped: 0 });
  }

  clearRules(): void {
    this.rules = [];
  }

  /** Forgets the request log (rules keep their counts). */
  clearRequests(): void {
    this.requests.length = 0;
  }

  /** How many requests got each fault kind. */
  faultCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.requests) if (r.fault) out[r.fault] = (out[r.fault] ?? 0) + 1;
    return out;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pick(req: IncomingMessage): Fault | undefined {
    for (const r of this.rules) {
      if (!matches(r.match, req)) continue;
      if (r.skipped < (r.skip ?? 0)) {
        r.skipped++;
        return undefined;
      }
      if (r.fired >= (r.times ?? Infinity)) continue;
      r.fired++;
      return r.fault;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<void> {
    const fault = this.pick(req);
    const rec: RequestRecord = { method: req.method ?? '', path: req.url ?? '', fault: fault?.kind, status: undefined };
    this.requests.push(rec);
    try {
      switch (fault?.kind) {
        case 'status': {
          // A final answer before any 100: a client that asked for 100-continue sends no body.
          if (!expectContinue) {
            req.resume();
            await once(req, 'end').catch(() => undefined);
          }
          const body = fault.body ?? (fault.code ? s3ErrorXml(fault.code, fault.message ?? fault.code) : '');
          rec.status = fault.status;
          res.writeHead(fault.status, {
            ...(fault.code && fault.body === undefined ? { 'content-type': 'application/xml' } : {}),
            'content-length': Buffer.byteLength(body),
            ...fault.headers,
          });
          res.end(req.method === 'HEAD' ? undefined : body);
          return;
        }
        case 'reset':
          req.socket.destroy();
          return;
        case 'stall': {
          const gone = new Promise<boolean>((r) => res.once('close', () => r(true)));
          const waited = await Promise.race([gone, new Promise<boolean>((r) => setTimeout(() => r(false), fault.ms).unref())]);
          if (waited || req.socket.destroyed) return;
          break;
        }
        default:
          break;
      }
      await this.forward(req, res, rec, fault, expectContinue);
    } catch {
      req.socket.destroy();
    }
  }

  private forward(req: IncomingMessage, res: ServerResponse, rec: RequestRecord, fault: Fault | undefined, expectContinue: boolean): Promise<void> {
    return new Promise((resolve) => {
      const up = httpRequest(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: this.agent,
        },
        (upRes) => {
          rec.status = upRes.statusCode;
          res.writeHead(upRes.statusCode ?? 502, upRes.rawHeaders);
          if (fault?.kind === 'truncate' || fault?.kind === 'stall-body') {
            let sent = 0;
            let cut = false;
            upRes.on('data', (chunk: Buffer) => {
              if (cut) return;
              const room = fault.afterBytes - sent;
              if (chunk.length < room) {
                sent += chunk.length;
                res.write(chunk);
                return;
              }
              cut = true;
              res.write(chunk.subarray(0, Math.max(0, room)));
              if (fault.kind === 'truncate') {
                upRes.destroy();
                // Let the partial body reach the client before the reset.
                setTimeout(() => req.socket.destroy(), 20);
                resolve();
                return;
              }
              const rest = [chunk.subarray(Math.max(0, room))];
              upRes.pause();
              upRes.removeAllListeners('data');
              setTimeout(() => {
                if (res.destroyed) {
                  upRes.destroy();
                  resolve();
                  return;
                }
                for (const c of rest) res.write(c);
                upRes.pipe(res);
                upRes.on('end', () => resolve());
                upRes.resume();
              }, fault.ms).unref();
            });
            upRes.on('end', () => {
              if (!cut) {
                res.end();
                resolve();
              }
            });
            return;
          }
          upRes.pipe(res);
          upRes.on('end', () => resolve());
          upRes.on('error', () => {
            req.socket.destroy();
            resolve();
          });
        },
      );
      up.on('error', () => {
        req.socket.destroy();
        resolve();
      });
      res.on('close', () => {
        if (!res.writableFinished) up.destroy();
        resolve();
      });
      if (expectContinue) {
        up.on('continue', () => {
          res.writeContinue();
          req.pipe(up);
        });
      } else {
        req.pipe(up);
      }
    });
  }
}
