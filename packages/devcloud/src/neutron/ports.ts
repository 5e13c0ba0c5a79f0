/** Neutron ports: fixed IP allocation, MACs, security groups, device binding, and fixed_ips filters. */
import type { FastifyInstance } from 'fastify';
import type { TokenInfo } from '../context.ts';
import {
  badRequest,
  bodyOf,
  fieldsOf,
  NeutronError,
  policyDenied,
  rejectUnknown,
  STD_ATTRS,
  sendList,
  tokenOf,
} from './http.ts';
import { type NeutronModel, type PortRow, renderRow, touch } from './model.ts';

const ADMIN_ONLY = ['binding:host_id', 'binding:vif_type', 'binding:profile', 'binding:vif_details'] as const;
const CREATE_ATTRS = [
  'name',
  'network_id',
  'admin_state_up',
  'mac_address',
  'fixed_ips',
  'device_id',
  'device_owner',
  'security_groups',
  'port_security_enabled',
  'allowed_address_pairs',
  'extra_dhcp_opts',
  'description',
  'tenant_id',
  'project_id',
  'binding:vnic_type',
  'binding:host_id',
  'binding:profile',
  'dns_name',
  'qos_policy_id',
  'propagate_uplink_status',
];
const UPDATE_ATTRS = CREATE_ATTRS.filter((a) => a !== 'network_id' && a !== 'tenant_id' && a !== 'project_id');

export function renderPort(token: TokenInfo, p: PortRow): Record<string, unknown> {
  return renderRow(p, token.isAdmin ? [] : ADMIN_ONLY);
}

/** `fixed_ips=ip_address=10.0.0.3` / `fixed_ips=subnet_id=...` / `ip_address_substr=...`, as neutron parses them. */
function fixedIpsFilter(row: Record<string, unknown>, key: string, values: string[]): boolean | undefined {
  if (key !== 'fixed_ips') return undefined;
  const ips = (row.fixed_ips ?? []) as { subnet_id: string; ip_address: string }[];
  return values.every((v) => {
    const [k, val] = v.split('=', 2);
    if (val === undefined) return false;
    if (k === 'ip_address') return ips.some((ip) => ip.ip_address === val);
    if (k === 'subnet_id') return ips.some((ip) => ip.subnet_id === val);
    if (k === 'ip_address_substr') return ips.some((ip) => ip.ip_address.includes(val));
    return false;
  });
}

function checkSecurityGroups(m: NeutronModel, token: TokenInfo, v: unknown): string[] {
  if (!Array.isArray(v)) throw badRequest(`Invalid input for security_groups. Reason: '${String(v)}' is not a list.`);
  return v.map((id) => m.getSecurityGroup(token, String(id)).id);
}

