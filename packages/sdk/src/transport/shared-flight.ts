import { type ErrorContext, OcxError } from '../errors/ocx-error.ts';
import { deadlineExceeded } from './cancel.ts';

/** How long a caller that gave up last waits for the aborted work's own error (it names the step that hung). */
const ABANDON_GRACE_MS = 250;

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
   * Wait for the shared result, but only until `signal` aborts (its reason: CANCELLED, or TIMEOUT for a deadline) or
   * `deadline` (epoch ms) passes (TIMEOUT). When this caller is the last one waiting, the work is aborted with this
   * caller's reason and, if it ends within a moment, its own error is reported: it names the step that hung.
   */
  join(signal: AbortSignal | undefined, deadline: number | undefined, context: ErrorContext = {}): Promise<T> {
    if (this.#settled) return this.promise;
    if (signal?.aborted) return Promise.reject(OcxError.from(signal.reason, { ...context, signal }));
    if (deadline !== undefined && deadline <= Date.now()) return Promise.reject(deadlineExceeded(undefined, context));
    this.#waiters++;
    return new Promise<T>((resolve, reject) => {
      let left = false;
      const leave = (reason: OcxError | undefined): boolean => {
        if (left) return false;
        left = true;
        signal?.removeEventListener('abort', onAbort);
        if (timer) clearTimeout(timer);
        this.#waiters--;
        if (reason && this.#waiters === 0 && !this.#settled) {
          this.#abandon(reason);
          // The work now aborts with this reason; its own error says where it was. Wait for it only briefly.
          const grace = setTimeout(() => reject(reason), ABANDON_GRACE_MS);
          grace.unref?.();
          this.promise.then(
            () => {
              clearTimeout(grace);
              reject(reason);
            },
            (e: unknown) => {
              clearTimeout(grace);
              const own = OcxError.from(e, {});
              const sameKind = own.code === reason.code;
              reject(sameKind ? OcxError.from(own, context) : reason);
            },
          );
        } else if (reason) reject(reason);
        return true;
      };
      const onAbort = () => leave(OcxError.from(signal?.reason, { ...context, signal }));
      const timer =
        deadline === undefined
          ? undefined
          : setTimeout(() => leave(deadlineExceeded(undefined, context)), Math.max(0, deadline - Date.now()));
      timer?.unref?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.promise.then(
        (v) => {
          if (leave(undefined)) resolve(v);
        },
        (e: unknown) => {
          if (leave(undefined)) reject(e);
        },
      );
    });
  }

  #abandon(reason: OcxError): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(reason);
    try {
      this.#onAbandon();
    } catch {
      // the owner's clean-up must not turn a caller's CANCELLED/TIMEOUT into something else
    }
  }
}
