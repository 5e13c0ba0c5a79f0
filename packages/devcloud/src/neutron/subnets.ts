/** Neutron subnets: CIDR validation, gateway and allocation-pool defaults, overlap and in-use checks. */
import type { FastifyInstance } from 'fastify';
import type { TokenInfo } from '../context.ts';
import { badRequest, bodyOf, fieldsOf, NeutronError, policyDenied, rejectUnknown, sendList, tokenOf } from './http.ts';
import {
  type Cidr,
  cidrString,
  cidrsOverlap,
  defaultGateway,
  defaultPools,
  formatIp,
  inCidr,
  parseCidr,
  parseIp,
} from './ipam.ts';
import { type NeutronModel, newStd, renderRow, type SubnetRow, touch } from './model.ts';

const CREATE_ATTRS = [
  'name',
  'network_id',
  'ip_version',
  'cidr',
  'gateway_ip',
  'allocation_pools',
  'enable_dhcp',
  'dns_nameservers',
  'host_routes',
  'ipv6_ra_mode',
  'ipv6_address_mode',
  'subnetpool_id',
  'prefixlen',
  'description',
  'service_types',
  'tenant_id',
  'project_id',
  'use_default_subnetpool',
  'segment_id',
  'dns_publish_fixed_ip',
];
const UPDATE_ATTRS = [
  'name',
  'gateway_ip',
  'allocation_pools',
  'enable_dhcp',
  'dns_nameservers',
  'host_routes',
  'description',
  'service_types',
  'segment_id',
  'dns_publish_fixed_ip',
];

export function renderSubnet(s: SubnetRow): Record<string, unknown> {
  return renderRow(s);
}

function parsePools(raw: unknown, c: Cidr): { start: string; end: string }[] {
  if (!Array.isArray(raw))
    throw badRequest(`Invalid input for allocation_pools. Reason: Invalid data format for IP pool: '${String(raw)}'.`);
  return raw.map((p: Record<string, unknown>) => {
    const start = typeof p?.start === 'string' ? parseIp(p.start) : undefined;
    const end = typeof p?.end === 'string' ? parseIp(p.end) : undefined;
    if (!start || !end || start.version !== c.version || end.version !== c.version || start.value > end.value) {
      throw badRequest(
        `Invalid input for allocation_pools. Reason: Invalid data format for IP pool: '${JSON.stringify(p)}'.`,
      );
    }
    if (!inCidr(c, start.value) || !inCidr(c, end.value)) {
      throw new NeutronError(
        400,
        'OutOfBoundsAllocationPool',
        `The allocation pool ${p.start}-${p.end} spans beyond the subnet cidr ${cidrString(c)}.`,
      );
    }
    return { start: formatIp(c.version, start.value), end: formatIp(c.version, end.value) };
  });
}

function stringList(v: unknown, attr: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw badRequest(`Invalid input for ${attr}. Reason: '${String(v)}' is not a list.`);
  return v.map(String);
}

