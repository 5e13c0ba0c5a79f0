import { ErrorCode, OcxError } from '@ocx/sdk';
import type { Engine } from '../engine.ts';
import { errorResponse, type ProxyResponse } from '../errors.ts';
import { CONSUMED_REQUEST, HOP_BY_HOP } from '../header-policy.ts';
import type { ServiceProviderRef } from '../keystone.ts';
import type { Credential, RequestLike, RequestState } from './context.ts';
import { header, namedByConnection, viaCredential } from './http-util.ts';
import type { Stage } from './pipeline.ts';

/** The answer when the target's breaker is open (undefined when a call may go out). */
export function circuitOpen(eng: Engine, st: RequestState, targetId: string): ProxyResponse | undefined {
  if (eng.o.breakers.allow(targetId)) return undefined;
  const r = errorResponse(st.service, 503, `service provider ${targetId} is unavailable (circuit open); retry later`);
  r.headers['retry-after'] = '30';
  return r;
}
/**
 * A token about to be validated (not in the validation cache): for a request that may go to service providers
 * (one named in MM-SERVICE-PROVIDER; a GET/HEAD without one, which may aggregate), the K2K steps that need only
 * the token (the ECP assertion) start now, beside the validation. A token that turns out invalid gets none used.
 */
export function prefetchK2K(eng: Engine, req: RequestLike, method: string, token: string, hash: string): void {
  const named = header(req, 'mm-service-provider');
  if (named === 'default' || named === eng.o.homeId) return;
  if (!named && method !== 'GET' && method !== 'HEAD') return;
  eng.o.keystone.serviceToken().then(
    (login) => {
      const sps = named ? login.serviceProviders.filter((s) => s.id === named) : login.serviceProviders;
      if (sps.length) eng.o.tokens.prefetch(token, hash, sps);
    },
    () => undefined, // the validation reports a home Keystone that cannot be asked
  );
}
export function credential(eng: Engine, st: RequestState, targetId: string, deadline: number): Promise<Credential> {
  let p = st.creds.get(targetId);
  if (!p) {
    p = eng.makeCredential(st, targetId, deadline);
    st.creds.set(targetId, p);
    p.catch(() => st.creds.delete(targetId));
  }
  return p;
}
export async function makeCredential(
  eng: Engine,
  st: RequestState,
  targetId: string,
  deadline: number,
): Promise<Credential> {
  if (targetId === eng.o.homeId) {
    return {
      targetId,
      kind: 'home',
      token: st.token,
      projectId: st.user.projectId,
      localProjectId: st.user.projectId,
      endpoints: await eng.o.keystone.homeRoots(),
    };
  }
  if (targetId.startsWith('via:')) {
    const c = await eng.o.tokens.forTarget(st.token, st.hash, targetId);
    if (!c) {
      throw new OcxError(ErrorCode.AUTH_EXPIRED, `the injected mapping for ${targetId} has expired`, {
        cloud: targetId,
      });
    }
    return viaCredential(c);
  }
  const sp = st.user.serviceProviders.find((s) => s.id === targetId);
  if (!sp) throw new OcxError(ErrorCode.NOT_FOUND, `unknown service provider ${targetId}`, { cloud: targetId });
  const c = await eng.o.tokens.forSp({
    localToken: st.token,
    hash: st.hash,
    user: st.user,
    sp,
    explicitProjectId: st.explicitTarget === targetId ? st.explicitProject : undefined,
    deadline,
    signal: st.signal,
  });
  void eng.o.spRoots.learn(targetId, c.endpoints);
  return {
    targetId,
    kind: 'sp',
    token: c.token,
    projectId: c.projectId,
    localProjectId: st.user.projectId,
    endpoints: c.endpoints,
  };
}
export function spRef(_eng: Engine, st: RequestState, id: string): ServiceProviderRef | undefined {
  return st.user.serviceProviders.find((s) => s.id === id);
}
export function upstreamUrl(
  _eng: Engine,
  cred: Credential,
  service: string,
  path: string,
  query: URLSearchParams | undefined,
): string {
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
export function upstreamHeaders(
  eng: Engine,
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
  out['mm-proxy-list'] = st.proxyList.length ? [...st.proxyList, eng.o.proxyId].join(',') : eng.o.proxyId;
  const xff = header(st.req, 'x-forwarded-for');
  // Behind the native lane the client's address comes from nginx (the only peer of the engine's socket).
  const peer = (eng.o.lane ? header(st.req, 'x-ocx-peer') : st.req.socket.remoteAddress) ?? '';
  out['x-forwarded-for'] = xff ? `${xff}, ${peer}` : peer;
  Object.assign(out, st.extraHeaders, extra);
  return out;
}

/** Stage: the target's breaker must let the call out (else 503), and the caller's credential there. */
export const credentials: Stage = async (eng, call, next) => {
  const st = call.st!;
  const open = eng.circuitOpen(st, call.target!);
  if (open) return eng.sendAndCount(call.res, open);
  call.deadline = Date.now() + eng.o.upstreamTimeoutMs;
  call.cred = await eng.credential(st, call.target!, call.deadline);
  return next();
};
