/** Authenticate: validate the client token against the home Keystone (cached), and build the request context. */
import type { IncomingMessage } from 'node:http';
import { OcxError } from '@ocx/sdk';
import type { Engine } from '../engine.ts';
import { errorResponse, type ProxyResponse, unauthorized } from '../errors.ts';
import type { ValidatedToken } from '../keystone.ts';
import { type ParsedPath, parsePath } from '../paths.ts';
import { publicOrigin } from '../rewrite.ts';
import { HttpError, type RequestLike, type RequestState } from './context.ts';
import { prefetchK2K } from './credentials.ts';
import { hasJsonBody, header, jsonDepth, MAX_JSON_DEPTH, readLimited, requestTarget } from './http-util.ts';
import type { Stage } from './pipeline.ts';

/**
 * Before `100 Continue`: a request that will be refused for its token (none, unknown, expired) is answered now,
 * so the client never sends the body. Undefined when the body should come.
 */
export async function refuseBeforeBody(eng: Engine, req: IncomingMessage): Promise<ProxyResponse | undefined> {
  const p = parsePath(requestTarget(req.url ?? '/').pathname);
  if (!p || p.segments.length === 0) return undefined; // not an authenticated service call
  const token = header(req, 'x-auth-token');
  if (!token) return unauthorized(eng.o.keystone.identityUrl);
  const user = await eng.validate(token, eng.o.tokens.hash(token), AbortSignal.timeout(eng.o.upstreamTimeoutMs));
  return user ? undefined : unauthorized(eng.o.keystone.identityUrl);
}
/** The state of an authenticated request. */
export function requestState(
  eng: Engine,
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
  signal: AbortSignal,
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
    explicitTarget: explicit ? eng.resolveTargetName(explicit, user, service) : undefined,
    explicitProject: header(req, 'mm-project-id'),
    publicOrigin: publicOrigin(req, eng.o.listenOrigin),
    body: undefined,
    json: undefined,
    bodyChanged: false,
    extraHeaders: {},
    creds: new Map(),
    // A plain property: an object literal with a getter is built slowly on every request (it was the engine's
    // largest self time in the pass-through profile).
    signal,
  };
}
export function resolveTargetName(eng: Engine, name: string, user: ValidatedToken, service: string): string {
  if (name === 'default' || name === eng.o.homeId) return eng.o.homeId;
  if (user.serviceProviders.some((sp) => sp.id === name)) return name;
  throw new HttpError(errorResponse(service, 400, `unknown service provider ${name} (MM-SERVICE-PROVIDER)`));
}
/** Tokens whose cached validation is being renewed in the background, per engine. */
const renewing = new WeakMap<Engine, Set<string>>();

/**
 * The validated token, from the cache while its entry holds (validationCacheMs), else from the home Keystone. In the
 * last third of an entry's life a request still served from it starts its renewal in the background, so a token in
 * steady use never waits for Keystone again; the entry is never trusted past its own `until` (revocation takes
 * effect exactly as before).
 */
export async function validate(
  eng: Engine,
  token: string,
  hash: string,
  signal: AbortSignal,
): Promise<ValidatedToken | undefined> {
  const now = Date.now();
  const hit = eng.validations.get(hash);
  if (hit && hit.until > now) {
    if (hit.user && hit.until - now < eng.o.validationCacheMs / 3) renew(eng, token, hash);
    return hit.user;
  }
  return askKeystone(eng, token, hash, signal);
}

function renew(eng: Engine, token: string, hash: string): void {
  const s = renewing.get(eng) ?? new Set<string>();
  renewing.set(eng, s);
  if (s.has(hash)) return;
  s.add(hash);
  // A failure here changes nothing: the entry runs out, and the next request asks in the foreground and reports it.
  askKeystone(eng, token, hash, AbortSignal.timeout(eng.o.upstreamTimeoutMs))
    .catch(() => undefined)
    .finally(() => s.delete(hash));
}

