import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { callScope } from '../transport/cancel.ts';

/** Default per-target deadline of a fan-out call (ms). */
export const DEFAULT_DEADLINE_MS = 60_000;
/** Default number of targets worked on at once. */
export const DEFAULT_CONCURRENCY = 16;

export interface FanOutOptions {
  /** How many targets run at once (default 16). */
  concurrency?: number | undefined;
  /**
   * Budget per target in ms (default 60 s), counted from when that target starts. When it passes, the target's
   * signal is aborted and it is reported as TIMEOUT at once; the fan-out never waits for a target past its deadline.
   */
  deadlineMs?: number | undefined;
  /** Cancels the whole fan-out: targets not yet finished are reported as CANCELLED at once. */
  signal?: AbortSignal | undefined;
}

/** What a target's function is given besides the target itself. */
export interface FanOutContext {
  /** Aborted when this target's deadline passes or the caller cancels. Pass it to every HTTP call. */
  signal: AbortSignal;
  /** Absolute deadline (epoch ms) of this target. */
  deadline: number;
}

export type Settled<T> =
  | { ok: true; value: T; durationMs: number }
  | { ok: false; error: OcxError; durationMs: number };

/** How long a target whose deadline passed (or whose caller cancelled) may take to report its own error. */
const ABORT_GRACE_MS = 250;

/**
 * Run `fn` over `targets` with at most `concurrency` at once and a deadline per target. Always settles, in the
 * order of `targets`, with one entry per target: a value or an OcxError. Never rejects, never hangs past the
 * deadlines (a target that ignores its signal is abandoned and reported as TIMEOUT).
 */
export async function fanOut<X, T>(
  targets: readonly X[],
  fn: (target: X, ctx: FanOutContext) => Promise<T>,
  opts: FanOutOptions & { where?: (target: X) => { cloud?: string; region?: string } } = {},
): Promise<Settled<T>[]> {
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_CONCURRENCY));
  const deadlineMs = opts.deadlineMs ?? DEFAULT_DEADLINE_MS;
  if (!(deadlineMs > 0)) throw new OcxError(ErrorCode.BAD_REQUEST, `deadlineMs must be > 0, got ${deadlineMs}`);
  const out: Settled<T>[] = new Array(targets.length);
  const callerSignal = opts.signal;
  let next = 0;

  // One signal per target (cancel.ts): it carries the target's deadline down to discovery, auth, K2K, the request
  // and the body read, and aborts with TIMEOUT (deadline) or the caller's reason (CANCELLED).
  const runOne = (index: number): Promise<void> => {
    const target = targets[index] as X;
    const where = opts.where?.(target) ?? {};
    const started = Date.now();
    const scope = callScope({
      signal: callerSignal,
      deadline: started + deadlineMs,
      timeoutMs: deadlineMs,
      context: where,
    });
    const deadline = scope.deadline as number;
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (s: Settled<T>) => {
        if (done) return;
        done = true;
        scope.dispose();
        out[index] = s;
        resolve();
      };
      const fail = (err: unknown) =>
        finish({
          ok: false,
          error: OcxError.from(err, { ...where, signal: scope.signal }),
          durationMs: Date.now() - started,
        });
      let promise: Promise<T>;
      try {
        promise = Promise.resolve(fn(target, { signal: scope.signal, deadline }));
      } catch (err) {
        fail(err);
        return;
      }
      promise.then((value) => finish({ ok: true, value, durationMs: Date.now() - started }), fail);
      // When the signal aborts, the target's own error names the step it was in (discovery, auth, k2k.sp, request,
      // response-body); wait for it only briefly, so a target that ignores its signal is still reported on time.
      const onAbort = () => {
        const reason = OcxError.from(scope.signal.reason, { ...where, signal: scope.signal });
        const grace = setTimeout(() => fail(reason), ABORT_GRACE_MS);
        promise.then(
          () => clearTimeout(grace),
          (err: unknown) => {
            clearTimeout(grace);
            const own = OcxError.from(err, { ...where, signal: scope.signal });
            fail(own.code === reason.code ? own : reason);
          },
        );
      };
      if (scope.signal.aborted) onAbort();
      else scope.signal.addEventListener('abort', onAbort, { once: true });
    });
  };

  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      await runOne(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
  return out;
}
