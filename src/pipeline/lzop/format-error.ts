// Raised by the pure format code, which does not know which object it is reading; the streams wrap it
// into a CorruptObjectError that names the object.
export class LzopFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LzopFormatError';
  }
}