export function portRoutes(app: FastifyInstance, m: NeutronModel): void {
  const notFound = (id: string) => new NeutronError(404, 'PortNotFound', `Port ${id} could not be found.`);

  app.get('/v2.0/ports', async (req, reply) => {
    const token = tokenOf(req);
    const rows = m.ports.filter((p) => m.owns(token, p)).map((p) => renderPort(token, p));
    return sendList(req, reply, m.ctx, rows, {
      collection: 'ports',
      path: '/network/v2.0/ports',
      notFound,
      customFilter: fixedIpsFilter,
      attributes: [...STD_ATTRS, ...CREATE_ATTRS, 'status', ...ADMIN_ONLY],
      extraFilters: ['fixed_ips', 'security_groups'],
    });
  });

  app.get<{ Params: { id: string } }>('/v2.0/ports/:id', async (req) => {
    const token = tokenOf(req);
    return { port: fieldsOf(req, renderPort(token, m.getPort(token, req.params.id))) };
  });

  app.post('/v2.0/ports', async (req, reply) => {
    const token = tokenOf(req);
    const body = bodyOf(req, 'port');
    rejectUnknown(body, CREATE_ATTRS);
    if (typeof body.network_id !== 'string')
      throw badRequest("Failed to parse request. Required attribute 'network_id' not specified");
    const net = m.getNetwork(token, body.network_id);
    const owner =
      (token.isAdmin && ((body.project_id as string | undefined) ?? (body.tenant_id as string | undefined))) ||
      token.projectId ||
      '';
    if (!token.isAdmin && net.project_id !== token.projectId && !net.shared) throw policyDenied('create_port');
    if (!token.isAdmin) {
      for (const k of ADMIN_ONLY) if (body[k] !== undefined) throw policyDenied(`create_port:${k}`);
    }
    if (body.mac_address !== undefined) {
      if (typeof body.mac_address !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(body.mac_address))
        throw badRequest(
          `Invalid input for mac_address. Reason: '${String(body.mac_address)}' is not a valid MAC address.`,
        );
      if (m.ports.filter((p) => p.network_id === net.id && p.mac_address === body.mac_address).length)
        throw new NeutronError(
          409,
          'MacAddressInUse',
          `Unable to complete operation for network ${net.id}. The mac address ${body.mac_address} is in use.`,
        );
    }
    const attrs: Partial<PortRow> & { fixed_ips_request?: unknown } = { fixed_ips_request: body.fixed_ips };
    if (typeof body.name === 'string') attrs.name = body.name;
    if (typeof body.description === 'string') attrs.description = body.description;
    if (typeof body.device_id === 'string') attrs.device_id = body.device_id;
    if (typeof body.device_owner === 'string') attrs.device_owner = body.device_owner;
    if (typeof body.mac_address === 'string') attrs.mac_address = body.mac_address.toLowerCase();
    if (body.admin_state_up !== undefined) attrs.admin_state_up = Boolean(body.admin_state_up);
    if (body.port_security_enabled !== undefined) attrs.port_security_enabled = Boolean(body.port_security_enabled);
    if (body.security_groups !== undefined) attrs.security_groups = checkSecurityGroups(m, token, body.security_groups);
    if (Array.isArray(body.allowed_address_pairs))
      attrs.allowed_address_pairs = body.allowed_address_pairs as PortRow['allowed_address_pairs'];
    if (typeof body['binding:vnic_type'] === 'string') attrs['binding:vnic_type'] = body['binding:vnic_type'];
    if (typeof body['binding:host_id'] === 'string') attrs['binding:host_id'] = body['binding:host_id'];
    if (typeof body.dns_name === 'string') attrs.dns_name = body.dns_name;
    if (attrs.port_security_enabled === false && attrs.security_groups?.length) {
      throw new NeutronError(
        400,
        'PortSecurityAndIPRequiredForSecurityGroups',
        'Port security must be enabled and port must have an IP address in order to use security groups.',
      );
    }
    const port = m.createPort(owner, net.id, attrs);
    return reply.code(201).send({ port: renderPort(token, port) });
  });

  app.put<{ Params: { id: string } }>('/v2.0/ports/:id', async (req) => {
    const token = tokenOf(req);
    const port = m.getPort(token, req.params.id);
    const body = bodyOf(req, 'port');
    rejectUnknown(body, UPDATE_ATTRS);
    if (!token.isAdmin) {
      for (const k of ADMIN_ONLY) if (body[k] !== undefined) throw policyDenied(`update_port:${k}`);
    }
    if (typeof body.name === 'string') port.name = body.name;
    if (typeof body.description === 'string') port.description = body.description;
    if (typeof body.device_id === 'string') port.device_id = body.device_id;
    if (typeof body.device_owner === 'string') port.device_owner = body.device_owner;
    if (body.admin_state_up !== undefined) port.admin_state_up = Boolean(body.admin_state_up);
    if (body.port_security_enabled !== undefined) port.port_security_enabled = Boolean(body.port_security_enabled);
    if (body.security_groups !== undefined) port.security_groups = checkSecurityGroups(m, token, body.security_groups);
    if (Array.isArray(body.allowed_address_pairs))
      port.allowed_address_pairs = body.allowed_address_pairs as PortRow['allowed_address_pairs'];
    if (typeof body['binding:host_id'] === 'string') port['binding:host_id'] = body['binding:host_id'];
    if (body['binding:profile'] && typeof body['binding:profile'] === 'object')
      port['binding:profile'] = body['binding:profile'] as Record<string, unknown>;
    if (typeof body['binding:vnic_type'] === 'string') port['binding:vnic_type'] = body['binding:vnic_type'];
    if (typeof body.dns_name === 'string') port.dns_name = body.dns_name;
    if (body.fixed_ips !== undefined) {
      // Re-allocate: keep the addresses asked for again, release the others.
      const saved = port.fixed_ips;
      port.fixed_ips = [];
      m.ports.put(port);
      try {
        port.fixed_ips = m.allocateFixedIps(port.network_id, body.fixed_ips);
      } catch (e) {
        port.fixed_ips = saved;
        m.ports.put(port);
        throw e;
      }
    }
    touch(port);
    m.ports.put(port);
    return { port: renderPort(token, port) };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/ports/:id', async (req, reply) => {
    const token = tokenOf(req);
    const port = m.getPort(token, req.params.id);
    if (port.device_owner === 'network:router_interface' || port.device_owner === 'network:router_gateway') {
      throw new NeutronError(
        409,
        'ServicePortInUse',
        `Port ${port.id} cannot be deleted directly via the port API: has device owner ${port.device_owner}.`,
      );
    }
    m.deletePort(port);
    return reply.code(204).send();
  });
}
