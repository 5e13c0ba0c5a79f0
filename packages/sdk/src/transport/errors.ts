import { ErrorCode } from '../errors/codes.ts';
import { type ErrorContext, isOcxError, OcxError } from '../errors/ocx-error.ts';

/** Error codes of Node/undici that mean "we could not talk to the server at all". */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EPIPE',
  'ECONNABORTED',
  'EADDRNOTAVAIL',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_OSSL)/;

function errorCodeOf(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR_ABORTED') return code;
    if (typeof code === 'string' && !(cur as { cause?: unknown }).cause) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Strip query parameters that may carry secrets (temp URL signatures, tokens) from a URL meant for errors/logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const key of [...u.searchParams.keys()]) {
      if (/token|sig|secret|password|key/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return url.replace(/([?&][^=]*(token|sig|secret|password)[^=]*=)[^&]*/gi, '$1***');
  }
}

export interface FailureInfo {
  signal?: AbortSignal | undefined;
  deadline?: number | undefined;
  context: ErrorContext;
  timeoutMs?: number | undefined;
}

/**
 * Turn anything thrown while talking HTTP into the one OcxError. The order matters: the caller's abort wins
 * (CANCELLED), then a passed deadline (TIMEOUT), then what the socket said (UNREACHABLE).
 */
export function classifyFailure(err: unknown, info: FailureInfo): OcxError {
  if (isOcxError(err)) return err.withContext(info.context);
  const ctx = info.context;
  if (info.signal?.aborted) {
    return new OcxError(ErrorCode.CANCELLED, 'the call was cancelled by the caller', ctx, { cause: err });
  }
  const code = errorCodeOf(err);
  const deadlinePassed = info.deadline !== undefined && Date.now() >= info.deadline - 1;
  const name = (err as { name?: string } | undefined)?.name;
  if (
    deadlinePassed ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    name === 'TimeoutError'
  ) {
    const budget = info.timeoutMs !== undefined ? ` (${info.timeoutMs} ms)` : '';
    return new OcxError(
      ErrorCode.TIMEOUT,
      `no answer before the deadline${budget}`,
      { ...ctx, retryable: true },
      { cause: err },
    );
  }
  if (code && TLS_CODE.test(code)) {
    return new OcxError(ErrorCode.UNREACHABLE, `TLS failure (${code})`, { ...ctx, retryable: false }, { cause: err });
  }
  if (code && UNREACHABLE_CODES.has(code)) {
    const what =
      code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'host name not found'
          : code === 'UND_ERR_CONNECT_TIMEOUT'
            ? 'connect timed out'
            : 'connection lost';
    return new OcxError(ErrorCode.UNREACHABLE, `${what} (${code})`, { ...ctx, retryable: true }, { cause: err });
  }
  if (name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') {
    // Aborted by something else than the caller and before the deadline: treat as a lost connection.
    return new OcxError(ErrorCode.UNREACHABLE, 'request aborted', { ...ctx, retryable: true }, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new OcxError(ErrorCode.UNREACHABLE, `HTTP failure: ${message}${code ? ` (${code})` : ''}`, ctx, {
    cause: err,
  });
}

export function isIdempotentMethod(method: string): boolean {
  const m = method.toUpperCase();
  return m === 'GET' || m === 'HEAD' || m === 'PUT' || m === 'DELETE' || m === 'OPTIONS' || m === 'TRACE';
}
