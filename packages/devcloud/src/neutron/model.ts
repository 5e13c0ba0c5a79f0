/**
 * Neutron's state for one cloud: tables of networks, subnets, ports, floating IPs, security groups and rules,
 * routers and quota overrides, with the shared rules (visibility, default security group, quotas, IPAM).
 * Rows are stored in (nearly) their wire shape; keys starting with `_` are internal and never rendered.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CloudContext, Table, TokenInfo } from '../context.ts';
import { NeutronError, nowIso } from './http.ts';
import { type Cidr, defaultGateway, defaultPools, firstFree, formatIp, inCidr, parseCidr, parseIp } from './ipam.ts';

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

/** Neutron's quota resources, in the order `GET /quotas/{project}` lists them. */
export const QUOTA_RESOURCES = [
  'network',
  'subnet',
  'subnetpool',
  'port',
  'router',
  'floatingip',
  'rbac_policy',
  'security_group',
  'security_group_rule',
] as const;

/** neutron.conf [quotas] defaults, used when the cloud's quota source has none (-1 = unlimited). */
const QUOTA_DEFAULTS: Record<string, number> = {
  network: 100,
  subnet: 100,
  subnetpool: -1,
  port: 500,
  router: 10,
  floatingip: 50,
  rbac_policy: 10,
  security_group: 10,
  security_group_rule: 100,
};

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

/** devstack's public network: every cloud has one external network `public` with this subnet. */
export const PUBLIC_CIDR = '172.24.4.0/24';

export class NeutronModel {
  readonly networks: Table<NetworkRow>;
  readonly subnets: Table<SubnetRow>;
  readonly ports: Table<PortRow>;
  readonly floatingips: Table<FloatingIpRow>;
  readonly securityGroups: Table<SecurityGroupRow>;
  readonly securityGroupRules: Table<SecurityGroupRuleRow>;
  readonly routers: Table<RouterRow>;
  readonly quotaOverrides: Table<QuotaOverrideRow>;
  readonly ctx: CloudContext;

  constructor(ctx: CloudContext) {
    this.ctx = ctx;
    const s = ctx.store;
    this.networks = s.table('neutron_networks');
    this.subnets = s.table('neutron_subnets');
    this.ports = s.table('neutron_ports');
    this.floatingips = s.table('neutron_floatingips');
    this.securityGroups = s.table('neutron_security_groups');
    this.securityGroupRules = s.table('neutron_security_group_rules');
    this.routers = s.table('neutron_routers');
    this.quotaOverrides = s.table('neutron_quotas');
  }

  // ---- seeding -------------------------------------------------------------------------------------------

