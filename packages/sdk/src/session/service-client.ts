import { ErrorCode } from '../errors/codes.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';
import { deadlineOf, resolveDeadline } from '../transport/cancel.ts';
import { safeUrl } from '../transport/errors.ts';
import type { HttpResponse, RequestBody } from '../transport/types.ts';
import { microversionHeaders, negotiateMicroversion as negotiate } from './microversion.ts';
import { paginate } from './paginate.ts';
import type {
  EndpointVersion,
  PaginateOptions,
  Query,
  RequestOptions,
  ServiceClient,
  ServiceClientOptions,
  ServiceResponse,
  Session,
} from './types.ts';

/** What a ServiceClient needs from its session beyond the public Session interface. */
export interface SessionInternals {
  readonly session: Session;
  /** Time budget default (ms). */
  defaultTimeoutMs(): number;
  /** Discovery (cached) for a client's endpoint. */
  endpointVersion(
    serviceType: string,
    opts: ServiceClientOptions,
    call: { signal?: AbortSignal | undefined; deadline: number },
  ): Promise<EndpointVersion>;
  /** Send with the token; one re-auth + retry on 401; AUTH_EXPIRED when the retry is refused too. */
  sendAuthenticated(
    req: {
      method: string;
      url: string;
      headers: Record<string, string>;
      body?: RequestBody | undefined;
      signal?: AbortSignal | undefined;
      deadline: number;
      timeoutMs: number | undefined;
      streamResponse?: boolean | undefined;
      idempotent?: boolean | undefined;
      idleMs?: number | undefined;
    },
    serviceType: string,
    unauthenticated: boolean,
  ): Promise<HttpResponse>;
}

export function appendQuery(url: string, query: Query | undefined): string {
  if (!query) return url;
  const params = new URLSearchParams();
  if (query instanceof URLSearchParams) for (const [k, v] of query) params.append(k, v);
  else
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null) continue;
      if (Array.isArray(v)) for (const x of v) params.append(k, String(x));
      else params.append(k, String(v));
    }
  const qs = params.toString();
  if (!qs) return url;
  return `${url}${url.includes('?') ? '&' : '?'}${qs}`;
}

