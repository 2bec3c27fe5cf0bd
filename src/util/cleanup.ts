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
