/**
 * The one cancellation path. A caller's deadline (the fan-out's per-cloud deadline, the CLI's --timeout, a gRPC
 * deadline) becomes one AbortSignal: it aborts with the caller's own reason when the caller cancels, and with a
 * TIMEOUT OcxError when the deadline passes. The deadline travels with the signal (deadlineOf), so the layers below —
 * service client, session, discovery, auth, K2K, the transport and the body read — bound their work by the
 * caller's deadline instead of starting budgets of their own, and OcxError.from turns the abort into TIMEOUT naming
 * the step it struck in, or CANCELLED.
 */
import { ErrorCode } from '../errors/codes.ts';
import { type ErrorContext, OcxError } from '../errors/ocx-error.ts';

const DEADLINES = new WeakMap<AbortSignal, number>();

/** The reason a deadline aborts with: TIMEOUT, retryable. */
export function deadlineExceeded(timeoutMs: number | undefined, context: ErrorContext = {}): OcxError {
  const msg = timeoutMs !== undefined ? `no answer within the ${timeoutMs} ms deadline` : 'the deadline passed';
  return new OcxError(ErrorCode.TIMEOUT, msg, { ...context, retryable: true });
}

/** The deadline (epoch ms) a signal made by callScope carries; undefined for any other signal. */
export function deadlineOf(signal: AbortSignal | undefined): number | undefined {
  return signal ? DEADLINES.get(signal) : undefined;
}

/**
 * The absolute deadline of one call: the earliest of an explicit `deadline` and the one its signal carries; when
 * there is neither, now + (`timeoutMs` ?? `defaultMs`).
 */
export function resolveDeadline(
  call: { deadline?: number | undefined; signal?: AbortSignal | undefined; timeoutMs?: number | undefined },
  defaultMs: number,
): number {
  const inherited = deadlineOf(call.signal);
  if (call.deadline !== undefined && inherited !== undefined) return Math.min(call.deadline, inherited);
  return call.deadline ?? inherited ?? Date.now() + (call.timeoutMs ?? defaultMs);
}

export interface CallScope {
  /** Aborts with the caller's reason, or with deadlineExceeded when the deadline passes. Carries the deadline. */
  readonly signal: AbortSignal;
  readonly deadline: number | undefined;
  /** Stop enforcing the deadline but keep following the caller's signal (a streamed body after its headers). */
  clearDeadline(): void;
  /**
   * Move the deadline to `later` if that is later (a streamed request body making progress). No effect once the
   * deadline was cleared or the scope aborted, nor without a deadline.
   */
  extend(later: number): void;
  /** Stop everything (timer and caller link). Safe to call more than once. */
  dispose(): void;
}

/**
 * One signal for one call, from the caller's signal and an absolute deadline. `unref` lets the process exit while the
 * timer runs (use it where a socket keeps the loop alive anyway).
 */
export function callScope(opts: {
  signal?: AbortSignal | undefined;
  deadline?: number | undefined;
  /** The budget named in the TIMEOUT message. */
  timeoutMs?: number | undefined;
  context?: ErrorContext | undefined;
  unref?: boolean | undefined;
}): CallScope {
  const controller = new AbortController();
  const caller = opts.signal;
  const inherited = deadlineOf(caller);
  const deadline =
    opts.deadline !== undefined && inherited !== undefined
      ? Math.min(opts.deadline, inherited)
      : (opts.deadline ?? inherited);
  if (deadline !== undefined) DEADLINES.set(controller.signal, deadline);
  const onCallerAbort = () => controller.abort(caller?.reason);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let current = deadline;
  // One timer; an extended deadline is noticed when it fires (no new timer per chunk of a streamed body).
  const arm = (at: number) => {
    timer = setTimeout(
      () => {
        if (current !== undefined && Date.now() < current) arm(current);
        else controller.abort(deadlineExceeded(opts.timeoutMs, opts.context));
      },
      Math.max(0, at - Date.now()),
    );
    if (opts.unref) timer.unref?.();
  };
  const extend = (later: number) => {
    if (!timer || current === undefined || later <= current || controller.signal.aborted) return;
    current = later;
    DEADLINES.set(controller.signal, later);
  };
  const clearDeadline = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };
  const dispose = () => {
    clearDeadline();
    caller?.removeEventListener('abort', onCallerAbort);
  };
  if (caller?.aborted) controller.abort(caller.reason);
  else {
    caller?.addEventListener('abort', onCallerAbort, { once: true });
    if (deadline !== undefined) arm(deadline);
  }
  controller.signal.addEventListener('abort', dispose, { once: true });
  return {
    signal: controller.signal,
    get deadline() {
      return current;
    },
    clearDeadline,
    extend,
    dispose,
  };
}
