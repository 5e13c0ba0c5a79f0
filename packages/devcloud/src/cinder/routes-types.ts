/** Cinder v3 volume types: list, default, show, extra specs, create, delete. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ApiFault } from '../fault.ts';
import { badRequest, forbidden, notFound } from './errors.ts';
import { body, requireMv, rs, truthy } from './http.ts';
import { queryParams } from './list.ts';
import { typeBody } from './render.ts';
import type { CinderState } from './state.ts';

const P = '/v3/:project_id';

export function registerTypeRoutes(app: FastifyInstance, state: CinderState): void {
  // ---- volume types ----------------------------------------------------------------------------------------
  app.get(`${P}/types`, async (req) => {
    const { view } = rs(req);
    const q = queryParams(req);
    const pub = q.get('is_public');
    const rows = state.types.filter((t) => {
      if (!view.isAdmin && !t.isPublic) return false;
      if (pub !== null && pub !== 'None' && t.isPublic !== truthy(pub)) return false;
      return true;
    });
    return { volume_types: rows.map((t) => typeBody(t, view)) };
  });
  app.get(`${P}/types/default`, async (req) => {
    requireMv(req, 62);
    const { view } = rs(req);
    const t = state.defaultType();
    const out = typeBody(t, view);
    delete out['os-volume-type-access:is_public'];
    delete out.qos_specs_id;
    return { volume_type: out };
  });
  app.get<{ Params: { id: string } }>(`${P}/types/:id`, async (req) => {
    const { view } = rs(req);
    const t = req.params.id === 'default' ? state.defaultType() : state.types.get(req.params.id);
    if (!t || (!view.isAdmin && !t.isPublic)) throw notFound(`Volume type ${req.params.id} could not be found.`);
    return { volume_type: typeBody(t, view) };
  });
  app.get<{ Params: { id: string } }>(`${P}/types/:id/extra_specs`, async (req) => {
    const { view } = rs(req);
    const t = state.types.get(req.params.id);
    if (!t) throw notFound(`Volume type ${req.params.id} could not be found.`);
    if (!view.isAdmin) throw forbidden('volume_extension:types_extra_specs:index');
    return { extra_specs: { ...t.extraSpecs } };
  });
  app.post(`${P}/types`, async (req) => {
    const { view } = rs(req);
    if (!view.isAdmin) throw forbidden('volume_extension:types_manage');
    const b = body(req, 'volume_type');
    if (typeof b.name !== 'string' || b.name.trim() === '') throw badRequest('Volume type name can not be empty.');
    if (state.types.filter((t) => t.name === b.name).length > 0) {
      throw new ApiFault(409, `Volume Type ${b.name} already exists.`);
    }
    const isPublic = b['os-volume-type-access:is_public'] ?? b.is_public ?? true;
    const t = {
      id: randomUUID(),
      name: b.name,
      description: typeof b.description === 'string' ? b.description : null,
      isPublic: isPublic === true || isPublic === 'true',
      extraSpecs: Object.fromEntries(
        Object.entries((b.extra_specs ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      ),
      isDefault: false,
    };
    state.types.put(t);
    return { volume_type: typeBody(t, view) };
  });
  app.delete<{ Params: { id: string } }>(`${P}/types/:id`, async (req, reply) => {
    const { view } = rs(req);
    if (!view.isAdmin) throw forbidden('volume_extension:types_manage');
    const t = state.types.get(req.params.id);
    if (!t) throw notFound(`Volume type ${req.params.id} could not be found.`);
    if (t.isDefault) throw badRequest('Invalid volume type: Default volume type can not be deleted.');
    if (state.volumes.filter((v) => v.volumeTypeId === t.id).length > 0) {
      throw badRequest(
        `Target volume type is still in use. Volume Type ${t.id} deletion is not allowed with volumes present with the type.`,
      );
    }
    state.types.delete(t.id);
    return reply.code(202).send();
  });
}
