import type { Readable } from 'node:stream';
import type { AccessInfo, AuthPlugin } from '../auth/types.ts';
import type { CloudConfig, Interface } from '../config/types.ts';
import type { RequestBody, Transport, TransportOptions } from '../transport/types.ts';

export type QueryValue = string | number | boolean | undefined | null | ReadonlyArray<string | number | boolean>;
export type Query = Record<string, QueryValue> | URLSearchParams;

export interface RequestOptions {
  /** Appended to the URL (arrays repeat the key: ?status=a&status=b). undefined/null values are dropped. */
  query?: Query | undefined;
  /** JSON body (sets Content-Type: application/json). */
  json?: unknown;
  /** Raw body (string, bytes, or a stream for uploads). */
  body?: RequestBody | undefined;
  headers?: Record<string, string> | undefined;
  /**
   * Accepted statuses. Default: any 2xx. A status outside the set rejects with OcxError.from's error for that answer
   * (or INVALID_RESPONSE when the status is 2xx but unexpected).
   */
  expect?: number | readonly number[] | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Time budget for this call (ms), including re-auth and retries. Default: the cloud's api_timeout or 60 s — for a
   * streamed `body` (an upload) that default is an idle budget instead: it runs out only when no byte moves for
   * that long, however long the whole upload takes. A `timeoutMs`, `deadline` or deadline-carrying signal of the
   * caller bounds the whole call as given.
   */
  timeoutMs?: number | undefined;
  /**
   * The caller's absolute deadline (epoch ms), e.g. a fan-out's per-cloud deadline. Bounds discovery, auth, the
   * request and the body read; no budget of the client's own is started. A signal from the fan-out (or any
   * callScope) carries its deadline already.
   */
  deadline?: number | undefined;
  /** Microversion for this call ('2.79', or 'latest' = the highest both sides support). Overrides the client default. */
  microversion?: string | undefined;
  /** Do not send X-Auth-Token. */
  unauthenticated?: boolean | undefined;
  /** Consume the response as a stream (large downloads): the deadline bounds only the wait for headers. */
  stream?: boolean | undefined;
  /** Override idempotency (e.g. a POST action that is safe to repeat). */
  idempotent?: boolean | undefined;
}

/** A response from a service call. Non-2xx (or non-`expect`) statuses never get here: they reject with OcxError. */
export interface ServiceResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly url: string;
  readonly method: string;
  readonly requestId: string | undefined;
  readonly body: Readable;
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  bytes(): Promise<Uint8Array>;
  dump(): Promise<void>;
}

export interface PaginateOptions {
  /** Key of the item array in each page: 'servers', 'images', 'networks', 'volumes', ... */
  itemsKey: string;
  /**
   * Key of the links in the page. Default: `${itemsKey}_links` (Nova/Cinder/Neutron), then `links` (Keystone), then
   * a top-level `next` (Glance). When none is found and `marker` is set, marker style is used.
   */
  linksKey?: string | undefined;
  query?: Query | undefined;
  /** Page size sent as `limit` (omit to let the server choose). */
  limit?: number | undefined;
  /**
   * Swift / marker style: the next page is requested with `marker=<last item's markerField>` until a page comes back
   * empty (or shorter than `limit`). Default field: 'name' for object-store, else 'id'.
   */
  marker?: boolean | undefined;
  markerField?: string | undefined;
  headers?: Record<string, string> | undefined;
  signal?: AbortSignal | undefined;
  /** Budget per page request. */
  timeoutMs?: number | undefined;
  microversion?: string | undefined;
}

export interface ServiceClientOptions {
  interface?: Interface | undefined;
  region?: string | undefined;
  serviceName?: string | undefined;
  /** Use this URL instead of the catalog (like `<service>_endpoint_override`). */
  endpointOverride?: string | undefined;
  /** Major API version wanted, e.g. '2' for image, '3' for block-storage (like `<service>_api_version`). */
  apiVersion?: string | undefined;
  /** Default microversion for all calls of this client ('latest' allowed). */
  microversion?: string | undefined;
}

/** A negotiated API version of one endpoint. */
export interface EndpointVersion {
  /** The versioned base URL all paths are relative to (no trailing slash), e.g. http://h/compute/v2.1 */
  url: string;
  /** Major version, e.g. '2.1', '3', '2', '2.0'. */
  version: string;
  /** Microversion range (compute, block-storage, ...); undefined when the service has none. */
  minMicroversion?: string | undefined;
  maxMicroversion?: string | undefined;
}

