/** Network (Neutron) records → normalized networks, ports, floating IPs and security groups. */
import type {
  NeutronFloatingIp,
  NeutronNetwork,
  NeutronPort,
  NeutronSecurityGroup,
  NeutronSecurityGroupRule,
} from '../../services/network.ts';
import type { FloatingIp, Network, Port, SecurityGroup, SecurityGroupRule } from '../types.ts';
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
