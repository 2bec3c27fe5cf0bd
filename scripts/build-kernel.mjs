// Compiles the AssemblyScript LZO kernel (assembly/) into build/generated/lzo-kernel.wasm, which the
// TypeScript bundles embed as bytes. No runtime and no allocator: the kernel works on a fixed memory
// layout managed by the host. Skips the compiler when the wasm is newer than every source file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export async function buildKernel(root) {
  const sourceDir = join(root, 'assembly');
  const outDir = join(root, 'build', 'generated');
  const outFile = join(outDir, 'lzo-kernel.wasm');
  const sources = readdirSync(sourceDir).filter((n) => n.endsWith('.ts') || n.endsWith('.json'));
  const newestSource = Math.max(
    ...sources.map((n) => statSync(join(sourceDir, n)).mtimeMs),
    statSync(new URL(import.meta.url)).mtimeMs,
  );
  if (existsSync(outFile) && statSync(outFile).mtimeMs >= newestSource) return outFile;

  mkdirSync(outDir, { recursive: true });
  const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  const args = [
    asc,
    join(sourceDir, 'index.ts'),
    '--outFile', outFile,
    '-O3',
    '--noAssert',
    '--runtime', 'stub',
    '--use', 'abort=',
    '--initialMemory', '2',
    '--enable', 'bulk-memory,simd',
  ];
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`building the LZO kernel failed (asc exit ${r.status})`);
  return outFile;
}
