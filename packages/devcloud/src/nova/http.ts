/**
 * Nova's wire conventions: fault bodies keyed by kind (`{"itemNotFound": {"code": 404, "message": ...}}`),
 * `x-openstack-request-id` = `x-compute-request-id`, microversion negotiation (`OpenStack-API-Version: compute X`
 * or `X-OpenStack-Nova-API-Version: X` in; both plus `Vary` out; 406 outside 2.1..MAX), and token auth.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CloudContext, TokenInfo } from '../context.ts';
import { ApiFault as NovaError } from '../fault.ts';
import { novaFaultBody as faultBody } from '../fault-bodies.ts';

/** The microversion range devcloud's Nova serves (Zed's nova-api, as in the real harness, tops out at 2.93). */
export const MIN_VERSION = '2.1';
export const MAX_VERSION = '2.93';
const MAX_MINOR = 93;

/** Nova's faults are devcloud's ApiFault (the name stays for the routes that throw it). */
export { ApiFault as NovaError } from '../fault.ts';

export const notFound = (message: string) => new NovaError(404, message);
export const badRequest = (message: string) => new NovaError(400, message);
export const conflict = (message: string) => new NovaError(409, message);
export const forbidden = (message: string) => new NovaError(403, message);

declare module 'fastify' {
  interface FastifyRequest {
    novaToken?: TokenInfo;
    /** Negotiated microversion minor number (2.X → X). */
    novaMinor?: number;
  }
}

export function tokenOf(req: FastifyRequest): TokenInfo {
  const t = req.novaToken;
  if (!t) throw new NovaError(401, 'The request you have made requires authentication.');
  return t;
}

/** The negotiated microversion's minor number; `mv(req) >= 47` reads like "microversion 2.47 or later". */
export function mv(req: FastifyRequest): number {
  return req.novaMinor ?? 1;
}

export function projectOf(token: TokenInfo): string {
  if (!token.projectId) throw forbidden('Policy does not allow this request: a project-scoped token is required.');
  return token.projectId;
}

/** Parse the request's microversion headers; a string error is a 400, `{ unsupported }` is a 406. */
function negotiate(req: FastifyRequest): { minor: number; raw: string } | { error: string } | { unsupported: string } {
  let raw: string | undefined;
  const modern = req.headers['openstack-api-version'];
  if (typeof modern === 'string') {
    for (const part of modern.split(',')) {
      const [service, version] = part.trim().split(/\s+/, 2);
      if (service?.toLowerCase() === 'compute' && version) raw = version;
    }
  }
  if (raw === undefined) {
    const legacy = req.headers['x-openstack-nova-api-version'];
    if (typeof legacy === 'string' && legacy.trim()) raw = legacy.trim();
  }
  if (raw === undefined) return { minor: 1, raw: MIN_VERSION };
  if (raw.toLowerCase() === 'latest') return { minor: MAX_MINOR, raw: MAX_VERSION };
  const m = /^(\d+)\.(\d+)$/.exec(raw);
  if (!m) return { error: `API Version String ${raw} is of invalid format. Must be of format MajorNum.MinorNum.` };
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 2 || minor < 1 || minor > MAX_MINOR) return { unsupported: raw };
  return { minor, raw: `2.${minor}` };
}

function setVersionHeaders(reply: FastifyReply, raw: string): void {
  reply.header('openstack-api-version', `compute ${raw}`);
  reply.header('x-openstack-nova-api-version', raw);
  reply.header('vary', 'OpenStack-API-Version, X-OpenStack-Nova-API-Version');
}

