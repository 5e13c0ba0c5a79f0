/**
 * Keystone unified limits: `/v3/registered_limits` (a deployment's default per service, region and resource) and
 * `/v3/limits` (a project's own limit overriding it). Shapes as in Keystone's API reference (collection keys
 * `registered_limits`/`limits`, fields `default_limit`/`resource_limit`). Anyone with a token may list registered
 * limits; a non-admin token sees only the limits of its own project (keystone/api/limits.py filters them so);
 * creating either is for admins. Limits only: the services count usage themselves.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { badRequest, conflict } from './errors.ts';
import { caller, type KeystoneRoutes, queryOf, requireAdmin } from './http.ts';
import type { ProjectLimit, RegisteredLimit } from './model.ts';
import { collection } from './render.ts';

const newLimitId = () => randomUUID().replaceAll('-', '');

function listOf(body: unknown, key: string): Record<string, unknown>[] {
  const list = (body as Record<string, unknown> | undefined)?.[key];
  if (!Array.isArray(list) || list.length === 0 || list.some((x) => !x || typeof x !== 'object'))
    throw badRequest(`Invalid input for field '${key}': '${key}' is a required property`);
  return list as Record<string, unknown>[];
}

function str(v: unknown, field: string, required: boolean): string | null {
  if (v === undefined || v === null) {
    if (required) throw badRequest(`Invalid input for field '${field}': '${field}' is a required property`);
    return null;
  }
  if (typeof v !== 'string' || v === '') throw badRequest(`Invalid input for field '${field}': expected a string.`);
  return v;
}

function int(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1)
    throw badRequest(`Invalid input for field '${field}': expected an integer of at least -1.`);
  return v;
}

export function limitsRoutes(app: FastifyInstance, r: KeystoneRoutes): void {
  const { ks } = r;
  const v3 = () => r.v3();
  const regBody = (x: RegisteredLimit) => ({ ...x, links: { self: `${v3()}/registered_limits/${x.id}` } });
  const limitBody = (x: ProjectLimit) => ({ ...x, links: { self: `${v3()}/limits/${x.id}` } });
  const serviceOf = (id: string | null) => {
    if (!id || !ks.services.get(id)) throw badRequest(`Invalid input for field 'service_id': no service ${id}.`);
    return id;
  };
  const matches = (
    x: { service_id: string; region_id: string | null; resource_name: string },
    q: Record<string, string | undefined>,
  ) =>
    (!q.service_id || x.service_id === q.service_id) &&
    (!q.region_id || x.region_id === q.region_id) &&
    (!q.resource_name || x.resource_name === q.resource_name);

  app.get('/v3/registered_limits', async (req) => {
    caller(ks, req);
    const q = queryOf(req);
    const list = ks.registeredLimits.filter((x) => matches(x, q));
    return collection('registered_limits', list.map(regBody), `${v3()}/registered_limits`);
  });

  app.post('/v3/registered_limits', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_registered_limits');
    const created = listOf(req.body, 'registered_limits').map((b): RegisteredLimit => {
      const x: RegisteredLimit = {
        id: newLimitId(),
        service_id: serviceOf(str(b.service_id, 'service_id', true)),
        region_id: str(b.region_id, 'region_id', false),
        resource_name: str(b.resource_name, 'resource_name', true) as string,
        default_limit: int(b.default_limit, 'default_limit'),
        description: str(b.description, 'description', false),
      };
      const dup = ks.registeredLimits.filter(
        (y) => y.service_id === x.service_id && y.region_id === x.region_id && y.resource_name === x.resource_name,
      );
      if (dup.length > 0) throw conflict('registered_limit', `Duplicate entry for ${x.resource_name}`);
      return x;
    });
    for (const x of created) ks.registeredLimits.put(x);
    reply.code(201);
    return { registered_limits: created.map(regBody) };
  });

  app.get('/v3/limits', async (req) => {
    const c = caller(ks, req);
    const q = queryOf(req);
    let list = ks.limits.filter((x) => matches(x, q));
    if (c.info.isAdmin) {
      if (q.project_id) list = list.filter((x) => x.project_id === q.project_id);
      if (q.domain_id) list = list.filter((x) => x.domain_id === q.domain_id);
    } else if (c.row.projectId) list = list.filter((x) => x.project_id === c.row.projectId);
    else if (c.row.domainId) list = list.filter((x) => x.domain_id === c.row.domainId);
    else list = [];
    return collection('limits', list.map(limitBody), `${v3()}/limits`);
  });

  app.post('/v3/limits', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_limits');
    const created = listOf(req.body, 'limits').map((b): ProjectLimit => {
      const x: ProjectLimit = {
        id: newLimitId(),
        project_id: str(b.project_id, 'project_id', false),
        domain_id: str(b.domain_id, 'domain_id', false),
        service_id: serviceOf(str(b.service_id, 'service_id', true)),
        region_id: str(b.region_id, 'region_id', false),
        resource_name: str(b.resource_name, 'resource_name', true) as string,
        resource_limit: int(b.resource_limit, 'resource_limit'),
        description: str(b.description, 'description', false),
      };
      if ((x.project_id === null) === (x.domain_id === null))
        throw badRequest('A limit is for a project or for a domain: give one of project_id and domain_id.');
      const registered = ks.registeredLimits.filter(
        (y) => y.service_id === x.service_id && y.region_id === x.region_id && y.resource_name === x.resource_name,
      );
      if (registered.length === 0)
        throw badRequest(`No registered limit for ${x.resource_name}: register a default limit first.`);
      return x;
    });
    for (const x of created) ks.limits.put(x);
    reply.code(201);
    return { limits: created.map(limitBody) };
  });
}
