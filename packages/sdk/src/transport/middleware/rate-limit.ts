import { ErrorCode } from '../../errors/codes.ts';
import { OcxError } from '../../errors/ocx-error.ts';
import { errorContextOf } from '../dispatch.ts';
import type { HttpRequest, MetricsHooks, Middleware, RateLimitOptions } from '../types.ts';
import { sleep } from './sleep.ts';

/** Token bucket (calls/s with a burst) plus a concurrency cap, for one service. */
export class Limiter {
  readonly #rate: number | undefined;
  readonly #burst: number;
  readonly #concurrency: number | undefined;
  #tokens: number;
  #last = Date.now();
  #inFlight = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(opts: RateLimitOptions) {
    this.#rate = opts.callsPerSecond && opts.callsPerSecond > 0 ? opts.callsPerSecond : undefined;
    this.#burst = opts.burst ?? Math.max(1, this.#rate ?? 1);
    this.#tokens = this.#burst;
    this.#concurrency = opts.concurrency && opts.concurrency > 0 ? opts.concurrency : undefined;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  #refill(): void {
    if (this.#rate === undefined) return;
    const now = Date.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#rate);
    this.#last = now;
  }

  /** Wait for a rate token and a concurrency slot. Returns a release function. Throws on abort/deadline. */
  async acquire(req: HttpRequest): Promise<() => void> {
    const fail = () => {
      if (req.signal?.aborted)
        return new OcxError(
          ErrorCode.CANCELLED,
          'the call was cancelled while waiting for the rate limit',
          errorContextOf(req),
        );
      return new OcxError(ErrorCode.TIMEOUT, 'the deadline passed while waiting for the rate limit', {
        ...errorContextOf(req),
        retryable: true,
      });
    };
    if (this.#rate !== undefined) {
      for (;;) {
        this.#refill();
        if (this.#tokens >= 1) {
          this.#tokens -= 1;
          break;
        }
        const wait = Math.ceil(((1 - this.#tokens) / this.#rate) * 1000);
        if (req.deadline !== undefined && Date.now() + wait > req.deadline) throw fail();
        if (!(await sleep(wait, req.signal, req.deadline))) throw fail();
      }
    }
    if (this.#concurrency !== undefined) {
      while (this.#inFlight >= this.#concurrency) {
        await new Promise<void>((resolve, reject) => {
          let timer: NodeJS.Timeout | undefined;
          const wake = () => {
            clearTimeout(timer);
            req.signal?.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = () => {
            const i = this.#waiters.indexOf(wake);
            if (i >= 0) this.#waiters.splice(i, 1);
            clearTimeout(timer);
            reject(fail());
          };
          this.#waiters.push(wake);
          req.signal?.addEventListener('abort', onAbort, { once: true });
          if (req.deadline !== undefined) timer = setTimeout(onAbort, Math.max(0, req.deadline - Date.now()));
        });
      }
      this.#inFlight++;
    }
    let released = false;
    return () => {
      if (released || this.#concurrency === undefined) return;
      released = true;
      this.#inFlight--;
      this.#waiters.shift()?.();
    };
  }
}

/**
 * Per-service rate limit and concurrency cap, keyed by `req.context.service` ('*' = default for others).
 * A concurrency slot is held until the response headers arrived (or the attempt failed).
 */
export function rateLimitMiddleware(limits: Record<string, RateLimitOptions>, metrics?: MetricsHooks): Middleware {
  const limiters = new Map<string, Limiter>();
  const limiterFor = (service: string | undefined): Limiter | undefined => {
    const key = service && limits[service] ? service : limits['*'] ? `*:${service ?? ''}` : undefined;
    if (!key) return undefined;
    let l = limiters.get(key);
    if (!l) {
      l = new Limiter((service && limits[service]) || limits['*'] || {});
      limiters.set(key, l);
    }
    return l;
  };
  return (next) => async (req) => {
    const limiter = limiterFor(req.context?.service);
    if (!limiter) return next(req);
    const started = Date.now();
    const release = await limiter.acquire(req);
    const waited = Date.now() - started;
    if (waited > 0) metrics?.onThrottle?.({ service: req.context?.service, cloud: req.context?.cloud, waitMs: waited });
    try {
      return await next(req);
    } finally {
      release();
    }
  };
}
