// Locates files shipped in dist/ (worker scripts) from any bundle: the product bundle lives in dist/
// (or dist/chunks/), test bundles in build/test/. Walk up to the package root once and cache it.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

export function packageRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'wal-e') {
          cachedRoot = dir;
          return dir;
        }
      } catch {
        // not ours; keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot locate the wal-e package root');
    dir = up;
  }
}

export function distPath(file: string): string {
  return join(packageRoot(), 'dist', file);
}
