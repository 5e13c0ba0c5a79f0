/**
 * The request engine: authenticate, route (header → extension rule → resource mapping → flooding → home),
 * forward with true streaming, rewrite links, learn mappings, answer errors in the service's own body shape.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ErrorCode, OcxError, safeUrl } from '@ocx/sdk';
import type { Logger } from 'pino';
import { type Agent, type Dispatcher, request } from 'undici';
import type { Breakers } from './breaker.ts';
import { CONSUMED_REQUEST, DROPPED_RESPONSE, HOP_BY_HOP } from './header-policy.ts';
import { errorResponse, type ProxyResponse, statusForError, unauthorized } from './errors.ts';
import type {
  CallSpec,
  Extension,
  ExtensionContext,
  ExtensionResponse,
  FanoutResult,
  UpstreamResult,
} from './extensions/types.ts';
import { matches } from './extensions/types.ts';
import type { HomeKeystone, ServiceProviderRef, ValidatedToken } from './keystone.ts';
import { noteStreamed } from './memory.ts';
import type { ProxyMetrics } from './metrics.ts';
import type { LaneObservation, RouteLane } from './native/lane.ts';
import {
  type ParsedPath,
  parsePath,
  pathFor,
  resourceOf,
  SERVICE_PREFIX,
  serviceOfType,
  singularKey,
} from './paths.ts';
import type { LearnedResource, ResourceMappings } from './resource-mappings.ts';
import { type LinkMap, publicOrigin, rewriteJson, rewriteUrl } from './rewrite.ts';
import type { SpRoots } from './sp-roots.ts';
import type { RemoteCredential, TokenMappings } from './token-mappings.ts';

export interface EngineOptions {
  /** This proxy's id on MM-PROXY-LIST (shared by replicas of one deployment). */
  proxyId: string;
  homeId: string;
  keystone: HomeKeystone;
  tokens: TokenMappings;
  resources: ResourceMappings;
  /** Service providers' service roots (version documents of services the home cloud lacks). */
  spRoots: SpRoots;
  breakers: Breakers;
  metrics: ProxyMetrics;
  logger: Logger;
  agent: Agent;
  extensions: Extension[];
  /** Fallback public origin (http://127.0.0.1:9913) when the request has no Host. */
  listenOrigin: string;
  upstreamTimeoutMs: number;
  /** Idle timeout of a streamed body (no byte for this long ends it). */
  bodyIdleTimeoutMs: number;
  fanoutTimeoutMs: number;
  floodTimeoutMs: number;
  validationCacheMs: number;
  maxJsonBodyBytes: number;
  maxRewriteBytes: number;
  /** The native lane in front (nginx): routes to offer it; the client's address comes as X-OCX-Peer. */
  lane?: RouteLane | undefined;
  /** Peer proxy discovery for token injection: target → proxy root, if any. */
  peerProxyFor?: (ctx: RequestState, targetId: string) => Promise<string | undefined>;
  /**
   * Who may inject mappings here: users of the home Keystone (names or ids) that hold `role`. Nobody when empty:
   * a user token alone never proves it comes from a peer proxy.
   */
  peers?: { users: string[]; role: string } | undefined;
  /** This proxy's own token at `targetId`'s Keystone, to prove to the proxy there that it is a peer. */
  peerToken?: ((targetId: string) => Promise<string | undefined>) | undefined;
}

const MICROVERSION_HEADERS = ['openstack-api-version', 'x-openstack-nova-api-version', 'accept'];

export interface Credential {
  targetId: string;
  kind: 'home' | 'sp' | 'via';
  token: string;
  projectId: string | undefined;
  localProjectId: string | undefined;
  endpoints: Record<string, string>;
}

/** What the engine reads of a request's head (a node:http request). */
export interface RequestLike {
  method?: string | undefined;
  url?: string | undefined;
  headers: IncomingHttpHeaders;
  socket: { remoteAddress?: string | undefined };
}

/** Everything known about one request while it is handled. */
export interface RequestState {
  req: RequestLike;
  /** The request as a body stream (node:http requests only; the fast path never has a body). */
  upload: IncomingMessage | undefined;
  started: number;
  service: string;
  method: string;
  parsed: ParsedPath;
  query: URLSearchParams;
  token: string;
  hash: string;
  user: ValidatedToken;
  proxyList: string[];
  explicitTarget: string | undefined;
  explicitProject: string | undefined;
  publicOrigin: string;
  /** Buffered request body (JSON), when the request had one. */
  body: Buffer | undefined;
  json: unknown;
  bodyChanged: boolean;
  extraHeaders: Record<string, string>;
  creds: Map<string, Promise<Credential>>;
  signal: AbortSignal;
  /** The answer's route went to the native lane. */
  offered?: boolean;
}

interface ValidationEntry {
  user: ValidatedToken | undefined;
  until: number;
}

class HttpError extends Error {
  readonly response: ProxyResponse;
  constructor(response: ProxyResponse) {
    super(`HTTP ${response.status}`);
    this.response = response;
  }
}

export class Engine {
  private readonly o: EngineOptions;
  private readonly validations = new Map<string, ValidationEntry>();

  /**
   * The access log: fixed fields (method, path without query, service, status, ms) that never hold a secret, so
   * pino's structural redaction (~13 µs a line) is skipped; the logger's last-line scrub of known secrets stays.
   */
  private readonly access: Logger;

  constructor(opts: EngineOptions) {
    this.o = opts;
    this.access = opts.logger.child({}, { redact: [] });
  }

  /** The fallback public origin once the real port is known. */
  setListenOrigin(origin: string): void {
    this.o.listenOrigin = origin;
  }

  get extensions(): Extension[] {
    return this.o.extensions;
  }