export function joinUrl(base: string, path: string): string {
  if (/^https?:\/\//i.test(path)) return path;
  if (path === '' || path === '/') return base;
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** An upload body that is read as it is sent (not a string or bytes). */
const streamedBody = (b: RequestBody | undefined) =>
  b !== undefined && typeof b !== 'string' && !(b instanceof Uint8Array);

/** The caller bounded the whole call itself (a budget, a deadline, or a signal that carries one). */
const callerBudget = (o: RequestOptions) =>
  o.timeoutMs !== undefined || o.deadline !== undefined || deadlineOf(o.signal) !== undefined;

type CallBudget = { signal?: AbortSignal; timeoutMs?: number; deadline?: number };

export class SessionServiceClient implements ServiceClient {
  readonly serviceType: string;
  readonly #internals: SessionInternals;
  readonly #opts: ServiceClientOptions;

  constructor(internals: SessionInternals, serviceType: string, opts: ServiceClientOptions) {
    this.#internals = internals;
    this.serviceType = serviceType;
    this.#opts = opts;
  }

  get session(): Session {
    return this.#internals.session;
  }

  /**
   * The call's deadline: the caller's (`deadline`, or the one its signal carries — a fan-out's per-cloud deadline, the
   * CLI's --timeout), else a budget of `timeoutMs` / the cloud's api_timeout starting now. Never a second budget.
   */
  #deadline(opts: {
    timeoutMs?: number | undefined;
    deadline?: number | undefined;
    signal?: AbortSignal | undefined;
  }): {
    deadline: number;
    timeoutMs: number | undefined;
  } {
    const deadline = resolveDeadline(opts, this.#internals.defaultTimeoutMs());
    return { deadline, timeoutMs: opts.timeoutMs };
  }

  async version(opts: CallBudget = {}): Promise<EndpointVersion> {
    const { deadline } = this.#deadline(opts);
    return this.#internals.endpointVersion(this.serviceType, this.#opts, { signal: opts.signal, deadline });
  }

  async endpoint(opts: CallBudget = {}): Promise<string> {
    return (await this.version(opts)).url;
  }

  async negotiateMicroversion(requested?: string): Promise<string | undefined> {
    const want = requested ?? this.#opts.microversion;
    if (want === undefined) return undefined;
    const v = await this.version();
    return negotiate(this.serviceType, want, { min: v.minMicroversion, max: v.maxMicroversion });
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<ServiceResponse> {
    const m = method.toUpperCase();
    const { deadline, timeoutMs } = this.#deadline(opts);
    const call = { signal: opts.signal, deadline };
    const version = await this.#internals.endpointVersion(this.serviceType, this.#opts, call);
    const url = appendQuery(joinUrl(version.url, path), opts.query);
    // Only a failure needs it (made lazily: the URL made safe is not free).
    const errCtx = () => ({
      cloud: this.session.cloudName,
      region: this.session.regionName || undefined,
      service: this.serviceType,
      method: m,
      url: safeUrl(url),
    });
    const headers: Record<string, string> = {};
    let body: RequestBody | undefined = opts.body;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.json);
    }
    headers.accept = 'application/json';
    const mvWanted = opts.microversion ?? this.#opts.microversion;
    if (mvWanted !== undefined) {
      let mv: string | undefined;
      try {
        mv = negotiate(this.serviceType, mvWanted, { min: version.minMicroversion, max: version.maxMicroversion });
      } catch (err) {
        throw isOcxError(err) ? err.withContext(errCtx()) : err;
      }
      if (mv) Object.assign(headers, microversionHeaders(this.serviceType, mv));
    }
    for (const [k, v] of Object.entries(opts.headers ?? {})) {
      const lower = k.toLowerCase();
      for (const existing of Object.keys(headers)) if (existing === lower) delete headers[existing];
      headers[k] = v;
    }
    const res = await this.#internals.sendAuthenticated(
      {
        method: m,
        url,
        headers,
        body,
        signal: opts.signal,
        deadline,
        timeoutMs,
        streamResponse: opts.stream,
        idempotent: opts.idempotent,
        idleMs: streamedBody(body) && !callerBudget(opts) ? this.#internals.defaultTimeoutMs() : undefined,
      },
      this.serviceType,
      opts.unauthenticated === true,
    );
    const expected =
      opts.expect === undefined ? undefined : Array.isArray(opts.expect) ? opts.expect : [opts.expect as number];
    const ok = expected ? expected.includes(res.status) : res.status >= 200 && res.status < 300;
    if (ok) return res;
    const text = await res.text().catch(() => '');
    if (res.status < 400) {
      // an unexpected success, or a redirect (never followed: OpenStack APIs do not redirect API calls)
      const location = res.headers.get('location');
      throw new OcxError(
        ErrorCode.INVALID_RESPONSE,
        `expected HTTP ${expected ? expected.join('/') : '2xx'} but got ${res.status}${location ? ` (Location: ${safeUrl(location)})` : ''}`,
        { ...errCtx(), status: res.status, requestId: res.requestId },
      );
    }
    throw OcxError.from({ status: res.status, body: text, requestId: res.requestId }, errCtx());
  }

  get(path: string, opts?: RequestOptions) {
    return this.request('GET', path, opts);
  }
  post(path: string, opts?: RequestOptions) {
    return this.request('POST', path, opts);
  }
  put(path: string, opts?: RequestOptions) {
    return this.request('PUT', path, opts);
  }
  patch(path: string, opts?: RequestOptions) {
    return this.request('PATCH', path, opts);
  }
  delete(path: string, opts?: RequestOptions) {
    return this.request('DELETE', path, opts);
  }
  head(path: string, opts?: RequestOptions) {
    return this.request('HEAD', path, opts);
  }
  async getJson<T = unknown>(path: string, opts?: RequestOptions): Promise<T> {
    return (await this.request('GET', path, opts)).json<T>();
  }
  paginate<T = Record<string, unknown>>(path: string, opts: PaginateOptions): AsyncIterable<T> {
    return paginate<T>(this, path, opts);
  }
}
