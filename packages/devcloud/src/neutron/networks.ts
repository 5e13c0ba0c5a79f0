/** Neutron networks: `/v2.0/networks` CRUD with shared/external visibility, quotas and in-use checks. */
import type { FastifyInstance } from 'fastify';
import type { TokenInfo } from '../context.ts';
import {
  badRequest,
  bodyOf,
  fieldsOf,
  NeutronError,
  policyDenied,
  projectOf,
  rejectUnknown,
  sendList,
  tokenOf,
} from './http.ts';
import { type NetworkRow, type NeutronModel, newStd, renderRow, touch } from './model.ts';

const PROVIDER = ['provider:network_type', 'provider:physical_network', 'provider:segmentation_id'] as const;
const CREATE_ATTRS = [
  'name',
  'admin_state_up',
  'shared',
  'router:external',
  'port_security_enabled',
  'mtu',
  'description',
  'availability_zone_hints',
  'tenant_id',
  'project_id',
  'is_default',
  'dns_domain',
  'qos_policy_id',
  'segments',
  ...PROVIDER,
];
const UPDATE_ATTRS = [
  'name',
  'admin_state_up',
  'shared',
  'router:external',
  'port_security_enabled',
  'mtu',
  'description',
  'is_default',
  'dns_domain',
  'qos_policy_id',
];

export function renderNetwork(m: NeutronModel, token: TokenInfo, n: NetworkRow): Record<string, unknown> {
  const out = renderRow(n, token.isAdmin ? [] : PROVIDER);
  out.subnets = m.subnets.filter((s) => s.network_id === n.id).map((s) => s.id);
  out.availability_zones = [];
  out.ipv4_address_scope = null;
  out.ipv6_address_scope = null;
  return out;
}

function str(v: unknown, attr: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string')
    throw badRequest(`Invalid input for ${attr}. Reason: '${String(v)}' is not a valid string.`);
  return v;
}

function bool(v: unknown, attr: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw badRequest(`Invalid input for ${attr}. Reason: '${String(v)}' cannot be converted to boolean.`);
}

export function networkRoutes(app: FastifyInstance, m: NeutronModel): void {
  const notFound = (id: string) => new NeutronError(404, 'NetworkNotFound', `Network ${id} could not be found.`);

  app.get('/v2.0/networks', async (req, reply) => {
    const token = tokenOf(req);
    const rows = m.networks.filter((n) => m.networkVisible(token, n)).map((n) => renderNetwork(m, token, n));
    return sendList(req, reply, m.ctx, rows, {
      collection: 'networks',
      path: '/network/v2.0/networks',
      notFound,
    });
  });

  app.get<{ Params: { id: string } }>('/v2.0/networks/:id', async (req) => {
    const token = tokenOf(req);
    return { network: fieldsOf(req, renderNetwork(m, token, m.getNetwork(token, req.params.id))) };
  });

  app.post('/v2.0/networks', async (req, reply) => {
    const token = tokenOf(req);
    const body = bodyOf(req, 'network');
    rejectUnknown(body, CREATE_ATTRS);
    const owner =
      (token.isAdmin && (str(body.project_id, 'project_id') ?? str(body.tenant_id, 'tenant_id'))) || projectOf(token);
    if (!token.isAdmin) {
      for (const k of ['shared', 'router:external', ...PROVIDER]) {
        if (body[k] !== undefined && body[k] !== false) throw policyDenied(`create_network:${k}`);
      }
    }
    m.checkQuota(owner, 'network');
    m.ensureDefaultSecurityGroup(owner);
    const net: NetworkRow = {
      ...newStd(owner, str(body.description, 'description')),
      name: str(body.name, 'name') ?? '',
      admin_state_up: bool(body.admin_state_up, 'admin_state_up') ?? true,
      mtu: typeof body.mtu === 'number' ? body.mtu : 1450,
      status: 'ACTIVE',
      shared: bool(body.shared, 'shared') ?? false,
      'router:external': bool(body['router:external'], 'router:external') ?? false,
      port_security_enabled: bool(body.port_security_enabled, 'port_security_enabled') ?? true,
      availability_zone_hints: Array.isArray(body.availability_zone_hints)
        ? body.availability_zone_hints.map(String)
        : [],
      'provider:network_type': str(body['provider:network_type'], 'provider:network_type') ?? 'vxlan',
      'provider:physical_network': str(body['provider:physical_network'], 'provider:physical_network') ?? null,
      'provider:segmentation_id':
        typeof body['provider:segmentation_id'] === 'number'
          ? body['provider:segmentation_id']
          : Math.floor(Math.random() * 16000) + 1,
      revision_number: 1,
    };
    if (body.is_default !== undefined) net.is_default = bool(body.is_default, 'is_default') ?? false;
    m.networks.put(net);
    return reply.code(201).send({ network: renderNetwork(m, token, net) });
  });

  app.put<{ Params: { id: string } }>('/v2.0/networks/:id', async (req) => {
    const token = tokenOf(req);
    const net = m.getNetwork(token, req.params.id);
    if (!m.owns(token, net)) throw policyDenied('update_network');
    const body = bodyOf(req, 'network');
    rejectUnknown(body, UPDATE_ATTRS);
    if (!token.isAdmin && (body['router:external'] !== undefined || body.shared !== undefined)) {
      throw policyDenied('update_network:shared');
    }
    if (body.name !== undefined) net.name = str(body.name, 'name') ?? '';
    if (body.description !== undefined) net.description = str(body.description, 'description') ?? '';
    if (body.admin_state_up !== undefined) net.admin_state_up = bool(body.admin_state_up, 'admin_state_up')!;
    if (body.shared !== undefined) net.shared = bool(body.shared, 'shared')!;
    if (body['router:external'] !== undefined)
      net['router:external'] = bool(body['router:external'], 'router:external')!;
    if (body.port_security_enabled !== undefined)
      net.port_security_enabled = bool(body.port_security_enabled, 'port_security_enabled')!;
    if (typeof body.mtu === 'number') net.mtu = body.mtu;
    if (body.is_default !== undefined) net.is_default = bool(body.is_default, 'is_default')!;
    touch(net);
    m.networks.put(net);
    return { network: renderNetwork(m, token, net) };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/networks/:id', async (req, reply) => {
    const token = tokenOf(req);
    const net = m.getNetwork(token, req.params.id);
    if (!m.owns(token, net)) throw policyDenied('delete_network');
    // Ports Neutron owns itself (DHCP) would go with the network; anything else blocks the delete.
    const inUse = m.ports.filter((p) => p.network_id === net.id && !p.device_owner.startsWith('network:dhcp'));
    if (inUse.length) {
      throw new NeutronError(
        409,
        'NetworkInUse',
        `Unable to complete operation on network ${net.id}. There are one or more ports still in use on the network, id for these ports is: ${inUse.map((p) => p.id).join(',')}.`,
      );
    }
    for (const s of m.subnets.filter((x) => x.network_id === net.id)) m.subnets.delete(s.id);
    m.networks.delete(net.id);
    return reply.code(204).send();
  });
}
