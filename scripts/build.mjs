// Build: the WebAssembly kernel first, then the product bundle (dist/) and the test bundles (build/test/).
// TypeScript is only type-checked (npm run typecheck); esbuild does the transpiling and bundling, so the
// shipped program is a few ESM files with commander inside and lazy chunks for everything a command
// does not always need.
import { build } from 'esbuild';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const only = process.argv[2]; // "product", "tests" or nothing for both

const kernelScript = join(root, 'scripts', 'build-kernel.mjs');
if (existsSync(kernelScript)) {
  const { buildKernel } = await import(kernelScript);
  await buildKernel(root);
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  outExtension: { '.js': '.mjs' },
  loader: { '.wasm': 'binary' },
  logLevel: 'warning',
  // Store SDKs and the libraries only some commands use stay outside the bundle and are imported
  // lazily at run time, so a wal-push to file:// never reads them.
  external: ['@aws-sdk/*', '@smithy/*', '@azure/*', '@google-cloud/*', 'openpgp', 'pg', 'tar-stream'],
  legalComments: 'none',
  // Less to parse on every start (archive_command starts one process per segment); identifiers keep
  // their names so error class names stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  // ESM output needs require() for the bundled CommonJS dependencies (commander).
  banner: { js: "import { createRequire as __walE_createRequire } from 'node:module'; const require = __walE_createRequire(import.meta.url);" },
};

function listFiles(dir, suffix) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p, suffix));
    else if (name.endsWith(suffix)) out.push(p);
  }
  return out;
}

// Output goes to a fresh folder that replaces the old one in two renames, so a program or test
// running from the old output never sees a half-written or emptied folder.
async function buildInto(dir, options) {
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await build({ ...options, outdir: tmp });
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
}

if (only !== 'tests') {
  const entryPoints = { 'wal-e': join(root, 'src/cli/main.ts') };
  for (const extra of listFiles(join(root, 'src'), '.entry.ts')) {
    entryPoints[relative(join(root, 'src'), extra).replace(/\//g, '-').replace(/\.entry\.ts$/, '')] = extra;
  }
  await buildInto(join(root, 'dist'), { ...common, entryPoints, chunkNames: 'chunks/[name]-[hash]' });
}

if (only !== 'product') {
  const tests = listFiles(join(root, 'test'), '.test.ts');
  const entryPoints = {};
  for (const t of tests) entryPoints[relative(join(root, 'test'), t).replace(/\.ts$/, '')] = t;
  if (tests.length) {
    mkdirSync(join(root, 'build'), { recursive: true });
    await buildInto(join(root, 'build', 'test'), { ...common, entryPoints, chunkNames: '_chunks/[name]-[hash]' });
  }
}