async function askKeystone(
  eng: Engine,
  token: string,
  hash: string,
  signal: AbortSignal,
): Promise<ValidatedToken | undefined> {
  const now = Date.now();
  let user: ValidatedToken | undefined;
  try {
    user = await eng.o.keystone.validate(token, signal);
  } catch (err) {
    // Say which call failed: a bare "injected fault" / "deadline passed" in a Nova body reads like Nova's own failure.
    const e = OcxError.from(err);
    const copy = new OcxError(e.code, `The home Keystone could not check the token: ${e.message}`, e.context(), {
      cause: e,
    });
    throw copy;
  }
  eng.o.metrics.tokenStep(eng.o.homeId, 'validate', (Date.now() - now) / 1000);
  if (eng.validations.size > 20_000) eng.validations.clear();
  if (!user || user.expiresAt.getTime() <= now) {
    // Revoked, expired or unknown: no mapping made from this token may outlive it.
    await eng.o.tokens.dropForToken(hash);
    eng.validations.set(hash, { user: undefined, until: now + Math.min(eng.o.validationCacheMs, 5_000) });
    return undefined;
  }
  eng.validations.set(hash, {
    user,
    until: Math.min(now + eng.o.validationCacheMs, user.expiresAt.getTime()),
  });
  return user;
}

/**
 * The methods OpenStack's APIs use (COPY: Swift; OPTIONS: CORS preflight). Anything else (PROPFIND, TRACE, …) is
 * refused here: forwarded, a service that does not route it may answer before reading the body and reset the
 * connection, which the client would see as the cloud being unavailable (found by the bad-input fuzz).
 */
const OPENSTACK_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'COPY']);

/** Stage: a path under a served prefix (else 404), and no loop between federation proxies (MM-PROXY-LIST, 508). */
export const admit: Stage = async (eng, call, next) => {
  const parsed = parsePath(call.url.pathname);
  if (!parsed) {
    eng.send(call.res, errorResponse(undefined, 404, `no service at ${call.url.pathname}`));
    return 404;
  }
  call.parsed = parsed;
  call.service = parsed.service;
  if (!OPENSTACK_METHODS.has(call.method)) {
    const r = errorResponse(call.service, 405, `method ${call.method} is not used by OpenStack APIs`);
    r.headers.allow = [...OPENSTACK_METHODS].join(', ');
    eng.send(call.res, r);
    return 405;
  }
  const listHeader = header(call.req, 'mm-proxy-list');
  call.proxyList = listHeader
    ? listHeader
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
  if (call.proxyList.includes(eng.o.proxyId)) {
    eng.send(call.res, errorResponse(call.service, 508, 'request loop between federation proxies (MM-PROXY-LIST)'));
    return 508;
  }
  return next();
};

/** Stage: a valid token of the home cloud (else 401); the request's context; a JSON body read for extensions. */
export const authenticate: Stage = async (eng, call, next) => {
  const { token, req, res } = call;
  if (!token) return eng.sendAndCount(res, unauthorized(eng.o.keystone.identityUrl));
  const hash = eng.o.tokens.hash(token);
  if (!eng.validations.has(hash)) prefetchK2K(eng, req, call.method, token, hash);
  const user = await eng.validate(token, hash, call.signal);
  if (!user) return eng.sendAndCount(res, unauthorized(eng.o.keystone.identityUrl));
  const signal = call.signal;
  const st = eng.requestState(
    {
      req,
      upload: req,
      started: call.started,
      method: call.method,
      url: call.url,
      firstParse: call.parsed!,
      token,
      hash,
      user,
    },
    signal,
  );
  st.proxyList = call.proxyList;
  call.st = st;
  if (hasJsonBody(req, call.method, call.service)) {
    st.body = await readLimited(req, eng.o.maxJsonBodyBytes, call.service);
    if (jsonDepth(st.body) > MAX_JSON_DEPTH) {
      throw new HttpError(errorResponse(call.service, 400, `JSON body nested deeper than ${MAX_JSON_DEPTH} levels`));
    }
    try {
      st.json = st.body.length ? JSON.parse(st.body.toString('utf8')) : undefined;
    } catch {
      st.json = undefined;
    }
  }
  return next();
};
