// Rebuilds the kernel and the bench bundle (.bench-work/lzo/lzop-bundle.mjs) without the full run.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
const root = fileURLToPath(new URL('../..', import.meta.url));
const { buildKernel } = await import(pathToFileURL(join(root, 'scripts', 'build-kernel.mjs')).href);
await buildKernel(root);
const { build } = await import('esbuild');
await build({
  entryPoints: [join(root, 'src', 'pipeline', 'lzop', 'index.ts')],
  bundle: true, platform: 'node', target: 'node20', format: 'esm',
  loader: { '.wasm': 'binary' }, outfile: join(root, '.bench-work', 'lzo', 'lzop-bundle.mjs'), logLevel: 'warning',
});
