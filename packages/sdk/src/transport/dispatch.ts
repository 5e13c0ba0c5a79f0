import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher, request as undiciRequest } from 'undici';
import { ErrorCode } from '../errors/codes.ts';
import { type ErrorContext, OcxError } from '../errors/ocx-error.ts';
import { classifyFailure, safeUrl } from './errors.ts';
import { BufferedBodyResponse, toHeaders } from './response.ts';
import type { Handler, HttpRequest, TlsOptions } from './types.ts';

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

/** The innermost handler: one HTTP attempt through undici, bounded by `req.deadline` and `req.signal`. */
export function undiciHandler(dispatcher: Dispatcher, defaults: { timeoutMs: number; userAgent: string }): Handler {
  return async (req) => {
    const ctx = errorContextOf(req);
    const deadline = req.deadline ?? Date.now() + (req.timeoutMs ?? defaults.timeoutMs);
    const budget = Math.max(0, deadline - Date.now());
    const failInfo = { signal: req.signal, deadline, context: ctx, timeoutMs: req.timeoutMs };
    if (req.signal?.aborted) throw classifyFailure(req.signal.reason, failInfo);
    if (budget <= 0) throw classifyFailure(new Error('deadline passed before the call started'), failInfo);

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new DOMException('deadline passed', 'TimeoutError')), budget);
    timer.unref();
    const onCallerAbort = () => controller.abort(req.signal?.reason);
    req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    let cleaned = false;
    const cleanup = () => {
      if (cleaned) return;
      cleaned = true;
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    };

    const headers: Record<string, string> = {};
    let hasUa = false;
    for (const [k, v] of Object.entries(req.headers ?? {})) {
      headers[k] = v;
      if (k.toLowerCase() === 'user-agent') hasUa = true;
    }
    if (!hasUa) headers['user-agent'] = defaults.userAgent;

    try {
      const res = await undiciRequest(req.url, {
        dispatcher,
        method: req.method.toUpperCase() as Dispatcher.HttpMethod,
        headers,
        body: req.body as Dispatcher.DispatchOptions['body'],
        signal: controller.signal,
        headersTimeout: budget + 1_000,
        bodyTimeout: req.streamResponse ? Math.max(budget, 1_000) : budget + 1_000,
      });
      if (req.streamResponse) cleanup();
      return new BufferedBodyResponse({
        status: res.statusCode,
        headers: toHeaders(res.headers as Record<string, string | string[] | undefined>),
        url: safeUrl(req.url),
        method: req.method.toUpperCase(),
        body: res.body,
        onDone: cleanup,
        onError: (err) => classifyFailure(err, failInfo),
        context: ctx,
      });
    } catch (err) {
      cleanup();
      throw classifyFailure(err, failInfo);
    }
  };
}
