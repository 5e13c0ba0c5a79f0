import { expiresSoon } from '../auth/access-info.ts';
import { cachedAccess, DEFAULT_REFRESH_MARGIN_MS, defaultTokenCache, type TokenStore } from '../auth/cache.ts';
import { Keystone2Keystone } from '../auth/k2k.ts';
import { authFromConfig } from '../auth/plugins.ts';
import type { AccessInfo, AuthContext, AuthPlugin } from '../auth/types.ts';
import type { CloudConfig, FederationConfig } from '../config/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';
import { resolveDeadline } from '../transport/cancel.ts';
import { safeUrl } from '../transport/errors.ts';
import { SharedFlight } from '../transport/shared-flight.ts';
import { createTransport } from '../transport/transport.ts';
import type { HttpResponse, RequestBody, Transport } from '../transport/types.ts';
import { canonicalServiceType } from '../wire/service-types.ts';
import { expandEndpointTemplate, selectEndpoint } from './catalog.ts';
import { discoverEndpoint } from './discovery.ts';
import { type SessionInternals, SessionServiceClient } from './service-client.ts';
import type { EndpointVersion, ServiceClient, ServiceClientOptions, Session, SessionOptions } from './types.ts';

const DEFAULT_TIMEOUT_MS = 60_000;

/** The K2K plugin for a cloud reached through a home cloud's IdP (clouds.yaml `federation`-style config). */
export function k2kFromConfig(home: CloudConfig, federation: FederationConfig): Keystone2Keystone {
  const target = federation.remoteProjectId
    ? { projectId: federation.remoteProjectId }
    : federation.remoteProjectName
      ? {
          projectName: federation.remoteProjectName,
          projectDomainId: federation.remoteProjectDomainId,
          projectDomainName: federation.remoteProjectDomainName,
        }
      : {};
  return new Keystone2Keystone({ idp: authFromConfig(home), serviceProvider: federation.serviceProvider, target });
}

function replayable(body: RequestBody | undefined): boolean {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array;
}

/** Endpoint URLs found in a token's catalog, by service type, interface, region and name. */
const endpointsByAccess = new WeakMap<AccessInfo, Map<string, string>>();

/** A Session for one cloud + region: auth, catalog, discovery, microversions, one re-auth on 401. */
export class CloudSession implements Session {
  readonly cloud: CloudConfig;
  readonly regionName: string;
  readonly transport: Transport;
  readonly authPlugin: AuthPlugin;
  readonly #ownsTransport: boolean;
  readonly #cache: TokenStore;
  readonly #margin: number;
  readonly #clients = new Map<string, ServiceClient>();
  readonly #versions = new Map<string, SharedFlight<EndpointVersion>>();
  readonly #internals: SessionInternals;

