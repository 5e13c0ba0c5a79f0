/**
 * Neutron's wire conventions: `{"NeutronError": {type, message, detail}}` bodies, `x-openstack-request-id`,
 * token auth, and the list machinery every collection shares (attribute filters with filter validation,
 * `fields`, `sort_key`/`sort_dir`, `limit`/`marker`/`page_reverse` with `<collection>_links`).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CloudContext, TokenInfo } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { neutronFaultBody } from '../fault-bodies.ts';

/** Neutron's faults are ApiFaults that name their type; this keeps Neutron's (status, type, message) order. */
export class NeutronError extends ApiFault {
  constructor(status: number, type: string, message: string, detail = '') {
    super(status, message, { type, detail });
  }
}

export const badRequest = (message: string): NeutronError => new NeutronError(400, 'HTTPBadRequest', message);
export const policyDenied = (action: string): NeutronError =>
  new NeutronError(403, 'PolicyNotAuthorized', `rule:${action} is disallowed by policy`);

export function errorBody(err: ApiFault): object {
  return neutronFaultBody(err);
}

declare module 'fastify' {
  interface FastifyRequest {
    neutronToken?: TokenInfo;
  }
}

/** The validated token of a request (the auth hook guarantees one on every v2.0 route). */
export function tokenOf(req: FastifyRequest): TokenInfo {
  const t = req.neutronToken;
  if (!t) throw new NeutronError(401, 'HTTPUnauthorized', 'The request you have made requires authentication.');
  return t;
}

/** The project a token acts for; project-less tokens cannot create project resources. */
export function projectOf(token: TokenInfo): string {
  if (!token.projectId) throw policyDenied('create');
  return token.projectId;
}

/** Request ids, auth and error shape for every route of the Neutron plugin. */
export function installHttp(app: FastifyInstance, ctx: CloudContext): void {
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-openstack-request-id', `req-${randomUUID()}`);
    const path = req.url.split('?')[0] ?? '';
    // Version discovery is anonymous, like neutron's `/` (the versions document).
    if (/^\/network\/?$/.test(path)) return;
    const token = req.headers['x-auth-token'];
    const info = typeof token === 'string' && token ? ctx.validateToken(token) : undefined;
    if (!info) {
      reply.code(401).header('www-authenticate', `Keystone uri="${ctx.baseUrl}/identity"`);
      return reply.send({
        error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
      });
    }
    req.neutronToken = info;
  });
  app.setErrorHandler((err: unknown, _req, reply) => {
    if (err instanceof ApiFault) return reply.code(err.status).send(errorBody(err));
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
      const msg = e.code?.startsWith('FST_ERR_CTP') ? 'Body contains invalid data' : (e.message ?? 'Bad request');
      return reply.code(e.statusCode).send(errorBody(new NeutronError(e.statusCode, 'HTTPBadRequest', msg)));
    }
    ctx.log.warn('neutron: internal error', { error: String(e.message ?? err) });
    return reply
      .code(500)
      .send(
        errorBody(
          new NeutronError(
            500,
            'HTTPInternalServerError',
            'Request Failed: internal server error while processing your request.',
          ),
        ),
      );
  });
  app.setNotFoundHandler((_req, reply) => {
    reply.code(404).send(errorBody(new NeutronError(404, 'HTTPNotFound', 'The resource could not be found.')));
  });
}

/** The `{resource: {...}}` body of a POST/PUT, or a 400 like Neutron's. */
export function bodyOf(req: FastifyRequest, resource: string): Record<string, unknown> {
  const b = req.body as Record<string, unknown> | undefined | null;
  const inner = b && typeof b === 'object' ? b[resource] : undefined;
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) {
    throw badRequest(`Resource body required`);
  }
  return inner as Record<string, unknown>;
}

/** Reject attributes a resource does not have (Neutron: "Unrecognized attribute(s) 'x'"). */
export function rejectUnknown(body: Record<string, unknown>, allowed: readonly string[]): void {
  const bad = Object.keys(body).filter((k) => !allowed.includes(k));
  if (bad.length) throw badRequest(`Unrecognized attribute(s) '${bad.join(', ')}'`);
}

/** Attributes every standard-attribute resource has. */
export const STD_ATTRS = [
  'id',
  'project_id',
  'tenant_id',
  'description',
  'tags',
  'created_at',
  'updated_at',
  'revision_number',
];

export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const CONTROL_PARAMS = new Set(['fields', 'sort_key', 'sort_dir', 'limit', 'marker', 'page_reverse']);
const TAG_FILTERS = new Set(['tags', 'tags-any', 'not-tags', 'not-tags-any']);

/** Neutron's tag filters: comma-separated lists, all/any, optionally negated. */
function tagFilter(row: Record<string, unknown>, key: string, values: string[]): boolean {
  const have = new Set((row.tags as string[] | undefined) ?? []);
  const wanted = values.flatMap((v) => v.split(',')).filter((t) => t !== '');
  const all = wanted.every((t) => have.has(t));
  const any = wanted.some((t) => have.has(t));
  if (key === 'tags') return all;
  if (key === 'tags-any') return any;
  if (key === 'not-tags') return !all;
  return !any;
}

