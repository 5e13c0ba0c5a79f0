/** Neutron rows as stored (nearly their wire shape; `_` keys are internal) and the helpers every row uses. */
import { randomBytes, randomUUID } from 'node:crypto';
import { nowIso } from './http.ts';

export interface StdAttrs {
  id: string;
  project_id: string;
  description: string;
  tags: string[];
  created_at: string;
  updated_at: string;
  revision_number: number;
}

export interface NetworkRow extends StdAttrs {
  name: string;
  admin_state_up: boolean;
  mtu: number;
  status: string;
  shared: boolean;
  'router:external': boolean;
  port_security_enabled: boolean;
  availability_zone_hints: string[];
  'provider:network_type': string;
  'provider:physical_network': string | null;
  'provider:segmentation_id': number | null;
  is_default?: boolean;
}

export interface SubnetRow extends StdAttrs {
  name: string;
  network_id: string;
  ip_version: 4 | 6;
  cidr: string;
  gateway_ip: string | null;
  allocation_pools: { start: string; end: string }[];
  enable_dhcp: boolean;
  dns_nameservers: string[];
  host_routes: { destination: string; nexthop: string }[];
  ipv6_ra_mode: string | null;
  ipv6_address_mode: string | null;
  subnetpool_id: string | null;
  service_types: string[];
}

export interface PortRow extends StdAttrs {
  name: string;
  network_id: string;
  mac_address: string;
  admin_state_up: boolean;
  status: string;
  device_id: string;
  device_owner: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  security_groups: string[];
  port_security_enabled: boolean;
  allowed_address_pairs: { ip_address: string; mac_address: string }[];
  extra_dhcp_opts: unknown[];
  'binding:vnic_type': string;
  'binding:host_id': string;
  'binding:vif_type': string;
  'binding:profile': Record<string, unknown>;
  'binding:vif_details': Record<string, unknown>;
  dns_name?: string;
  /** Created by Nova for a server (deleted with it), as opposed to a user's port bound to it. */
  _novaCreated?: boolean;
}

export interface FloatingIpRow extends StdAttrs {
  floating_network_id: string;
  floating_ip_address: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  router_id: string | null;
  status: string;
  dns_domain?: string;
  dns_name?: string;
}

export interface SecurityGroupRow extends StdAttrs {
  name: string;
  stateful: boolean;
  shared: boolean;
}

export interface SecurityGroupRuleRow extends StdAttrs {
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  remote_address_group_id: string | null;
  normalized_cidr: string | null;
}

export interface RouterRow extends StdAttrs {
  name: string;
  admin_state_up: boolean;
  status: string;
  external_gateway_info: {
    network_id: string;
    enable_snat: boolean;
    external_fixed_ips: { subnet_id: string; ip_address: string }[];
  } | null;
  routes: { destination: string; nexthop: string }[];
  availability_zone_hints: string[];
}

/** Projects with per-project Neutron quota overrides (the limits themselves live in the cloud's quota store). */
export interface QuotaOverrideRow {
  id: string;
}

export function newStd(projectId: string, description?: unknown): StdAttrs {
  const now = nowIso();
  return {
    id: randomUUID(),
    project_id: projectId,
    description: typeof description === 'string' ? description : '',
    tags: [],
    created_at: now,
    updated_at: now,
    revision_number: 0,
  };
}

export function touch(row: StdAttrs): void {
  row.updated_at = nowIso();
  row.revision_number += 1;
}

/** Render a row: drop internal keys, add `tenant_id` (same as project_id, as Neutron still sends both). */
export function renderRow(row: object, hide: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.startsWith('_') || hide.includes(k)) continue;
    out[k] = v;
  }
  if ('project_id' in out) out.tenant_id = out.project_id;
  return out;
}

export function randomMac(): string {
  const b = randomBytes(3);
  return `fa:16:3e:${[...b].map((x) => x.toString(16).padStart(2, '0')).join(':')}`;
}