/** Request ids, microversions, auth and Nova's fault shape for every route of the plugin. */
export function installHttp(app: FastifyInstance, ctx: CloudContext): void {
  app.addHook('onRequest', async (req, reply) => {
    const existing = reply.getHeader('x-openstack-request-id');
    const rid = typeof existing === 'string' && existing ? existing : `req-${randomUUID()}`;
    reply.header('x-openstack-request-id', rid);
    reply.header('x-compute-request-id', rid);
    const path = req.url.split('?')[0] ?? '';
    // The unversioned document is anonymous and carries no microversion headers.
    if (/^\/compute\/?$/.test(path)) return;
    const v = negotiate(req);
    if ('error' in v) {
      setVersionHeaders(reply, MIN_VERSION);
      return reply.code(400).send(faultBody(400, v.error));
    }
    if ('unsupported' in v) {
      setVersionHeaders(reply, v.unsupported);
      return reply
        .code(406)
        .send(
          faultBody(
            406,
            `Version ${v.unsupported} is not supported by the API. Minimum is ${MIN_VERSION} and maximum is ${MAX_VERSION}.`,
          ),
        );
    }
    req.novaMinor = v.minor;
    setVersionHeaders(reply, v.raw);
    // The versioned document (GET /v2.1) is anonymous too.
    if (/^\/compute\/v2\.1\/?$/.test(path) && req.method === 'GET') return;
    const token = req.headers['x-auth-token'];
    const info = typeof token === 'string' && token ? ctx.validateToken(token) : undefined;
    if (!info) {
      reply.header('www-authenticate', `Keystone uri="${ctx.baseUrl}/identity"`);
      return reply.code(401).send({
        error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
      });
    }
    req.novaToken = info;
  });
  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof NovaError) return reply.code(err.status).send(faultBody(err.status, err.message));
    const e = err as { statusCode?: number; message?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.code(e.statusCode).send(faultBody(e.statusCode, e.message ?? 'Bad request'));
    }
    ctx.log.warn('nova: internal error', { error: String(e.message ?? err) });
    return reply
      .code(500)
      .send(
        faultBody(
          500,
          'Unexpected API Error. Please report this at http://bugs.launchpad.net/nova/ and attach the Nova API log if possible.',
        ),
      );
  });
  app.setNotFoundHandler((_req, reply) => {
    reply.code(404).send(faultBody(404, 'The resource could not be found.'));
  });
}

/** A value as Python prints it: Nova's schema errors quote the request body that way. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return `'${v.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return String(v);
}

/** Nova's JSON-schema message for a missing property of `field`. */
export function requiredProperty(field: string, value: unknown, prop: string): NovaError {
  return badRequest(
    `Invalid input for field/attribute ${field}. Value: ${pyRepr(value)}. '${prop}' is a required property`,
  );
}

/** The `{key: {...}}` object of a request body, or Nova's 400. */
export function bodyOf(req: FastifyRequest, key: string): Record<string, unknown> {
  const b = req.body as Record<string, unknown> | undefined | null;
  const inner = b && typeof b === 'object' ? b[key] : undefined;
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) {
    throw badRequest(
      `Invalid input for field/attribute ${key}. Value: ${pyRepr(b ?? null)}. '${key}' is a required property`,
    );
  }
  return inner as Record<string, unknown>;
}

/** Nova's timestamps: `2026-11-23T09:14:23Z` in most bodies. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The `...T09:14:29.000000` form of launched_at/created_at in some bodies. */
export function isoMicro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000');
}

export function queryOf(req: FastifyRequest): Record<string, string | string[]> {
  return (req.query ?? {}) as Record<string, string | string[]>;
}

export function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[v.length - 1] : v;
}

/** Parse `limit` like Nova (0 or more, capped at 1000). */
export function parseLimit(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw badRequest(`Invalid input for query parameters limit. Value: ${raw}. '${raw}' does not match '^[0-9]*$'`);
  }
  return Math.min(n, 1000);
}

/** The `<collection>_links` next link Nova adds when a page is full. */
export function nextLink(ctx: CloudContext, path: string, query: Record<string, string | string[]>, marker: string) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (k === 'marker') continue;
    for (const one of Array.isArray(v) ? v : [v]) p.append(k, one);
  }
  p.set('marker', marker);
  return [{ rel: 'next', href: `${ctx.baseUrl}${path}?${p.toString()}` }];
}
