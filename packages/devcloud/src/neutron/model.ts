/**
 * Neutron's state for one cloud: tables of networks, subnets, ports, floating IPs, security groups and rules,
 * routers and quota overrides, with the shared rules (visibility, default security group, quotas, IPAM).
 * Row types and row helpers are in rows.ts (re-exported here), first-use seeding in seed.ts.
 */
import type { CloudContext, Table, TokenInfo } from '../context.ts';
import { NeutronError } from './http.ts';
import { type Cidr, firstFree, formatIp, inCidr, parseCidr, parseIp } from './ipam.ts';
import type {
  FloatingIpRow,
  NetworkRow,
  PortRow,
  QuotaOverrideRow,
  RouterRow,
  SecurityGroupRow,
  SecurityGroupRuleRow,
  SubnetRow,
} from './rows.ts';
import { newStd, randomMac, touch } from './rows.ts';
import { seedDefaultSecurityGroup, seedProjectTopology, seedPublicNetwork } from './seed.ts';

export type {
  FloatingIpRow,
  NetworkRow,
  PortRow,
  QuotaOverrideRow,
  RouterRow,
  SecurityGroupRow,
  SecurityGroupRuleRow,
  StdAttrs,
  SubnetRow,
} from './rows.ts';
export { newStd, randomMac, renderRow, touch } from './rows.ts';

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

export { PUBLIC_CIDR } from './seed.ts';

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
    seedPublicNetwork(this);
  }

  /** A project's devstack-like topology (network, subnet, router on `public`), once; see seed.ts. */
  ensureProjectTopology(projectId: string, cidr: string): void {
    seedProjectTopology(this, projectId, cidr);
  }

  /** Neutron creates a project's `default` security group the first time the project uses the API. */
  ensureDefaultSecurityGroup(projectId: string | undefined): SecurityGroupRow | undefined {
    return seedDefaultSecurityGroup(this, projectId);
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
