/**
 * Streams on the native lane: an image upload or a first download (PUT/GET of `/image/v2/images/{id}/file` or
 * `/stage`) would cross nginx, then the engine, then the upstream — every byte through two processes. Instead nginx
 * asks the engine first, without the body (ocx_lane.lua, `stream`): the engine runs the same stages as for the
 * request itself (admit, authenticate, extensions, route, credentials) and, where it would pass the bytes through
 * untouched, answers with the route (upstream address, path, remote token, target); nginx then sends the request,
 * body streaming, straight to the upstream and the answer straight back. Anything else — a bad token, an extension
 * on the route, an upstream nginx cannot reach — is a 409 here, and nginx hands the whole request to the engine,
 * which answers it as always. Only nginx can ask: the question carries the lane's per-run secret, which nginx blanks
 * on every client request it hands over.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Engine } from '../engine.ts';
import { DECIDE_HEADER } from '../header-policy.ts';
import { pathFor } from '../paths.ts';
import { admit, authenticate } from './authenticate.ts';
import { credentials } from './credentials.ts';
import { refuseOversizedHead } from './forward.ts';
import { header, requestTarget } from './http-util.ts';
import { type Call, runStages, type Stage } from './pipeline.ts';
import { extensionsOn, route } from './route.ts';

/** Whether `req` is nginx's question (the lane's secret, compared in constant time). */
export function isDecideRequest(req: IncomingMessage, secret: string | undefined): boolean {
  const given = header(req, DECIDE_HEADER);
  if (!secret || !given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The last stage instead of forwarding: the route, when nginx may follow it with the bytes untouched. */
const describeStage: Stage = async (eng, call) => {
  const st = call.st!;
  const cred = call.cred!;
  const lane = eng.o.lane;
  if (!lane?.routeFields || st.proxyList.length > 0) return refuse(call.res);
  const url = eng.upstreamUrl(cred, st.service, pathFor(st.parsed, cred.projectId), st.query);
  refuseOversizedHead(st, url, eng.upstreamHeaders(st, cred));
  const { origin, pathname, search } = new URL(url);
  const fields = await lane.routeFields({
    origin,
    path: pathname + search,
    remoteToken: cred.token,
    targetId: cred.targetId,
    service: st.service,
  });
  if (!fields) return refuse(call.res);
  call.res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(Buffer.byteLength(fields)) });
  call.res.end(fields);
  return 200;
};

/** A route an extension works on is the engine's: its hooks run there, never for a question. */
const noExtensions: Stage = async (eng, call, next) =>
  extensionsOn(eng, call.st!).length > 0 ? refuse(call.res) : next();

/** No route for nginx: it hands the whole request to the engine. */
function refuse(res: ServerResponse): number {
  res.writeHead(409, { 'content-length': '0' });
  res.end();
  return 409;
}

const DECIDE: readonly Stage[] = [admit, authenticate, noExtensions, route, credentials, describeStage];

/**
 * nginx's question about one client request: its method and target in the query (`method`, `target`), the
 * client's headers as they came, no body. 200 with the route, or 409 (the engine takes the request).
 */
export async function decide(eng: Engine, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const q = requestTarget(req.url ?? '/').searchParams;
  const method = (q.get('method') ?? '').toUpperCase();
  const target = q.get('target') ?? '';
  if (!['GET', 'HEAD', 'PUT'].includes(method) || !target.startsWith('/')) {
    refuse(res);
    return;
  }
  // The stages read the client's request: make this one look like it (the body stays with nginx).
  req.method = method;
  req.url = target;
  delete req.headers['content-length'];
  delete req.headers['transfer-encoding'];
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort(new Error('nginx went away'));
  });
  const call: Call = {
    req,
    res,
    started: performance.now(),
    method,
    url: requestTarget(target),
    token: header(req, 'x-auth-token'),
    signal: ac.signal,
    service: 'unknown',
    proxyList: [],
    exts: [],
  };
  try {
    await runStages(DECIDE, eng, call);
  } catch {
    // Whatever went wrong, the engine meets it again with the request itself and answers it as always.
    if (!res.headersSent) refuse(res);
    else res.destroy();
  }
}