export interface ServiceClient {
  /** Canonical service type (block-storage even when the catalog says volumev3). */
  readonly serviceType: string;
  readonly session: Session;
  /** The versioned base URL (catalog or override + version discovery). */
  endpoint(opts?: { signal?: AbortSignal; timeoutMs?: number; deadline?: number }): Promise<string>;
  /** Discovery result for this client's endpoint (cached per endpoint). */
  version(opts?: { signal?: AbortSignal; timeoutMs?: number; deadline?: number }): Promise<EndpointVersion>;
  /**
   * Resolve a requested microversion against the server's range: 'latest' → the server max; a number outside the
   * range → BAD_REQUEST before any call. undefined when the service has no microversions and none was asked.
   */
  negotiateMicroversion(requested?: string): Promise<string | undefined>;
  /** `path` is relative to the versioned endpoint ('/servers/detail'); an absolute URL is used as is. */
  request(method: string, path: string, opts?: RequestOptions): Promise<ServiceResponse>;
  get(path: string, opts?: RequestOptions): Promise<ServiceResponse>;
  post(path: string, opts?: RequestOptions): Promise<ServiceResponse>;
  put(path: string, opts?: RequestOptions): Promise<ServiceResponse>;
  patch(path: string, opts?: RequestOptions): Promise<ServiceResponse>;
  delete(path: string, opts?: RequestOptions): Promise<ServiceResponse>;
  head(path: string, opts?: RequestOptions): Promise<ServiceResponse>;
  /** GET a JSON document (convenience: request + json()). */
  getJson<T = unknown>(path: string, opts?: RequestOptions): Promise<T>;
  /** Iterate all items of a collection across pages (links/next/marker styles). */
  paginate<T = Record<string, unknown>>(path: string, opts: PaginateOptions): AsyncIterable<T>;
}

export interface SessionOptions {
  /** Use this plugin instead of one built from cloud.authType/auth (e.g. a Keystone2Keystone plugin). */
  auth?: AuthPlugin | undefined;
  /** Share a transport (and its pools) between sessions; otherwise one is created from the cloud's TLS settings. */
  transport?: Transport | undefined;
  /** Options for the transport this session creates (ignored when `transport` is given). */
  transportOptions?: TransportOptions | undefined;
  /** Region to use (default cloud.regionName). */
  region?: string | undefined;
  /** Refresh a cached token this long before it expires (ms, default 5 minutes, like keystoneauth's stale window). */
  refreshMarginMs?: number | undefined;
  /** Share a token cache between sessions (default: a process-wide cache). */
  tokenCache?: TokenCache | undefined;
  /** For a cloud with `federation` (K2K): the home cloud whose Keystone is the IdP (default: `federation.home`). */
  homeCloud?: CloudConfig | undefined;
}

export interface TokenCache {
  get(key: string): AccessInfo | undefined;
  set(key: string, access: AccessInfo): void;
  delete(key: string): void;
}

export interface Session {
  readonly cloud: CloudConfig;
  /** cloud.name */
  readonly cloudName: string;
  readonly regionName: string;
  readonly transport: Transport;
  readonly authPlugin: AuthPlugin;
  /** A valid token (cached; refreshed before expiry; re-authenticates when forced). */
  getAccess(opts?: {
    signal?: AbortSignal | undefined;
    timeoutMs?: number | undefined;
    /** Absolute deadline (epoch ms) for the authentication; wins over timeoutMs. */
    deadline?: number | undefined;
    forceRefresh?: boolean | undefined;
  }): Promise<AccessInfo>;
  getToken(opts?: {
    signal?: AbortSignal | undefined;
    timeoutMs?: number | undefined;
    deadline?: number | undefined;
  }): Promise<string>;
  /** Forget the cached token (next call authenticates again). */
  invalidate(): void;
  /** Catalog (or override) endpoint of a service before version discovery. ENDPOINT_NOT_FOUND when none matches. */
  endpointFor(
    serviceType: string,
    opts?: ServiceClientOptions & { signal?: AbortSignal | undefined; deadline?: number | undefined },
  ): Promise<string>;
  /** A client for one service type (aliases accepted: volumev3 → block-storage, ...). Cheap; cached per options. */
  client(serviceType: string, opts?: ServiceClientOptions): ServiceClient;
  /** The current project id (from the token), if project-scoped. */
  projectId(): Promise<string | undefined>;
  close(): Promise<void>;
}
