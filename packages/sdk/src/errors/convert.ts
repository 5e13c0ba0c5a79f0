/**
 * OcxError.from: the one conversion from anything a call can fail with to an OcxError. Order of the rules:
 * 1. an OcxError keeps its code and gains the context fields it lacks;
 * 2. an HTTP answer (`{status, body}`) becomes the code for its status, with the service's fault message;
 * 3. the call's signal aborted: its reason decides — a deadline (OcxError TIMEOUT or a DOMException TimeoutError)
 *    is TIMEOUT naming the step, anything else the caller's CANCELLED;
 * 4. the call's deadline passed: TIMEOUT naming the step;
 * 4a. a gRPC failure from a gateway (ConnectError): the OCX code in its ErrorDetail, else the status's (grpc.ts);
 * 5. a TimeoutError or an AbortError/TimeoutError reason passed on its own;
 * 6. a Node/undici error code anywhere in the `cause` chain: node-codes.ts;
 * 7. another coded error: an HTTP stack failure we have no entry for, UNREACHABLE (not retryable);
 * 8. anything else is a bug or a library failure: SERVICE_ERROR "unexpected error", the original kept as `cause`.
 */
import { ErrorCode } from './codes.ts';
import { errorFromStatus } from './from-response.ts';
import { fromGrpcError, isConnectError } from './grpc.ts';
import { meaningOfCode } from './node-codes.ts';
import { type ErrorContext, OcxError } from './ocx-error.ts';

/** An HTTP answer that failed: what OcxError.from needs to decode the service's fault body. */
export interface HttpFailure {
  status: number;
  /** The response body as text (the fault body). */
  body?: string | undefined;
  requestId?: string | undefined;
}

/** Context for OcxError.from: where the call was (ErrorContext) plus how it was bounded. */
export interface FromContext extends ErrorContext {
  /** The signal the call ran under: when aborted, its reason tells TIMEOUT from CANCELLED. */
  signal?: AbortSignal | undefined;
  /** The call's absolute deadline (epoch ms). */
  deadline?: number | undefined;
  /** The call's budget (ms), named in the TIMEOUT message. */
  timeoutMs?: number | undefined;
}

function isHttpFailure(v: unknown): v is HttpFailure {
  return (
    typeof v === 'object' &&
    v !== null &&
    !(v instanceof Error) &&
    typeof (v as { status?: unknown }).status === 'number' &&
    (v as { status: number }).status >= 100
  );
}

/** The most telling error code in a cause chain (undici wraps socket errors: prefer the inner errno). */
export function errorCodeOf(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    const cause = (cur as { cause?: unknown }).cause;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR_ABORTED') return code;
    if (typeof code === 'string' && !(cause && typeof cause === 'object' && 'code' in cause)) return code;
    cur = cause;
  }
  return undefined;
}

function nameOf(v: unknown): string | undefined {
  return typeof v === 'object' && v !== null ? (v as { name?: unknown }).name?.toString() : undefined;
}

/** Whether an abort reason is a deadline rather than a caller's decision. */
export function isDeadlineReason(reason: unknown): boolean {
  if (reason instanceof OcxError) return reason.code === ErrorCode.TIMEOUT;
  return nameOf(reason) === 'TimeoutError';
}

function split(context: FromContext): { ctx: ErrorContext; signal?: AbortSignal; deadline?: number; ms?: number } {
  const { signal, deadline, timeoutMs, ...ctx } = context;
  return { ctx, signal, deadline, ms: timeoutMs };
}

/** `a` with the defined fields of `b` on top. */
function merge(a: ErrorContext, b: ErrorContext): ErrorContext {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) if (v !== undefined) out[k] = v;
  return out as ErrorContext;
}

function fill(err: OcxError, ctx: ErrorContext): OcxError {
  const missing: Record<string, unknown> = {};
  const own = err as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(ctx)) if (v !== undefined && own[k] === undefined) missing[k] = v;
  return Object.keys(missing).length ? err.withContext(missing as ErrorContext) : err;
}

function timeout(ctx: ErrorContext, ms: number | undefined, cause: unknown): OcxError {
  const budget = ms !== undefined ? ` (${ms} ms)` : '';
  const during = ctx.step ? ` during ${ctx.step}` : '';
  return new OcxError(
    ErrorCode.TIMEOUT,
    `no answer before the deadline${budget}${during}`,
    { ...ctx, retryable: true },
    cause === undefined ? {} : { cause },
  );
}

export function convertToOcxError(reason: unknown, context: FromContext = {}): OcxError {
  const { ctx, signal, deadline, ms } = split(context);
  if (reason instanceof OcxError && !(signal?.aborted && signal.reason === reason)) {
    // A deadline reason handed down from a caller (fan-out, CLI) names no step yet: this layer knows it.
    return fill(reason, ctx);
  }
  if (isHttpFailure(reason)) {
    return errorFromStatus(reason.status, reason.body, { ...ctx, requestId: reason.requestId ?? ctx.requestId });
  }
  if (signal?.aborted) {
    const why = signal.reason;
    if (why instanceof OcxError) {
      // The reason a caller aborted with (its deadline's TIMEOUT, its CANCELLED), told where it struck.
      const message = why.code === ErrorCode.TIMEOUT && ctx.step ? `${why.message} during ${ctx.step}` : why.message;
      return new OcxError(why.code, message, merge(why.context(), ctx), { cause: reason ?? why });
    }
    if (isDeadlineReason(why)) return timeout(ctx, ms, reason);
    return new OcxError(ErrorCode.CANCELLED, 'the call was cancelled by the caller', ctx, { cause: reason });
  }
  if (deadline !== undefined && Date.now() >= deadline - 1) return timeout(ctx, ms, reason);
  if (isConnectError(reason)) return fromGrpcError(reason, ctx);
  const name = nameOf(reason);
  if (name === 'TimeoutError') return timeout(ctx, ms, reason);
  const code = errorCodeOf(reason);
  // undici's RetryHandler and responseError interceptor give up with the last status: decode it as an answer.
  const statusCode = (reason as { statusCode?: unknown } | undefined)?.statusCode;
  if ((code === 'UND_ERR_REQ_RETRY' || code === 'UND_ERR_RESPONSE') && typeof statusCode === 'number') {
    const r = reason as { body?: unknown; data?: { body?: unknown } };
    const data = r.body ?? r.data?.body;
    return errorFromStatus(statusCode, typeof data === 'string' ? data : undefined, ctx);
  }
  if (!code && name === 'AbortError') {
    // Aborted by something other than the caller and before the deadline: treat as a lost connection.
    return new OcxError(ErrorCode.UNREACHABLE, 'request aborted', { ...ctx, retryable: true }, { cause: reason });
  }
  const meaning = code ? meaningOfCode(code) : undefined;
  if (meaning) {
    return new OcxError(
      meaning.code,
      `${meaning.message} (${code})`,
      { ...ctx, retryable: meaning.retryable },
      { cause: reason },
    );
  }
  const message = reason instanceof Error ? reason.message : String(reason);
  if (code) {
    // A coded error from an HTTP stack this table does not know (e.g. the proxy's own exchange errors): the call
    // did not get through. Not retryable, since we cannot tell whether the server saw it.
    return new OcxError(
      ErrorCode.UNREACHABLE,
      `HTTP failure: ${message} (${code})`,
      { ...ctx, retryable: false },
      {
        cause: reason,
      },
    );
  }
  return new OcxError(ErrorCode.SERVICE_ERROR, `unexpected error: ${message}`, ctx, { cause: reason });
}
