import type { ServiceClient, ServiceClientOptions, Session } from '../session/types.ts';
import { type ApiObject, type CallOptions, callOpts, type ListOptions, pages, seg, unwrap } from './common.ts';

export interface NeutronNetwork extends ApiObject {
  id: string;
  name: string;
  status?: string;
  admin_state_up?: boolean;
  shared?: boolean;
  'router:external'?: boolean;
  'provider:physical_network'?: string | null;
  'provider:network_type'?: string | null;
  subnets?: string[];
  project_id?: string;
  tenant_id?: string;
  mtu?: number;
  availability_zones?: string[];
  description?: string;
}

export interface NeutronSubnet extends ApiObject {
  id: string;
  name: string;
  network_id: string;
  cidr: string;
  ip_version: 4 | 6;
  gateway_ip: string | null;
  enable_dhcp?: boolean;
  dns_nameservers?: string[];
  project_id?: string;
  allocation_pools?: { start: string; end: string }[];
}

export interface NeutronRouter extends ApiObject {
  id: string;
  name: string;
  status?: string;
  external_gateway_info?: { network_id: string; [k: string]: unknown } | null;
  admin_state_up?: boolean;
  project_id?: string;
}

export interface NeutronPort extends ApiObject {
  id: string;
  name: string;
  network_id: string;
  mac_address: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  device_id: string;
  device_owner: string;
  status: string;
  project_id?: string;
  security_groups?: string[];
  admin_state_up?: boolean;
  created_at?: string;
}

export interface NeutronFloatingIp extends ApiObject {
  id: string;
  floating_ip_address: string;
  floating_network_id: string;
  fixed_ip_address: string | null;
  port_id: string | null;
  router_id?: string | null;
  status: string;
  project_id?: string;
  tenant_id?: string;
  description?: string;
  created_at?: string;
}

export interface NeutronSecurityGroupRule extends ApiObject {
  id: string;
  security_group_id: string;
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  project_id?: string;
}

export interface NeutronSecurityGroup extends ApiObject {
  id: string;
  name: string;
  description?: string;
  security_group_rules?: NeutronSecurityGroupRule[];
  project_id?: string;
}

/** `GET /quotas/{project}/details`: `{ resource: {limit, used, reserved} }`. */
export type NeutronQuotaDetails = Record<string, { limit: number; used: number; reserved: number }>;

/** Neutron v2.0. Lists follow `<collection>_links` (sent when `limit` is used). */
export class NetworkClient {
  readonly http: ServiceClient;

  constructor(http: ServiceClient) {
    this.http = http;
  }

  static fromSession(session: Session, opts?: ServiceClientOptions): NetworkClient {
    return new NetworkClient(session.client('network', opts));
  }

  // --- extensions ---
  /** `GET /extensions`: what this Neutron supports (aliases such as 'router', 'quota_details', 'external-net'). */
  async listExtensions(opts?: CallOptions): Promise<{ alias: string; name: string; description?: string }[]> {
    return unwrap(await this.http.get('/extensions', callOpts(opts)), 'extensions');
  }

