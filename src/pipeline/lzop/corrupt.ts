// Maps format and decoding failures to the CorruptObjectError the commands report, naming the object.
import { CorruptObjectError } from '../../util/errors';
import { LzopFormatError } from './format-error';

export function corruptObject(objectName: string, cause: unknown): Error {
  if (cause instanceof CorruptObjectError) return cause;
  if (cause instanceof LzopFormatError) {
    const err = new CorruptObjectError(`lzop: corrupt object "${objectName}": ${cause.message}`);
    (err as { cause?: unknown }).cause = cause;
    return err;
  }
  return cause instanceof Error ? cause : new Error(String(cause));
}