  /** Seed the external `public` network once per cloud (owned by the `admin` project when Keystone has it). */
  ensurePublicNetwork(): void {
    if (this.networks.filter((n) => n.name === 'public' && n['router:external']).length) return;
    let owner = '';
    try {
      const admin = this.ctx.store
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
    this.networks.put(net);
    const cidr = parseCidr(PUBLIC_CIDR) as Cidr;
    const gw = defaultGateway(cidr);
    this.subnets.put({
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
  ensureProjectTopology(projectId: string, cidr: string): void {
    const marks = this.ctx.store.table<{ id: string; network_id: string }>('neutron_seeded_projects');
    if (!projectId || marks.get(projectId)) return;
    // A state file from before the seed existed, where the project already has networks: leave it as it is.
    const own = this.networks.filter((n) => n.project_id === projectId && !n['router:external'])[0];
    if (own) {
      marks.put({ id: projectId, network_id: own.id });
      return;
    }
    this.ensurePublicNetwork();
    const pub = this.networks.filter((n) => n.name === 'public' && n['router:external'])[0];
    this.ensureDefaultSecurityGroup(projectId);
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
    this.networks.put(net);
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
    this.subnets.put(subnet);
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
      const gwPort = this.createPort('', pub.id, {
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
    this.routers.put(router);
    if (subnet.gateway_ip) {
      this.createPort(projectId, net.id, {
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
  ensureDefaultSecurityGroup(projectId: string | undefined): SecurityGroupRow | undefined {
    if (!projectId) return undefined;
    const existing = this.securityGroups.filter((g) => g.project_id === projectId && g.name === 'default')[0];
    if (existing) return existing;
    const sg: SecurityGroupRow = {
      ...newStd(projectId, 'Default security group'),
      name: 'default',
      stateful: true,
      shared: false,
      revision_number: 1,
    };
    this.securityGroups.put(sg);
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
      this.securityGroupRules.put(r);
    };
    rule('egress', 'IPv4', false);
    rule('egress', 'IPv6', false);
    rule('ingress', 'IPv4', true);
    rule('ingress', 'IPv6', true);
    return sg;
  }

  // ---- visibility ----------------------------------------------------------------------------------------

  /** Admin sees everything (as in Neutron); others see their project's rows. */
  owns(token: TokenInfo, row: { project_id: string }): boolean {
    return token.isAdmin || row.project_id === token.projectId;
  }

  networkVisible(token: TokenInfo, n: NetworkRow): boolean {
    return this.owns(token, n) || n.shared || n['router:external'];
  }

  subnetVisible(token: TokenInfo, s: SubnetRow): boolean {
    if (this.owns(token, s)) return true;
    const n = this.networks.get(s.network_id);
    return !!n && (n.shared || n['router:external']);
  }

  getNetwork(token: TokenInfo, id: string): NetworkRow {
    const n = this.networks.get(id);
    if (!n || !this.networkVisible(token, n))
      throw new NeutronError(404, 'NetworkNotFound', `Network ${id} could not be found.`);
    return n;
  }

  getSubnet(token: TokenInfo, id: string): SubnetRow {
    const s = this.subnets.get(id);
    if (!s || !this.subnetVisible(token, s))
      throw new NeutronError(404, 'SubnetNotFound', `Subnet ${id} could not be found.`);
    return s;
  }

  getPort(token: TokenInfo, id: string): PortRow {
    const p = this.ports.get(id);
    if (!p || !this.owns(token, p)) throw new NeutronError(404, 'PortNotFound', `Port ${id} could not be found.`);
    return p;
  }

  getSecurityGroup(token: TokenInfo, id: string): SecurityGroupRow {
    const g = this.securityGroups.get(id);
    if (!g || !(this.owns(token, g) || g.shared))
      throw new NeutronError(404, 'SecurityGroupNotFound', `Security group ${id} does not exist`);
    return g;
  }

  getRouter(token: TokenInfo, id: string): RouterRow {
    const r = this.routers.get(id);
    if (!r || !this.owns(token, r)) throw new NeutronError(404, 'RouterNotFound', `Router ${id} could not be found`);
    return r;
  }

  getFloatingIp(token: TokenInfo, id: string): FloatingIpRow {
    const f = this.floatingips.get(id);
    if (!f || !this.owns(token, f))
      throw new NeutronError(404, 'FloatingIPNotFound', `Floating IP ${id} could not be found`);
    return f;
  }

  // ---- quotas --------------------------------------------------------------------------------------------

  quotaLimit(projectId: string, resource: string): number {
    const v = this.ctx.quotaLimit('network', projectId, resource);
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    return QUOTA_DEFAULTS[resource] ?? -1;
  }

  usage(projectId: string): Record<string, number> {
    const mine = (r: { project_id: string }) => r.project_id === projectId;
    return {
      network: this.networks.filter(mine).length,
      subnet: this.subnets.filter(mine).length,
      subnetpool: 0,
      port: this.ports.filter(mine).length,
      router: this.routers.filter(mine).length,
      floatingip: this.floatingips.filter(mine).length,
      rbac_policy: 0,
      security_group: this.securityGroups.filter(mine).length,
      security_group_rule: this.securityGroupRules.filter(mine).length,
    };
  }

  /** 409 OverQuota like neutron-server when `count` more of `resource` would exceed the project's limit. */
  checkQuota(projectId: string, resource: string, count = 1): void {
    const limit = this.quotaLimit(projectId, resource);
    if (limit < 0) return;
    const used = this.usage(projectId)[resource] ?? 0;
    if (used + count > limit) {
      throw new NeutronError(409, 'OverQuota', `Quota exceeded for resources: ['${resource}'].`);
    }
  }

  // ---- IPAM ----------------------------------------------------------------------------------------------

  usedIps(subnetId: string): Set<bigint> {
    const used = new Set<bigint>();
    for (const p of this.ports.all()) {
      for (const ip of p.fixed_ips) {
        if (ip.subnet_id !== subnetId) continue;
        const v = parseIp(ip.ip_address);
        if (v) used.add(v.value);
      }
    }
    for (const f of this.floatingips.all()) {
      const s = this.subnetForAddress(f.floating_network_id, f.floating_ip_address);
      if (s?.id === subnetId) {
        const v = parseIp(f.floating_ip_address);
        if (v) used.add(v.value);
      }
    }
    return used;
  }

  subnetForAddress(networkId: string, address: string): SubnetRow | undefined {
    const ip = parseIp(address);
    if (!ip) return undefined;
    return this.subnets.filter((s) => {
      if (s.network_id !== networkId || s.ip_version !== ip.version) return false;
      const c = parseCidr(s.cidr);
      return 'network' in c && inCidr(c, ip.value);
    })[0];
  }

  /** Allocate one address from a subnet's pools (lowest free), or a specific one; 409s like Neutron's IPAM. */
  allocateFrom(subnet: SubnetRow, wanted?: string): string {
    const used = this.usedIps(subnet.id);
    const c = parseCidr(subnet.cidr) as Cidr;
    if (wanted !== undefined) {
      const ip = parseIp(wanted);
      if (!ip || ip.version !== subnet.ip_version || !inCidr(c, ip.value)) {
        throw new NeutronError(
          400,
          'InvalidInput',
          `Invalid input for operation: IP address ${wanted} is not a valid IP for the specified subnet.`,
        );
      }
      if (used.has(ip.value)) {
        throw new NeutronError(
          409,
          'IpAddressAlreadyAllocated',
          `IP address ${wanted} already allocated in subnet ${subnet.id}`,
        );
      }
      return formatIp(ip.version, ip.value);
    }
    const pools = subnet.allocation_pools.map((p) => ({ start: parseIp(p.start)!.value, end: parseIp(p.end)!.value }));
    if (subnet.gateway_ip) {
      const gw = parseIp(subnet.gateway_ip);
      if (gw) used.add(gw.value);
    }
    const v = firstFree(pools, used);
    if (v === undefined) {
      throw new NeutronError(
        409,
        'IpAddressGenerationFailure',
        `No more IP addresses available on network ${subnet.network_id}.`,
      );
    }
    return formatIp(subnet.ip_version, v);
  }

  /**
   * Resolve a port's requested fixed_ips (or Neutron's default: one address per IP version from the network's
   * first subnet of that version) into concrete allocations.
   */
  allocateFixedIps(networkId: string, requested: unknown): { subnet_id: string; ip_address: string }[] {
    const subnets = this.subnets.filter((s) => s.network_id === networkId);
    if (requested === undefined) {
      const out: { subnet_id: string; ip_address: string }[] = [];
      for (const version of [4, 6] as const) {
        const candidates = subnets.filter((s) => s.ip_version === version);
        let lastErr: unknown;
        for (const s of candidates) {
          try {
            out.push({ subnet_id: s.id, ip_address: this.allocateFrom(s) });
            lastErr = undefined;
            break;
          } catch (e) {
            lastErr = e;
          }
        }
        if (lastErr) throw lastErr;
      }
      return out;
    }
    if (!Array.isArray(requested)) throw new NeutronError(400, 'HTTPBadRequest', 'Invalid data format for fixed IP');
    const out: { subnet_id: string; ip_address: string }[] = [];
    for (const item of requested as Record<string, unknown>[]) {
      const subnetId = typeof item?.subnet_id === 'string' ? item.subnet_id : undefined;
      const ipAddress = typeof item?.ip_address === 'string' ? item.ip_address : undefined;
      let subnet: SubnetRow | undefined;
      if (subnetId) {
        subnet = this.subnets.get(subnetId);
        if (!subnet) throw new NeutronError(404, 'SubnetNotFound', `Subnet ${subnetId} could not be found.`);
        if (subnet.network_id !== networkId) {
          throw new NeutronError(
            400,
            'InvalidInput',
            `Invalid input for operation: Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${subnetId}.`,
          );
        }
      } else if (ipAddress) {
        subnet = this.subnetForAddress(networkId, ipAddress);
        if (!subnet) {
          throw new NeutronError(
            400,
            'InvalidIpForNetwork',
            `IP address ${ipAddress} is not a valid IP for any of the subnets on the specified network.`,
          );
        }
      } else {
        throw new NeutronError(400, 'HTTPBadRequest', 'Invalid data format for fixed IP');
      }
      const ip = this.allocateFrom(subnet, ipAddress);
      if (out.some((o) => o.ip_address === ip)) {
        throw new NeutronError(
          409,
          'IpAddressAlreadyAllocated',
          `IP address ${ip} already allocated in subnet ${subnet.id}`,
        );
      }
      out.push({ subnet_id: subnet.id, ip_address: ip });
    }
    return out;
  }

  /** Create a port row (quota-checked); shared by `POST /ports`, routers and Nova's bindPort. */
  createPort(projectId: string, networkId: string, attrs: Partial<PortRow> & { fixed_ips_request?: unknown }): PortRow {
    this.checkQuota(projectId, 'port');
    const net = this.networks.get(networkId);
    if (!net) throw new NeutronError(404, 'NetworkNotFound', `Network ${networkId} could not be found.`);
    const fixedIps = this.allocateFixedIps(networkId, attrs.fixed_ips_request);
    let sgs = attrs.security_groups;
    const portSecurity = attrs.port_security_enabled ?? net.port_security_enabled;
    const owner = attrs.device_owner ?? '';
    if (sgs === undefined) {
      sgs = portSecurity && !owner.startsWith('network:') ? [this.ensureDefaultSecurityGroup(projectId)!.id] : [];
    }
    const { fixed_ips_request: _ignored, ...rest } = attrs;
    const port: PortRow = {
      ...newStd(projectId, attrs.description),
      name: '',
      network_id: networkId,
      mac_address: randomMac(),
      admin_state_up: true,
      status: 'DOWN',
      device_id: '',
      device_owner: '',
      fixed_ips: fixedIps,
      security_groups: sgs,
      port_security_enabled: portSecurity,
      allowed_address_pairs: [],
      extra_dhcp_opts: [],
      'binding:vnic_type': 'normal',
      'binding:host_id': '',
      'binding:vif_type': 'unbound',
      'binding:profile': {},
      'binding:vif_details': {},
      ...rest,
      revision_number: 1,
    };
    port.fixed_ips = fixedIps;
    port.security_groups = sgs;
    this.ports.put(port);
    return port;
  }

  /** Drop a port and whatever pointed at it (floating IP associations). */
  deletePort(port: PortRow): void {
    for (const f of this.floatingips.filter((x) => x.port_id === port.id)) {
      f.port_id = null;
      f.fixed_ip_address = null;
      f.router_id = null;
      f.status = 'DOWN';
      touch(f);
      this.floatingips.put(f);
    }
    this.ports.delete(port.id);
  }
}
