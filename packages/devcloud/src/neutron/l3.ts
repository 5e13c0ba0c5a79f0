/**
 * Neutron L3: floating IPs (allocate from an external network, associate/disassociate through `port_id`) and
 * routers (external gateway, add/remove interface). As in Neutron, a floating IP associates only to a port whose
 * subnet a router joins to the floating IP's external network (else 404 ExternalGatewayForFloatingIPNotFound).
 */
import type { FastifyInstance } from 'fastify';
import type { TokenInfo } from '../context.ts';
import { badRequest, bodyOf, fieldsOf, NeutronError, rejectUnknown, STD_ATTRS, sendList, tokenOf } from './http.ts';
import { parseIp } from './ipam.ts';
import {
  type FloatingIpRow,
  type NeutronModel,
  newStd,
  type PortRow,
  type RouterRow,
  renderRow,
  touch,
} from './model.ts';

export function renderFloatingIp(m: NeutronModel, f: FloatingIpRow): Record<string, unknown> {
  const out = renderRow(f);
  const p = f.port_id ? m.ports.get(f.port_id) : undefined;
  out.port_details = p
    ? {
        name: p.name,
        network_id: p.network_id,
        mac_address: p.mac_address,
        admin_state_up: p.admin_state_up,
        status: p.status,
        device_id: p.device_id,
        device_owner: p.device_owner,
      }
    : null;
  out.port_forwardings = [];
  out.qos_policy_id = null;
  return out;
}

export function renderRouter(r: RouterRow): Record<string, unknown> {
  return renderRow(r);
}

/** The router connecting a port's network to an external network, if any. */
function routerFor(m: NeutronModel, port: PortRow, externalNetId: string): string | null {
  const subnetIds = new Set(port.fixed_ips.map((ip) => ip.subnet_id));
  for (const r of m.routers.filter((x) => x.external_gateway_info?.network_id === externalNetId)) {
    const ifaces = m.ports.filter((p) => p.device_id === r.id && p.device_owner === 'network:router_interface');
    if (ifaces.some((i) => i.fixed_ips.some((ip) => subnetIds.has(ip.subnet_id)))) return r.id;
  }
  return null;
}

function associate(m: NeutronModel, token: TokenInfo, f: FloatingIpRow, portId: unknown, fixedIp: unknown): void {
  if (portId === null || portId === undefined) {
    f.port_id = null;
    f.fixed_ip_address = null;
    f.router_id = null;
    f.status = 'DOWN';
    return;
  }
  if (typeof portId !== 'string')
    throw badRequest(`Invalid input for port_id. Reason: '${String(portId)}' is not a valid UUID.`);
  const port = m.getPort(token, portId);
  let addr: string | undefined;
  if (typeof fixedIp === 'string') {
    if (!port.fixed_ips.some((ip) => ip.ip_address === fixedIp)) {
      throw badRequest(`Bad floatingip request: Port ${port.id} does not have fixed ip ${fixedIp}.`);
    }
    addr = fixedIp;
  } else {
    addr = port.fixed_ips.find((ip) => parseIp(ip.ip_address)?.version === 4)?.ip_address;
    if (!addr) throw badRequest(`Bad floatingip request: Port ${port.id} does not have any IPv4 address.`);
  }
  const other = m.floatingips.filter((x) => x.id !== f.id && x.port_id === port.id && x.fixed_ip_address === addr)[0];
  if (other) {
    throw new NeutronError(
      409,
      'FloatingIPPortAlreadyAssociated',
      `Cannot associate floating IP ${f.floating_ip_address} (${f.id}) with port ${port.id} using fixed IP ${addr}, as that fixed IP already has a floating IP on external network ${other.floating_network_id}.`,
    );
  }
  const routerId = routerFor(m, port, f.floating_network_id);
  if (!routerId) {
    const subnetId = port.fixed_ips.find((ip) => ip.ip_address === addr)?.subnet_id ?? '';
    throw new NeutronError(
      404,
      'ExternalGatewayForFloatingIPNotFound',
      `External network ${f.floating_network_id} is not reachable from subnet ${subnetId}.  Therefore, cannot associate Port ${port.id} with a Floating IP.`,
    );
  }
  f.port_id = port.id;
  f.fixed_ip_address = addr;
  f.router_id = routerId;
  f.status = 'ACTIVE';
}