  constructor(cloud: CloudConfig, opts: SessionOptions = {}) {
    this.cloud = cloud;
    this.regionName = opts.region ?? cloud.regionName ?? '';
    this.#cache = opts.tokenCache ?? defaultTokenCache;
    this.#margin = opts.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
    if (opts.auth) this.authPlugin = opts.auth;
    else if (cloud.federation) {
      const home = opts.homeCloud ?? cloud.federation.home;
      if (!home)
        throw new OcxError(
          ErrorCode.CONFIG_INVALID,
          `cloud ${cloud.name} is reached through K2K from ${cloud.federation.homeCloud}; pass that cloud's config as homeCloud`,
          { cloud: cloud.name, key: 'federation.home_cloud' },
        );
      this.authPlugin = k2kFromConfig(home, cloud.federation);
    } else this.authPlugin = authFromConfig(cloud);
    this.#ownsTransport = !opts.transport;
    this.transport =
      opts.transport ??
      createTransport({
        timeoutMs: this.#defaultTimeoutMs(),
        ...opts.transportOptions,
        tls: opts.transportOptions?.tls ?? { verify: cloud.verify, cert: cloud.cert, key: cloud.key },
      });
    this.#internals = {
      session: this,
      defaultTimeoutMs: () => this.#defaultTimeoutMs(),
      endpointVersion: (type, o, call) => this.#endpointVersion(type, o, call),
      sendAuthenticated: (req, type, unauth) => this.#send(req, type, unauth),
    };
  }

  get cloudName(): string {
    return this.cloud.name;
  }

  #defaultTimeoutMs(): number {
    return this.cloud.apiTimeout !== undefined && this.cloud.apiTimeout > 0
      ? Math.round(this.cloud.apiTimeout * 1000)
      : DEFAULT_TIMEOUT_MS;
  }

  #authContext(call: {
    signal?: AbortSignal | undefined;
    deadline?: number | undefined;
    timeoutMs?: number;
  }): AuthContext {
    const timeoutMs = call.timeoutMs ?? this.#defaultTimeoutMs();
    return {
      transport: this.transport,
      signal: call.signal,
      deadline: resolveDeadline({ ...call, timeoutMs }, timeoutMs),
      timeoutMs,
      cloud: this.cloud.name,
      region: this.regionName || undefined,
      logger: this.transport.logger,
    };
  }

  async getAccess(opts: Parameters<Session['getAccess']>[0] = {}): Promise<AccessInfo> {
    // Every request asks for the token (often twice): a cached one that is not about to expire is answered here,
    // without building an auth context for a login that will not happen.
    if (!opts.forceRefresh) {
      const hit = this.#cache.get(this.authPlugin.cacheKey());
      if (hit && !expiresSoon(hit, this.#margin)) return hit;
    }
    try {
      return await cachedAccess(this.authPlugin, this.#authContext(opts), {
        cache: this.#cache,
        marginMs: this.#margin,
        force: opts.forceRefresh,
      });
    } catch (err) {
      if (err instanceof OcxError && !err.cloud) throw err.withContext({ cloud: this.cloud.name });
      throw err;
    }
  }

  async getToken(opts: Parameters<Session['getToken']>[0] = {}): Promise<string> {
    return (await this.getAccess(opts)).token;
  }

  invalidate(): void {
    this.#cache.delete(this.authPlugin.cacheKey());
  }

  async projectId(): Promise<string | undefined> {
    return (await this.getAccess()).project?.id;
  }

  async endpointFor(
    serviceType: string,
    opts: ServiceClientOptions & { signal?: AbortSignal | undefined; deadline?: number | undefined } = {},
  ): Promise<string> {
    const type = canonicalServiceType(serviceType);
    const svc = this.cloud.services?.[type] ?? {};
    const override = opts.endpointOverride ?? svc.endpointOverride;
    const access = await this.getAccess({ signal: opts.signal, deadline: opts.deadline });
    if (override) return expandEndpointTemplate(override, access.project?.id).replace(/\/+$/, '');
    const query = {
      serviceType: type,
      interface: opts.interface ?? svc.interface ?? this.cloud.interface,
      region: opts.region ?? this.regionName,
      serviceName: opts.serviceName ?? svc.serviceName,
    };
    // A token's catalog never changes: each endpoint is looked up once per token, not on every request.
    let known = endpointsByAccess.get(access);
    if (!known) {
      known = new Map();
      endpointsByAccess.set(access, known);
    }
    const key = `${type}\u0000${query.interface ?? ''}\u0000${query.region}\u0000${query.serviceName ?? ''}`;
    const hit = known.get(key);
    if (hit !== undefined) return hit;
    try {
      const ep = selectEndpoint(access.catalog, query);
      const url = expandEndpointTemplate(ep.url, access.project?.id).replace(/\/+$/, '');
      known.set(key, url);
      return url;
    } catch (err) {
      // A federated/scoped token may come without an identity entry: Keystone itself is the identity endpoint.
      if (type === 'identity' && access.catalog.every((e) => e.type !== 'identity')) return access.identityUrl;
      if (err instanceof OcxError) throw err.withContext({ cloud: this.cloud.name });
      throw err;
    }
  }

  async #fetchDoc(url: string, call: { signal?: AbortSignal | undefined; deadline: number }, service: string) {
    const token = await this.getToken({ signal: call.signal, deadline: call.deadline });
    const res = await this.transport.request({
      method: 'GET',
      url,
      headers: { accept: 'application/json', 'x-auth-token': token },
      signal: call.signal,
      deadline: call.deadline,
      context: { cloud: this.cloud.name, region: this.regionName || undefined, service, operation: 'discovery' },
    });
    if (res.status !== 200 && res.status !== 300) {
      await res.dump();
      return undefined;
    }
    // A body that is not JSON means "no version document"; a body that never came (TIMEOUT, CANCELLED) is the
    // caller's failure and must reach it, naming the step.
    return res.json().catch((err: unknown) => {
      if (isOcxError(err, ErrorCode.INVALID_RESPONSE)) return undefined;
      throw err;
    });
  }

  async #endpointVersion(
    serviceType: string,
    opts: ServiceClientOptions,
    call: { signal?: AbortSignal | undefined; deadline: number },
  ): Promise<EndpointVersion> {
    const type = canonicalServiceType(serviceType);
    const base = await this.endpointFor(type, { ...opts, signal: call.signal, deadline: call.deadline });
    const wanted = opts.apiVersion ?? this.cloud.services?.[type]?.apiVersion;
    const key = `${type}|${base}|${wanted ?? ''}`;
    let flight = this.#versions.get(key);
    if (!flight) {
      // Shared by concurrent callers and bounded by this call's deadline; one caller giving up does not cancel it for
      // the others. When they all gave up (a service that hangs), it is aborted and forgotten, so the next call
      // discovers afresh instead of joining a request that will never be answered. A success is kept.
      const deadline = call.deadline;
      const drop = () => {
        if (this.#versions.get(key) === created) this.#versions.delete(key);
      };
      const created: SharedFlight<EndpointVersion> = new SharedFlight(
        (signal) => discoverEndpoint(base, type, wanted, (url) => this.#fetchDoc(url, { signal, deadline }, type)),
        drop,
      );
      created.promise.catch(drop);
      this.#versions.set(key, created);
      flight = created;
    }
    return flight.join(call.signal, call.deadline, {
      cloud: this.cloud.name,
      region: this.regionName || undefined,
      service: type,
    });
  }

  async #send(
    req: Parameters<SessionInternals['sendAuthenticated']>[0],
    serviceType: string,
    unauthenticated: boolean,
  ): Promise<HttpResponse> {
    const context = { cloud: this.cloud.name, region: this.regionName || undefined, service: serviceType };
    const send = (token: string | undefined) =>
      this.transport.request({
        method: req.method,
        url: req.url,
        headers: token ? { ...req.headers, 'x-auth-token': token } : req.headers,
        body: req.body,
        signal: req.signal,
        deadline: req.deadline,
        timeoutMs: req.timeoutMs,
        streamResponse: req.streamResponse,
        idempotent: req.idempotent,
        idleMs: req.idleMs,
        context,
      });
    if (unauthenticated) return send(undefined);
    const access = await this.getAccess({ signal: req.signal, deadline: req.deadline });
    const first = await send(access.token);
    if (first.status !== 401) return first;
    await first.dump();
    // The token was refused: authenticate once more (unless another call already did) and try once again.
    const current = this.#cache.get(this.authPlugin.cacheKey());
    const fresh =
      current && current.token !== access.token
        ? current
        : await this.getAccess({ signal: req.signal, deadline: req.deadline, forceRefresh: true }).catch(
            (err: unknown) => {
              // A fixed token (auth_type token) that Keystone no longer knows has expired: nothing to log in with.
              if (this.authPlugin.kind === 'token' && err instanceof OcxError && err.code === ErrorCode.AUTH_FAILED)
                throw new OcxError(
                  ErrorCode.AUTH_EXPIRED,
                  `the configured token is no longer valid: ${err.message}`,
                  { ...err.context(), ...context, method: req.method, url: safeUrl(req.url), status: 401 },
                  { cause: err },
                );
              throw err;
            },
          );
    if (!replayable(req.body)) {
      throw new OcxError(
        ErrorCode.AUTH_EXPIRED,
        'the token was refused; a new one was obtained, but a streamed request body cannot be sent again',
        { ...context, method: req.method, url: safeUrl(req.url), status: 401 },
      );
    }
    return send(fresh.token);
  }

  client(serviceType: string, opts: ServiceClientOptions = {}): ServiceClient {
    const type = canonicalServiceType(serviceType);
    const key = JSON.stringify([type, opts]);
    let c = this.#clients.get(key);
    if (!c) {
      c = new SessionServiceClient(this.#internals, type, opts);
      this.#clients.set(key, c);
    }
    return c;
  }

  async close(): Promise<void> {
    if (this.#ownsTransport) await this.transport.close();
  }
}

/** Create a Session for one resolved cloud (+ region). */
export function createSession(cloud: CloudConfig, opts: SessionOptions = {}): Session {
  return new CloudSession(cloud, opts);
}