  // ───────────────────────────── entry point ─────────────────────────────

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = requestTarget(req.url ?? '/');
    const token = header(req, 'x-auth-token');
    let service = 'unknown';
    let status = 500;
    let st: RequestState | undefined;
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort(new Error('client went away'));
    });
    try {
      const hash = token ? this.o.tokens.hash(token) : '';
      const firstParse = parsePath(url.pathname);
      if (!firstParse) {
        status = 404;
        return this.send(res, errorResponse(undefined, 404, `no service at ${url.pathname}`));
      }
      service = firstParse.service;
      const listHeader = header(req, 'mm-proxy-list');
      const proxyList = listHeader
        ? listHeader
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [];
      if (proxyList.includes(this.o.proxyId)) {
        status = 508;
        return this.send(res, errorResponse(service, 508, 'request loop between federation proxies (MM-PROXY-LIST)'));
      }
      const origin = publicOrigin(req, this.o.listenOrigin);
      // Version documents are public (and never depend on who asks).
      if (firstParse.segments.length === 0 && (method === 'GET' || method === 'HEAD')) {
        status = await this.forwardVersionDocument(req, res, firstParse, url.searchParams, origin, ac.signal);
        return;
      }
      if (!token) {
        status = 401;
        return this.send(res, unauthorized(this.o.keystone.identityUrl));
      }
      const user = await this.validate(token, hash, ac.signal);
      if (!user) {
        status = 401;
        return this.send(res, unauthorized(this.o.keystone.identityUrl));
      }
      const signal = ac.signal;
      st = this.requestState({ req, upload: req, started, method, url, firstParse, token, hash, user }, () => signal);
      st.proxyList = proxyList;
      if (hasJsonBody(req, method, service)) {
        st.body = await readLimited(req, this.o.maxJsonBodyBytes, service);
        try {
          st.json = st.body.length ? JSON.parse(st.body.toString('utf8')) : undefined;
        } catch {
          st.json = undefined;
        }
      }
      status = await this.route(st, res);
    } catch (err) {
      const r = this.errorToResponse(err, service);
      status = r.status;
      if (!res.headersSent) this.send(res, r);
      else res.destroy();
    } finally {
      this.finished(started, service, method, url.pathname, status);
      // A request whose answer was not published takes back any route published for it before.
      const lane = this.o.lane;
      if (lane && token && (method === 'GET' || method === 'HEAD') && !st?.offered) {
        lane.withdraw(token, method, req.url ?? '/');
      }
    }
  }

  /**
   * Before `100 Continue`: a request that will be refused for its token (none, unknown, expired) is answered now,
   * so the client never sends the body. Undefined when the body should come.
   */
  async refuseBeforeBody(req: IncomingMessage): Promise<ProxyResponse | undefined> {
    const p = parsePath(requestTarget(req.url ?? '/').pathname);
    if (!p || p.segments.length === 0) return undefined; // not an authenticated service call
    const token = header(req, 'x-auth-token');
    if (!token) return unauthorized(this.o.keystone.identityUrl);
    const user = await this.validate(token, this.o.tokens.hash(token), AbortSignal.timeout(this.o.upstreamTimeoutMs));
    return user ? undefined : unauthorized(this.o.keystone.identityUrl);
  }

  /** Metrics and the access-log line of one request. */
  private finished(started: number, service: string, method: string, path: string, status: number): void {
    const secs = (performance.now() - started) / 1000;
    this.o.metrics.request(service, method, status, secs);
    if (this.access.isLevelEnabled('info')) {
      this.access.info({ method, path, service, status, ms: Math.round(secs * 1000) }, 'request');
    }
  }

  /** The state of an authenticated request. */
  private requestState(
    a: {
      req: RequestLike;
      upload: IncomingMessage | undefined;
      started: number;
      method: string;
      url: { pathname: string; searchParams: URLSearchParams };
      firstParse: ParsedPath;
      token: string;
      hash: string;
      user: ValidatedToken;
    },
    signal: () => AbortSignal,
  ): RequestState {
    const { req, user, firstParse } = a;
    const service = firstParse.service;
    // The token's project only matters for recognising a project segment of Cinder/Nova paths.
    const parsed =
      user.projectId && (service === 'block-storage' || service === 'compute')
        ? (parsePath(a.url.pathname, user.projectId) ?? firstParse)
        : firstParse;
    const explicit = header(req, 'mm-service-provider');
    return {
      req,
      upload: a.upload,
      started: a.started,
      service,
      method: a.method,
      parsed,
      query: a.url.searchParams,
      token: a.token,
      hash: a.hash,
      user,
      proxyList: [],
      explicitTarget: explicit ? this.resolveTargetName(explicit, user, service) : undefined,
      explicitProject: header(req, 'mm-project-id'),
      publicOrigin: publicOrigin(req, this.o.listenOrigin),
      body: undefined,
      json: undefined,
      bodyChanged: false,
      extraHeaders: {},
      creds: new Map(),
      get signal() {
        return signal();
      },
    };
  }

  /** The answer when the target's breaker is open (undefined when a call may go out). */
  private circuitOpen(st: RequestState, targetId: string): ProxyResponse | undefined {
    if (this.o.breakers.allow(targetId)) return undefined;
    const r = errorResponse(st.service, 503, `service provider ${targetId} is unavailable (circuit open); retry later`);
    r.headers['retry-after'] = '30';
    return r;
  }

  /**
   * A GET/HEAD answered 2xx with the upstream's bytes unchanged: the native lane (native/lane.ts) may answer the
   * same request by itself for as long as the token's validation is trusted here.
   */
  private offerRoute(
    st: RequestState,
    cred: Credential,
    a: { origin: string; path: string; status: number; ref: ReturnType<typeof resourceOf> },
    headers: Record<string, string | string[] | undefined>,
  ): void {
    const lane = this.o.lane;
    if (!lane || st.req.url === undefined || a.status < 200 || a.status > 299 || st.explicitTarget !== undefined)
      return;
    // nginx reaches upstreams over plain HTTP only (TLS upstreams stay with undici).
    if (!a.origin.startsWith('http://')) return;
    if (headers.location !== undefined || headers['content-location'] !== undefined) return;
    // Headers the upstream names in Connection are dropped here; nginx would pass them on.
    const connection = headers.connection;
    const named = namedByConnection(Array.isArray(connection) ? connection.join(',') : connection);
    if (named && [...named].some((n) => !HOP_BY_HOP.has(n))) return;
    const trusted = this.validations.get(st.hash)?.until ?? 0;
    const { origin, path, ref } = a;
    lane.offer(st.token, st.method, st.req.url, {
      origin,
      path,
      remoteToken: cred.token,
      targetId: cred.targetId,
      service: st.service,
      ttlMs: trusted - Date.now(),
      resource: ref ? `${ref.type} ${ref.id}` : undefined,
    });
    st.offered = true;
  }

  /** What the native lane answered by itself (drained from nginx): the same metrics and log line as here. */
  nativeAnswered(o: LaneObservation): void {
    this.o.metrics.request(o.service, o.method, o.status, o.seconds);
    if (o.upstreamSeconds !== undefined) {
      this.o.metrics.upstreamCall(o.targetId, o.service, String(o.status), o.upstreamSeconds);
    }
    this.noteOutcome(o.targetId, o.status);
    if (this.access.isLevelEnabled('info')) {
      const { method, path, service, status } = o;
      this.access.info({ method, path, service, status, ms: Math.round(o.seconds * 1000), lane: 'native' }, 'request');
    }
  }

  private errorToResponse(err: unknown, service: string): ProxyResponse {
    if (err instanceof HttpError) return err.response;
    if (err instanceof OcxError) {
      this.o.logger.warn({ err: err.toJSON() }, 'request failed');
      return errorResponse(service, statusForError(err), err.message);
    }
    this.o.logger.error({ err: { message: (err as Error)?.message, stack: (err as Error)?.stack } }, 'internal error');
    return errorResponse(service, 500, 'The federation proxy failed to handle the request.');
  }

  private resolveTargetName(name: string, user: ValidatedToken, service: string): string {
    if (name === 'default' || name === this.o.homeId) return this.o.homeId;
    if (user.serviceProviders.some((sp) => sp.id === name)) return name;
    throw new HttpError(errorResponse(service, 400, `unknown service provider ${name} (MM-SERVICE-PROVIDER)`));
  }

  // ───────────────────────────── authentication ─────────────────────────────

  private async validate(token: string, hash: string, signal: AbortSignal): Promise<ValidatedToken | undefined> {
    const now = Date.now();
    const hit = this.validations.get(hash);
    if (hit && hit.until > now) return hit.user;
    const user = await this.o.keystone.validate(token, signal);
    if (this.validations.size > 20_000) this.validations.clear();
    if (!user || user.expiresAt.getTime() <= now) {
      // Revoked, expired or unknown: no mapping made from this token may outlive it.
      await this.o.tokens.dropForToken(hash);
      this.validations.set(hash, { user: undefined, until: now + Math.min(this.o.validationCacheMs, 5_000) });
      return undefined;
    }
    this.validations.set(hash, {
      user,
      until: Math.min(now + this.o.validationCacheMs, user.expiresAt.getTime()),
    });
    return user;
  }

  // ───────────────────────────── routing ─────────────────────────────

  /** Targets this request may fan out to or flood: home + the user's SPs, minus those already on the proxy list. */
  availableTargets(st: RequestState): string[] {
    if (st.proxyList.length > 0) return [this.o.homeId];
    const sps = st.user.serviceProviders.map((sp) => sp.id).filter((id) => !st.proxyList.includes(id));
    return [this.o.homeId, ...sps];
  }

  private async route(st: RequestState, res: ServerResponse): Promise<number> {
    const p = st.parsed;
    const matchPath = `/${p.segments.join('/')}`;
    const exts = this.o.extensions.filter((e) => matches(e, st.service, st.method, matchPath));
    // No extension on this route (a plain pass-through): no extension context to build.
    const ctx = exts.length ? this.extensionContext(st) : undefined;
    if (ctx) {
      for (const ext of exts) {
        if (!ext.onRequest) continue;
        const answer = await ext.onRequest(ctx);
        st.bodyChanged = true;
        if (answer) {
          this.send(res, this.fromExtension(answer));
          return answer.status;
        }
      }
      st.query = ctx.query;
      st.json = ctx.json;
      Object.assign(st.extraHeaders, ctx.headers);
    }

    const chosen = await this.chooseTarget(st, ctx?.target ?? st.explicitTarget);
    if (typeof chosen !== 'string') return this.sendAndCount(res, chosen);
    return this.forward(st, res, chosen, exts, ctx);
  }

  /** Where a request goes: explicit/extension target, else its resource's mapping, else flooding, else home. */
  private async chooseTarget(st: RequestState, preset: string | undefined): Promise<string | ProxyResponse> {
    const p = st.parsed;
    let target = preset;
    const ref = p.version ? resourceOf(p) : undefined;
    if (!target && ref && !st.proxyList.length) {
      target = await this.o.resources.find(st.user.projectId ?? '', ref.type, ref.id);
      // An injected location is only usable with the token it was injected for; others get the home cloud.
      if (target?.startsWith('via:') && !(await this.o.tokens.forTarget(st.token, st.hash, target))) {
        target = this.o.homeId;
      }
      if (!target) {
        // A create of a named resource (PUT container) has nothing to find: it goes to the default target.
        const isCreate = st.service === 'object-store' && st.method === 'PUT' && ref.exact;
        if (!isCreate) {
          const found = await this.flood(st, ref.type, ref.id);
          if (found.kind === 'missing') {
            return errorResponse(st.service, 404, `${singularKey(ref.type)} ${ref.id} could not be found.`);
          }
          if (found.kind === 'unavailable') {
            const r = errorResponse(
              st.service,
              503,
              `could not locate ${singularKey(ref.type)} ${ref.id}: ${found.failed.join(', ')} did not answer`,
            );
            r.headers['x-ocx-missing-service-providers'] = found.failed.join(',');
            return r;
          }
          target = found.targetId;
        }
      }
    } else if (!target && ref && st.proxyList.length) {
      // From a peer proxy: only injected mappings may send it elsewhere than home.
      const mapped = await this.o.resources.find(st.user.projectId ?? '', ref.type, ref.id);
      if (mapped?.startsWith('via:')) target = mapped;
    }
    return target ?? this.o.homeId;
  }

  private sendAndCount(res: ServerResponse, r: ProxyResponse): number {
    this.send(res, r);
    return r.status;
  }

  /** Ask every available target in parallel whether it has the resource; the first 2xx wins. */
  async flood(
    st: RequestState,
    type: string,
    id: string,
  ): Promise<{ kind: 'found'; targetId: string } | { kind: 'missing' } | { kind: 'unavailable'; failed: string[] }> {
    if (this.o.resources.recentlyMissed(st.user.projectId ?? '', type, id)) return { kind: 'missing' };
    const targets = this.availableTargets(st);
    const ac = new AbortController();
    const signal = AbortSignal.any([ac.signal, st.signal]);
    const failed: string[] = [];
    // Ask the service the resource belongs to (an attach request to Nova locates a Cinder volume).
    const service =
      st.parsed.version && resourceOf(st.parsed)?.type === type ? st.service : (serviceOfType(type) ?? st.service);
    const probePath =
      service === 'object-store'
        ? { method: 'HEAD', path: `/${encodeURIComponent(id.slice(id.indexOf('/') + 1))}`, service }
        : { method: 'GET', path: `/${type}/${encodeURIComponent(id)}`, service };
    const probeHeaders =
      service === st.service
        ? microversionHeaders(st.req)
        : type === 'attachments'
          ? { 'openstack-api-version': 'volume 3.27' }
          : {};
    const winner = await new Promise<string | undefined>((resolve) => {
      let pending = targets.length;
      const done = () => {
        if (--pending === 0) resolve(undefined);
      };
      for (const t of targets) {
        if (!this.o.breakers.allow(t)) {
          failed.push(t);
          done();
          continue;
        }
        this.callTarget(st, t, { ...probePath, headers: probeHeaders }, this.o.floodTimeoutMs, signal)
          .then((r) => {
            if (r.status >= 200 && r.status < 300) resolve(t);
            else if (r.status >= 500) failed.push(t);
            done();
          })
          .catch((err: unknown) => {
            const benign =
              err instanceof OcxError &&
              (err.code === ErrorCode.CANCELLED || err.code === ErrorCode.ENDPOINT_NOT_FOUND);
            if (!benign) failed.push(t);
            done();
          });
      }
    });
    ac.abort();
    if (winner) {
      this.o.metrics.mappingLookup('resource', 'flood_hit');
      await this.o.resources.record([{ type, id, targetId: winner, projectId: st.user.projectId ?? '' }]);
      return { kind: 'found', targetId: winner };
    }
    this.o.metrics.mappingLookup('resource', 'flood_miss');
    if (failed.length) return { kind: 'unavailable', failed };
    this.o.resources.noteMiss(st.user.projectId ?? '', type, id);
    return { kind: 'missing' };
  }

  // ───────────────────────────── credentials ─────────────────────────────

  credential(st: RequestState, targetId: string, deadline: number): Promise<Credential> {
    let p = st.creds.get(targetId);
    if (!p) {
      p = this.makeCredential(st, targetId, deadline);
      st.creds.set(targetId, p);
      p.catch(() => st.creds.delete(targetId));
    }
    return p;
  }

  private async makeCredential(st: RequestState, targetId: string, deadline: number): Promise<Credential> {
    if (targetId === this.o.homeId) {
      return {
        targetId,
        kind: 'home',
        token: st.token,
        projectId: st.user.projectId,
        localProjectId: st.user.projectId,
        endpoints: await this.o.keystone.homeRoots(),
      };
    }
    if (targetId.startsWith('via:')) {
      const c = await this.o.tokens.forTarget(st.token, st.hash, targetId);
      if (!c) {
        throw new OcxError(ErrorCode.AUTH_EXPIRED, `the injected mapping for ${targetId} has expired`, {
          cloud: targetId,
        });
      }
      return viaCredential(c);
    }
    const sp = st.user.serviceProviders.find((s) => s.id === targetId);
    if (!sp) throw new OcxError(ErrorCode.NOT_FOUND, `unknown service provider ${targetId}`, { cloud: targetId });
    const c = await this.o.tokens.forSp({
      localToken: st.token,
      hash: st.hash,
      user: st.user,
      sp,
      explicitProjectId: st.explicitTarget === targetId ? st.explicitProject : undefined,
      deadline,
      signal: st.signal,
    });
    void this.o.spRoots.learn(targetId, c.endpoints);
    return {
      targetId,
      kind: 'sp',
      token: c.token,
      projectId: c.projectId,
      localProjectId: st.user.projectId,
      endpoints: c.endpoints,
    };
  }

  spRef(st: RequestState, id: string): ServiceProviderRef | undefined {
    return st.user.serviceProviders.find((s) => s.id === id);
  }

  // ───────────────────────────── upstream calls ─────────────────────────────

  private upstreamUrl(cred: Credential, service: string, path: string, query: URLSearchParams | undefined): string {
    const root = cred.endpoints[service];
    if (!root) {
      throw new OcxError(ErrorCode.ENDPOINT_NOT_FOUND, `${cred.targetId} has no ${service} endpoint`, {
        cloud: cred.targetId,
        service,
      });
    }
    const qs = query?.toString();
    return `${root}${path}${qs ? `?${qs}` : ''}`;
  }

  private upstreamHeaders(
    st: RequestState,
    cred: Credential,
    extra: Record<string, string> = {},
  ): Record<string, string> {
    const out: Record<string, string> = {};
    const connectionNamed = namedByConnection(header(st.req, 'connection'));
    const inHeaders = st.req.headers;
    for (const k in inHeaders) {
      const v = inHeaders[k];
      if (v === undefined || HOP_BY_HOP.has(k) || CONSUMED_REQUEST.has(k) || connectionNamed?.has(k)) continue;
      out[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    out['x-auth-token'] = cred.token;
    // A service token is only valid in the cloud that issued it (the home cloud).
    const serviceToken = header(st.req, 'x-service-token');
    if (serviceToken && cred.kind === 'home') out['x-service-token'] = serviceToken;
    out['mm-proxy-list'] = st.proxyList.length ? [...st.proxyList, this.o.proxyId].join(',') : this.o.proxyId;
    const xff = header(st.req, 'x-forwarded-for');
    // Behind the native lane the client's address comes from nginx (the only peer of the engine's socket).
    const peer = (this.o.lane ? header(st.req, 'x-ocx-peer') : st.req.socket.remoteAddress) ?? '';
    out['x-forwarded-for'] = xff ? `${xff}, ${peer}` : peer;
    Object.assign(out, st.extraHeaders, extra);
    return out;
  }

  /** Buffered JSON call used by flooding, fan-out and extensions. Links in the answer are rewritten. */
  async callTarget(
    st: RequestState,
    targetId: string,
    spec: CallSpec,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<UpstreamResult> {
    const deadline = Date.now() + timeoutMs;
    const service = spec.service ?? st.service;
    const sig = AbortSignal.any([signal ?? st.signal, AbortSignal.timeout(Math.max(1, timeoutMs))]);
    const t0 = performance.now();
    let outcome = 'error';
    let url = '';
    try {
      const cred = await this.credential(st, targetId, deadline);
      const p = st.parsed;
      const base =
        service === st.service && p.version
          ? pathFor({ ...p, tail: '' }, cred.projectId)
          : defaultBase(service, cred.projectId ?? '');
      url = this.upstreamUrl(cred, service, `${base}${spec.path}`, spec.query);
      const headers: Record<string, string> = {
        'x-auth-token': cred.token,
        accept: 'application/json',
        'mm-proxy-list': [...st.proxyList, this.o.proxyId].join(','),
        ...(spec.headers ?? {}),
      };
      let body: string | undefined;
      if (spec.json !== undefined) {
        body = JSON.stringify(spec.json);
        headers['content-type'] = 'application/json';
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new OcxError(ErrorCode.TIMEOUT, `${targetId}: deadline passed`, { cloud: targetId });
      const r = await request(url, {
        dispatcher: this.o.agent,
        method: spec.method as Dispatcher.HttpMethod,
        headers,
        body,
        signal: sig,
        headersTimeout: remaining,
        bodyTimeout: remaining,
      });
      const text = await r.body.text();
      outcome = String(r.statusCode);
      this.noteOutcome(targetId, r.statusCode);
      let json: unknown;
      if (text && String(r.headers['content-type'] ?? '').includes('json')) {
        try {
          json = JSON.parse(text);
          rewriteJson(json, this.linkMap(st, cred, service));
        } catch {
          json = undefined;
        }
      }
      return { targetId, status: r.statusCode, headers: r.headers, json, text };
    } catch (err) {
      const e = OcxError.from(err, {
        method: `${spec.method} ${targetId}/${service}`,
        url: safeUrl(url || targetId),
        signal: sig,
      });
      if (e.code !== ErrorCode.CANCELLED || !st.signal.aborted) {
        if (e.code === ErrorCode.TIMEOUT || e.code === ErrorCode.UNREACHABLE) this.o.breakers.failure(targetId);
      }
      outcome = e.code;
      throw e.withContext({ cloud: targetId, service });
    } finally {
      this.o.metrics.upstreamCall(targetId, service, outcome, (performance.now() - t0) / 1000);
    }
  }

  private noteOutcome(targetId: string, status: number): void {
    if (status === 502 || status === 503 || status === 504) this.o.breakers.failure(targetId);
    else this.o.breakers.success(targetId);
  }

  async fanout(
    st: RequestState,
    targetIds: string[],
    spec: (t: string) => CallSpec,
    timeoutMs: number,
  ): Promise<FanoutResult[]> {
    return Promise.all(
      targetIds.map(async (targetId): Promise<FanoutResult> => {
        if (!this.o.breakers.allow(targetId)) {
          this.o.metrics.fanoutMissing(targetId);
          return {
            targetId,
            ok: false,
            error: new OcxError(ErrorCode.UNREACHABLE, `${targetId} skipped: circuit breaker open`, {
              cloud: targetId,
            }),
          };
        }
        try {
          const result = await this.callTarget(st, targetId, spec(targetId), timeoutMs);
          return { targetId, ok: true, result };
        } catch (err) {
          const error = OcxError.from(err, { cloud: targetId });
          if (error.code !== ErrorCode.ENDPOINT_NOT_FOUND) {
            this.o.metrics.fanoutMissing(targetId);
            this.o.logger.warn(
              { target: targetId, service: st.service, code: error.code, message: error.message },
              'fan-out target left out',
            );
          }
          return { targetId, ok: false, error };
        }
      }),
    );
  }

  linkMap(st: RequestState, cred: Credential, service: string): LinkMap {
    return {
      upstreamRoot: cred.endpoints[service] ?? '',
      proxyRoot: `${st.publicOrigin}${SERVICE_PREFIX[service] ?? ''}`,
      remoteProjectId: cred.projectId,
      localProjectId: st.user.projectId,
    };
  }

  // ───────────────────────────── forwarding ─────────────────────────────

  private async forward(
    st: RequestState,
    res: ServerResponse,
    targetId: string,
    exts: Extension[],
    ctx: ExtensionContext | undefined,
  ): Promise<number> {
    const open = this.circuitOpen(st, targetId);
    if (open) return this.sendAndCount(res, open);
    const deadline = Date.now() + this.o.upstreamTimeoutMs;
    const cred = await this.credential(st, targetId, deadline);
    const url = this.upstreamUrl(cred, st.service, pathFor(st.parsed, cred.projectId), st.query);
    const headers = this.upstreamHeaders(st, cred);
    let body: Buffer | AsyncIterable<Buffer> | undefined;
    if (st.body !== undefined) {
      body = st.bodyChanged && st.json !== undefined ? Buffer.from(JSON.stringify(st.json)) : st.body;
      headers['content-length'] = String(body.length);
    } else if (
      st.method !== 'GET' &&
      st.method !== 'HEAD' &&
      st.upload &&
      (st.req.headers['content-length'] || st.req.headers['transfer-encoding'])
    ) {
      body = countedBody(st.upload); // streamed as it arrives, never buffered
    } else {
      delete headers['content-length'];
    }
    // A plain body-less GET/HEAD answered with the upstream's bytes may be published to the native lane.
    const publishable =
      (st.method === 'GET' || st.method === 'HEAD') && body === undefined && exts.length === 0 && !st.proxyList.length;
    const t0 = performance.now();
    const remaining = deadline - Date.now();
    let upstream: Dispatcher.ResponseData;
    try {
      upstream = await this.o.agent.request({
        ...originAndPath(url),
        method: st.method as Dispatcher.HttpMethod,
        headers,
        // undici takes async iterables as bodies (documented) though its typings list only Readable.
        body: body as Buffer | Readable | undefined,
        signal: st.signal,
        headersTimeout: Math.max(1, remaining),
        bodyTimeout: this.o.bodyIdleTimeoutMs,
      });
    } catch (err) {
      throw this.upstreamFailed(
        st,
        targetId,
        url,
        t0,
        OcxError.from(err, { method: `${st.method} ${targetId}/${st.service}`, url: safeUrl(url), signal: st.signal }),
      );
    }
    const status = upstream.statusCode;
    const { map, outHeaders, rewritable, ref } = await this.upstreamAnswered(
      st,
      targetId,
      cred,
      status,
      upstream.headers,
      t0,
    );
    if (!rewritable) {
      await this.learn(st, targetId, status, undefined, ref);
      if (publishable) this.offerRoute(st, cred, { ...originAndPath(url), status, ref }, upstream.headers);
      delete outHeaders['content-length'];
      if (upstream.headers['content-length'] !== undefined)
        outHeaders['content-length'] = String(upstream.headers['content-length']);
      res.writeHead(status, outHeaders);
      if (st.method === 'HEAD') {
        upstream.body.resume();
        res.end();
      } else {
        await streamBody(upstream.body, res);
      }
      return status;
    }
    // Buffer JSON for rewriting, but never more than maxRewriteBytes (a chunked answer has no length up front):
    // past the cap, what was read goes out as is and the rest streams behind it.
    const parts: Buffer[] = [];
    let size = 0;
    const upBody = upstream.body;
    const overflow = await new Promise<boolean>((resolve, reject) => {
      const cleanup = () => {
        upBody.off('data', onData);
        upBody.off('end', onEnd);
        upBody.off('error', onError);
      };
      const onData = (chunk: Buffer) => {
        parts.push(chunk);
        size += chunk.length;
        if (size > this.o.maxRewriteBytes) {
          upBody.pause();
          cleanup();
          resolve(true);
        }
      };
      const onEnd = () => {
        cleanup();
        resolve(false);
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      upBody.on('data', onData);
      upBody.on('end', onEnd);
      upBody.on('error', onError);
    });
    if (overflow) {
      await this.learn(st, targetId, status, undefined, ref);
      delete outHeaders['content-length'];
      res.writeHead(status, outHeaders);
      for (const part of parts) res.write(part);
      await streamBody(upstream.body, res);
      return status;
    }
    const raw = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const out = await this.finishBuffered(st, targetId, status, outHeaders, raw, map, exts, ctx);
    if (publishable && out.body === raw) {
      this.offerRoute(st, cred, { ...originAndPath(url), status, ref }, upstream.headers);
    }
    res.writeHead(out.status, out.headers);
    res.end(out.body);
    return out.status;
  }

  /** An upstream call that failed before an answer: breaker, metrics, log; the error to raise. */
  private upstreamFailed(st: RequestState, targetId: string, url: string, t0: number, e: OcxError): OcxError {
    if (e.code === ErrorCode.TIMEOUT || e.code === ErrorCode.UNREACHABLE) this.o.breakers.failure(targetId);
    this.o.metrics.upstreamCall(targetId, st.service, e.code, (performance.now() - t0) / 1000);
    this.o.logger.warn({ target: targetId, service: st.service, url: safeUrl(url), code: e.code }, 'upstream failed');
    return e.withContext({ cloud: targetId, service: st.service });
  }

  /** An upstream's answer head: metrics, breaker, stale remote token; the client's headers and how to send. */
  private async upstreamAnswered(
    st: RequestState,
    targetId: string,
    cred: Credential,
    status: number,
    headers: Record<string, string | string[] | undefined>,
    t0: number,
  ): Promise<{
    map: LinkMap;
    outHeaders: Record<string, string>;
    rewritable: boolean;
    ref: ReturnType<typeof resourceOf>;
  }> {
    this.o.metrics.upstreamCall(targetId, st.service, String(status), (performance.now() - t0) / 1000);
    this.noteOutcome(targetId, status);
    // A remote token the SP no longer accepts: forget it so the next request runs K2K again.
    if (status === 401 && cred.kind === 'sp') await this.o.tokens.invalidate(st.hash, targetId);
    const map = this.linkMap(st, cred, st.service);
    const outHeaders = responseHeaders(headers, map);
    outHeaders['x-ocx-service-provider'] = targetId;
    const ct = String(headers['content-type'] ?? '');
    const len = Number(headers['content-length'] ?? Number.NaN);
    const rewritable =
      ct.includes('json') &&
      st.service !== 'object-store' &&
      st.method !== 'HEAD' &&
      status !== 204 &&
      status !== 304 &&
      !(len > this.o.maxRewriteBytes);
    const ref = st.parsed.version ? resourceOf(st.parsed) : undefined;
    return { map, outHeaders, rewritable, ref };
  }

  /** A whole JSON answer in hand: rewrite links, learn, run response hooks; what the client gets. */
  private async finishBuffered(
    st: RequestState,
    targetId: string,
    status: number,
    outHeaders: Record<string, string>,
    raw: Buffer,
    map: LinkMap,
    exts: Extension[],
    ctx: ExtensionContext | undefined,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer | string }> {
    const ref = st.parsed.version ? resourceOf(st.parsed) : undefined;
    const hooks = exts.filter((e) => e.onResponse);
    const needJson =
      hooks.length > 0 ||
      (st.method === 'POST' && status < 300) ||
      (map.upstreamRoot !== '' && raw.includes(map.upstreamRoot));
    if (!needJson) {
      // Nothing to rewrite or learn from the body: send the bytes as they came (no decode, no re-encode).
      await this.learn(st, targetId, status, undefined, ref);
      outHeaders['content-length'] = String(raw.length);
      return { status, headers: outHeaders, body: raw };
    }
    const text = raw.toString('utf8');
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (json !== undefined) rewriteJson(json, map);
    await this.learn(st, targetId, status, json, ref);
    const answer: ExtensionResponse & { targetId: string } = { status, headers: outHeaders, json, targetId };
    for (const ext of hooks) await ext.onResponse!(ctx!, answer);
    const bodyOut = answer.json !== undefined ? JSON.stringify(answer.json) : text;
    const h = { ...(answer.headers ?? {}) };
    delete h['content-length'];
    h['content-length'] = String(Buffer.byteLength(bodyOut));
    return { status: answer.status, headers: h, body: bodyOut };
  }

  /** Learn from what just went through: creates, shows, deletes. Awaited before the client gets the answer. */
  private async learn(
    st: RequestState,
    targetId: string,
    status: number,
    json: unknown,
    ref: ReturnType<typeof resourceOf>,
  ): Promise<void> {
    const projectId = st.user.projectId ?? '';
    const ok = status >= 200 && status < 300;
    try {
      if (ref?.exact && st.method === 'DELETE' && (ok || status === 404)) {
        await this.o.resources.forget(projectId, ref.type, ref.id);
        this.o.lane?.forgetResource(`${ref.type} ${ref.id}`);
        return;
      }
      if (ref && ok && (st.method === 'GET' || st.method === 'HEAD' || st.method === 'PUT')) {
        await this.o.resources.record([{ type: ref.type, id: ref.id, targetId, projectId }]);
        return;
      }
      const segs = st.parsed.segments;
      if (ok && st.method === 'POST' && segs.length === 1 && json && typeof json === 'object') {
        const collection = segs[0]!;
        const learned: LearnedResource[] = [];
        const obj = json as Record<string, unknown>;
        const one = obj[singularKey(collection)] as { id?: unknown } | undefined;
        if (one && typeof one.id === 'string') learned.push({ type: collection, id: one.id, targetId, projectId });
        const many = obj[collection.replaceAll('-', '_')];
        if (Array.isArray(many)) {
          for (const it of many) {
            const id = (it as { id?: unknown })?.id;
            if (typeof id === 'string') learned.push({ type: collection, id, targetId, projectId });
          }
        }
        if (!one && !Array.isArray(many) && typeof obj.id === 'string') {
          learned.push({ type: collection, id: obj.id, targetId, projectId }); // Glance answers the image itself
        }
        if (learned.length) await this.o.resources.record(learned);
      }
    } catch (err) {
      this.o.logger.error({ err: { message: (err as Error).message } }, 'could not store a resource mapping');
      throw err;
    }
  }

  /** A service the home cloud lacks: learn a service provider's root with the caller's token (K2K). */
  private async rootFromProviders(
    req: IncomingMessage,
    p: ParsedPath,
    token: string,
    origin: string,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const hash = this.o.tokens.hash(token);
    const user = await this.validate(token, hash, signal);
    if (!user) return undefined;
    const st: RequestState = {
      req,
      upload: undefined,
      started: performance.now(),
      service: p.service,
      method: 'GET',
      parsed: p,
      query: new URLSearchParams(),
      token,
      hash,
      user,
      proxyList: [],
      explicitTarget: undefined,
      explicitProject: undefined,
      publicOrigin: origin,
      body: undefined,
      json: undefined,
      bodyChanged: false,
      extraHeaders: {},
      creds: new Map(),
      signal,
    };
    for (const sp of user.serviceProviders) {
      if (!this.o.breakers.allow(sp.id)) continue;
      try {
        const cred = await this.credential(st, sp.id, Date.now() + this.o.upstreamTimeoutMs);
        if (cred.endpoints[p.service]) return cred.endpoints[p.service];
      } catch {
        // try the next provider
      }
    }
    return undefined;
  }

  private async forwardVersionDocument(
    req: IncomingMessage,
    res: ServerResponse,
    p: ParsedPath,
    query: URLSearchParams,
    origin: string,
    signal: AbortSignal,
  ): Promise<number> {
    const roots = await this.o.keystone.homeRoots();
    // The home cloud's document when it runs the service, else one a service provider runs: known (stored,
    // learned) or discovered with the proxy's service account, else with the caller's own K2K.
    let root = roots[p.service] ?? (await this.o.spRoots.rootFor(p.service, signal))?.root;
    const token = header(req, 'x-auth-token');
    if (!root && token) root = await this.rootFromProviders(req, p, token, origin, signal);
    if (!root) {
      this.send(res, errorResponse(p.service, 404, `the home cloud has no ${p.service} service`));
      return 404;
    }
    const qs = query.toString();
    const url = `${root}${p.rest}${qs ? `?${qs}` : ''}`;
    let r: Dispatcher.ResponseData;
    try {
      r = await request(url, {
        dispatcher: this.o.agent,
        method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
        headers: { accept: header(req, 'accept') ?? 'application/json' },
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.o.upstreamTimeoutMs)]),
        headersTimeout: this.o.upstreamTimeoutMs,
        bodyTimeout: this.o.upstreamTimeoutMs,
      });
    } catch (err) {
      throw OcxError.from(err, { method: `GET ${p.service} versions`, url: safeUrl(url), signal });
    }
    const map: LinkMap = { upstreamRoot: root, proxyRoot: `${origin}${p.prefix}` };
    const headers = responseHeaders(r.headers, map);
    const text = await r.body.text();
    let out = text;
    if (String(r.headers['content-type'] ?? '').includes('json') && text) {
      try {
        const json = JSON.parse(text) as unknown;
        rewriteJson(json, map);
        out = JSON.stringify(json);
      } catch {
        // not JSON after all: pass through
      }
    }
    headers['content-length'] = String(Buffer.byteLength(out));
    res.writeHead(r.statusCode, headers);
    res.end(req.method === 'HEAD' ? undefined : out);
    return r.statusCode;
  }

  // ───────────────────────────── extension plumbing ─────────────────────────────

  private extensionContext(st: RequestState): ExtensionContext {
    const engine = this;
    const ctx: ExtensionContext = {
      service: st.service,
      method: st.method,
      path: st.parsed,
      user: st.user,
      homeId: this.o.homeId,
      availableTargets: this.availableTargets(st),
      explicitTarget: st.explicitTarget,
      fromPeer: st.proxyList.length > 0,
      publicRoot: `${st.publicOrigin}${st.parsed.prefix}`,
      query: st.query,
      json: st.json,
      headers: {},
      target: undefined,
      async locate(type, id) {
        const known = await engine.o.resources.find(st.user.projectId ?? '', type, id);
        if (known) return known;
        const f = await engine.flood(st, type, id);
        if (f.kind === 'found') return f.targetId;
        if (f.kind === 'unavailable') {
          throw new OcxError(
            ErrorCode.UNREACHABLE,
            `could not locate ${type} ${id}: ${f.failed.join(', ')} did not answer`,
          );
        }
        return undefined;
      },
      call(targetId, spec) {
        // The client's microversion only means something to the service it called (Cinder refuses "compute 2.37").
        const same = (spec.service ?? st.service) === st.service;
        const headers = { ...(same ? microversionHeaders(st.req) : {}), ...(spec.headers ?? {}) };
        return engine.callTarget(st, targetId, { ...spec, headers }, engine.o.upstreamTimeoutMs);
      },
      fanout(targetIds, spec, deadlineMs) {
        return engine.fanout(st, targetIds, spec, deadlineMs ?? engine.o.fanoutTimeoutMs);
      },
      async learn(items) {
        await engine.o.resources.record(items.map((it) => ({ ...it, projectId: st.user.projectId ?? '' })));
      },
      async inject(toTarget, fromTarget, resources) {
        await engine.inject(st, toTarget, fromTarget, resources);
      },
    };
    return ctx;
  }

  /**
   * Token injection (the design's use case): give the proxy in front of `toTarget`'s services a token mapping
   * (the user's token at `toTarget` → the user's credential at `fromTarget`) and resource mappings, so that a
   * service in `toTarget` (Nova) calling another service through its proxy (Cinder) reaches `fromTarget`.
   */
  async inject(
    st: RequestState,
    toTarget: string,
    fromTarget: string,
    resources: Array<{ type: string; id: string }>,
  ): Promise<void> {
    const deadline = Date.now() + this.o.upstreamTimeoutMs;
    const peer = this.o.peerProxyFor ? await this.o.peerProxyFor(st, toTarget) : undefined;
    if (!peer) {
      throw new HttpError(
        errorResponse(
          st.service,
          409,
          `${resources.map((r) => `${singularKey(r.type)} ${r.id}`).join(', ')} lives in ${fromTarget}, and ${toTarget} has no federation proxy in front of its services to reach it`,
        ),
      );
    }
    const to = await this.credential(st, toTarget, deadline);
    const from = await this.credential(st, fromTarget, deadline);
    const expires = Date.now() + 3_600_000;
    const body = {
      token_mapping: {
        target_id: `via:${this.o.proxyId}:${fromTarget}`,
        remote_token: from.token,
        remote_project_id: from.projectId,
        endpoints: from.endpoints,
        expires_at: new Date(Math.min(expires, st.user.expiresAt.getTime())).toISOString(),
      },
      resource_mappings: resources,
    };
    // Two tokens of the target's Keystone: ours as a peer (X-Auth-Token), the user's the mapping is for (subject).
    const peerToken = this.o.peerToken ? await this.o.peerToken(toTarget) : undefined;
    if (!peerToken) {
      throw new HttpError(
        errorResponse(
          st.service,
          409,
          `${resources.map((r) => `${singularKey(r.type)} ${r.id}`).join(', ')} lives in ${fromTarget}, and this proxy has no peer account at ${toTarget} to hand ${toTarget}'s proxy the mapping (--peer-account ${toTarget}=CLOUD)`,
        ),
      );
    }
    const r = await request(`${peer}/ocx-proxy/v1/injections`, {
      dispatcher: this.o.agent,
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': peerToken, 'x-subject-token': to.token },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.o.upstreamTimeoutMs),
      headersTimeout: this.o.upstreamTimeoutMs,
      bodyTimeout: this.o.upstreamTimeoutMs,
    }).catch((err: unknown) => {
      throw OcxError.from(err, { method: `token injection into ${toTarget}'s proxy`, url: safeUrl(peer) });
    });
    await r.body.dump();
    if (r.statusCode !== 204 && r.statusCode !== 200) {
      throw new OcxError(
        ErrorCode.FEDERATION_FAILED,
        `${toTarget}'s proxy refused the injected mappings (${r.statusCode})`,
        {
          cloud: toTarget,
          status: r.statusCode,
        },
      );
    }
  }

  /**
   * Receive an injection from a peer proxy. X-Auth-Token must be a token of a configured peer account (a user of
   * our home Keystone holding the peer role); X-Subject-Token is the user's token the mapping is for. An ordinary
   * user's token gets 403: otherwise anyone could make ids route elsewhere.
   */
  async acceptInjection(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const callerToken = header(req, 'x-auth-token');
    if (!callerToken) return this.send(res, unauthorized(this.o.keystone.identityUrl));
    const signal = AbortSignal.timeout(this.o.upstreamTimeoutMs);
    const caller = await this.validate(callerToken, this.o.tokens.hash(callerToken), signal);
    if (!caller) return this.send(res, unauthorized(this.o.keystone.identityUrl));
    const peers = this.o.peers;
    const isPeer =
      !!peers &&
      (peers.users.includes(caller.userId) || peers.users.includes(caller.userName)) &&
      caller.roles.includes(peers.role);
    if (!isPeer) {
      this.o.logger.warn({ user: caller.userId }, 'refused an injection from a caller that is not a peer proxy');
      return this.send(
        res,
        errorResponse(undefined, 403, 'only a peer federation proxy may inject mappings into this proxy'),
      );
    }
    const token = header(req, 'x-subject-token');
    if (!token) return this.send(res, errorResponse(undefined, 400, 'X-Subject-Token (the user token) is missing'));
    const user = await this.validate(token, this.o.tokens.hash(token), signal);
    if (!user) return this.send(res, errorResponse(undefined, 404, 'the subject token is not valid here'));
    const raw = await readLimited(req, this.o.maxJsonBodyBytes, undefined);
    let body: {
      token_mapping?: {
        target_id?: string;
        remote_token?: string;
        remote_project_id?: string;
        endpoints?: Record<string, string>;
        expires_at?: string;
      };
      resource_mappings?: Array<{ type?: string; id?: string }>;
    };
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return this.send(res, errorResponse(undefined, 400, 'injection body is not JSON'));
    }
    const tm = body.token_mapping;
    if (!tm?.target_id?.startsWith('via:') || !tm.remote_token || !tm.remote_project_id || !tm.endpoints) {
      return this.send(
        res,
        errorResponse(
          undefined,
          400,
          'token_mapping needs target_id (via:…), remote_token, remote_project_id, endpoints',
        ),
      );
    }
    const expiresAt = Math.min(Date.parse(tm.expires_at ?? '') || Date.now() + 3_600_000, user.expiresAt.getTime());
    const cred: RemoteCredential = {
      targetId: tm.target_id,
      token: tm.remote_token,
      projectId: tm.remote_project_id,
      localProjectId: user.projectId ?? '',
      endpoints: tm.endpoints,
      expiresAt,
    };
    await this.o.tokens.inject(token, cred);
    const learned = (body.resource_mappings ?? [])
      .filter((r): r is { type: string; id: string } => typeof r.type === 'string' && typeof r.id === 'string')
      .map((r) => ({ type: r.type, id: r.id, targetId: tm.target_id!, projectId: user.projectId ?? '' }));
    await this.o.resources.record(learned);
    this.o.logger.info({ target: tm.target_id, resources: learned.length }, 'accepted injected mappings');
    res.writeHead(204);
    res.end();
  }

  private fromExtension(a: ExtensionResponse): ProxyResponse {
    const headers = { ...(a.headers ?? {}) };
    let body: string | Buffer = a.body ?? '';
    if (a.json !== undefined) {
      body = JSON.stringify(a.json);
      headers['content-type'] ??= 'application/json';
    }
    return { status: a.status, headers, body };
  }

  send(res: ServerResponse, r: ProxyResponse): void {
    const body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
    // Answered before the request body was read (refused upload): say close and stop reading, rather than let
    // node:http read and discard what may be gigabytes to keep the connection.
    const req = res.req as IncomingMessage | undefined;
    if (req && !req.complete && (req.headers['transfer-encoding'] || Number(req.headers['content-length'] ?? 0) > 0)) {
      res.shouldKeepAlive = false;
    }
    res.writeHead(r.status, { ...r.headers, 'content-length': String(body.length) });
    res.end(body);
  }
}

