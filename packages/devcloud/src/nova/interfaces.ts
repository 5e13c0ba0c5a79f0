/**
 * `os-interface`: a server's Neutron ports as interface attachments; attach (network or port) and detach.
 * Ports are bound through `internal.network`; the port details shown come from the same cloud's Neutron tables.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudContext } from '../context.ts';
import { InternalError } from '../context.ts';
import { releaseServerPort } from '../neutron/index.ts';
import { badRequest, bodyOf, conflict, mv, NovaError, notFound, tokenOf } from './http.ts';
import { type NovaModel, recordAction } from './model.ts';
import { getServer } from './server-common.ts';

interface PortView {
  id: string;
  network_id: string;
  mac_address: string;
  status: string;
  device_id: string;
  device_owner: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  _novaCreated?: boolean;
}

export function interfaceRoutes(app: FastifyInstance, ctx: CloudContext, m: NovaModel): void {
  const ports = () => ctx.store.table<PortView>('neutron_ports');
  const render = (req: FastifyRequest, p: PortView) => {
    const out: Record<string, unknown> = {
      net_id: p.network_id,
      port_id: p.id,
      mac_addr: p.mac_address,
      port_state: p.status,
      fixed_ips: p.fixed_ips.map((ip) => ({ subnet_id: ip.subnet_id, ip_address: ip.ip_address })),
    };
    if (mv(req) >= 70) out.tag = null;
    return out;
  };
  const mine = (serverId: string) => ports().filter((p) => p.device_id === serverId);

  app.get<{ Params: { id: string } }>('/v2.1/servers/:id/os-interface', async (req) => {
    const s = getServer(m, tokenOf(req), req.params.id);
    return { interfaceAttachments: mine(s.id).map((p) => render(req, p)) };
  });

  app.get<{ Params: { id: string; port: string } }>('/v2.1/servers/:id/os-interface/:port', async (req) => {
    const s = getServer(m, tokenOf(req), req.params.id);
    const p = mine(s.id).find((x) => x.id === req.params.port);
    if (!p) throw notFound(`Instance ${s.id} does not have a port with id ${req.params.port}`);
    return { interfaceAttachment: render(req, p) };
  });

  app.post<{ Params: { id: string } }>('/v2.1/servers/:id/os-interface', async (req, reply) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    const b = bodyOf(req, 'interfaceAttachment');
    const netId = typeof b.net_id === 'string' ? b.net_id : undefined;
    const portId = typeof b.port_id === 'string' ? b.port_id : undefined;
    const fixed = Array.isArray(b.fixed_ips) ? (b.fixed_ips as { ip_address?: string }[])[0]?.ip_address : undefined;
    if (netId && portId) throw badRequest('Must not input both network_id and port_id');
    if (fixed && !netId) throw badRequest('Must input network_id when request IP address');
    if (s.task_state || !['active', 'stopped', 'paused'].includes(s.vm_state)) {
      throw conflict(`Cannot 'attach_interface' instance ${s.id} while it is in vm_state ${s.vm_state}`);
    }
    if (!netId && !portId) throw badRequest('A network or port is required to attach an interface.');
    let bound: ReturnType<CloudContext['internal']['network']['bindPort']>;
    try {
      bound = ctx.internal.network.bindPort({
        projectId: s.project_id,
        serverId: s.id,
        ...(netId ? { networkId: netId } : {}),
        ...(portId ? { portId } : {}),
        ...(fixed ? { fixedIp: fixed } : {}),
      });
    } catch (e) {
      if (e instanceof InternalError) {
        if (e.status === 404) throw notFound(e.message);
        if (e.status === 409) throw conflict(e.message);
        throw new NovaError(e.status >= 500 ? 400 : e.status, e.message);
      }
      throw e;
    }
    s.updated = Date.now();
    recordAction(s, 'attach_interface', String(reply.getHeader('x-openstack-request-id') ?? ''), token.userId);
    m.servers.put(s);
    const p = ports().get(bound.id);
    if (!p) throw notFound(`Port ${bound.id} could not be found.`);
    return { interfaceAttachment: render(req, p) };
  });

  app.delete<{ Params: { id: string; port: string } }>('/v2.1/servers/:id/os-interface/:port', async (req, reply) => {
    const token = tokenOf(req);
    const s = getServer(m, token, req.params.id);
    const p = mine(s.id).find((x) => x.id === req.params.port);
    if (!p) throw notFound(`Port ${req.params.port} is not attached`);
    if (s.task_state)
      throw conflict(`Cannot 'detach_interface' instance ${s.id} while it is in task_state ${s.task_state}`);
    // As Nova: a port Nova made for the server is deleted, a port the user brought is unbound and kept.
    releaseServerPort(ctx, p.id);
    recordAction(s, 'detach_interface', String(reply.getHeader('x-openstack-request-id') ?? ''), token.userId);
    s.updated = Date.now();
    m.servers.put(s);
    return reply.code(202).send();
  });
}
