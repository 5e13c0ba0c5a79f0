/**
 * Small buffered HTTP helper for the proxy's own calls (Keystone, K2K, fan-out pages): every call has a
 * deadline, errors become OcxError codes (UNREACHABLE / TIMEOUT / CANCELLED), bodies are size-capped.
 */
import { ErrorCode, OcxError } from '@ocx/sdk';
import { Agent, type Dispatcher, request } from 'undici';

export interface BufferedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Absolute deadline, epoch ms. */
  deadline: number;
  signal?: AbortSignal;
  maxBytes?: number;
  /** Label for errors (never a token). */
  what?: string;
}

export function createAgent(): Agent {
  return new Agent({
    connections: 64,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connect: { timeout: 10_000 },
    allowH2: false,
  });
}

export function headerValue(h: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Strip any query string from a URL before it goes into an error or a log. */
export function safeUrl(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}

export function toOcxError(err: unknown, what: string, url: string, signal?: AbortSignal): OcxError {
  if (err instanceof OcxError) return err;
  const e = err as { name?: string; code?: string; message?: string };
  const ctx = { url: safeUrl(url), method: what };
  if (signal?.aborted && !(signal.reason instanceof Error && signal.reason.name === 'TimeoutError')) {
    return new OcxError(ErrorCode.CANCELLED, `${what} cancelled`, ctx, { cause: err });
  }
  if (
    e?.name === 'TimeoutError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT' ||
    e?.code === 'UND_ERR_CONNECT_TIMEOUT' ||
    (e?.name === 'AbortError' && signal?.aborted)
  ) {
    return new OcxError(
      ErrorCode.TIMEOUT,
      `${what}: no answer before the deadline`,
      { ...ctx, retryable: true },
      { cause: err },
    );
  }
  return new OcxError(
    ErrorCode.UNREACHABLE,
    `${what}: ${e?.message ?? String(err)}`,
    { ...ctx, retryable: true },
    { cause: err },
  );
}

/** One buffered call with a deadline. Non-2xx statuses resolve; transport failures reject with OcxError. */
export async function call(dispatcher: Dispatcher, url: string, opts: CallOptions): Promise<BufferedResponse> {
  const what = opts.what ?? `${opts.method ?? 'GET'} ${safeUrl(url)}`;
  const remaining = opts.deadline - Date.now();
  if (remaining <= 0) throw new OcxError(ErrorCode.TIMEOUT, `${what}: deadline already passed`, { url: safeUrl(url) });
  const timeout = AbortSignal.timeout(remaining);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  try {
    const res = await request(url, {
      dispatcher,
      method: (opts.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: opts.headers,
      body: opts.body,
      signal,
      headersTimeout: remaining,
      bodyTimeout: remaining,
    });
    const max = opts.maxBytes ?? 64 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > max) {
        res.body.destroy();
        throw new OcxError(ErrorCode.INVALID_RESPONSE, `${what}: response larger than ${max} bytes`, {
          url: safeUrl(url),
        });
      }
      chunks.push(chunk as Buffer);
    }
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) };
  } catch (err) {
    throw toOcxError(err, what, url, opts.signal ? signal : timeout);
  }
}

export function parseJson(buf: Buffer | string): unknown {
  const text = typeof buf === 'string' ? buf : buf.toString('utf8');
  if (!text.trim()) return undefined;
  return JSON.parse(text);
}