/** Versioned base path of a service when an extension calls a service other than the request's. */
function defaultBase(service: string, projectId: string): string {
  switch (service) {
    case 'compute':
      return '/v2.1';
    case 'block-storage':
      return `/v3/${projectId}`;
    case 'image':
      return '/v2';
    case 'network':
      return '/v2.0';
    case 'object-store':
      return `/v1/AUTH_${projectId}`;
    default:
      return '';
  }
}


function viaCredential(c: RemoteCredential): Credential {
  return {
    targetId: c.targetId,
    kind: 'via',
    token: c.token,
    projectId: c.projectId,
    localProjectId: c.localProjectId,
    endpoints: c.endpoints,
  };
}

export function header(req: RequestLike, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function microversionHeaders(req: RequestLike): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of MICROVERSION_HEADERS) {
    const v = header(req, h);
    if (v && h !== 'accept') out[h] = v;
  }
  return out;
}

function responseHeaders(h: Record<string, string | string[] | undefined>, map: LinkMap): Record<string, string> {
  const out: Record<string, string> = {};
  const c = h.connection;
  const connectionNamed = namedByConnection(Array.isArray(c) ? c.join(',') : c);
  for (const k in h) {
    const v = h[k];
    if (v === undefined || HOP_BY_HOP.has(k) || connectionNamed?.has(k) || k === 'content-length') continue;
    if (DROPPED_RESPONSE.has(k)) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : v;
  }
  if (out.location) out.location = rewriteUrl(out.location, map);
  if (out['content-location']) out['content-location'] = rewriteUrl(out['content-location'], map);
  return out;
}

