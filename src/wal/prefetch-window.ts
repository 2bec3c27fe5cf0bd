// Keeping the look-ahead window of wal-fetch filled (spec §5.2 step 3) with few processes: a Node.js
// start costs 55-75 ms of CPU on a small machine, competing with PostgreSQL's replay, so the window is
// refilled in batches. Only when no more than half of it is complete or being downloaded does wal-fetch
// claim every missing segment (one mkdir each, so concurrent runs never duplicate a download) and start
// one detached `wal-prefetch BASE SEG [SEG ...]` for all of them.
import { spawn } from 'node:child_process';
import type { PrefetchDir } from './prefetch-dir';

export async function refillWindow(prefetch: PrefetchDir, future: readonly string[]): Promise<string[]> {
  let ahead = 0;
  const open: string[] = [];
  for (const seg of future) {
    if ((await prefetch.isComplete(seg)) || prefetch.isLive(await prefetch.runningState(seg))) ahead++;
    else open.push(seg);
  }
  if (open.length === 0 || ahead > Math.floor(future.length / 2)) return [];
  const claimed: string[] = [];
  for (const seg of open) if (await prefetch.claim(seg)) claimed.push(seg);
  if (claimed.length === 0) return [];
  const pid = startPrefetcher(prefetch.base, claimed);
  if (pid === undefined) {
    for (const seg of claimed) await prefetch.release(seg);
    return [];
  }
  for (const seg of claimed) await prefetch.setOwner(seg, pid);
  return claimed;
}

/** Starts a detached wal-prefetch with this process's global options; its pid, if it started. */
function startPrefetcher(base: string, segs: readonly string[]): number | undefined {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('wal-fetch');
  const globalArgs = at === -1 ? [] : argv.slice(0, at);
  const child = spawn(process.execPath, [process.argv[1]!, ...globalArgs, 'wal-prefetch', base, ...segs], {
    detached: true,
    stdio: 'ignore',
    cwd: '/',
  });
  child.on('error', () => undefined);
  child.unref();
  return child.pid;
}
