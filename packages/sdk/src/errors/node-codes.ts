/**
 * What the error codes of Node's sockets, DNS, TLS and undici mean for a caller: one table, read by OcxError.from.
 * Every code of undici's `lib/core/errors.js` (8.x) is listed, so a new undici code shows up as a test failure
 * (test/errors-from.test.ts walks that file) instead of silently falling to the default.
 */
import { ErrorCode } from './codes.ts';

export interface CodeMeaning {
  code: ErrorCode;
  /** Short human text; the Node/undici code is appended in parentheses. */
  message: string;
  retryable: boolean;
}

const lost = (message = 'connection lost'): CodeMeaning => ({ code: ErrorCode.UNREACHABLE, message, retryable: true });
const bug = (message: string): CodeMeaning => ({ code: ErrorCode.BAD_REQUEST, message, retryable: false });
const garbled = (message: string): CodeMeaning => ({ code: ErrorCode.INVALID_RESPONSE, message, retryable: false });

export const NODE_ERROR_CODES: Readonly<Record<string, CodeMeaning>> = {
  // Node sockets and DNS: the server could not be talked to at all.
  ECONNREFUSED: lost('connection refused'),
  ECONNRESET: lost(),
  ECONNABORTED: lost(),
  EPIPE: lost(),
  ETIMEDOUT: lost('connection timed out at the socket'),
  ENOTFOUND: lost('host name not found'),
  EAI_AGAIN: lost('host name not found'),
  EHOSTUNREACH: lost('host unreachable'),
  ENETUNREACH: lost('network unreachable'),
  EHOSTDOWN: lost('host down'),
  ENETDOWN: lost('network down'),
  EADDRNOTAVAIL: lost('no local address to connect from'),
  EPROTO: { code: ErrorCode.UNREACHABLE, message: 'TLS or protocol failure', retryable: false },

  // undici (lib/core/errors.js).
  UND_ERR: lost('HTTP client failure'),
  // A connect timeout means the host did not accept the TCP connection (no SYN-ACK) within connectTimeoutMs while
  // the caller's own deadline still had time left: the host is down or filtered, not slow to answer a request it
  // received. So it is UNREACHABLE ("down"), in the SDK and the proxy alike; a connect cut short by the caller's
  // deadline is TIMEOUT because the deadline rule in OcxError.from runs first.
  UND_ERR_CONNECT_TIMEOUT: lost('connect timed out'),
  UND_ERR_HEADERS_TIMEOUT: { code: ErrorCode.TIMEOUT, message: 'no response headers in time', retryable: true },
  UND_ERR_BODY_TIMEOUT: { code: ErrorCode.TIMEOUT, message: 'the response body stalled', retryable: true },
  UND_ERR_HEADERS_OVERFLOW: garbled('response headers too large'),
  UND_ERR_INVALID_ARG: bug('invalid request for the HTTP client'),
  UND_ERR_INVALID_RETURN_VALUE: bug('invalid handler return value'),
  // Aborts without the caller's signal or a passed deadline behind them: undici gave up on the socket.
  UND_ERR_ABORT: lost('request aborted'),
  UND_ERR_ABORTED: lost('request aborted'),
  UND_ERR_INFO: garbled('unexpected informational response'),
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: bug('request body does not match its content-length'),
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: lost('response body cut short'),
  UND_ERR_DESTROYED: lost('connection pool closed'),
  UND_ERR_CLOSED: lost('connection pool closed'),
  UND_ERR_SOCKET: lost(),
  UND_ERR_NOT_SUPPORTED: bug('not supported by the HTTP client'),
  UND_ERR_BPL_MISSING_UPSTREAM: bug('no upstream for the balanced pool'),
  ERR_WEBASSEMBLY_NOT_SUPPORTED: bug('WebAssembly is not available for the HTTP parser'),
  UND_ERR_RES_EXCEEDED_MAX_SIZE: garbled('response larger than allowed'),
  // RetryHandler / responseError interceptors carry the status; OcxError.from reads it before this table.
  UND_ERR_REQ_RETRY: { code: ErrorCode.SERVICE_ERROR, message: 'retries exhausted', retryable: true },
  UND_ERR_RESPONSE: { code: ErrorCode.SERVICE_ERROR, message: 'error response', retryable: false },
  UND_ERR_PRX_TLS: { code: ErrorCode.UNREACHABLE, message: 'TLS failure to the HTTP proxy', retryable: false },
  UND_ERR_PRX_CONN: lost('HTTP proxy connection failed'),
  UND_ERR_REDIRECT_MAX: garbled('too many redirects'),
  UND_ERR_MAX_ORIGINS_REACHED: bug('too many origins for one agent'),
  UND_ERR_SOCKS5: lost('SOCKS5 proxy failure'),
  UND_ERR_WS_MESSAGE_SIZE_EXCEEDED: garbled('WebSocket message too large'),

  // Node's own aborts (AbortSignal on a socket or stream) without a caller behind them.
  ABORT_ERR: lost('request aborted'),
  ERR_STREAM_PREMATURE_CLOSE: lost('response body cut short'),
  ERR_INVALID_URL: bug('invalid URL'),
};

/** TLS verification and handshake failures: not retryable (the same certificate will fail again). */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|ERR_OSSL)/;

/** The meaning of a Node/undici error code; undefined when the code is not a transport code. */
export function meaningOfCode(code: string): CodeMeaning | undefined {
  const known = NODE_ERROR_CODES[code];
  if (known) return known;
  if (TLS_CODE.test(code)) return { code: ErrorCode.UNREACHABLE, message: 'TLS failure', retryable: false };
  // llhttp parse errors (HPE_INVALID_CHUNK_SIZE, ...): the server sent something that is not HTTP.
  if (code.startsWith('HPE_')) return garbled('malformed HTTP response');
  // Any other socket-level errno or undici code: we could not talk to the server.
  if (/^E[A-Z0-9_]+$/.test(code) || code.startsWith('UND_ERR_')) return lost();
  return undefined;
}