  // --- networks ---
  listNetworks(opts?: ListOptions): AsyncIterable<NeutronNetwork> {
    return pages<NeutronNetwork>(this.http, '/networks', 'networks', opts);
  }
  async getNetwork(id: string, opts?: CallOptions): Promise<NeutronNetwork> {
    return unwrap(await this.http.get(`/networks/${seg(id)}`, callOpts(opts)), 'network');
  }
  async createNetwork(
    network: Partial<NeutronNetwork> & { name: string },
    opts?: CallOptions,
  ): Promise<NeutronNetwork> {
    return unwrap(await this.http.post('/networks', callOpts(opts, { json: { network } })), 'network');
  }
  async updateNetwork(id: string, network: Record<string, unknown>, opts?: CallOptions): Promise<NeutronNetwork> {
    return unwrap(await this.http.put(`/networks/${seg(id)}`, callOpts(opts, { json: { network } })), 'network');
  }
  async deleteNetwork(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/networks/${seg(id)}`, callOpts(opts))).dump();
  }

  // --- subnets ---
  listSubnets(opts?: ListOptions): AsyncIterable<NeutronSubnet> {
    return pages<NeutronSubnet>(this.http, '/subnets', 'subnets', opts);
  }
  async getSubnet(id: string, opts?: CallOptions): Promise<NeutronSubnet> {
    return unwrap(await this.http.get(`/subnets/${seg(id)}`, callOpts(opts)), 'subnet');
  }
  async createSubnet(
    subnet: { network_id: string; cidr: string; ip_version: 4 | 6; name?: string; [k: string]: unknown },
    opts?: CallOptions,
  ): Promise<NeutronSubnet> {
    return unwrap(await this.http.post('/subnets', callOpts(opts, { json: { subnet } })), 'subnet');
  }
  async updateSubnet(id: string, subnet: Record<string, unknown>, opts?: CallOptions): Promise<NeutronSubnet> {
    return unwrap(await this.http.put(`/subnets/${seg(id)}`, callOpts(opts, { json: { subnet } })), 'subnet');
  }
  async deleteSubnet(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/subnets/${seg(id)}`, callOpts(opts))).dump();
  }

  // --- ports ---
  listPorts(opts?: ListOptions): AsyncIterable<NeutronPort> {
    return pages<NeutronPort>(this.http, '/ports', 'ports', opts);
  }
  async getPort(id: string, opts?: CallOptions): Promise<NeutronPort> {
    return unwrap(await this.http.get(`/ports/${seg(id)}`, callOpts(opts)), 'port');
  }
  async createPort(port: { network_id: string; [k: string]: unknown }, opts?: CallOptions): Promise<NeutronPort> {
    return unwrap(await this.http.post('/ports', callOpts(opts, { json: { port } })), 'port');
  }
  async updatePort(id: string, port: Record<string, unknown>, opts?: CallOptions): Promise<NeutronPort> {
    return unwrap(await this.http.put(`/ports/${seg(id)}`, callOpts(opts, { json: { port } })), 'port');
  }
  async deletePort(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/ports/${seg(id)}`, callOpts(opts))).dump();
  }

  // --- routers ---
  listRouters(opts?: ListOptions): AsyncIterable<NeutronRouter> {
    return pages<NeutronRouter>(this.http, '/routers', 'routers', opts);
  }
  async createRouter(router: { name: string; [k: string]: unknown }, opts?: CallOptions): Promise<NeutronRouter> {
    return unwrap(await this.http.post('/routers', callOpts(opts, { json: { router } })), 'router');
  }
  async updateRouter(id: string, router: Record<string, unknown>, opts?: CallOptions): Promise<NeutronRouter> {
    return unwrap(await this.http.put(`/routers/${seg(id)}`, callOpts(opts, { json: { router } })), 'router');
  }
  async deleteRouter(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/routers/${seg(id)}`, callOpts(opts))).dump();
  }
  /** PUT /routers/{id}/add_router_interface with `{ subnet_id }`. */
  async addRouterInterface(id: string, subnetId: string, opts?: CallOptions): Promise<void> {
    const res = await this.http.put(
      `/routers/${seg(id)}/add_router_interface`,
      callOpts(opts, { json: { subnet_id: subnetId } }),
    );
    await res.dump();
  }
  /** PUT /routers/{id}/remove_router_interface with `{ subnet_id }`. */
  async removeRouterInterface(id: string, subnetId: string, opts?: CallOptions): Promise<void> {
    const res = await this.http.put(
      `/routers/${seg(id)}/remove_router_interface`,
      callOpts(opts, { json: { subnet_id: subnetId } }),
    );
    await res.dump();
  }

  // --- floating IPs ---
  listFloatingIps(opts?: ListOptions): AsyncIterable<NeutronFloatingIp> {
    return pages<NeutronFloatingIp>(this.http, '/floatingips', 'floatingips', opts);
  }
  async getFloatingIp(id: string, opts?: CallOptions): Promise<NeutronFloatingIp> {
    return unwrap(await this.http.get(`/floatingips/${seg(id)}`, callOpts(opts)), 'floatingip');
  }
  async createFloatingIp(
    floatingip: { floating_network_id: string; port_id?: string; fixed_ip_address?: string; [k: string]: unknown },
    opts?: CallOptions,
  ): Promise<NeutronFloatingIp> {
    return unwrap(await this.http.post('/floatingips', callOpts(opts, { json: { floatingip } })), 'floatingip');
  }
  /** Associate (`port_id`) or disassociate (`port_id: null`). */
  async updateFloatingIp(
    id: string,
    floatingip: { port_id: string | null; fixed_ip_address?: string },
    opts?: CallOptions,
  ): Promise<NeutronFloatingIp> {
    return unwrap(
      await this.http.put(`/floatingips/${seg(id)}`, callOpts(opts, { json: { floatingip } })),
      'floatingip',
    );
  }
  async deleteFloatingIp(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/floatingips/${seg(id)}`, callOpts(opts))).dump();
  }

  // --- security groups and rules ---
  listSecurityGroups(opts?: ListOptions): AsyncIterable<NeutronSecurityGroup> {
    return pages<NeutronSecurityGroup>(this.http, '/security-groups', 'security_groups', opts);
  }
  async getSecurityGroup(id: string, opts?: CallOptions): Promise<NeutronSecurityGroup> {
    return unwrap(await this.http.get(`/security-groups/${seg(id)}`, callOpts(opts)), 'security_group');
  }
  async createSecurityGroup(
    securityGroup: { name: string; description?: string },
    opts?: CallOptions,
  ): Promise<NeutronSecurityGroup> {
    const res = await this.http.post('/security-groups', callOpts(opts, { json: { security_group: securityGroup } }));
    return unwrap(res, 'security_group');
  }
  async updateSecurityGroup(
    id: string,
    securityGroup: { name?: string; description?: string },
    opts?: CallOptions,
  ): Promise<NeutronSecurityGroup> {
    const res = await this.http.put(
      `/security-groups/${seg(id)}`,
      callOpts(opts, { json: { security_group: securityGroup } }),
    );
    return unwrap(res, 'security_group');
  }
  async deleteSecurityGroup(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/security-groups/${seg(id)}`, callOpts(opts))).dump();
  }
  listSecurityGroupRules(opts?: ListOptions): AsyncIterable<NeutronSecurityGroupRule> {
    return pages<NeutronSecurityGroupRule>(this.http, '/security-group-rules', 'security_group_rules', opts);
  }
  async createSecurityGroupRule(
    rule: {
      security_group_id: string;
      direction: 'ingress' | 'egress';
      ethertype?: 'IPv4' | 'IPv6';
      protocol?: string;
      port_range_min?: number;
      port_range_max?: number;
      remote_ip_prefix?: string;
      remote_group_id?: string;
    },
    opts?: CallOptions,
  ): Promise<NeutronSecurityGroupRule> {
    const res = await this.http.post('/security-group-rules', callOpts(opts, { json: { security_group_rule: rule } }));
    return unwrap(res, 'security_group_rule');
  }
  async deleteSecurityGroupRule(id: string, opts?: CallOptions): Promise<void> {
    await (await this.http.delete(`/security-group-rules/${seg(id)}`, callOpts(opts))).dump();
  }

  // --- quotas ---
  async getQuota(projectId: string, opts?: CallOptions): Promise<Record<string, number>> {
    return unwrap(await this.http.get(`/quotas/${seg(projectId)}`, callOpts(opts)), 'quota');
  }
  /** Limits with usage (`GET /quotas/{project}/details`, the quota-details extension). */
  async getQuotaDetails(projectId: string, opts?: CallOptions): Promise<NeutronQuotaDetails> {
    return unwrap(await this.http.get(`/quotas/${seg(projectId)}/details`, callOpts(opts)), 'quota');
  }
  async updateQuota(
    projectId: string,
    quota: Record<string, number>,
    opts?: CallOptions,
  ): Promise<Record<string, number>> {
    return unwrap(await this.http.put(`/quotas/${seg(projectId)}`, callOpts(opts, { json: { quota } })), 'quota');
  }
}
