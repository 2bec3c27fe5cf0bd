// The few error kinds the CLI maps to WAL-E's exit codes and log shapes (spec §1.9, Appendix B).
// Anything thrown that is not one of these is "unexpected": one CRITICAL line, exit 2.

export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

export interface ErrorParts {
  detail?: string | undefined;
  hint?: string | undefined;
}

/** An error WAL-E would report as a "user error": a logged MSG/DETAIL/HINT and a chosen exit code. */
export class WalEError extends Error {
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly exitCode: number = 1;
  readonly level: LogLevel = 'ERROR';

  constructor(msg: string, parts: ErrorParts = {}) {
    super(msg);
    this.name = new.target.name;
    this.detail = parts.detail;
    this.hint = parts.hint;
  }
}

/** Plain user error (bad configuration, missing file...): ERROR, exit 1. */
export class UserError extends WalEError {}

/** WAL-E's "critical" user errors (pipeline failures, delete failures): CRITICAL, exit 1. */
export class CriticalError extends WalEError {
  override readonly level: LogLevel = 'CRITICAL';
}

/** Command-line misuse, reported argparse-style: usage line + "wal-e: error: ..." and exit 2. */
export class UsageError extends WalEError {
  override readonly exitCode: number = 2;
  /** The (sub)command path the usage line belongs to, e.g. "wal-e delete". */
  constructor(msg: string, readonly commandPath: string = 'wal-e', readonly usage: string = '') {
    super(msg);
  }
}

/** A stored object does not exist. wal-fetch turns this into exit 1 on every store (spec §1.9, §7 item 13). */
export class NotFoundError extends WalEError {
  constructor(readonly key: string, parts: ErrorParts = {}) {
    super(`object not found: ${key}`, parts);
  }
}

/** An object (lzop, gpg, tar) that cannot be decoded. Never retried as if it were a network fault. */
export class CorruptObjectError extends WalEError {
  override readonly exitCode: number = 2;
}

/** A storage request failed for a reason other than "not found". */
export class StoreError extends WalEError {
  override readonly exitCode: number = 2;
  constructor(msg: string, parts: ErrorParts & { retryable?: boolean } = {}) {
    super(msg, parts);
    this.retryable = parts.retryable ?? false;
  }
  readonly retryable: boolean;
}

/** A local file operation failed (unwritable destination, full disk...): ERROR, exit 2, so that it is
 * never mistaken for wal-fetch's "not found" (exit 1). */
export class LocalIoError extends WalEError {
  override readonly exitCode: number = 2;
}

/** An argument that parses but cannot be used (e.g. a WAL name with "/"): ERROR, exit 2. */
export class InvalidArgumentError extends WalEError {
  override readonly exitCode: number = 2;
}

/** A put-if-absent found the key already taken. */
export class AlreadyExistsError extends WalEError {
  constructor(readonly key: string) {
    super(`object already exists: ${key}`);
  }
}

/** A feature whose implementation has not landed yet: never a silent success. */
export class NotImplementedError extends UserError {
  constructor(what: string) {
    super(`${what} is not implemented yet`, {
      hint: 'This wal-e build does not provide this command yet; use WAL-E 1.1.1 for it meanwhile.',
    });
  }
}

/** One key a multi-object delete could not remove. */
export interface DeleteFailure {
  /** The object's full key in its store. */
  readonly key: string;
  readonly code: string;
  readonly message: string;
}

/**
 * A multi-object delete that the store answered with per-key errors (spec §5.7). The delete command prints
 * failuresTsv() on stdout before logging this error, as WAL-E did.
 */
export class PartialDeleteError extends CriticalError {
  constructor(readonly failures: readonly DeleteFailure[]) {
    super('Some keys were not deleted', {
      detail: `Failed keys: first ${describe(failures[0]!)}, last ${describe(failures[failures.length - 1]!)}, ${failures.length} total`,
    });
  }

  /** WAL-E's table: header row, then key<TAB>code<TAB>message per failure, CRLF line ends. */
  failuresTsv(): string {
    const clean = (s: string) => s.replace(/[\r\n]+/g, ' ');
    return ['key\terror_code\terror_message', ...this.failures.map((f) => `${clean(f.key)}\t${clean(f.code)}\t${clean(f.message)}`)]
      .map((l) => `${l}\r\n`)
      .join('');
  }
}

function describe(f: DeleteFailure): string {
  return `${f.key} (${f.code}: ${f.message})`;
}
