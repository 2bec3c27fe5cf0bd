// Azure SDK errors -> the project's error kinds, and the retry classification for them. RestError
// carries statusCode and the service's error code (BlobNotFound, ServerBusy, ...); network failures
// carry the socket's code (ECONNRESET...). Messages never include a SAS signature (USER-PAINS 11).
import { classify, type Classified } from '../http/retry-policy';
import { StoreError } from '../../util/errors';

interface AzureErrorShape {
  statusCode?: number;
  code?: string;
  name?: string;
  message?: string;
  details?: { errorCode?: string };
}

export function statusOf(err: unknown): number | undefined {
  const s = (err as AzureErrorShape | undefined)?.statusCode;
  return typeof s === 'number' && s > 0 ? s : undefined;
}

export function azureCode(err: unknown): string | undefined {
  const e = err as AzureErrorShape | undefined;
  return e?.details?.errorCode ?? e?.code;
}

export function classifyAzure(err: unknown, userSignal?: AbortSignal): Classified {
  if (userSignal?.aborted) return { retryable: false, reason: 'cancelled' };
  if (err instanceof StoreError) return { retryable: err.retryable, reason: err.message };
  const status = statusOf(err);
  const c = classify(err, status);
  // Azure reports throttling and slow internals as 500/503 with a code; 401/403/404/409/412 never retry.
  return c;
}

/** Removes SAS signatures and account keys that an SDK message might echo. */
export function redact(text: string): string {
  return text.replace(/([?&]sig=)[^&\s"']+/gi, '$1REDACTED').replace(/(SharedKey [^:\s]+:)\S+/g, '$1REDACTED');
}

export function wabsStoreError(action: string, url: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as AzureErrorShape;
  const status = statusOf(err);
  const code = azureCode(err);
  const what = [status !== undefined ? `HTTP ${status}` : undefined, code, e?.message ? redact(e.message.split('\n')[0]!) : undefined]
    .filter(Boolean)
    .join(' ');
  const hint = status === 403 || status === 401
    ? 'Check WABS_ACCOUNT_NAME and WABS_ACCESS_KEY, or that WABS_SAS_TOKEN is valid and grants read, write, list and delete on the container.'
    : status === 404 && code === 'ContainerNotFound'
      ? 'The container does not exist; create it first (wal-e does not create containers).'
      : undefined;
  return new StoreError(`could not ${action} "${url}"`, { detail: what || String(err), hint, retryable: classify(err, status).retryable });
}
