/**
 * Nova servers: show, update, delete and the addresses (`/ips`); registers create (`server-create.ts`) and
 * list/detail (`servers-list.ts`) first, in the order they always were.
 */
import type { FastifyInstance } from 'fastify';
import type { CloudContext } from '../context.ts';
import { badRequest, bodyOf, conflict, mv, notFound, tokenOf } from './http.ts';
import { type NovaModel, recordAction } from './model.ts';
import { addressesOf, renderServer } from './render.ts';
import { getServer } from './server-common.ts';
import { createServerRoute } from './server-create.ts';
import { listServerRoutes } from './servers-list.ts';

export function serverRoutes(app: FastifyInstance, ctx: CloudContext, m: NovaModel): void {
  createServerRoute(app, ctx, m);
  listServerRoutes(app, ctx, m);

  // ---- show / update / delete ----------------------------------------------------------------------------
  app.get<{ Params: { id: string } }>('/v2.1/servers/:id', async (req) => {
    const token = tokenOf(req);
    return { server: renderServer(ctx, req, token, getServer(m, token, req.params.id), { show: true }) };
  });

  app.put<{ Params: { id: string } }>('/v2.1/servers/:id', async (req) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    const b = bodyOf(req, 'server');
    const allowed = [
      'name',
      'accessIPv4',
      'accessIPv6',
      'OS-DCF:diskConfig',
      ...(mv(req) >= 19 ? ['description'] : []),
      ...(mv(req) >= 90 ? ['hostname'] : []),
    ];
    const extra = Object.keys(b).filter((k) => !allowed.includes(k));
    if (extra.length) {
      throw badRequest(
        `Invalid input for field/attribute server. Value: ${JSON.stringify(b)}. Additional properties are not allowed ('${extra.join("', '")}' was unexpected)`,
      );
    }
    if (b.name !== undefined) {
      if (typeof b.name !== 'string' || !b.name.trim() || b.name.length > 255)
        throw badRequest(`Invalid input for field/attribute name. Value: ${String(b.name)}.`);
      s.name = b.name;
    }
    if (typeof b.accessIPv4 === 'string') s.access_ipv4 = b.accessIPv4;
    if (typeof b.accessIPv6 === 'string') s.access_ipv6 = b.accessIPv6;
    if (b.description !== undefined) s.description = b.description === null ? null : String(b.description);
    if (typeof b.hostname === 'string') s.hostname = b.hostname;
    if (b['OS-DCF:diskConfig'] === 'AUTO' || b['OS-DCF:diskConfig'] === 'MANUAL')
      s.disk_config = b['OS-DCF:diskConfig'];
    s.updated = Date.now();
    m.servers.put(s);
    return { server: renderServer(ctx, req, token, s, { show: true }) };
  });

  app.delete<{ Params: { id: string } }>('/v2.1/servers/:id', async (req, reply) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    if (s.locked && !token.isAdmin) throw conflict(`Instance ${s.id} is locked`);
    if (s.pending?.kind !== 'delete') {
      recordAction(s, 'delete', String(reply.getHeader('x-openstack-request-id') ?? ''), token.userId);
      m.begin(
        s,
        { kind: 'delete', until: Date.now() + ctx.transitionMs, vm_state: s.vm_state, power_state: s.power_state },
        'deleting',
      );
    }
    return reply.code(204).send();
  });

  // ---- ips -----------------------------------------------------------------------------------------------
  app.get<{ Params: { id: string } }>('/v2.1/servers/:id/ips', async (req) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    return { addresses: addressesOf(ctx, s.id) };
  });
  app.get<{ Params: { id: string; net: string } }>('/v2.1/servers/:id/ips/:net', async (req) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    const addrs = addressesOf(ctx, s.id)[req.params.net];
    if (!addrs) throw notFound('Instance is not a member of specified network');
    return { [req.params.net]: addrs.map((a) => ({ version: a.version, addr: a.addr })) };
  });
}
