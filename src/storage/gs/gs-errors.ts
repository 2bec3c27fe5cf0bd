// @google-cloud/storage errors -> the project's error kinds. ApiError carries the HTTP status as a
// numeric `code`; network failures carry the socket code (ECONNRESET...) as a string `code`.
import { classify, type Classified } from '../http/retry-policy';
import { StoreError } from '../../util/errors';

interface GcsErrorShape {
  code?: number | string;
  status?: number;
  message?: string;
  response?: { status?: number };
  errors?: { reason?: string }[];
}

export function statusOf(err: unknown): number | undefined {
  const e = err as GcsErrorShape | undefined;
  if (typeof e?.code === 'number') return e.code;
  return e?.response?.status ?? (typeof e?.status === 'number' ? e.status : undefined);
}

export function classifyGcs(err: unknown): Classified {
  if (err instanceof StoreError) return { retryable: err.retryable, reason: err.message };
  const e = err as GcsErrorShape | undefined;
  const status = statusOf(err);
  if (status !== undefined) {
    // classify() reads a string `code` as the error name; GCS's is the numeric status.
    const reason = e?.errors?.[0]?.reason;
    return classify({ code: typeof reason === 'string' && reason !== '' ? reason : undefined, message: e?.message }, status);
  }
  return classify(err);
}

export function isMissingBucket(err: unknown): boolean {
  return /bucket does not exist|no such bucket|bucket.*not found/i.test((err as GcsErrorShape | undefined)?.message ?? '');
}

export function gsStoreError(action: string, url: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const e = err as GcsErrorShape;
  const status = statusOf(err);
  const first = (e?.message ?? String(err)).split('\n')[0]!.slice(0, 300);
  const detail = status !== undefined ? `HTTP ${status}: ${first}` : `${typeof e?.code === 'string' ? e.code + ': ' : ''}${first}`;
  const hint = status === 401 || status === 403
    ? 'Check GOOGLE_APPLICATION_CREDENTIALS: the account needs storage.objects.create, get, list and delete on the bucket (roles/storage.objectAdmin).'
    : status === 404 && isMissingBucket(err)
      ? 'The bucket does not exist; create it first (wal-e does not create buckets).'
      : undefined;
  return new StoreError(`could not ${action} "${url}"`, { detail, hint, retryable: classifyGcs(err).retryable });
}
