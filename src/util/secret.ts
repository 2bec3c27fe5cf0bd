// A value that must never reach a log line, an error message or a dump of the Config: every way a
// string conversion can happen yields a placeholder, and only reveal() gives the value.
import { inspect } from 'node:util';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '<secret>';
  }
  toJSON(): string {
    return '<secret>';
  }
  [inspect.custom](): string {
    return '<secret>';
  }
}

export function secretOrUndefined(v: string | undefined): Secret | undefined {
  return v === undefined || v === '' ? undefined : new Secret(v);
}
