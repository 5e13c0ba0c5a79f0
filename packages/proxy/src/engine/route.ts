import { ErrorCode, OcxError } from '@ocx/sdk';
import { isDatabaseUnavailable } from '../db/errors.ts';
import type { Engine } from '../engine.ts';
import { errorResponse, type ProxyResponse } from '../errors.ts';
import { type Extension, matches } from '../extensions/types.ts';
import { resourceOf, serviceOfType, singularKey } from '../paths.ts';
import type { RequestState } from './context.ts';
import { microversionHeaders } from './http-util.ts';
import type { Stage } from './pipeline.ts';

/** Targets this request may fan out to or flood: home + the user's SPs, minus those already on the proxy list. */
export function availableTargets(eng: Engine, st: RequestState): string[] {
  if (st.proxyList.length > 0) return [eng.o.homeId];
  // A plain loop: the map/filter closures here were the engine's largest self time on a list naming one SP
  // (built for every request the list-aggregation extension sees; bench:proxy-real's CPU profile, node plane).
  const out = [eng.o.homeId];
  for (const sp of st.user.serviceProviders) out.push(sp.id);
  return out;
}
/** Stage: the request hooks of the extensions on this route; an extension may answer by itself. */
/** The extensions whose routes take this request. */
export function extensionsOn(eng: Engine, st: RequestState): Extension[] {
  const matchPath = `/${st.parsed.segments.join('/')}`;
  return eng.o.extensions.filter((e) => matches(e, st.service, st.method, matchPath));
}

export const extensions: Stage = async (eng, call, next) => {
  const st = call.st!;
  call.exts = extensionsOn(eng, st);
  // No extension on this route (a plain pass-through): no extension context to build.
  const ctx = call.exts.length ? eng.extensionContext(st) : undefined;
  call.ext = ctx;
  if (ctx) {
    const query = ctx.query.toString();
    const json = ctx.json;
    for (const ext of call.exts) {
      if (!ext.onRequest) continue;
      const answer = await ext.onRequest(ctx);
      st.bodyChanged = true;
      if (answer) {
        eng.send(call.res, eng.fromExtension(answer));
        return answer.status;
      }
    }
    st.query = ctx.query;
    st.json = ctx.json;
    Object.assign(st.extraHeaders, ctx.headers);
    // Pure extensions that all declined and changed nothing (list aggregation for a request naming one SP): a plain
    // pass-through, which the native lane may answer next time (the same request is declined the same way).
    const untouched =
      ctx.target === undefined &&
      ctx.json === json &&
      Object.keys(ctx.headers).length === 0 &&
      ctx.query.toString() === query;
    if (untouched && call.exts.every((e) => e.pure && !e.onResponse)) {
      st.bodyChanged = false;
      call.exts = [];
      call.ext = undefined;
    }
  }
  return next();
};

/** Stage: where the request goes (header or extension, else the resource's mapping, else flooding, else home). */
export const route: Stage = async (eng, call, next) => {
  const st = call.st!;
  const chosen = await eng.chooseTarget(st, call.ext?.target ?? st.explicitTarget);
  if (typeof chosen !== 'string') return eng.sendAndCount(call.res, chosen);
  call.target = chosen;
  return next();
};

/** Where a request goes: explicit/extension target, else its resource's mapping, else flooding, else home. */
export async function chooseTarget(
  eng: Engine,
  st: RequestState,
  preset: string | undefined,
): Promise<string | ProxyResponse> {
  const p = st.parsed;
  let target = preset;
  const ref = p.version ? resourceOf(p) : undefined;
  if (!target && ref && !st.proxyList.length) {
    target = await eng.o.resources.find(st.user.projectId ?? '', ref.type, ref.id);
    // An injected location is only usable with the token it was injected for; others get the home cloud.
    if (target?.startsWith('via:') && !(await eng.o.tokens.forTarget(st.token, st.hash, target))) {
      target = eng.o.homeId;
    }
    if (!target) {
      // A create of a named resource (PUT container) has nothing to find: it goes to the default target.
      const isCreate = st.service === 'object-store' && st.method === 'PUT' && ref.exact;
      if (!isCreate) {
        const found = await eng.flood(st, ref.type, ref.id);
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
    const mapped = await eng.o.resources.find(st.user.projectId ?? '', ref.type, ref.id);
    if (mapped?.startsWith('via:')) target = mapped;
  }
  return target ?? eng.o.homeId;
}
/** Ask every available target in parallel whether it has the resource; the first 2xx wins. */
export async function flood(
  eng: Engine,
  st: RequestState,
  type: string,
  id: string,
): Promise<{ kind: 'found'; targetId: string } | { kind: 'missing' } | { kind: 'unavailable'; failed: string[] }> {
  if (eng.o.resources.recentlyMissed(st.user.projectId ?? '', type, id)) return { kind: 'missing' };
  const targets = eng.availableTargets(st);
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
      if (!eng.o.breakers.allow(t)) {
        failed.push(t);
        done();
        continue;
      }
      eng
        .callTarget(st, t, { ...probePath, headers: probeHeaders }, eng.o.floodTimeoutMs, signal)
        .then((r) => {
          if (r.status >= 200 && r.status < 300) resolve(t);
          else if (r.status >= 500) failed.push(t);
          done();
        })
        .catch((err: unknown) => {
          const benign =
            err instanceof OcxError && (err.code === ErrorCode.CANCELLED || err.code === ErrorCode.ENDPOINT_NOT_FOUND);
          if (!benign) failed.push(t);
          done();
        });
    }
  });
  ac.abort();
  if (winner) {
    eng.o.metrics.mappingLookup('resource', 'flood_hit');
    // Found by asking: failing to remember it (the database away) costs a flood next time, not this answer.
    await eng.o.resources
      .record([{ type, id, targetId: winner, projectId: st.user.projectId ?? '' }])
      .catch((err: Error) => {
        if (!isDatabaseUnavailable(err)) throw err;
        eng.o.logger.warn({ err: { message: err.message } }, 'could not store a resource mapping found by flooding');
      });
    return { kind: 'found', targetId: winner };
  }
  eng.o.metrics.mappingLookup('resource', 'flood_miss');
  if (failed.length) return { kind: 'unavailable', failed };
  eng.o.resources.noteMiss(st.user.projectId ?? '', type, id);
  return { kind: 'missing' };
}
