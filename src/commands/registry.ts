// Command name -> implementation, imported lazily so a run loads only the command it performs.
import type { Config } from '../config/config';
import type { Invocation } from '../cli/program';

/** A command returns its exit code (0 when it returns nothing). */
export type CommandImpl = (config: Config, inv: Invocation) => Promise<number | void>;

export const COMMAND_IMPLS: Record<string, () => Promise<CommandImpl>> = {
  'wal-push': async () => (await import('./wal-push')).default,
  'wal-fetch': async () => (await import('./wal-fetch')).default,
  'wal-prefetch': async () => (await import('./wal-prefetch')).default,
  'backup-push': async () => (await import('./backup-push')).default,
  'backup-fetch': async () => (await import('./backup-fetch')).default,
  'backup-list': async () => (await import('./backup-list')).default,
  'delete before': async () => (await import('./delete-before')).default,
  'delete retain': async () => (await import('./delete-retain')).default,
  'delete old-versions': async () => (await import('./delete-old-versions')).default,
  'delete everything': async () => (await import('./delete-everything')).default,
};
