// Synchronous clean-up actions (temp files) that must run however the process ends: normal return,
// error, SIGTERM or SIGINT. A kill -9 cannot be caught; stores sweep what such a death leaves.
const actions = new Set<() => void>();
let installed = false;

export function registerCleanup(action: () => void): () => void {
  actions.add(action);
  installSignalHandlers();
  return () => {
    actions.delete(action);
  };
}

export function runCleanups(): void {
  for (const a of [...actions]) {
    actions.delete(a);
    try {
      a();
    } catch {
      // best effort: the process is ending
    }
  }
}

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;

export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const [sig, no] of Object.entries(SIGNAL_NUMBERS)) {
    process.once(sig as NodeJS.Signals, () => {
      runCleanups();
      process.exit(128 + no);
    });
  }
}

const shutdownHooks = new Set<() => Promise<void>>();

/**
 * An orderly asynchronous stop (worker threads) to run before a normal exit, so that process.exit
 * never tears down threads that are still busy.
 */
export function onShutdown(hook: () => Promise<void>): void {
  shutdownHooks.add(hook);
}

/** Runs the shutdown hooks, bounded in time: exiting must never hang. */
export async function runShutdownHooks(timeoutMs = 5000): Promise<void> {
  const hooks = [...shutdownHooks];
  shutdownHooks.clear();
  if (hooks.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(hooks.map((h) => h())),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
