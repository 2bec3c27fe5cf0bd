// Reads a response body chunk by chunk and gives up when no byte arrives for `stallMs`: long bodies
// (a 1.5 GiB partition, a bulk delete that reports progress with whitespace) must not be cut by a
// whole-request timeout, but a silent connection must not hang the command (USER-PAINS 7).
import { StoreError } from '../../util/errors';

export async function* chunksUntilStall(res: Response, what: string, stallMs: number): AsyncGenerator<Uint8Array> {
  if (!res.body) return;
  const reader = res.body.getReader();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new StoreError(`${what} stalled`, { retryable: true, detail: `No data for ${stallMs / 1000} s.` })),
          stallMs,
        );
      });
      let r: { done: true; value?: undefined } | { done: false; value: Uint8Array };
      try {
        r = await Promise.race([reader.read(), stalled]);
      } finally {
        clearTimeout(timer);
      }
      if (r.done) return;
      yield r.value;
    }
  } catch (err) {
    if (err instanceof StoreError) throw err;
    throw new StoreError(`connection lost during ${what}`, { retryable: true, detail: (err as Error).message });
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
