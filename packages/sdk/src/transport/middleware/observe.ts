import type { Readable } from 'node:stream';
import { isOcxError } from '../../errors/ocx-error.ts';
import { safeUrl } from '../errors.ts';
import { redactBody, redactHeaders } from '../redact.ts';
import type { Handler, HttpRequest, HttpResponse, LoggerLike, MetricsHooks, Middleware } from '../types.ts';
import { metricOf } from './metric.ts';

// Logging and metrics stay a middleware instead of listening on undici's diagnostics channels (undici:request:*):
// the channels see undici's request objects, not our RequestContext (cloud, region, service, operation), the attempt
// number or the OcxError a failure became, so each message would have to be matched back to its call through a map
// keyed by request object — more code than this layer, for the same log lines.

function safeHook(fn: () => void): void {
  try {
    fn();
  } catch {
    // metrics hooks must never break a call
  }
}

/** A response whose text() is logged (redacted) at trace level when read. */
class TracedResponse implements HttpResponse {
  readonly #inner: HttpResponse;
  readonly #log: (text: string) => void;
  constructor(inner: HttpResponse, log: (text: string) => void) {
    this.#inner = inner;
    this.#log = log;
  }
  get status() {
    return this.#inner.status;
  }
  get headers() {
    return this.#inner.headers;
  }
  get url() {
    return this.#inner.url;
  }
  get method() {
    return this.#inner.method;
  }
  get requestId() {
    return this.#inner.requestId;
  }
  get body(): Readable {
    return this.#inner.body;
  }
  bytes() {
    return this.#inner.bytes();
  }
  async text() {
    const t = await this.#inner.text();
    this.#log(t);
    return t;
  }
  async json<T = unknown>(): Promise<T> {
    const t = await this.text();
    if (t.trim() === '') return undefined as T;
    // reuse the inner parser for its INVALID_RESPONSE error shape
    return this.#inner.json<T>();
  }
  dump() {
    return this.#inner.dump();
  }
}

/**
 * Per-attempt observation: debug log of request/response (method, safe URL, status, request id, duration),
 * trace log of redacted headers and bodies, and the metrics `onAttempt` hook.
 */
export function observeMiddleware(
  logger: LoggerLike,
  metrics: MetricsHooks | undefined,
  logBodies: boolean | undefined,
): Middleware {
  const attempts = new WeakMap<object, number>();
  const enabled = (level: string) => (logger.isLevelEnabled ? logger.isLevelEnabled(level) : true);
  return (next) => (req) => {
    const attempt = (attempts.get(req) ?? 0) + 1;
    attempts.set(req, attempt);
    const traceOn = logger.isLevelEnabled ? logger.isLevelEnabled('trace') : false;
    const debugOn = traceOn || enabled('debug');
    const onAttempt = metrics?.onAttempt !== undefined;
    // The SDK is silent by default: with neither log lines nor attempt metrics wanted there is nothing to observe,
    // and building the lines (object spreads, the URL made safe) for a disabled level is most of this layer's cost.
    if (!debugOn && !onAttempt) return next(req);
    return observed(next, req, { attempt, traceOn, debugOn, onAttempt });
  };

  async function observed(
    next: Handler,
    req: HttpRequest,
    {
      attempt,
      traceOn,
      debugOn,
      onAttempt,
    }: { attempt: number; traceOn: boolean; debugOn: boolean; onAttempt: boolean },
  ): Promise<HttpResponse> {
    const started = Date.now();
    const bodies = logBodies ?? traceOn;
    const where = { cloud: req.context?.cloud, service: req.context?.service, op: req.context?.operation };
    const url = safeUrl(req.url);
    if (traceOn) {
      const body =
        bodies && (typeof req.body === 'string' || req.body instanceof Uint8Array) ? redactBody(req.body) : undefined;
      logger.trace(
        { ...where, method: req.method, url, headers: redactHeaders(req.headers), body, attempt },
        'http request',
      );
    } else if (debugOn) {
      logger.debug({ ...where, method: req.method, url, attempt }, 'http request');
    }
    try {
      const res = await next(req);
      const durationMs = Date.now() - started;
      if (onAttempt) safeHook(() => metrics?.onAttempt?.({ ...metricOf(req, started, attempt), status: res.status }));
      if (traceOn) {
        const line = { ...where, method: req.method, url, status: res.status, requestId: res.requestId, durationMs };
        logger.trace({ ...line, headers: redactHeaders(res.headers) }, 'http response');
        if (bodies)
          return new TracedResponse(res, (text) =>
            logger.trace({ ...where, method: req.method, url, body: redactBody(text) }, 'http response body'),
          );
      } else if (debugOn) {
        logger.debug(
          { ...where, method: req.method, url, status: res.status, requestId: res.requestId, durationMs },
          'http response',
        );
      }
      return res;
    } catch (err) {
      const code = isOcxError(err) ? err.code : 'UNKNOWN';
      if (onAttempt) safeHook(() => metrics?.onAttempt?.({ ...metricOf(req, started, attempt), errorCode: code }));
      if (debugOn)
        logger.debug(
          { ...where, method: req.method, url, error: code, durationMs: Date.now() - started },
          'http failure',
        );
      throw err;
    }
  }
}

/** Per-call metrics (after retries). */
export function callMetricsMiddleware(metrics: MetricsHooks | undefined): Middleware {
  // Without the hook the layer is a plain pass-through (no promise of its own per call).
  return (next) => (req) => (metrics?.onRequest ? measured(next, req, metrics) : next(req));
}

async function measured(next: Handler, req: HttpRequest, metrics: MetricsHooks): Promise<HttpResponse> {
  const started = Date.now();
  try {
    const res = await next(req);
    safeHook(() => metrics.onRequest?.({ ...metricOf(req, started, 1), status: res.status }));
    return res;
  } catch (err) {
    safeHook(() =>
      metrics.onRequest?.({ ...metricOf(req, started, 1), errorCode: isOcxError(err) ? err.code : 'UNKNOWN' }),
    );
    throw err;
  }
}
