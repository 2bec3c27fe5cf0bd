// Compiles the AssemblyScript LZO kernel (assembly/) into build/generated/lzo-kernel*.wasm, which the
// TypeScript bundles embed as bytes. No runtime and no allocator: the kernel works on a fixed memory
// layout managed by the host. Skips the compiler when the wasm is newer than every source file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Two builds of the same sources: lzo-kernel.wasm owns its memory (the main thread's serial streams);
 * lzo-kernel-shared.wasm imports a shared memory, so a pool worker's kernel reads its input from, and
 * writes its output to, memory the main thread fills and reads directly (no copies between threads).
 */
const VARIANTS = [
  { file: 'lzo-kernel.wasm', flags: ['--enable', 'bulk-memory,simd'] },
  {
    file: 'lzo-kernel-shared.wasm',
    // The maximum bounds the memory a worker may be given (src/pipeline/lzop/worker-protocol.ts).
    flags: ['--importMemory', '--sharedMemory', '--maximumMemory', '4096', '--enable', 'bulk-memory,simd,threads'],
  },
];

export async function buildKernel(root) {
  const sourceDir = join(root, 'assembly');
  const outDir = join(root, 'build', 'generated');
  const sources = readdirSync(sourceDir).filter((n) => n.endsWith('.ts') || n.endsWith('.json'));
  const newestSource = Math.max(
    ...sources.map((n) => statSync(join(sourceDir, n)).mtimeMs),
    statSync(new URL(import.meta.url)).mtimeMs,
  );
  mkdirSync(outDir, { recursive: true });
  const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
  for (const { file, flags } of VARIANTS) {
    const outFile = join(outDir, file);
    if (existsSync(outFile) && statSync(outFile).mtimeMs >= newestSource) continue;
    const args = [
      asc,
      join(sourceDir, 'index.ts'),
      '--outFile', outFile,
      '-O3',
      '--noAssert',
      '--runtime', 'stub',
      '--use', 'abort=',
      '--initialMemory', '2',
      ...flags,
    ];
    const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`building the LZO kernel ${file} failed (asc exit ${r.status})`);
  }
  return join(outDir, VARIANTS[0].file);
}
