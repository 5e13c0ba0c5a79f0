/** What devstack leaves in every cloud and Neutron makes on first use: `public`, a project's topology, `default` security group. */
import { type Cidr, defaultGateway, defaultPools, formatIp, parseCidr } from './ipam.ts';
import type { NeutronModel } from './model.ts';
import {
  type NetworkRow,
  newStd,
  type RouterRow,
  type SecurityGroupRow,
  type SecurityGroupRuleRow,
  type SubnetRow,
} from './rows.ts';

/** devstack's public network: every cloud has one external network `public` with this subnet. */
export const PUBLIC_CIDR = '172.24.4.0/24';

/** Seed the external `public` network once per cloud (owned by the `admin` project when Keystone has it). */
export function seedPublicNetwork(m: NeutronModel): void {
  if (m.networks.filter((n) => n.name === 'public' && n['router:external']).length) return;
  let owner = '';
  try {
    const admin = m.ctx.store
      .table<{ id: string; name?: string }>('keystone_projects')
      .filter((p) => p.name === 'admin')[0];
    owner = admin?.id ?? '';
  } catch {
    owner = '';
  }
  const net: NetworkRow = {
    ...newStd(owner),
    name: 'public',
    admin_state_up: true,
    mtu: 1500,
    status: 'ACTIVE',
    shared: false,
    'router:external': true,
    port_security_enabled: true,
    availability_zone_hints: [],
    'provider:network_type': 'flat',
    'provider:physical_network': 'public',
    'provider:segmentation_id': null,
    is_default: true,
  };
  m.networks.put(net);
  const cidr = parseCidr(PUBLIC_CIDR) as Cidr;
  const gw = defaultGateway(cidr);
  m.subnets.put({
    ...newStd(owner),
    name: 'public-subnet',
    network_id: net.id,
    ip_version: 4,
    cidr: PUBLIC_CIDR,
    gateway_ip: gw === undefined ? null : formatIp(4, gw),
    allocation_pools: defaultPools(cidr, gw).map((p) => ({ start: formatIp(4, p.start), end: formatIp(4, p.end) })),
    enable_dhcp: false,
    dns_nameservers: [],
    host_routes: [],
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: null,
    service_types: [],
  });
}

/**
 * devstack's per-project topology, made once per project (a marker row remembers it, so a user who deletes it
 * does not see it come back): network `private`, subnet `private-subnet` (`cidr`), router `router1` with its
 * gateway on the external `public` network and an interface on the subnet's gateway IP, so servers booted without
 * `--network` land on `private` and floating IPs from `public` associate to their ports.
 */
export function seedProjectTopology(m: NeutronModel, projectId: string, cidr: string): void {
  const marks = m.ctx.store.table<{ id: string; network_id: string }>('neutron_seeded_projects');
  if (!projectId || marks.get(projectId)) return;
  // A state file from before the seed existed, where the project already has networks: leave it as it is.
  const own = m.networks.filter((n) => n.project_id === projectId && !n['router:external'])[0];
  if (own) {
    marks.put({ id: projectId, network_id: own.id });
    return;
  }
  m.ensurePublicNetwork();
  const pub = m.networks.filter((n) => n.name === 'public' && n['router:external'])[0];
  m.ensureDefaultSecurityGroup(projectId);
  const net: NetworkRow = {
    ...newStd(projectId),
    name: 'private',
    admin_state_up: true,
    mtu: 1450,
    status: 'ACTIVE',
    shared: false,
    'router:external': false,
    port_security_enabled: true,
    availability_zone_hints: [],
    'provider:network_type': 'vxlan',
    'provider:physical_network': null,
    'provider:segmentation_id': Math.floor(Math.random() * 16000) + 1,
    revision_number: 1,
  };
  m.networks.put(net);
  const c = parseCidr(cidr) as Cidr;
  const gw = defaultGateway(c);
  const subnet: SubnetRow = {
    ...newStd(projectId),
    name: 'private-subnet',
    network_id: net.id,
    ip_version: 4,
    cidr,
    gateway_ip: gw === undefined ? null : formatIp(4, gw),
    allocation_pools: defaultPools(c, gw).map((p) => ({ start: formatIp(4, p.start), end: formatIp(4, p.end) })),
    enable_dhcp: true,
    dns_nameservers: [],
    host_routes: [],
    ipv6_ra_mode: null,
    ipv6_address_mode: null,
    subnetpool_id: null,
    service_types: [],
    revision_number: 1,
  };
  m.subnets.put(subnet);
  const router: RouterRow = {
    ...newStd(projectId),
    name: 'router1',
    admin_state_up: true,
    status: 'ACTIVE',
    external_gateway_info: null,
    routes: [],
    availability_zone_hints: [],
    revision_number: 1,
  };
  if (pub) {
    // The gateway port belongs to no project, as in Neutron (not counted in the project's port quota).
    const gwPort = m.createPort('', pub.id, {
      device_id: router.id,
      device_owner: 'network:router_gateway',
      status: 'ACTIVE',
      security_groups: [],
    });
    router.external_gateway_info = {
      network_id: pub.id,
      enable_snat: true,
      external_fixed_ips: gwPort.fixed_ips.map((ip) => ({ subnet_id: ip.subnet_id, ip_address: ip.ip_address })),
    };
  }
  m.routers.put(router);
  if (subnet.gateway_ip) {
    m.createPort(projectId, net.id, {
      device_id: router.id,
      device_owner: 'network:router_interface',
      status: 'ACTIVE',
      security_groups: [],
      fixed_ips_request: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }],
    });
  }
  marks.put({ id: projectId, network_id: net.id });
}

/** Neutron creates a project's `default` security group the first time the project uses the API. */
export function seedDefaultSecurityGroup(m: NeutronModel, projectId: string | undefined): SecurityGroupRow | undefined {
  if (!projectId) return undefined;
  const existing = m.securityGroups.filter((g) => g.project_id === projectId && g.name === 'default')[0];
  if (existing) return existing;
  const sg: SecurityGroupRow = {
    ...newStd(projectId, 'Default security group'),
    name: 'default',
    stateful: true,
    shared: false,
    revision_number: 1,
  };
  m.securityGroups.put(sg);
  const rule = (direction: 'ingress' | 'egress', ethertype: 'IPv4' | 'IPv6', remoteGroup: boolean) => {
    const r: SecurityGroupRuleRow = {
      ...newStd(projectId),
      security_group_id: sg.id,
      direction,
      ethertype,
      protocol: null,
      port_range_min: null,
      port_range_max: null,
      remote_ip_prefix: null,
      remote_group_id: remoteGroup ? sg.id : null,
      remote_address_group_id: null,
      normalized_cidr: null,
    };
    m.securityGroupRules.put(r);
  };
  rule('egress', 'IPv4', false);
  rule('egress', 'IPv6', false);
  rule('ingress', 'IPv4', true);
  rule('ingress', 'IPv6', true);
  return sg;
}