function asList(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

function matches(value: unknown, wanted: string[]): boolean {
  if (Array.isArray(value)) return value.some((v) => matches(v, wanted));
  if (typeof value === 'boolean') return wanted.some((w) => w.toLowerCase() === String(value));
  if (value === null || value === undefined) return wanted.some((w) => w === '' || w === 'None');
  return wanted.includes(String(value));
}

export interface ListOptions {
  /** Collection name in the body and links, e.g. 'networks'. */
  collection: string;
  /** URL path of the collection below the cloud base, e.g. '/network/v2.0/networks'. */
  path: string;
  /** Custom filters: return true/false to decide, or undefined to fall back to attribute matching. */
  customFilter?: (row: Record<string, unknown>, key: string, values: string[]) => boolean | undefined;
  /** The collection's attributes, for filter validation when the list is empty. */
  attributes?: readonly string[];
  /** Extra accepted filter names that are not attributes of the rendered body. */
  extraFilters?: readonly string[];
  notFound: (id: string) => NeutronError;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * Filter, sort, paginate and project a list of already-rendered, already-visible resources, and send it
 * the way neutron-server does (including `<collection>_links` when `limit` is given).
 */
export function sendList(
  req: FastifyRequest,
  reply: FastifyReply,
  ctx: CloudContext,
  rendered: Record<string, unknown>[],
  opts: ListOptions,
): FastifyReply {
  const q = (req.query ?? {}) as Record<string, unknown>;
  const known = new Set<string>(opts.extraFilters ?? []);
  for (const r of rendered) for (const k of Object.keys(r)) known.add(k);
  if (rendered.length === 0) {
    // Without a row to learn attributes from: the collection's declared attributes, else accept any filter.
    if (opts.attributes) for (const k of opts.attributes) known.add(k);
    else for (const k of Object.keys(q)) known.add(k);
  }
  const filters = Object.keys(q).filter((k) => !CONTROL_PARAMS.has(k));
  const invalid = filters.filter(
    (k) => !known.has(k) && !TAG_FILTERS.has(k) && k !== 'tenant_id' && k !== 'project_id',
  );
  if (invalid.length)
    throw badRequest(`[${invalid.map((k) => `'${k}'`).join(', ')}] is invalid attribute for filtering`);
  let rows = rendered.filter((row) =>
    filters.every((k) => {
      const values = asList(q[k]);
      if (TAG_FILTERS.has(k)) return tagFilter(row, k, values);
      const custom = opts.customFilter?.(row, k, values);
      if (custom !== undefined) return custom;
      return matches(row[k], values);
    }),
  );

  const sortKeys = asList(q.sort_key);
  const sortDirs = asList(q.sort_dir);
  for (const d of sortDirs) {
    if (d !== 'asc' && d !== 'desc')
      throw badRequest(`['${d}'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'`);
  }
  if (sortKeys.length !== sortDirs.length && sortDirs.length > 0)
    throw badRequest('The number of sort_keys and sort_dirs must be same');
  for (const k of sortKeys) {
    if (!known.has(k)) throw badRequest(`${k} is invalid attribute for sort_keys`);
  }
  const limitRaw = q.limit === undefined ? undefined : String(asList(q.limit)[0]);
  let limit: number | undefined;
  if (limitRaw !== undefined && limitRaw !== '') {
    limit = Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 0)
      throw badRequest(`Limit must be an integer 0 or greater and not '${limitRaw}'`);
    if (limit === 0) limit = undefined;
  }
  const pageReverse = String(asList(q.page_reverse)[0] ?? '').toLowerCase() === 'true';
  const marker = asList(q.marker)[0];
  if (sortKeys.length || limit !== undefined || marker) {
    const keys = [...sortKeys, 'id'];
    const dirs = [...sortDirs.map((d) => (d === 'desc' ? -1 : 1)), 1];
    const sorted = [...rows].sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const c = compare(a[keys[i]!], b[keys[i]!]);
        if (c !== 0) return c * (dirs[i] ?? 1);
      }
      return 0;
    });
    rows = sorted;
  }
  if (pageReverse) rows = [...rows].reverse();
  if (marker) {
    const idx = rows.findIndex((r) => r.id === marker);
    if (idx < 0) throw opts.notFound(marker);
    rows = rows.slice(idx + 1);
  }
  if (limit !== undefined) rows = rows.slice(0, limit);
  if (pageReverse) rows = [...rows].reverse();

  const fields = asList(q.fields);
  const out = fields.length ? rows.map((r) => pick(r, fields)) : rows;
  const body: Record<string, unknown> = { [opts.collection]: out };
  if (limit !== undefined) {
    const links: { rel: string; href: string }[] = [];
    const base = `${ctx.baseUrl}${opts.path}`;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) {
      if (k === 'marker' || k === 'page_reverse') continue;
      for (const one of asList(v)) params.append(k, one);
    }
    const first = rows[0]?.id as string | undefined;
    const last = rows[rows.length - 1]?.id as string | undefined;
    if (!(rows.length < limit && !pageReverse) && last) {
      const p = new URLSearchParams(params);
      p.set('marker', pageReverse ? (first ?? last) : last);
      links.push({ rel: 'next', href: `${base}?${p.toString()}` });
    }
    if (!(rows.length < limit && pageReverse) && first) {
      const p = new URLSearchParams(params);
      p.set('marker', pageReverse ? (last ?? first) : first);
      p.set('page_reverse', 'True');
      links.push({ rel: 'previous', href: `${base}?${p.toString()}` });
    }
    body[`${opts.collection}_links`] = links;
  }
  return reply.send(body);
}

export function pick(row: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (f in row) out[f] = row[f];
  return out;
}

/** Apply `?fields=` to a single-resource GET. */
export function fieldsOf(req: FastifyRequest, row: Record<string, unknown>): Record<string, unknown> {
  const fields = asList((req.query as Record<string, unknown> | undefined)?.fields);
  return fields.length ? pick(row, fields) : row;
}
