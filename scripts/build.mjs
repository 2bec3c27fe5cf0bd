// Build: the WebAssembly kernel first, then the product bundle (dist/) and the test bundles (build/test/).
// TypeScript is only type-checked (npm run typecheck); esbuild does the transpiling and bundling, so the
// shipped program is a few ESM files with commander inside and lazy chunks for everything a command
// does not always need.
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
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

if (only !== 'tests') {
  rmSync(join(root, 'dist'), { recursive: true, force: true });
  const entryPoints = { 'wal-e': join(root, 'src/cli/main.ts') };
  for (const extra of listFiles(join(root, 'src'), '.entry.ts')) {
    entryPoints[relative(join(root, 'src'), extra).replace(/\//g, '-').replace(/\.entry\.ts$/, '')] = extra;
  }
  await build({ ...common, entryPoints, outdir: join(root, 'dist'), chunkNames: 'chunks/[name]-[hash]' });
}

if (only !== 'product') {
  rmSync(join(root, 'build', 'test'), { recursive: true, force: true });
  const tests = listFiles(join(root, 'test'), '.test.ts');
  const entryPoints = {};
  for (const t of tests) entryPoints[relative(join(root, 'test'), t).replace(/\.ts$/, '')] = t;
  if (tests.length) {
    await build({ ...common, entryPoints, outdir: join(root, 'build', 'test'), chunkNames: '_chunks/[name]-[hash]' });
  }
}
