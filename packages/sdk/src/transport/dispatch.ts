import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher, request as undiciRequest } from 'undici';
import { ErrorCode } from '../errors/codes.ts';
import { type ErrorContext, OcxError } from '../errors/ocx-error.ts';
import type { RawHeaders } from '../wire/headers.ts';
import { type CallScope, callScope, deadlineOf, resolveDeadline } from './cancel.ts';
import { safeUrl } from './errors.ts';
import { BufferedBodyResponse } from './response.ts';
import type { Handler, HttpRequest, RequestBody, TlsOptions } from './types.ts';

export const DEFAULT_TIMEOUT_MS = 60_000;

/**
 * One undici Agent per transport: it keeps a Pool per origin (keep-alive, `connections` per origin).
 * TLS options come from the cloud config (verify false / CA bundle / client cert).
 */
export function createAgent(
  tls: TlsOptions | undefined,
  opts: { connectionsPerOrigin?: number | undefined; connectTimeoutMs?: number | undefined } = {},
): Agent {
  const connect: Record<string, unknown> = { timeout: opts.connectTimeoutMs ?? 10_000 };
  try {
    if (tls?.verify === false) connect.rejectUnauthorized = false;
    if (typeof tls?.verify === 'string') connect.ca = readFileSync(tls.verify);
    if (tls?.cert) connect.cert = readFileSync(tls.cert);
    if (tls?.key) connect.key = readFileSync(tls.key);
  } catch (err) {
    const file = (err as { path?: string }).path;
    throw new OcxError(
      ErrorCode.CONFIG_INVALID,
      `cannot read TLS file ${file ?? ''}: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
  return new Agent({
    connections: opts.connectionsPerOrigin ?? 16,
    connect,
    keepAliveTimeout: 4_000,
  });
}

export function errorContextOf(req: HttpRequest): ErrorContext {
  return {
    cloud: req.context?.cloud,
    region: req.context?.region,
    service: req.context?.service,
    method: req.method.toUpperCase(),
    url: safeUrl(req.url),
  };
}

const noop = () => {};
/** The caller's own scope, as is: nothing to clear or dispose. */
function callerScope(signal: AbortSignal, deadline: number): CallScope {
  return { signal, deadline, clearDeadline: noop, extend: noop, dispose: noop };
}

const isStream = (b: RequestBody | undefined): b is AsyncIterable<Uint8Array> =>
  b !== undefined && typeof b !== 'string' && !(b instanceof Uint8Array);

/** The body's chunks as they are, calling `progress` as each one is taken and once more at the end. */
async function* withProgress(body: AsyncIterable<Uint8Array>, progress: () => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    progress();
    yield chunk;
  }
  progress();
}

/** The step a timed-out or cancelled attempt is reported in: its operation (auth.password, k2k.sp, ...) or 'request'. */
function stepOf(req: HttpRequest, body: boolean): string {
  const op = req.context?.operation;
  if (body) return op ? `${op}.body` : 'response-body';
  return op ?? 'request';
}

/**
 * The innermost handler: one HTTP attempt through undici under one signal (callScope: the caller's signal and
 * `req.deadline`), which also covers the body read. Any failure goes through OcxError.from.
 */
export function undiciHandler(dispatcher: Dispatcher, defaults: { timeoutMs: number; userAgent: string }): Handler {
  return async (req) => {
    const ctx = errorContextOf(req);
    const deadline = resolveDeadline(req, defaults.timeoutMs);
    const budget = Math.max(0, deadline - Date.now());
    // When the caller's signal already carries this very deadline (a fan-out target, a CLI --timeout) it aborts at
    // the same moment with the same reason a scope of our own would: use it, and spare every call a controller, two
    // listeners and a timer. A streamed body drops the deadline after its headers, and a streamed upload with an idle
    // budget moves it, so those always get a scope of their own.
    const scope =
      !req.streamResponse && req.idleMs === undefined && req.signal && deadlineOf(req.signal) === deadline
        ? callerScope(req.signal, deadline)
        : callScope({ signal: req.signal, deadline, timeoutMs: req.timeoutMs, unref: true });
    const fail = (err: unknown, body: boolean) => {
      const until = scope.deadline ?? deadline;
      const timing = scope.signal.aborted || Date.now() >= until - 1;
      return OcxError.from(err, {
        ...ctx,
        ...(timing ? { step: stepOf(req, body) } : {}),
        signal: scope.signal,
        deadline: until,
        timeoutMs: req.timeoutMs,
      });
    };
    if (scope.signal.aborted || budget <= 0) {
      scope.dispose();
      throw fail(req.signal?.reason ?? new Error('deadline passed before the call started'), false);
    }

    const headers: Record<string, string> = {};
    let hasUa = false;
    for (const [k, v] of Object.entries(req.headers ?? {})) {
      headers[k] = v;
      if (k.toLowerCase() === 'user-agent') hasUa = true;
    }
    if (!hasUa) headers['user-agent'] = defaults.userAgent;

    // A streamed request body with an idle budget: every chunk sent, and the body's end, give the call `idleMs`
    // more (never less than its first deadline), so a long upload runs while bytes flow and a stalled one ends.
    const idleMs = req.idleMs;
    const body =
      idleMs !== undefined && isStream(req.body)
        ? withProgress(req.body, () => scope.extend(Date.now() + idleMs))
        : req.body;
    try {
      const res = await undiciRequest(req.url, {
        dispatcher,
        method: req.method.toUpperCase() as Dispatcher.HttpMethod,
        headers,
        body: body as Dispatcher.DispatchOptions['body'],
        signal: scope.signal,
        // undici's own header timer runs from the start of the request: with a moving deadline, ours alone decides.
        headersTimeout: body !== req.body ? 0 : budget + 1_000,
        bodyTimeout: req.streamResponse ? Math.max(budget, 1_000) : budget + 1_000,
      });
      // A streamed body is bounded by undici's idle bodyTimeout, not the deadline; the caller's signal still ends it.
      if (req.streamResponse) scope.clearDeadline();
      return new BufferedBodyResponse({
        status: res.statusCode,
        headers: res.headers as RawHeaders,
        url: ctx.url as string,
        method: ctx.method as string,
        body: res.body,
        onDone: scope.dispose,
        onError: (err) => fail(err, true),
        context: ctx,
      });
    } catch (err) {
      scope.dispose();
      throw fail(err, false);
    }
  };
}
