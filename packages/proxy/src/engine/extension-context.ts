import { ErrorCode, OcxError } from '@ocx/sdk';
import type { Engine } from '../engine.ts';
import type { ProxyResponse } from '../errors.ts';
import type { ExtensionContext, ExtensionResponse } from '../extensions/types.ts';
import type { RequestState } from './context.ts';
import { microversionHeaders } from './http-util.ts';

export function extensionContext(eng: Engine, st: RequestState): ExtensionContext {
  const engine = eng;
  const ctx: ExtensionContext = {
    service: st.service,
    method: st.method,
    path: st.parsed,
    user: st.user,
    homeId: eng.o.homeId,
    availableTargets: eng.availableTargets(st),
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
export function fromExtension(_eng: Engine, a: ExtensionResponse): ProxyResponse {
  const headers = { ...(a.headers ?? {}) };
  let body: string | Buffer = a.body ?? '';
  if (a.json !== undefined) {
    body = JSON.stringify(a.json);
    headers['content-type'] ??= 'application/json';
  }
  return { status: a.status, headers, body };
}
