/** Keystone identity admin API: the service catalog (services, endpoints, regions). */
import type { FastifyInstance } from 'fastify';
import { ApiFault } from '../fault.ts';
import { badRequest, conflict, notFound } from './errors.ts';
import { bodyObject, caller, type KeystoneRoutes, queryOf, requireAdmin } from './http.ts';
import { identityKit, optBool, optStr, params, reqStr } from './identity-kit.ts';
import { newId } from './model.ts';
import { collection } from './render.ts';

export function catalogRoutes(app: FastifyInstance, r: KeystoneRoutes): void {
  const { ks, v3, need } = identityKit(r);

  // ------------------------------------------------------------------ services, endpoints, regions
  const serviceBody = (s: { id: string; type: string; name: string; description: string; enabled: boolean }) => ({
    ...s,
    links: { self: `${v3()}/services/${s.id}` },
  });
  const endpointBody = (e: {
    id: string;
    service_id: string;
    interface: string;
    region_id: string;
    url: string;
    enabled: boolean;
  }) => ({
    id: e.id,
    interface: e.interface,
    region_id: e.region_id,
    region: e.region_id,
    service_id: e.service_id,
    url: e.url,
    enabled: e.enabled,
    links: { self: `${v3()}/endpoints/${e.id}` },
  });
  const regionBody = (x: { id: string; description: string; parent_region_id: string | null }) => ({
    ...x,
    links: { self: `${v3()}/regions/${x.id}` },
  });
  app.get('/v3/services', async (req) => {
    requireAdmin(caller(ks, req), 'list_services');
    const q = queryOf(req);
    let list = ks.services.all();
    if (q.type) list = list.filter((s) => s.type === q.type);
    if (q.name) list = list.filter((s) => s.name === q.name);
    return collection('services', list.map(serviceBody), `${v3()}/services`);
  });
  app.get('/v3/services/:id', async (req) => {
    requireAdmin(caller(ks, req), 'get_service');
    return {
      service: serviceBody(need(ks.services.get(params(req).id as string), 'service', params(req).id as string)),
    };
  });
  app.post('/v3/services', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_service');
    const b = bodyObject(req, 'service');
    const s = {
      id: newId(),
      type: reqStr(b.type, 'service/type'),
      name: optStr(b.name, 'service/name') ?? '',
      description: optStr(b.description, 'service/description') ?? '',
      enabled: optBool(b.enabled, 'service/enabled') ?? true,
    };
    ks.services.put(s);
    return reply.code(201).send({ service: serviceBody(s) });
  });
  app.delete('/v3/services/:id', async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_service');
    const id = params(req).id as string;
    if (!ks.services.delete(id)) throw notFound('service', id);
    for (const e of ks.endpoints.filter((x) => x.service_id === id)) ks.endpoints.delete(e.id);
    return reply.code(204).send();
  });
  app.get('/v3/endpoints', async (req) => {
    requireAdmin(caller(ks, req), 'list_endpoints');
    const q = queryOf(req);
    let list = ks.endpoints.all();
    if (q.interface) list = list.filter((e) => e.interface === q.interface);
    if (q.service_id) list = list.filter((e) => e.service_id === q.service_id);
    if (q.region_id) list = list.filter((e) => e.region_id === q.region_id);
    return collection('endpoints', list.map(endpointBody), `${v3()}/endpoints`);
  });
  app.get('/v3/endpoints/:id', async (req) => {
    requireAdmin(caller(ks, req), 'get_endpoint');
    return {
      endpoint: endpointBody(need(ks.endpoints.get(params(req).id as string), 'endpoint', params(req).id as string)),
    };
  });
  app.post('/v3/endpoints', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_endpoint');
    const b = bodyObject(req, 'endpoint');
    const serviceId = reqStr(b.service_id, 'endpoint/service_id');
    need(ks.services.get(serviceId), 'service', serviceId);
    const iface = reqStr(b.interface, 'endpoint/interface');
    if (!['public', 'internal', 'admin'].includes(iface))
      throw badRequest("Invalid input for field 'endpoint/interface'.");
    const regionId = optStr(b.region_id ?? b.region, 'endpoint/region_id') ?? ks.region;
    // As Keystone does: an endpoint in a region that does not exist yet creates the region.
    if (!ks.regions.get(regionId)) ks.regions.put({ id: regionId, description: '', parent_region_id: null });
    const e = {
      id: newId(),
      service_id: serviceId,
      interface: iface as 'public' | 'internal' | 'admin',
      region_id: regionId,
      url: reqStr(b.url, 'endpoint/url'),
      enabled: optBool(b.enabled, 'endpoint/enabled') ?? true,
    };
    ks.endpoints.put(e);
    return reply.code(201).send({ endpoint: endpointBody(e) });
  });
  app.delete('/v3/endpoints/:id', async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_endpoint');
    const id = params(req).id as string;
    if (!ks.endpoints.delete(id)) throw notFound('endpoint', id);
    return reply.code(204).send();
  });
  app.get('/v3/regions', async (req) => {
    caller(ks, req);
    return collection('regions', ks.regions.all().map(regionBody), `${v3()}/regions`);
  });
  app.post('/v3/regions', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_region');
    const b = bodyObject(req, 'region');
    const id = optStr(b.id, 'region/id') ?? newId();
    if (ks.regions.get(id)) throw conflict('region', `Duplicate ID, ${id}.`);
    const parent = optStr(b.parent_region_id, 'region/parent_region_id') ?? null;
    if (parent) need(ks.regions.get(parent), 'region', parent);
    const r = { id, description: optStr(b.description, 'region/description') ?? '', parent_region_id: parent };
    ks.regions.put(r);
    return reply.code(201).send({ region: regionBody(r) });
  });
  app.delete('/v3/regions/:id', async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_region');
    const id = params(req).id as string;
    need(ks.regions.get(id), 'region', id);
    if (ks.endpoints.filter((e) => e.region_id === id).length > 0) {
      throw new ApiFault(
        403,
        `Unable to delete region ${id} because it or its child regions have associated endpoints.`,
      );
    }
    ks.regions.delete(id);
    return reply.code(204).send();
  });
  app.get('/v3/regions/:id', async (req) => {
    caller(ks, req);
    return { region: regionBody(need(ks.regions.get(params(req).id as string), 'region', params(req).id as string)) };
  });
}