/** Characters that need nothing from WHATWG URL parsing in a request target (no dot segments checked here). */
const PLAIN_TARGET = /^\/(?!\/)[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*$/;

/**
 * The path and query of a request target. A plain target (the usual case) is split as is; anything else
 * (dot segments, characters URL would escape, '//' at the start, a fragment) goes through WHATWG URL as before,
 * which normalises it.
 */
function requestTarget(raw: string): { pathname: string; searchParams: URLSearchParams } {
  // WHATWG URL treats %2e like '.' in dot segments: such targets take the URL path too.
  if (PLAIN_TARGET.test(raw) && !raw.includes('/.') && !/%2e/i.test(raw)) {
    const q = raw.indexOf('?');
    if (q < 0) return { pathname: raw, searchParams: new URLSearchParams() };
    const pathname = raw.slice(0, q);
    if (!pathname.includes('?')) return { pathname, searchParams: new URLSearchParams(raw.slice(q + 1)) };
  }
  const u = new URL(raw, 'http://proxy');
  return { pathname: u.pathname, searchParams: u.searchParams };
}

/** undici's origin + path for an absolute http(s) URL built from a catalog root (split once, not re-parsed). */
function originAndPath(url: string): { origin: string; path: string } {
  const start = url.indexOf('://');
  const slash = start < 0 ? -1 : url.indexOf('/', start + 3);
  if (start < 0 || /[\s\\#]|\/\./.test(url)) {
    const u = new URL(url);
    return { origin: u.origin, path: `${u.pathname}${u.search}` };
  }
  return slash < 0 ? { origin: url, path: '/' } : { origin: url.slice(0, slash), path: url.slice(slash) };
}

/** Pipe a streamed upstream body to the client (backpressure by pipeline), counting bytes for noteStreamed. */
function streamBody(body: Dispatcher.ResponseData['body'], res: ServerResponse): Promise<void> {
  const done = pipeline(body, res);
  body.on('data', (chunk: Buffer) => noteStreamed(chunk.length)); // flowing already: pipeline piped it
  return done;
}

/** A streamed request body as undici reads it (it waits for the upstream socket to drain between chunks). */
async function* countedBody(req: IncomingMessage): AsyncGenerator<Buffer> {
  for await (const chunk of req) {
    noteStreamed((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}

/** Header names a Connection header lists (hop-by-hop for this message); undefined for the usual keep-alive/close. */
function namedByConnection(value: string | undefined): Set<string> | undefined {
  if (!value) return undefined;
  const v = value.toLowerCase();
  if (v === 'keep-alive' || v === 'close') return undefined; // already hop-by-hop names
  return new Set(v.split(',').map((s) => s.trim()));
}

function hasJsonBody(req: IncomingMessage, method: string, service: string): boolean {
  if (method === 'GET' || method === 'HEAD' || method === 'DELETE') return false;
  if (service === 'object-store') return false;
  const ct = String(req.headers['content-type'] ?? '');
  return ct.includes('json');
}

async function readLimited(req: IncomingMessage, max: number, service: string | undefined): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > max) {
    req.resume();
    throw new HttpError(errorResponse(service, 413, `request body larger than ${max} bytes`));
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) {
      req.resume();
      throw new HttpError(errorResponse(service, 413, `request body larger than ${max} bytes`));
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
