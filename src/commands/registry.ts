// Command name -> implementation, imported lazily so a run loads only the command it performs.
import type { Config } from '../config/config';
import type { Invocation } from '../cli/program';
import { NotImplementedError } from '../util/errors';

/** A command returns its exit code (0 when it returns nothing). */
export type CommandImpl = (config: Config, inv: Invocation) => Promise<number | void>;

const notYet = (what: string): (() => Promise<CommandImpl>) => async () => async () => {
  throw new NotImplementedError(what);
};

export const COMMAND_IMPLS: Record<string, () => Promise<CommandImpl>> = {
  'wal-push': async () => (await import('./wal-push')).default,
  'wal-fetch': async () => (await import('./wal-fetch')).default,
  'wal-prefetch': async () => (await import('./wal-prefetch')).default,
  'backup-push': notYet('backup-push'),
  'backup-fetch': notYet('backup-fetch'),
  'backup-list': notYet('backup-list'),
  'delete before': notYet('delete before'),
  'delete retain': notYet('delete retain'),
  'delete old-versions': notYet('delete old-versions'),
  'delete everything': notYet('delete everything'),
};
