/** Version documents: public, forwarded from the home cloud or a service provider with links rewritten. */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { OcxError, safeUrl } from '@ocx/sdk';
import { type Dispatcher, request } from 'undici';
import type { Engine } from '../engine.ts';
import { errorResponse } from '../errors.ts';
import type { ParsedPath } from '../paths.ts';
import { type LinkMap, publicOrigin, rewriteJson } from '../rewrite.ts';
import type { RequestState } from './context.ts';
import { header, responseHeaders } from './http-util.ts';
import type { Stage } from './pipeline.ts';

/** A service the home cloud lacks: learn a service provider's root with the caller's token (K2K). */
export async function rootFromProviders(
  eng: Engine,
  req: IncomingMessage,
  p: ParsedPath,
  token: string,
  origin: string,
  signal: AbortSignal,
): Promise<string | undefined> {
  const hash = eng.o.tokens.hash(token);
  const user = await eng.validate(token, hash, signal);
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
    if (!eng.o.breakers.allow(sp.id)) continue;
    try {
      const cred = await eng.credential(st, sp.id, Date.now() + eng.o.upstreamTimeoutMs);
      if (cred.endpoints[p.service]) return cred.endpoints[p.service];
    } catch {
      // try the next provider
    }
  }
  return undefined;
}
export async function forwardVersionDocument(
  eng: Engine,
  req: IncomingMessage,
  res: ServerResponse,
  p: ParsedPath,
  query: URLSearchParams,
  origin: string,
  signal: AbortSignal,
): Promise<number> {
  const roots = await eng.o.keystone.homeRoots();
  // The home cloud's document when it runs the service, else one a service provider runs: known (stored,
  // learned) or discovered with the proxy's service account, else with the caller's own K2K.
  let root = roots[p.service] ?? (await eng.o.spRoots.rootFor(p.service, signal))?.root;
  const token = header(req, 'x-auth-token');
  if (!root && token) root = await eng.rootFromProviders(req, p, token, origin, signal);
  if (!root) {
    eng.send(res, errorResponse(p.service, 404, `the home cloud has no ${p.service} service`));
    return 404;
  }
  const qs = query.toString();
  const url = `${root}${p.rest}${qs ? `?${qs}` : ''}`;
  let r: Dispatcher.ResponseData;
  try {
    r = await request(url, {
      dispatcher: eng.o.agent,
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: { accept: header(req, 'accept') ?? 'application/json' },
      signal: AbortSignal.any([signal, AbortSignal.timeout(eng.o.upstreamTimeoutMs)]),
      headersTimeout: eng.o.upstreamTimeoutMs,
      bodyTimeout: eng.o.upstreamTimeoutMs,
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

/** Stage: version documents (`GET /compute/`, `/image`, …) are public: answered without a token. */
export const versionDocuments: Stage = async (eng, call, next) => {
  const p = call.parsed!;
  if (p.segments.length !== 0 || (call.method !== 'GET' && call.method !== 'HEAD')) return next();
  const origin = publicOrigin(call.req, eng.o.listenOrigin);
  return eng.forwardVersionDocument(call.req, call.res, p, call.url.searchParams, origin, call.signal);
};