export function subnetRoutes(app: FastifyInstance, m: NeutronModel): void {
  const notFound = (id: string) => new NeutronError(404, 'SubnetNotFound', `Subnet ${id} could not be found.`);
  const visibleRows = (token: TokenInfo) => m.subnets.filter((s) => m.subnetVisible(token, s));

  app.get('/v2.0/subnets', async (req, reply) => {
    const token = tokenOf(req);
    return sendList(req, reply, m.ctx, visibleRows(token).map(renderSubnet), {
      collection: 'subnets',
      path: '/network/v2.0/subnets',
      notFound,
    });
  });

  app.get<{ Params: { id: string } }>('/v2.0/subnets/:id', async (req) => {
    const token = tokenOf(req);
    return { subnet: fieldsOf(req, renderSubnet(m.getSubnet(token, req.params.id))) };
  });

  app.post('/v2.0/subnets', async (req, reply) => {
    const token = tokenOf(req);
    const body = bodyOf(req, 'subnet');
    rejectUnknown(body, CREATE_ATTRS);
    if (typeof body.network_id !== 'string')
      throw badRequest("Failed to parse request. Required attribute 'network_id' not specified");
    const net = m.getNetwork(token, body.network_id);
    const owner =
      (token.isAdmin && ((body.project_id as string | undefined) ?? (body.tenant_id as string | undefined))) ||
      token.projectId ||
      '';
    if (!token.isAdmin && net.project_id !== token.projectId) throw policyDenied('create_subnet');
    if (typeof body.cidr !== 'string')
      throw badRequest('Bad subnet request: a subnetpool must be specified in the absence of a cidr.');
    const parsed = parseCidr(body.cidr);
    if ('error' in parsed) throw badRequest(`Invalid input for cidr. Reason: ${parsed.error}.`);
    const ipVersion = body.ip_version === undefined ? 4 : Number(body.ip_version);
    if (ipVersion !== 4 && ipVersion !== 6)
      throw badRequest(`Invalid input for ip_version. Reason: ${String(body.ip_version)} is not in [4, 6].`);
    if (ipVersion !== parsed.version) {
      throw badRequest(`Invalid input for operation: Cidr ${body.cidr} does not match the ip version ${ipVersion}.`);
    }
    for (const other of m.subnets.filter((s) => s.network_id === net.id)) {
      const oc = parseCidr(other.cidr);
      if ('network' in oc && cidrsOverlap(oc, parsed)) {
        throw badRequest(
          `Invalid input for operation: Requested subnet with cidr: ${cidrString(parsed)} for network: ${net.id} overlaps with another subnet.`,
        );
      }
    }
    let gateway: bigint | undefined;
    if (body.gateway_ip === null) gateway = undefined;
    else if (typeof body.gateway_ip === 'string') {
      const g = parseIp(body.gateway_ip);
      if (!g || g.version !== parsed.version)
        throw badRequest(`Invalid input for gateway_ip. Reason: '${body.gateway_ip}' is not a valid IP address.`);
      gateway = g.value;
    } else gateway = defaultGateway(parsed);
    const pools =
      body.allocation_pools === undefined
        ? defaultPools(parsed, gateway).map((p) => ({
            start: formatIp(parsed.version, p.start),
            end: formatIp(parsed.version, p.end),
          }))
        : parsePools(body.allocation_pools, parsed);
    if (gateway !== undefined) {
      for (const p of pools) {
        if (gateway >= parseIp(p.start)!.value && gateway <= parseIp(p.end)!.value) {
          throw new NeutronError(
            409,
            'GatewayConflictWithAllocationPools',
            `Gateway ip ${formatIp(parsed.version, gateway)} conflicts with allocation pool ${p.start}-${p.end}.`,
          );
        }
      }
    }
    m.checkQuota(owner, 'subnet');
    const subnet: SubnetRow = {
      ...newStd(owner, body.description),
      name: typeof body.name === 'string' ? body.name : '',
      network_id: net.id,
      ip_version: parsed.version,
      cidr: cidrString(parsed),
      gateway_ip: gateway === undefined ? null : formatIp(parsed.version, gateway),
      allocation_pools: pools,
      enable_dhcp: body.enable_dhcp === undefined ? true : Boolean(body.enable_dhcp),
      dns_nameservers: stringList(body.dns_nameservers, 'dns_nameservers'),
      host_routes: Array.isArray(body.host_routes) ? (body.host_routes as SubnetRow['host_routes']) : [],
      ipv6_ra_mode: typeof body.ipv6_ra_mode === 'string' ? body.ipv6_ra_mode : null,
      ipv6_address_mode: typeof body.ipv6_address_mode === 'string' ? body.ipv6_address_mode : null,
      subnetpool_id: null,
      service_types: stringList(body.service_types, 'service_types'),
    };
    m.subnets.put(subnet);
    touch(net);
    m.networks.put(net);
    return reply.code(201).send({ subnet: renderSubnet(subnet) });
  });

  app.put<{ Params: { id: string } }>('/v2.0/subnets/:id', async (req) => {
    const token = tokenOf(req);
    const subnet = m.getSubnet(token, req.params.id);
    if (!m.owns(token, subnet)) throw policyDenied('update_subnet');
    const body = bodyOf(req, 'subnet');
    rejectUnknown(body, UPDATE_ATTRS);
    const c = parseCidr(subnet.cidr) as Cidr;
    if (typeof body.name === 'string') subnet.name = body.name;
    if (typeof body.description === 'string') subnet.description = body.description;
    if (body.enable_dhcp !== undefined) subnet.enable_dhcp = Boolean(body.enable_dhcp);
    if (body.dns_nameservers !== undefined)
      subnet.dns_nameservers = stringList(body.dns_nameservers, 'dns_nameservers');
    if (Array.isArray(body.host_routes)) subnet.host_routes = body.host_routes as SubnetRow['host_routes'];
    if (body.allocation_pools !== undefined) subnet.allocation_pools = parsePools(body.allocation_pools, c);
    if (body.gateway_ip !== undefined) {
      if (body.gateway_ip === null) subnet.gateway_ip = null;
      else {
        const g = typeof body.gateway_ip === 'string' ? parseIp(body.gateway_ip) : undefined;
        if (!g || !inCidr(c, g.value))
          throw badRequest(
            `Invalid input for gateway_ip. Reason: '${String(body.gateway_ip)}' is not a valid IP address.`,
          );
        subnet.gateway_ip = formatIp(c.version, g.value);
      }
    }
    touch(subnet);
    m.subnets.put(subnet);
    return { subnet: renderSubnet(subnet) };
  });

  app.delete<{ Params: { id: string } }>('/v2.0/subnets/:id', async (req, reply) => {
    const token = tokenOf(req);
    const subnet = m.getSubnet(token, req.params.id);
    if (!m.owns(token, subnet)) throw policyDenied('delete_subnet');
    const users = m.ports.filter((p) => p.fixed_ips.some((ip) => ip.subnet_id === subnet.id));
    if (users.length) {
      throw new NeutronError(
        409,
        'SubnetInUse',
        `Unable to complete operation on subnet ${subnet.id}: One or more ports have an IP allocation from this subnet.`,
      );
    }
    m.subnets.delete(subnet.id);
    const net = m.networks.get(subnet.network_id);
    if (net) {
      touch(net);
      m.networks.put(net);
    }
    return reply.code(204).send();
  });
}