export function l3Routes(app: FastifyInstance, m: NeutronModel): void {
  const fipNotFound = (id: string) =>
    new NeutronError(404, 'FloatingIPNotFound', `Floating IP ${id} could not be found`);
  const routerNotFound = (id: string) => new NeutronError(404, 'RouterNotFound', `Router ${id} could not be found`);

  app.get('/v2.0/floatingips', async (req, reply) => {
    const token = tokenOf(req);
    const rows = m.floatingips.filter((f) => m.owns(token, f)).map((f) => renderFloatingIp(m, f));
    return sendList(req, reply, m.ctx, rows, {
      collection: 'floatingips',
      path: '/network/v2.0/floatingips',
      notFound: fipNotFound,
      attributes: [
        ...STD_ATTRS,
        'floating_network_id',
        'floating_ip_address',
        'port_id',
        'fixed_ip_address',
        'router_id',
        'status',
        'port_details',
        'port_forwardings',
        'qos_policy_id',
      ],
    });
  });

  app.get<{ Params: { id: string } }>('/v2.0/floatingips/:id', async (req) => {
    const token = tokenOf(req);
    return { floatingip: fieldsOf(req, renderFloatingIp(m, m.getFloatingIp(token, req.params.id))) };
  });

  app.post('/v2.0/floatingips', async (req, reply) => {
    const token = tokenOf(req);
    const body = bodyOf(req, 'floatingip');
    rejectUnknown(body, [
      'floating_network_id',
      'floating_ip_address',
      'subnet_id',
      'port_id',
      'fixed_ip_address',
      'description',
      'tenant_id',
      'project_id',
      'dns_domain',
      'dns_name',
      'qos_policy_id',
    ]);
    if (typeof body.floating_network_id !== 'string') {
      throw badRequest("Failed to parse request. Required attribute 'floating_network_id' not specified");
    }
    const net = m.getNetwork(token, body.floating_network_id);
    if (!net['router:external']) {
      throw new NeutronError(
        400,
        'BadRequest',
        `Bad floatingip request: Network ${net.id} is not a valid external network.`,
      );
    }
    const owner =
      (token.isAdmin && ((body.project_id as string | undefined) ?? (body.tenant_id as string | undefined))) ||
      token.projectId ||
      '';
    m.checkQuota(owner, 'floatingip');
    let subnets = m.subnets.filter((s) => s.network_id === net.id && s.ip_version === 4);
    if (typeof body.subnet_id === 'string') subnets = subnets.filter((s) => s.id === body.subnet_id);
    let address: string | undefined;
    let lastErr: unknown = new NeutronError(
      400,
      'ExternalIpAddressExhausted',
      `Unable to find any IP address on external network ${net.id}.`,
    );
    const wanted = typeof body.floating_ip_address === 'string' ? body.floating_ip_address : undefined;
    for (const s of wanted ? [m.subnetForAddress(net.id, wanted)].filter((x) => x !== undefined) : subnets) {
      try {
        address = m.allocateFrom(s, wanted);
        break;
      } catch (e) {
        lastErr = e;
      }
    }
    if (!address) {
      const e = lastErr as NeutronError;
      if (e.type === 'IpAddressGenerationFailure') {
        throw new NeutronError(
          400,
          'ExternalIpAddressExhausted',
          `Unable to find any IP address on external network ${net.id}.`,
        );
      }
      throw e;
    }
    const f: FloatingIpRow = {
      ...newStd(owner, body.description),
      floating_network_id: net.id,
      floating_ip_address: address,
      port_id: null,
      fixed_ip_address: null,
      router_id: null,
      status: 'DOWN',
      revision_number: 0,
    };
    associate(m, token, f, body.port_id, body.fixed_ip_address);
    m.floatingips.put(f);
    return reply.code(201).send({ floatingip: renderFloatingIp(m, f) });
  });

  app.put<{ Params: { id: string } }>('/v2.0/floatingips/:id', async (req) => {
    const token = tokenOf(req);
    const f = m.getFloatingIp(token, req.params.id);
    const body = bodyOf(req, 'floatingip');
    rejectUnknown(body, ['port_id', 'fixed_ip_address', 'description', 'qos_policy_id']);
    if ('port_id' in body) associate(m, token, f, body.port_id, body.fixed_ip_address);
    if (typeof body.description === 'string') f.description = body.description;
    touch(f);
    m.floatingips.put(f);
    return { floatingip: renderFloatingIp(m, f) };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/floatingips/:id', async (req, reply) => {
    const token = tokenOf(req);
    const f = m.getFloatingIp(token, req.params.id);
    m.floatingips.delete(f.id);
    return reply.code(204).send();
  });

  // ---- routers -------------------------------------------------------------------------------------------

  const setGateway = (token: TokenInfo, r: RouterRow, info: unknown) => {
    for (const p of m.ports.filter((x) => x.device_id === r.id && x.device_owner === 'network:router_gateway')) {
      m.ports.delete(p.id);
    }
    if (info === null || info === undefined || (typeof info === 'object' && Object.keys(info).length === 0)) {
      r.external_gateway_info = null;
      return;
    }
    const gi = info as Record<string, unknown>;
    if (typeof gi.network_id !== 'string')
      throw badRequest('Invalid input for external_gateway_info. Reason: network_id is required.');
    const net = m.getNetwork(token, gi.network_id);
    if (!net['router:external']) {
      throw new NeutronError(
        400,
        'BadRequest',
        `Bad router request: Network ${net.id} is not a valid external network.`,
      );
    }
    // The gateway port belongs to no project (as in Neutron) so it does not count against the user's quota.
    const port = m.createPort('', net.id, {
      device_id: r.id,
      device_owner: 'network:router_gateway',
      status: 'ACTIVE',
      security_groups: [],
      fixed_ips_request: Array.isArray(gi.external_fixed_ips) ? gi.external_fixed_ips : undefined,
    });
    r.external_gateway_info = {
      network_id: net.id,
      enable_snat: gi.enable_snat === undefined ? true : Boolean(gi.enable_snat),
      external_fixed_ips: port.fixed_ips.map((ip) => ({ subnet_id: ip.subnet_id, ip_address: ip.ip_address })),
    };
  };

  app.get('/v2.0/routers', async (req, reply) => {
    const token = tokenOf(req);
    const rows = m.routers.filter((r) => m.owns(token, r)).map(renderRouter);
    return sendList(req, reply, m.ctx, rows, {
      collection: 'routers',
      path: '/network/v2.0/routers',
      notFound: routerNotFound,
      attributes: [
        ...STD_ATTRS,
        'name',
        'admin_state_up',
        'status',
        'external_gateway_info',
        'routes',
        'availability_zone_hints',
      ],
    });
  });

  app.get<{ Params: { id: string } }>('/v2.0/routers/:id', async (req) => {
    const token = tokenOf(req);
    return { router: fieldsOf(req, renderRouter(m.getRouter(token, req.params.id))) };
  });

  app.post('/v2.0/routers', async (req, reply) => {
    const token = tokenOf(req);
    const body = bodyOf(req, 'router');
    rejectUnknown(body, [
      'name',
      'admin_state_up',
      'description',
      'external_gateway_info',
      'tenant_id',
      'project_id',
      'availability_zone_hints',
      'distributed',
      'ha',
      'flavor_id',
    ]);
    const owner =
      (token.isAdmin && ((body.project_id as string | undefined) ?? (body.tenant_id as string | undefined))) ||
      token.projectId ||
      '';
    m.checkQuota(owner, 'router');
    const r: RouterRow = {
      ...newStd(owner, body.description),
      name: typeof body.name === 'string' ? body.name : '',
      admin_state_up: body.admin_state_up === undefined ? true : Boolean(body.admin_state_up),
      status: 'ACTIVE',
      external_gateway_info: null,
      routes: [],
      availability_zone_hints: [],
      revision_number: 1,
    };
    setGateway(token, r, body.external_gateway_info);
    m.routers.put(r);
    return reply.code(201).send({ router: renderRouter(r) });
  });

  app.put<{ Params: { id: string } }>('/v2.0/routers/:id', async (req) => {
    const token = tokenOf(req);
    const r = m.getRouter(token, req.params.id);
    const body = bodyOf(req, 'router');
    rejectUnknown(body, [
      'name',
      'admin_state_up',
      'description',
      'external_gateway_info',
      'routes',
      'distributed',
      'ha',
    ]);
    if (typeof body.name === 'string') r.name = body.name;
    if (typeof body.description === 'string') r.description = body.description;
    if (body.admin_state_up !== undefined) r.admin_state_up = Boolean(body.admin_state_up);
    if (Array.isArray(body.routes)) r.routes = body.routes as RouterRow['routes'];
    if ('external_gateway_info' in body) setGateway(token, r, body.external_gateway_info);
    touch(r);
    m.routers.put(r);
    return { router: renderRouter(r) };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/routers/:id', async (req, reply) => {
    const token = tokenOf(req);
    const r = m.getRouter(token, req.params.id);
    if (m.ports.filter((p) => p.device_id === r.id && p.device_owner === 'network:router_interface').length) {
      throw new NeutronError(409, 'RouterInUse', `Router ${r.id} still has ports`);
    }
    setGateway(token, r, null);
    m.routers.delete(r.id);
    return reply.code(204).send();
  });

  const ifaceInfo = (r: RouterRow, port: PortRow) => ({
    id: r.id,
    tenant_id: r.project_id,
    project_id: r.project_id,
    port_id: port.id,
    network_id: port.network_id,
    subnet_id: port.fixed_ips[0]?.subnet_id,
    subnet_ids: port.fixed_ips.map((ip) => ip.subnet_id),
  });

  app.put<{ Params: { id: string } }>('/v2.0/routers/:id/add_router_interface', async (req) => {
    const token = tokenOf(req);
    const r = m.getRouter(token, req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    let port: PortRow;
    if (typeof body.port_id === 'string') {
      port = m.getPort(token, body.port_id);
      if (port.device_id)
        throw new NeutronError(
          409,
          'PortInUse',
          `Unable to complete operation on port ${port.id} for network ${port.network_id}. Port already has an attached device ${port.device_id}.`,
        );
      port.device_id = r.id;
      port.device_owner = 'network:router_interface';
      port.status = 'ACTIVE';
      touch(port);
      m.ports.put(port);
    } else if (typeof body.subnet_id === 'string') {
      const subnet = m.getSubnet(token, body.subnet_id);
      if (!subnet.gateway_ip)
        throw badRequest(`Bad router request: Subnet for router interface must have a gateway IP.`);
      const taken = m.ports.filter(
        (p) => p.device_id === r.id && p.fixed_ips.some((ip) => ip.subnet_id === subnet.id),
      )[0];
      if (taken) throw badRequest(`Bad router request: Router already has a port on subnet ${subnet.id}.`);
      port = m.createPort(r.project_id, subnet.network_id, {
        device_id: r.id,
        device_owner: 'network:router_interface',
        status: 'ACTIVE',
        security_groups: [],
        fixed_ips_request: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }],
      });
    } else {
      throw badRequest('Bad router request: Either subnet_id or port_id must be specified.');
    }
    touch(r);
    m.routers.put(r);
    return ifaceInfo(r, port);
  });

  app.put<{ Params: { id: string } }>('/v2.0/routers/:id/remove_router_interface', async (req) => {
    const token = tokenOf(req);
    const r = m.getRouter(token, req.params.id);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const ifaces = m.ports.filter((p) => p.device_id === r.id && p.device_owner === 'network:router_interface');
    const port =
      typeof body.port_id === 'string'
        ? ifaces.find((p) => p.id === body.port_id)
        : typeof body.subnet_id === 'string'
          ? ifaces.find((p) => p.fixed_ips.some((ip) => ip.subnet_id === body.subnet_id))
          : undefined;
    if (!port) {
      if (typeof body.port_id !== 'string' && typeof body.subnet_id !== 'string')
        throw badRequest('Bad router request: Either subnet_id or port_id must be specified.');
      throw new NeutronError(
        404,
        'RouterInterfaceNotFoundForSubnet',
        `Router ${r.id} has no interface on subnet ${String(body.subnet_id ?? body.port_id)}`,
      );
    }
    const info = ifaceInfo(r, port);
    m.deletePort(port);
    touch(r);
    m.routers.put(r);
    return info;
  });
}
