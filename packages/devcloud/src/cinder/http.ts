/**
 * Cinder's wire conventions: fault bodies (`{"itemNotFound": {...}}`, 401 in Keystone's shape), request ids,
 * `OpenStack-API-Version: volume 3.x` negotiation, token auth, and the helpers every route file shares.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudContext, TokenInfo } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { cinderFaultBody, keystoneFaultBody } from '../fault-bodies.ts';
import { badRequest, notFound } from './errors.ts';
import { MAX_MV, MIN_MV, type View } from './render.ts';
import type { CinderState, VolumeRow } from './state.ts';

export interface CinderRequestState {
  tok: TokenInfo;
  view: View;
}

const reqState = new WeakMap<FastifyRequest, CinderRequestState>();

export function rs(req: FastifyRequest): CinderRequestState {
  const s = reqState.get(req);
  if (!s) throw new ApiFault(401, 'The request you have made requires authentication.');
  return s;
}

export function versionEntry(ctx: CloudContext) {
  return {
    id: 'v3.0',
    status: 'CURRENT',
    version: `3.${MAX_MV}`,
    min_version: `3.${MIN_MV}`,
    updated: '2022-08-31T00:00:00Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${ctx.baseUrl}/volume/v3/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}

/** Parse `OpenStack-API-Version: volume 3.x`; returns the minor number. */
function parseMicroversion(req: FastifyRequest): number {
  const raw = req.headers['openstack-api-version'];
  const header = Array.isArray(raw) ? raw.join(',') : raw;
  if (!header) return MIN_MV;
  let value: string | undefined;
  for (const part of header.split(',')) {
    const [service, ver] = part.trim().split(/\s+/);
    if (service?.toLowerCase() === 'volume') value = ver;
  }
  if (value === undefined) return MIN_MV;
  if (value.toLowerCase() === 'latest') return MAX_MV;
  const m = /^(\d+)\.(\d+)$/.exec(value);
  if (!m) {
    throw new ApiFault(400, `API Version String ${value} is of invalid format. Must be of format MajorNum.MinorNum.`);
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 3 || minor < MIN_MV || minor > MAX_MV) {
    throw new ApiFault(
      406,
      `Version ${value} is not supported by the API. Minimum is 3.${MIN_MV} and maximum is 3.${MAX_MV}.`,
      { headers: { 'openstack-api-version': `volume ${value}`, vary: 'OpenStack-API-Version' } },
    );
  }
  return minor;
}

export function body<T = Record<string, unknown>>(req: FastifyRequest, key: string): T {
  const b = req.body as Record<string, unknown> | undefined;
  const inner = b?.[key];
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
    throw badRequest(`Missing required element '${key}' in request body.`);
  }
  return inner as T;
}

export function requireMv(req: FastifyRequest, minor: number): void {
  if (rs(req).view.mv < minor) throw notFound('The resource could not be found.');
}

/** Find a volume the token may see (own project, or any for admin). */
export function findVolume(state: CinderState, req: FastifyRequest, id: string): VolumeRow {
  const { tok } = rs(req);
  const v = state.volume(id);
  if (!v || (!tok.isAdmin && v.projectId !== tok.projectId)) throw notFound(`Volume ${id} could not be found.`);
  return v;
}

export function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw badRequest(`Invalid input for field/attribute ${field}.`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') {
      throw badRequest(
        `Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${JSON.stringify(v)} is not of type 'string'`,
      );
    }
    if (k.length > 255 || v.length > 255) throw badRequest(`Invalid input for field/attribute ${field}: too long.`);
    out[k] = v;
  }
  return out;
}

export function optString(value: unknown, field: string): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'string') {
    throw badRequest(
      `Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${JSON.stringify(value)} is not of type 'string', 'null'`,
    );
  }
  if (value.length > 255 && field === 'name') {
    throw badRequest(`Invalid input for field/attribute name. Value: ${value}. '${value}' is too long`);
  }
  return value;
}

const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);
export const truthy = (v: string | null) => v !== null && TRUE.has(v.toLowerCase());

/** Request ids, auth, microversions and Cinder's error bodies for every route of the plugin. */
export function installHttp(app: FastifyInstance, ctx: CloudContext): void {
  const apiBase = () => `${ctx.baseUrl}/volume`;
  app.setErrorHandler((err, _req, reply) => {
    let status = 500;
    let message = 'The server has either erred or is incapable of performing the requested operation.';
    if (err instanceof ApiFault) {
      status = err.status;
      message = err.message;
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    } else if (
      typeof (err as { statusCode?: number }).statusCode === 'number' &&
      (err as { statusCode: number }).statusCode < 500
    ) {
      status = (err as { statusCode: number }).statusCode;
      message = status === 400 ? 'Malformed request body' : String((err as Error).message);
    } else {
      ctx.log.warn('cinder: unexpected error', { error: String(err) });
    }
    if (status === 401) {
      reply.header('www-authenticate', `Keystone uri="${ctx.baseUrl}/identity/v3"`);
      return reply
        .code(401)
        .type('application/json')
        .send(keystoneFaultBody(401, 'The request you have made requires authentication.'));
    }
    if (status === 413) reply.header('retry-after', '0');
    return reply.code(status).type('application/json').send(cinderFaultBody(status, message));
  });
  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).type('application/json').send(cinderFaultBody(404, 'The resource could not be found.')),
  );

  app.addHook('onRequest', async (req, reply) => {
    let rid = reply.getHeader('x-openstack-request-id');
    if (!rid) {
      rid = `req-${randomUUID()}`;
      reply.header('x-openstack-request-id', rid);
    }
    reply.header('x-compute-request-id', rid);
    const path = req.url
      .split('?')[0]!
      .replace(/^\/volume/, '')
      .replace(/\/+$/, '');
    if (path === '') {
      reply.header('openstack-api-version', `volume 3.${MIN_MV}`).header('vary', 'OpenStack-API-Version');
      return;
    }
    const header = req.headers['x-auth-token'];
    const tok = typeof header === 'string' ? ctx.validateToken(header) : undefined;
    if (!tok) throw new ApiFault(401, 'The request you have made requires authentication.');
    const mv = parseMicroversion(req);
    reply.header('openstack-api-version', `volume 3.${mv}`).header('vary', 'OpenStack-API-Version');
    const m = /^\/v3\/([^/]+)/.exec(path);
    const urlProject = m?.[1] ?? tok.projectId ?? '';
    if (m && tok.projectId !== urlProject) throw badRequest('Malformed request url');
    reqState.set(req, { tok, view: { mv, isAdmin: tok.isAdmin, apiBase: apiBase(), urlProject } });
  });

  // The real service sends plain `application/json` (no charset parameter).
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8')
      reply.header('content-type', 'application/json');
    return payload;
  });
}
