// Cold wal-push (one process per 16 MiB segment, as archive_command runs it) to S3 through Swift's s3api
// versus to file://: wall time per push, throughput, and HTTP requests per push (counted by a loopback
// proxy in front of the server). Needs the Swift service: it is started (and left running) with
// scripts/services/start-swift.sh.  Usage: node bench/stores/wal-push.mjs [segments=8]
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from '../lib.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const segments = Number(process.argv[2] ?? 8);
const SEG = 16 * 1024 * 1024;

function serviceEnv() {
  const r = spawnSync('bash', [join(root, 'scripts/services/start-swift.sh')], {
    cwd: root, env: { ...process.env, SERVICES_DIR: join(root, '.services') }, encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`start-swift.sh failed:\n${r.stderr}`);
  return Object.fromEntries([...r.stdout.matchAll(/^export ([A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1], m[2]]));
}

/** A pass-through proxy that counts requests by method; it relays "Expect: 100-continue" exchanges. */
function countingProxy(target) {
  const counts = {};
  const t = new URL(target);
  const handle = (expectContinue) => (req, res) => {
    counts[req.method] = (counts[req.method] ?? 0) + 1;
    const up = request({ host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.rawHeaders);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    if (expectContinue) up.on('continue', () => { res.writeContinue(); req.pipe(up); });
    else req.pipe(up);
  };
  const server = createServer(handle(false));
  server.on('checkContinue', handle(true));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, counts, port: server.address().port })));
}

/** WAL-like content: half compressible records, half random pages. */
function walSegment() {
  const parts = [];
  let n = 0;
  for (let i = 0; n < SEG; i++) {
    const b = i % 2 ? randomBytes(8192) : Buffer.from(`tuple ${i} `.repeat(700)).subarray(0, 8192);
    parts.push(b);
    n += b.length;
  }
  return Buffer.concat(parts).subarray(0, SEG);
}

// Asynchronous: the counting proxy lives in this process and must keep serving while wal-e runs.
async function pushAll(label, cwd, names, env) {
  const times = [];
  for (const name of names) {
    const t0 = process.hrtime.bigint();
    try {
      await promisify(execFile)(process.execPath, [join(root, 'bin/wal-e'), 'wal-push', `pg_wal/${name}`, '--pool-size', '1'], {
        cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, WALE_LOG_DESTINATION: 'stderr', ...env },
      });
    } catch (err) {
      throw new Error(`${label} wal-push ${name} failed:\n${err.stderr ?? err.message}`);
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return times;
}

const svc = serviceEnv();
const proxy = await countingProxy(svc.SWIFT_S3_ENDPOINT);
const work = mkdtempSync(join(tmpdir(), 'wal-e-bench-stores-'));
try {
  const bucket = `wale-bench-${Date.now().toString(36)}`;
  // Create the bucket with a signed request through the product's own SDK dependency.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client({ endpoint: svc.SWIFT_S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true,
    credentials: { accessKeyId: svc.SWIFT_S3_ACCESS_KEY_ID, secretAccessKey: svc.SWIFT_S3_SECRET_ACCESS_KEY } });
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  s3.destroy();

  const seg = walSegment();
  const rows = [];
  for (const kind of ['file', 's3']) {
    const cwd = join(work, kind);
    mkdirSync(join(cwd, 'pg_wal', 'archive_status'), { recursive: true });
    const names = Array.from({ length: segments }, (_, i) => `0000000100000000000000${(i + 16).toString(16).toUpperCase().padStart(2, '0')}`);
    for (const n of names) writeFileSync(join(cwd, 'pg_wal', n), seg);
    const env = kind === 'file'
      ? { WALE_FILE_PREFIX: `file://${join(work, 'store')}` }
      : { WALE_S3_PREFIX: `s3://${bucket}/pg`, WALE_S3_ENDPOINT: `http+path://127.0.0.1:${proxy.port}`,
          AWS_ACCESS_KEY_ID: svc.SWIFT_S3_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: svc.SWIFT_S3_SECRET_ACCESS_KEY };
    for (const k of Object.keys(proxy.counts)) delete proxy.counts[k];
    const times = await pushAll(kind, cwd, names, env);
    const med = median(times);
    const requests = Object.values(proxy.counts).reduce((a, b) => a + b, 0);
    rows.push({ store: kind === 's3' ? 's3 (Swift s3api)' : 'file://', pushes: segments, medianMs: med.toFixed(0),
      MiBps: (16 / (med / 1000)).toFixed(1),
      requestsPerPush: kind === 's3' ? (requests / segments).toFixed(2) : '-',
      byMethod: kind === 's3' ? JSON.stringify(Object.fromEntries(Object.entries(proxy.counts).map(([m, c]) => [m, c / segments]))) : '-' });
  }
  console.log('cold wal-push of a 16 MiB segment (one process per segment, --pool-size 1)');
  console.table(rows);
} finally {
  proxy.server.close();
  rmSync(work, { recursive: true, force: true });
}
