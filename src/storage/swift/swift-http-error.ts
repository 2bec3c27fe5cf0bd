// An HTTP answer from Swift or its auth service that ends a request: carries the status so that the
// shared retry policy (storage/http/retry-policy.ts) can tell a transient 5xx from a final 4xx.
import { StoreError, type ErrorParts } from '../../util/errors';
import { classify, type Classified } from '../http/retry-policy';

export class SwiftHttpError extends StoreError {
  constructor(readonly status: number, msg: string, parts: ErrorParts = {}) {
    super(msg, { ...parts, retryable: classify({}, status).retryable });
  }
}

/** Retry decision for anything a Swift request can throw. Our own StoreErrors say it themselves. */
export function classifySwiftError(err: unknown): Classified {
  if (err instanceof SwiftHttpError) return classify({}, err.status);
  if (err instanceof StoreError) return { retryable: err.retryable, reason: err.message };
  return classify(err);
}

/** Reads (at most maxChars of) a response body as text and releases the connection. */
export async function drain(res: Response, maxChars: number): Promise<string> {
  try {
    const text = await res.text();
    return text.slice(0, maxChars);
  } catch {
    return '';
  }
}
