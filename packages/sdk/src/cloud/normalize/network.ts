/** Network (Neutron) records → normalized networks, ports, floating IPs and security groups. */
import type {
  NeutronFloatingIp,
  NeutronNetwork,
  NeutronPort,
  NeutronRouter,
  NeutronSecurityGroup,
  NeutronSecurityGroupRule,
  NeutronSubnet,
} from '../../services/network.ts';
import type { FloatingIp, Network, Port, Router, SecurityGroup, SecurityGroupRule, Subnet } from '../types.ts';
import { numOrNull, rest, str } from './fields.ts';
import { type LocationBase, makeLocation } from './location.ts';

export function normalizeFloatingIp(raw: NeutronFloatingIp, base: LocationBase): FloatingIp {
  return {
    id: raw.id,
    location: makeLocation(base, str(raw.project_id ?? raw.tenant_id)),
    attached: !!raw.port_id,
    fixed_ip_address: raw.fixed_ip_address ?? null,
    floating_ip_address: raw.floating_ip_address,
    network: raw.floating_network_id,
    port: raw.port_id ?? null,
    router: raw.router_id ?? null,
    status: raw.status,
    created_at: str(raw.created_at),
    properties: rest(raw, [
      'id',
      'project_id',
      'tenant_id',
      'port_id',
      'fixed_ip_address',
      'floating_ip_address',
      'floating_network_id',
      'router_id',
      'status',
      'created_at',
    ]),
  };
}

export function normalizeNetwork(raw: NeutronNetwork, base: LocationBase): Network {
  return {
    id: raw.id,
    name: raw.name,
    location: makeLocation(base, str(raw.project_id ?? raw.tenant_id)),
    status: raw.status ?? '',
    is_admin_state_up: raw.admin_state_up !== false,
    is_shared: raw.shared === true,
    is_router_external: raw['router:external'] === true,
    provider_physical_network: str(raw['provider:physical_network']),
    provider_network_type: str(raw['provider:network_type']),
    subnets: [...(raw.subnets ?? [])],
    mtu: numOrNull(raw.mtu),
    properties: rest(raw, [
      'id',
      'name',
      'project_id',
      'tenant_id',
      'status',
      'admin_state_up',
      'shared',
      'router:external',
      'provider:physical_network',
      'provider:network_type',
      'subnets',
      'mtu',
    ]),
  };
}

export function normalizePort(raw: NeutronPort, base: LocationBase): Port {
  return {
    id: raw.id,
    name: raw.name ?? '',
    location: makeLocation(base, str(raw.project_id)),
    network_id: raw.network_id,
    mac_address: raw.mac_address,
    fixed_ips: raw.fixed_ips ?? [],
    device_id: raw.device_id ?? '',
    device_owner: raw.device_owner ?? '',
    status: raw.status,
    security_groups: [...(raw.security_groups ?? [])],
    is_admin_state_up: raw.admin_state_up !== false,
    properties: rest(raw, [
      'id',
      'name',
      'project_id',
      'tenant_id',
      'network_id',
      'mac_address',
      'fixed_ips',
      'device_id',
      'device_owner',
      'status',
      'security_groups',
      'admin_state_up',
    ]),
  };
}

export function normalizeSubnet(raw: NeutronSubnet, base: LocationBase): Subnet {
  return {
    id: raw.id,
    name: raw.name ?? '',
    location: makeLocation(base, str(raw.project_id ?? raw.tenant_id)),
    network_id: raw.network_id,
    cidr: raw.cidr,
    ip_version: raw.ip_version === 6 ? 6 : 4,
    gateway_ip: raw.gateway_ip ?? null,
    is_dhcp_enabled: raw.enable_dhcp !== false,
    dns_nameservers: [...((raw.dns_nameservers as string[] | undefined) ?? [])],
    allocation_pools: [...(raw.allocation_pools ?? [])],
    properties: rest(raw, [
      'id',
      'name',
      'project_id',
      'tenant_id',
      'network_id',
      'cidr',
      'ip_version',
      'gateway_ip',
      'enable_dhcp',
      'dns_nameservers',
      'allocation_pools',
    ]),
  };
}

/** `interfaceSubnets`: the subnet ids of the router's interface ports (Neutron's router record does not list them). */
export function normalizeRouter(raw: NeutronRouter, base: LocationBase, interfaceSubnets: string[]): Router {
  return {
    id: raw.id,
    name: raw.name ?? '',
    location: makeLocation(base, str(raw.project_id ?? raw.tenant_id)),
    status: raw.status ?? '',
    is_admin_state_up: raw.admin_state_up !== false,
    external_network: raw.external_gateway_info?.network_id ?? null,
    interface_subnets: interfaceSubnets,
    properties: rest(raw, [
      'id',
      'name',
      'project_id',
      'tenant_id',
      'status',
      'admin_state_up',
      'external_gateway_info',
    ]),
  };
}

const RULE_KEYS = [
  'id',
  'direction',
  'ethertype',
  'port_range_min',
  'port_range_max',
  'protocol',
  'remote_ip_prefix',
  'security_group_id',
  'remote_group_id',
  'project_id',
  'tenant_id',
];

export function normalizeSecurityGroupRule(raw: NeutronSecurityGroupRule, base: LocationBase): SecurityGroupRule {
  return {
    id: raw.id,
    location: makeLocation(base, str(raw.project_id ?? raw.tenant_id)),
    direction: raw.direction,
    ethertype: raw.ethertype ?? 'IPv4',
    port_range_min: numOrNull(raw.port_range_min),
    port_range_max: numOrNull(raw.port_range_max),
    protocol: raw.protocol ?? null,
    remote_ip_prefix: raw.remote_ip_prefix ?? null,
    security_group_id: raw.security_group_id,
    remote_group_id: raw.remote_group_id ?? null,
    properties: rest(raw, RULE_KEYS),
  };
}

export function normalizeSecurityGroup(raw: NeutronSecurityGroup, base: LocationBase): SecurityGroup {
  return {
    id: raw.id,
    name: raw.name,
    location: makeLocation(base, str(raw.project_id ?? raw.tenant_id)),
    description: raw.description ?? '',
    security_group_rules: (raw.security_group_rules ?? []).map((r) => normalizeSecurityGroupRule(r, base)),
    properties: rest(raw, ['id', 'name', 'description', 'security_group_rules', 'project_id', 'tenant_id']),
  };
}
