import { ErrorCode } from '../../errors/codes.ts';
import { isOcxError } from '../../errors/ocx-error.ts';
import { isIdempotentMethod } from '../errors.ts';
import type { HttpRequest, HttpResponse, MetricsHooks, Middleware, RetryOptions } from '../types.ts';
import { metricOf } from './metric.ts';
import { sleep } from './sleep.ts';

/** Parse Retry-After (delta-seconds or HTTP-date) into ms; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function replayable(req: HttpRequest): boolean {
  return req.body === undefined || typeof req.body === 'string' || req.body instanceof Uint8Array;
}

/**
 * Why our own retry and not undici's RetryAgent / interceptors.retry (RetryHandler, undici 8.12), which does
 * Retry-After, methods, status and error codes too — checked against its source and our tests:
 * - when retries on a status run out it rejects with RequestRetryError carrying the status and headers but not the
 *   body, so the service's fault message (Nova's computeFault text, errors.test.ts "a 503 on GET is retried ...")
 *   would be lost; here the last answer is returned and decoded like any other;
 * - its backoff is a plain timer that knows nothing of the caller's deadline: a wait that would end after the
 *   deadline is still started and then cut by the abort (TIMEOUT), where the caller should get the last answer now;
 * - it decides by method list only; our per-call `idempotent` override (a Keystone login is safe to repeat, a
 *   streamed body never is) and the onRetry metrics hook would need its `retry` callback, i.e. this same logic.
 * It sits where it does in the onion (inside the deadline, outside rate limit and observe) so every attempt is
 * logged, counted and throttled on its own.
 *
 * Retry idempotent calls on connection failures (UNREACHABLE, except TLS) and on 503 (honouring Retry-After),
 * a bounded number of times, never past the deadline. Non-idempotent calls and streamed bodies are never retried.
 */
export function retryMiddleware(options: RetryOptions = {}, metrics?: MetricsHooks): Middleware {
  const maxRetries = options.maxRetries ?? 2;
  const base = options.baseDelayMs ?? 250;
  const maxDelay = options.maxDelayMs ?? 30_000;
  const statuses = new Set(options.retryStatuses ?? [503]);
  return (next) => async (req) => {
    const canRetry = (req.idempotent ?? isIdempotentMethod(req.method)) && replayable(req);
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      let res: HttpResponse | undefined;
      let failure: unknown;
      let delay: number;
      try {
        res = await next(req);
      } catch (err) {
        const retryableError =
          isOcxError(err, ErrorCode.UNREACHABLE) && err.retryable !== false && !req.signal?.aborted;
        if (!canRetry || !retryableError || attempt > maxRetries) throw err;
        failure = err;
      }
      if (res) {
        if (!canRetry || !statuses.has(res.status) || attempt > maxRetries) return res;
        const after = parseRetryAfter(res.headers.get('retry-after'));
        delay = Math.min(maxDelay, after ?? base * 2 ** (attempt - 1));
      } else {
        delay = Math.min(maxDelay, base * 2 ** (attempt - 1));
      }
      // Never sleep past the deadline: if the wait would end after it, the caller gets what we have now.
      if (req.deadline !== undefined && Date.now() + delay >= req.deadline) {
        if (res) return res;
        throw failure;
      }
      if (res) await res.dump();
      metrics?.onRetry?.({
        ...metricOf(req, started, attempt),
        status: res?.status,
        errorCode: res ? undefined : ErrorCode.UNREACHABLE,
        delayMs: delay,
        reason: res ? `HTTP ${res.status}` : ErrorCode.UNREACHABLE,
      });
      // An abort during the wait falls through to the next attempt, which the inner layer reports as CANCELLED.
      await sleep(delay, req.signal, req.deadline);
    }
  };
}

export { originOf } from './metric.ts';
