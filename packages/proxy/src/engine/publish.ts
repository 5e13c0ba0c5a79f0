import type { Engine } from '../engine.ts';
import { HOP_BY_HOP, ROUTE_KEY_REQUEST } from '../header-policy.ts';
import type { LaneObservation } from '../native/lane.ts';
import type { resourceOf } from '../paths.ts';
import type { Credential, RequestState } from './context.ts';
import { header, namedByConnection } from './http-util.ts';

/**
 * A GET/HEAD answered 2xx with the upstream's bytes unchanged: the native lane (native/lane.ts) may answer the
 * same request by itself for as long as the token's validation is trusted here.
 */
export function offerRoute(
  eng: Engine,
  st: RequestState,
  cred: Credential,
  a: { origin: string; path: string; status: number; ref: ReturnType<typeof resourceOf> },
  headers: Record<string, string | string[] | undefined>,
): void {
  const lane = eng.o.lane;
  if (!lane || st.req.url === undefined || a.status < 200 || a.status > 299) return;
  // nginx reaches upstreams over plain HTTP only (TLS upstreams stay with undici).
  if (!a.origin.startsWith('http://')) return;
  if (headers.location !== undefined || headers['content-location'] !== undefined) return;
  // Headers the upstream names in Connection are dropped here; nginx would pass them on.
  const connection = headers.connection;
  const named = namedByConnection(Array.isArray(connection) ? connection.join(',') : connection);
  if (named && [...named].some((n) => !HOP_BY_HOP.has(n))) return;
  const trusted = eng.validations.get(st.hash)?.until ?? 0;
  const { origin, path, ref } = a;
  // An explicit target (MM-SERVICE-PROVIDER) is part of the route's key: the route answers only that header's value.
  const via = header(st.req, ROUTE_KEY_REQUEST);
  lane.offer(
    { token: st.token, method: st.method, target: st.req.url, via },
    {
      origin,
      path,
      remoteToken: cred.token,
      targetId: cred.targetId,
      service: st.service,
      ttlMs: trusted - Date.now(),
      resource: ref ? `${ref.type} ${ref.id}` : undefined,
    },
  );
  st.offered = true;
}
/** What the native lane answered by itself (drained from nginx): the same metrics and log line as here. */
export function nativeAnswered(eng: Engine, o: LaneObservation): void {
  eng.o.metrics.request(o.service, o.method, o.status, o.seconds);
  if (o.upstreamSeconds !== undefined) {
    eng.o.metrics.upstreamCall(o.targetId, o.service, String(o.status), o.upstreamSeconds);
  }
  eng.noteOutcome(o.targetId, o.status);
  if (eng.access.isLevelEnabled('info')) {
    const { method, path, service, status } = o;
    eng.access.info({ method, path, service, status, ms: Math.round(o.seconds * 1000), lane: 'native' }, 'request');
  }
}
