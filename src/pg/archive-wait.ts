// After the stop call: no backup is reported done while the WAL it needs is missing (USER-PAINS 7, 18).
// The stop segment counts as archived when the archive holds wal_005/<segment>.lzo, or when the server's
// archiver reports it (pg_stat_archiver.last_archived_wal at or past it on the same timeline) - the latter
// covers archive_command setups that write elsewhere. The wait is bounded and says what it waits for.

export interface ArchiveProbe {
  /** True when the archive (our store) holds the segment. */
  inStore(segment: string): Promise<boolean>;
  /** pg_stat_archiver.last_archived_wal, or undefined when unknown (no session, nothing archived yet). */
  lastArchivedWal(): Promise<string | undefined>;
}

export interface WaitOptions {
  timeoutMs: number;
  /** Pause between polls; grows to maxIntervalMs. */
  intervalMs?: number;
  maxIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Called once before the first poll that finds the segment missing, and periodically while waiting. */
  onWaiting?: (elapsedMs: number) => void;
}

/** True when `archived` (a WAL file name) shows that segment `wanted` was archived. */
export function archivedAtOrPast(archived: string, wanted: string): boolean {
  const seg = archived.slice(0, 24);
  if (!/^[0-9A-F]{24}$/.test(seg) || seg.slice(0, 8) !== wanted.slice(0, 8)) return false;
  // "<seg>" itself, or anything whose segment part is later. "<seg>.partial" is not the segment. The
  // backup history file "<seg>.XXXXXXXX.backup" is made only after the stop call switched out of <seg>,
  // and the archiver takes ready files in name order, so once it is archived <seg> is too (it is
  // pg_stat_archiver's last file right after every backup that started and stopped in <seg>).
  return seg > wanted || archived === wanted || (seg === wanted && /^[0-9A-F]{24}\.[0-9A-F]{8}\.backup$/.test(archived));
}

export async function waitForArchived(segment: string, probe: ArchiveProbe, opts: WaitOptions): Promise<'archived' | 'timeout'> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = opts.now ?? Date.now;
  const started = now();
  let interval = opts.intervalMs ?? 250;
  let lastReport = 0;
  for (;;) {
    if (await probe.inStore(segment)) return 'archived';
    const last = await probe.lastArchivedWal().catch(() => undefined);
    if (last !== undefined && archivedAtOrPast(last, segment)) return 'archived';
    const elapsed = now() - started;
    if (elapsed >= opts.timeoutMs) return 'timeout';
    if (elapsed - lastReport >= 30_000) {
      lastReport = elapsed;
      opts.onWaiting?.(elapsed);
    }
    await sleep(Math.min(interval, Math.max(1, opts.timeoutMs - elapsed)));
    interval = Math.min(interval * 2, opts.maxIntervalMs ?? 5_000);
  }
}
