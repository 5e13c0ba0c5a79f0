import { ErrorCode } from '../errors/codes.ts';
import { type ErrorContext, OcxError } from '../errors/ocx-error.ts';

/**
 * Work shared by concurrent callers (a login in flight, a version discovery): it runs once, under its own signal.
 * Each caller `join`s it and waits only as long as its own signal and deadline allow; one caller giving up never
 * fails the others. When every caller has given up before the work settled, nobody is left to use its result: the
 * work is aborted (its HTTP request and socket go away) and `onAbandon` runs, so the owner drops the entry and the
 * next call starts afresh instead of joining work stuck on a server that hung.
 */
export class SharedFlight<T> {
  readonly promise: Promise<T>;
  readonly #controller = new AbortController();
  readonly #onAbandon: () => void;
  #waiters = 0;
  #settled = false;

  constructor(run: (signal: AbortSignal) => Promise<T>, onAbandon: () => void = () => {}) {
    this.#onAbandon = onAbandon;
    let p: Promise<T>;
    try {
      p = run(this.#controller.signal);
    } catch (err) {
      p = Promise.reject(err);
    }
    this.promise = p;
    const settle = () => {
      this.#settled = true;
    };
    p.then(settle, settle);
  }

  /** True once every caller gave up and the work was aborted. */
  get abandoned(): boolean {
    return this.#controller.signal.aborted;
  }

  /** How many callers are waiting now. */
  get waiters(): number {
    return this.#waiters;
  }

  /**
   * Wait for the shared result, but only until `signal` aborts (CANCELLED) or `deadline` (epoch ms) passes (TIMEOUT).
   */
  join(signal: AbortSignal | undefined, deadline: number | undefined, context: ErrorContext = {}): Promise<T> {
    if (this.#settled) return this.promise;
    const cancelled = () => new OcxError(ErrorCode.CANCELLED, 'the call was cancelled by the caller', context);
    const timedOut = () =>
      new OcxError(ErrorCode.TIMEOUT, 'the deadline passed while waiting for a shared request', {
        ...context,
        retryable: true,
      });
    if (signal?.aborted) return Promise.reject(cancelled());
    if (deadline !== undefined && deadline <= Date.now()) return Promise.reject(timedOut());
    this.#waiters++;
    return new Promise<T>((resolve, reject) => {
      let left = false;
      const leave = (gaveUp: boolean): boolean => {
        if (left) return false;
        left = true;
        signal?.removeEventListener('abort', onAbort);
        if (timer) clearTimeout(timer);
        this.#waiters--;
        if (gaveUp && this.#waiters === 0 && !this.#settled) this.#abandon();
        return true;
      };
      const onAbort = () => {
        if (leave(true)) reject(cancelled());
      };
      const timer =
        deadline === undefined
          ? undefined
          : setTimeout(
              () => {
                if (leave(true)) reject(timedOut());
              },
              Math.max(0, deadline - Date.now()),
            );
      timer?.unref?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.promise.then(
        (v) => {
          if (leave(false)) resolve(v);
        },
        (e: unknown) => {
          if (leave(false)) reject(e);
        },
      );
    });
  }

  #abandon(): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(
      new OcxError(ErrorCode.CANCELLED, 'every caller waiting for this shared request gave up', {}),
    );
    try {
      this.#onAbandon();
    } catch {
      // the owner's clean-up must not turn a caller's CANCELLED/TIMEOUT into something else
    }
  }
}
