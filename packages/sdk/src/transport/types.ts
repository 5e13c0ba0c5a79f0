import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';

/**
 * What a request body may be. Strings and byte arrays can be replayed (so they may be retried);
 * streams are sent once and are never retried.
 */
export type RequestBody = string | Uint8Array | Readable | AsyncIterable<Uint8Array>;

/** Who a call is made for: used by rate limits, logging, metrics and error context. Never holds a token. */
export interface RequestContext {
  cloud?: string | undefined;
  region?: string | undefined;
  /** Canonical service type (compute, block-storage, identity, ...). */
  service?: string | undefined;
  /** A short label for logs/metrics, e.g. 'auth.password', 'k2k.ecp'. */
  operation?: string | undefined;
}

export interface HttpRequest {
  method: string;
  /** Absolute URL (query string included). */
  url: string;
  /** Header names in any case; values are sent verbatim. */
  headers?: Record<string, string> | undefined;
  body?: RequestBody | undefined;
  /** The caller's cancellation. Aborting it ends the call with CANCELLED. */
  signal?: AbortSignal | undefined;
  /** Time budget for this call (ms), including retries. Ignored when `deadline` is set. */
  timeoutMs?: number | undefined;
  /** Absolute deadline (epoch ms). Passing it ends the call with TIMEOUT. Set by the deadline middleware if absent. */
  deadline?: number | undefined;
  /**
   * A streamed body (a stream or async iterable) that may take longer than the deadline: each chunk sent, and the
   * end of the body, move the deadline to at least `idleMs` from then, so the call fails with TIMEOUT only when no
   * byte moves for `idleMs` (or the answer takes that long after the last one). Ignored for other bodies.
   */
  idleMs?: number | undefined;
  /** Override the method-based idempotency rule (GET/HEAD/PUT/DELETE/OPTIONS are idempotent). */
  idempotent?: boolean | undefined;
  /**
   * The response body will be consumed as a stream (large downloads): the deadline then covers only
   * the wait for response headers; the body is bounded by an idle timeout instead.
   */
  streamResponse?: boolean | undefined;
  context?: RequestContext | undefined;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  /** The request URL (never carries a token). */
  readonly url: string;
  readonly method: string;
  /** OpenStack request id from x-openstack-request-id / x-compute-request-id / x-trans-id / ... */
  readonly requestId: string | undefined;
  /** The raw body as a Node stream. Consume it at most once (or use text()/json()/bytes()). */
  readonly body: Readable;
  text(): Promise<string>;
  /** Parses the body as JSON; INVALID_RESPONSE when it is not JSON. An empty body gives undefined. */
  json<T = unknown>(): Promise<T>;
  bytes(): Promise<Uint8Array>;
  /** Discard the body (frees the connection). Safe to call more than once. */
  dump(): Promise<void>;
}

/** The terminal or intermediate step of the onion. */
export type Handler = (req: HttpRequest) => Promise<HttpResponse>;
/** Middleware: `(next) => (req) => Promise<res>`. */
export type Middleware = (next: Handler) => Handler;

export interface RetryOptions {
  /** Extra attempts after the first (default 2). */
  maxRetries?: number;
  /** First backoff in ms (default 250), doubled each retry, capped by maxDelayMs. */
  baseDelayMs?: number;
  /** Cap on one backoff / honoured Retry-After (default 30000). */
  maxDelayMs?: number;
  /** Statuses retried when the method is idempotent (default [503]; 429 is never retried unless listed). */
  retryStatuses?: number[];
}

export interface RateLimitOptions {
  /** Sustained calls per second (token bucket); undefined = unlimited. */
  callsPerSecond?: number;
  /** Bucket size (burst), default max(1, callsPerSecond). */
  burst?: number;
  /** Max requests in flight; undefined = unlimited. */
  concurrency?: number;
}

export interface TlsOptions {
  /** false disables certificate verification; a string is a CA bundle path. */
  verify?: boolean | string | undefined;
  /** Client certificate / key (PEM paths). */
  cert?: string | undefined;
  key?: string | undefined;
}

/** What metrics hooks are told. Labels never include a token or a URL path with ids. */
export interface RequestMetric {
  method: string;
  /** scheme://host:port only. */
  origin: string;
  cloud?: string | undefined;
  region?: string | undefined;
  service?: string | undefined;
  operation?: string | undefined;
  /** HTTP status, when a response came back. */
  status?: number | undefined;
  /** OcxError code, when the attempt failed without a response (UNREACHABLE, TIMEOUT, CANCELLED). */
  errorCode?: string | undefined;
  durationMs: number;
  /** 1 for the first attempt. */
  attempt: number;
}

/** A callback interface the proxy binds prom-client to. All hooks are optional and must not throw. */
export interface MetricsHooks {
  /** One per HTTP attempt that completed (with a response or with an error). */
  onAttempt?(metric: RequestMetric): void;
  /** One per logical call (after retries). */
  onRequest?(metric: RequestMetric): void;
  /** A retry is about to wait `delayMs`. */
  onRetry?(metric: RequestMetric & { delayMs: number; reason: string }): void;
  /** A call waited `waitMs` for the rate limit / concurrency cap. */
  onThrottle?(info: { service?: string | undefined; cloud?: string | undefined; waitMs: number }): void;
}

/** The minimal logger shape the transport needs (pino satisfies it). */
export interface LoggerLike {
  trace(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  isLevelEnabled?(level: string): boolean;
  child?(bindings: Record<string, unknown>): LoggerLike;
}

export interface TransportOptions {
  /** Inject a dispatcher (e.g. undici MockAgent). When set, TLS options and pooling are the dispatcher's business. */
  dispatcher?: Dispatcher | undefined;
  tls?: TlsOptions | undefined;
  /** Default per-call time budget in ms (default 60000). */
  timeoutMs?: number | undefined;
  /** Connect timeout in ms (default 10000, bounded by the deadline). */
  connectTimeoutMs?: number | undefined;
  /** false disables retries. */
  retry?: RetryOptions | false | undefined;
  /** Per canonical service type; key '*' applies to services without their own entry. */
  rateLimits?: Record<string, RateLimitOptions> | undefined;
  logger?: LoggerLike | undefined;
  /** Log request/response bodies (redacted) at trace level. Default true when the logger's trace level is enabled. */
  logBodies?: boolean | undefined;
  metrics?: MetricsHooks | undefined;
  /** Extra middleware, outermost first, run inside deadline and outside retry. */
  middleware?: Middleware[] | undefined;
  /** Max connections per origin (default 16). */
  connectionsPerOrigin?: number | undefined;
  /** User-Agent header (default 'ocx-sdk/<version>'). */
  userAgent?: string | undefined;
}

export interface Transport {
  /** Run one call through the middleware onion. Rejects only with OcxError (UNREACHABLE, TIMEOUT, CANCELLED, INVALID_RESPONSE). Non-2xx statuses resolve. */
  request(req: HttpRequest): Promise<HttpResponse>;
  readonly logger: LoggerLike;
  readonly metrics: MetricsHooks | undefined;
  /** Close all pools this transport created (not an injected dispatcher). */
  close(): Promise<void>;
}
