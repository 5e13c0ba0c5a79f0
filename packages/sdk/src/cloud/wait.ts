import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';

export interface PollOptions {
  /** Give up after this long (ms): TIMEOUT. */
  timeoutMs: number;
  /** Pause between attempts (ms). */
  intervalMs: number;
  signal?: AbortSignal | undefined;
  /** The TIMEOUT message. */
  message: string;
  resourceId?: string | undefined;
}

/**
 * Call `attempt` until it returns something other than undefined (shade's `_iterate_timeout`). Errors from
 * `attempt` end the wait. The caller's signal ends it with CANCELLED.
 */
export async function pollUntil<T>(
  attempt: (remainingMs: number) => Promise<T | undefined>,
  o: PollOptions,
): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    if (o.signal?.aborted)
      throw new OcxError(ErrorCode.CANCELLED, 'cancelled while waiting', { resourceId: o.resourceId });
    const result = await attempt(deadline - Date.now());
    if (result !== undefined) return result;
    const left = deadline - Date.now();
    if (left <= 0) throw new OcxError(ErrorCode.TIMEOUT, o.message, { resourceId: o.resourceId });
    try {
      await sleep(Math.min(o.intervalMs, left), undefined, o.signal ? { signal: o.signal } : {});
    } catch {
      throw new OcxError(ErrorCode.CANCELLED, 'cancelled while waiting', { resourceId: o.resourceId });
    }
  }
}

/** Run `fn` over `items` with at most `limit` in flight, keeping order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
