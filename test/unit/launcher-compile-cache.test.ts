// bin/wal-e keeps Node.js's compile cache (Node 22+) in the user's own cache folder, never in the shared
// temporary folder, and starts the same without it (Node 20 has no compile cache).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { runWalE, tempDir } from '../helpers/cli';

const hasCompileCache = typeof (createRequire(import.meta.url)('node:module') as { enableCompileCache?: unknown }).enableCompileCache === 'function';

test(`the compile cache goes to the user's cache folder, not the temporary folder (Node ${process.versions.node})`, async () => {
  const home = tempDir('home');
  const tmp = tempDir('tmp');
  try {
    const r = await runWalE(['version'], { env: { HOME: home.path, TMPDIR: tmp.path, XDG_CACHE_HOME: undefined, NODE_COMPILE_CACHE: undefined } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1.1.1');
    const cache = join(home.path, '.cache', 'wal-e', 'compile-cache');
    assert.equal(existsSync(cache), hasCompileCache, 'a cache folder exactly when Node.js has a compile cache');
    if (hasCompileCache) assert.ok(readdirSync(cache).length > 0, 'the cache was written');
    assert.deepEqual(readdirSync(tmp.path), [], 'nothing in the temporary folder');
  } finally {
    home.remove();
    tmp.remove();
  }
});

test('XDG_CACHE_HOME and NODE_COMPILE_CACHE choose the folder; without HOME there is no cache and no failure', async () => {
  const base = tempDir('cache');
  try {
    const xdg = join(base.path, 'xdg');
    let r = await runWalE(['version'], { env: { HOME: undefined, XDG_CACHE_HOME: xdg, NODE_COMPILE_CACHE: undefined } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(join(xdg, 'wal-e', 'compile-cache')), hasCompileCache);
    const explicit = join(base.path, 'explicit');
    r = await runWalE(['version'], { env: { HOME: join(base.path, 'home'), NODE_COMPILE_CACHE: explicit } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(explicit), hasCompileCache);
    assert.equal(existsSync(join(base.path, 'home')), false);
    r = await runWalE(['version'], { env: { HOME: undefined, XDG_CACHE_HOME: undefined, NODE_COMPILE_CACHE: undefined } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1.1.1');
    // Relative folders are ignored: archive_command runs inside the data directory.
    const cwd = join(base.path, 'pgdata');
    mkdirSync(cwd);
    const home = join(base.path, 'home2');
    r = await runWalE(['version'], { cwd, env: { HOME: home, XDG_CACHE_HOME: 'cache', NODE_COMPILE_CACHE: undefined } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(cwd), [], 'nothing written in the working directory');
    assert.equal(existsSync(join(home, '.cache', 'wal-e', 'compile-cache')), hasCompileCache);
  } finally {
    base.remove();
  }
});
