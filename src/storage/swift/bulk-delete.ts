// Swift's bulk-delete middleware: up to max_deletes_per_request objects per POST instead of one DELETE
// each (WAL-E sent one DELETE per object, spec §6.4). Its presence and limit come from /info.
import { StoreError } from '../../util/errors';
import type { SwiftConnection } from './swift-connection';
import { drain } from './swift-http-error';
import { chunksUntilStall } from './stall-reader';

/** Names per bulk request: bounded so that one request finishes in reasonable time on a busy cluster. */
const BATCH = 1000;

/** The cluster's bulk-delete limit, or undefined when /info does not advertise the middleware. */
export async function bulkDeleteLimit(storageUrl: string): Promise<number | undefined> {
  // /info sits beside /v1: http://host:8080/v1/AUTH_x -> http://host:8080/info
  const info = storageUrl.replace(/\/v1(\/[^/]*)?$/, '/info');
  if (info === storageUrl) return undefined;
  const res = await fetch(info, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) {
    await drain(res, 0);
    return undefined;
  }
  const body = (await res.json()) as { bulk_delete?: { max_deletes_per_request?: number } };
  const max = body.bulk_delete?.max_deletes_per_request;
  return typeof max === 'number' && max >= 1 ? Math.min(max, BATCH) : undefined;
}

interface BulkDeleteAnswer {
  'Response Status'?: string;
  'Response Body'?: string;
  'Number Deleted'?: number;
  'Number Not Found'?: number;
  Errors?: [string, string][];
}

/** Deletes the objects at these (encoded, "/container/name") paths; missing ones count as deleted. */
export async function bulkDelete(connection: SwiftConnection, paths: readonly string[]): Promise<void> {
  const body = Buffer.from(paths.join('\n') + '\n');
  await connection.request(
    `POST bulk-delete of ${paths.length} objects`,
    {
      method: 'POST',
      path: '?bulk-delete',
      headers: { 'Content-Type': 'text/plain', Accept: 'application/json' },
      body,
    },
    async (res) => {
      // The middleware answers 200 at once, sends a space every few seconds while it works, and then
      // the outcome as JSON: the body may take long, but never goes quiet.
      const parts: Buffer[] = [];
      for await (const c of chunksUntilStall(res, 'bulk delete', connection.policy.requestTimeoutMs)) parts.push(Buffer.from(c));
      const text = Buffer.concat(parts).toString('utf8').trim();
      let answer: BulkDeleteAnswer;
      try {
        answer = JSON.parse(text) as BulkDeleteAnswer;
      } catch {
        throw new StoreError('Swift bulk delete returned a response that is not JSON', { detail: text.slice(0, 200) });
      }
      const status = answer['Response Status'] ?? '';
      if (answer['Number Deleted'] === undefined && status === '') {
        throw new StoreError('Swift bulk delete is not available', { detail: text.slice(0, 200) });
      }
      if (/^2\d\d/.test(status)) return;
      const errors = (answer.Errors ?? []).map(([name, why]) => `${name}: ${why}`);
      const transient = /^5\d\d/.test(status) || errors.some((e) => /: 5\d\d/.test(e));
      throw new StoreError(`Swift bulk delete failed (${status})`, {
        retryable: transient,
        detail: [answer['Response Body'], ...errors.slice(0, 10)].filter(Boolean).join('; '),
      });
    },
    { streaming: true },
  );
}
