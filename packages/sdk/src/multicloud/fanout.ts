import { ErrorCode } from '../errors/codes.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';
import { classifyFailure } from '../transport/errors.ts';

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

/**
 * Turn anything a target threw into an OcxError: OcxErrors keep their code (AUTH_EXPIRED, SERVICE_ERROR, ...);
 * socket errors become UNREACHABLE; our own deadline TIMEOUT; the caller's abort CANCELLED; anything else (a bug
 * in the caller's function, a library error) SERVICE_ERROR with the original as `cause`.
 */
export function toOcxError(
  err: unknown,
  how: { deadline?: number | undefined; deadlineMs?: number | undefined; callerSignal?: AbortSignal | undefined },
  context: { cloud?: string | undefined; region?: string | undefined },
): OcxError {
  if (isOcxError(err)) {
    const missing: { cloud?: string; region?: string } = {};
    if (!err.cloud && context.cloud) missing.cloud = context.cloud;
    if (!err.region && context.region) missing.region = context.region;
    return Object.keys(missing).length ? err.withContext(missing) : err;
  }
  if (how.callerSignal?.aborted) {
    return new OcxError(ErrorCode.CANCELLED, 'the call was cancelled by the caller', context, { cause: err });
  }
  // Errors from sockets/fetch/undici (they carry a code or are aborts) are classified like the transport does.
  if (looksLikeTransportError(err) || (how.deadline !== undefined && Date.now() >= how.deadline)) {
    return classifyFailure(err, {
      signal: how.callerSignal,
      deadline: how.deadline,
      timeoutMs: how.deadlineMs,
      context,
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new OcxError(ErrorCode.SERVICE_ERROR, `unexpected error: ${message}`, context, { cause: err });
}

function looksLikeTransportError(err: unknown): boolean {
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const { code, name } = cur as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && /^(E[A-Z]+|UND_ERR_|ERR_TLS|ERR_SSL|CERT_|ABORT_ERR)/.test(code)) return true;
    if (name === 'AbortError' || name === 'TimeoutError') return true;
    cur = (cur as { cause?: unknown }).cause;
  }
  return false;
}

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

  const runOne = (index: number): Promise<void> => {
    const target = targets[index] as X;
    const where = opts.where?.(target) ?? {};
    const started = Date.now();
    const deadline = started + deadlineMs;
    const controller = new AbortController();
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (s: Settled<T>) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        callerSignal?.removeEventListener('abort', onCallerAbort);
        out[index] = s;
        resolve();
      };
      const fail = (err: unknown) =>
        finish({
          ok: false,
          error: toOcxError(err, { deadline, deadlineMs, callerSignal }, where),
          durationMs: Date.now() - started,
        });
      const timer = setTimeout(() => {
        const err = new OcxError(ErrorCode.TIMEOUT, `no answer within the ${deadlineMs} ms deadline`, {
          ...where,
          retryable: true,
        });
        controller.abort(err);
        fail(err);
      }, deadlineMs);
      const onCallerAbort = () => {
        const err = new OcxError(ErrorCode.CANCELLED, 'the call was cancelled by the caller', where);
        controller.abort(err);
        fail(err);
      };
      if (callerSignal?.aborted) {
        onCallerAbort();
        return;
      }
      callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
      let promise: Promise<T>;
      try {
        promise = Promise.resolve(fn(target, { signal: controller.signal, deadline }));
      } catch (err) {
        fail(err);
        return;
      }
      promise.then((value) => finish({ ok: true, value, durationMs: Date.now() - started }), fail);
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
