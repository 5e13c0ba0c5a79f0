import { ErrorCode, OcxError, safeUrl } from '@ocx/sdk';
import { type Dispatcher, request } from 'undici';
import type { Engine } from '../engine.ts';
import type { CallSpec, FanoutResult, UpstreamResult } from '../extensions/types.ts';
import { pathFor, resourceOf, SERVICE_PREFIX } from '../paths.ts';
import { type LinkMap, rewriteJson } from '../rewrite.ts';
import type { Credential, RequestState } from './context.ts';
import { defaultBase, responseHeaders } from './http-util.ts';

/** Buffered JSON call used by flooding, fan-out and extensions. Links in the answer are rewritten. */
export async function callTarget(
  eng: Engine,
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
    const cred = await eng.credential(st, targetId, deadline);
    const p = st.parsed;
    const base =
      service === st.service && p.version
        ? pathFor({ ...p, tail: '' }, cred.projectId)
        : defaultBase(service, cred.projectId ?? '');
    url = eng.upstreamUrl(cred, service, `${base}${spec.path}`, spec.query);
    const headers: Record<string, string> = {
      'x-auth-token': cred.token,
      accept: 'application/json',
      'mm-proxy-list': [...st.proxyList, eng.o.proxyId].join(','),
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
      dispatcher: eng.o.agent,
      method: spec.method as Dispatcher.HttpMethod,
      headers,
      body,
      signal: sig,
      headersTimeout: remaining,
      bodyTimeout: remaining,
    });
    const text = await r.body.text();
    outcome = String(r.statusCode);
    eng.noteOutcome(targetId, r.statusCode);
    let json: unknown;
    if (text && String(r.headers['content-type'] ?? '').includes('json')) {
      try {
        json = JSON.parse(text);
        rewriteJson(json, eng.linkMap(st, cred, service));
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
      if (e.code === ErrorCode.TIMEOUT || e.code === ErrorCode.UNREACHABLE) eng.o.breakers.failure(targetId);
    }
    outcome = e.code;
    throw e.withContext({ cloud: targetId, service });
  } finally {
    eng.o.metrics.upstreamCall(targetId, service, outcome, (performance.now() - t0) / 1000);
  }
}
export function noteOutcome(eng: Engine, targetId: string, status: number): void {
  if (status === 502 || status === 503 || status === 504) eng.o.breakers.failure(targetId);
  else eng.o.breakers.success(targetId);
}
export async function fanout(
  eng: Engine,
  st: RequestState,
  targetIds: string[],
  spec: (t: string) => CallSpec,
  timeoutMs: number,
): Promise<FanoutResult[]> {
  return Promise.all(
    targetIds.map(async (targetId): Promise<FanoutResult> => {
      if (!eng.o.breakers.allow(targetId)) {
        eng.o.metrics.fanoutMissing(targetId);
        return {
          targetId,
          ok: false,
          error: new OcxError(ErrorCode.UNREACHABLE, `${targetId} skipped: circuit breaker open`, {
            cloud: targetId,
          }),
        };
      }
      try {
        const result = await eng.callTarget(st, targetId, spec(targetId), timeoutMs);
        return { targetId, ok: true, result };
      } catch (err) {
        const error = OcxError.from(err, { cloud: targetId });
        if (error.code !== ErrorCode.ENDPOINT_NOT_FOUND) {
          eng.o.metrics.fanoutMissing(targetId);
          eng.o.logger.warn(
            { target: targetId, service: st.service, code: error.code, message: error.message },
            'fan-out target left out',
          );
        }
        return { targetId, ok: false, error };
      }
    }),
  );
}
export function linkMap(_eng: Engine, st: RequestState, cred: Credential, service: string): LinkMap {
  return {
    upstreamRoot: cred.endpoints[service] ?? '',
    proxyRoot: `${st.publicOrigin}${SERVICE_PREFIX[service] ?? ''}`,
    remoteProjectId: cred.projectId,
    localProjectId: st.user.projectId,
  };
}
/** An upstream call that failed before an answer: breaker, metrics, log; the error to raise. */
export function upstreamFailed(
  eng: Engine,
  st: RequestState,
  targetId: string,
  url: string,
  t0: number,
  e: OcxError,
): OcxError {
  if (e.code === ErrorCode.TIMEOUT || e.code === ErrorCode.UNREACHABLE) eng.o.breakers.failure(targetId);
  eng.o.metrics.upstreamCall(targetId, st.service, e.code, (performance.now() - t0) / 1000);
  eng.o.logger.warn({ target: targetId, service: st.service, url: safeUrl(url), code: e.code }, 'upstream failed');
  return e.withContext({ cloud: targetId, service: st.service });
}
/** An upstream's answer head: metrics, breaker, stale remote token; the client's headers and how to send. */
export async function upstreamAnswered(
  eng: Engine,
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
  eng.o.metrics.upstreamCall(targetId, st.service, String(status), (performance.now() - t0) / 1000);
  eng.noteOutcome(targetId, status);
  // A remote token the SP no longer accepts: forget it so the next request runs K2K again.
  if (status === 401 && cred.kind === 'sp') await eng.o.tokens.invalidate(st.hash, targetId);
  const map = eng.linkMap(st, cred, st.service);
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
    !(len > eng.o.maxRewriteBytes);
  const ref = st.parsed.version ? resourceOf(st.parsed) : undefined;
  return { map, outHeaders, rewritable, ref };
}
