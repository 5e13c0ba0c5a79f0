// Network part of the `Cloud` facade: networks, ports, security groups, subnets, routers and floating IPs;
// one-line delegations to networks.ts, network-manage.ts, network-update.ts, security-groups.ts and floating-attach.ts.

import type { NeutronNetwork, NeutronRouter, NeutronSubnet } from '../services/network.ts';
import { ComputeFacade } from './cloud-compute.ts';
import type { Ref, Signal } from './core.ts';
import * as floatingAttach from './floating-attach.ts';
import * as networkManage from './network-manage.ts';
import * as networkUpdate from './network-update.ts';
import * as networks from './networks.ts';
import * as securityGroups from './security-groups.ts';
import type { Filters, FloatingIp, Network, Port, Router, SecurityGroup, SecurityGroupRule, Subnet } from './types.ts';

export class NetworkFacade extends ComputeFacade {
  // ---------------------------------------------------------------- networks, ports, security groups

  listNetworks(filters?: Filters, opts: Signal = {}): Promise<Network[]> {
    return networks.listNetworks(this.core, filters, opts);
  }

  searchNetworks(nameOrId?: string, filters?: Filters): Promise<Network[]> {
    return networks.searchNetworks(this.core, nameOrId, filters);
  }

  getNetwork(nameOrId: Ref, filters?: Filters): Promise<Network | null> {
    return networks.getNetwork(this.core, nameOrId, filters);
  }

  listPorts(filters?: Record<string, string>): Promise<Port[]> {
    return networks.listPorts(this.core, filters);
  }

  /** False on 404. */
  deletePort(id: string): Promise<boolean> {
    return networks.deletePort(this.core, id);
  }

  listSecurityGroups(filters?: Filters): Promise<SecurityGroup[]> {
    return networks.listSecurityGroups(this.core, filters);
  }

  searchSecurityGroups(nameOrId?: string, filters?: Filters): Promise<SecurityGroup[]> {
    return networks.searchSecurityGroups(this.core, nameOrId, filters);
  }

  /** null when missing; AMBIGUOUS when several groups share the name (common: one 'default' per project as admin). */
  getSecurityGroup(nameOrId: Ref, filters?: Filters): Promise<SecurityGroup | null> {
    return networks.getSecurityGroup(this.core, nameOrId, filters);
  }

  /** Neutron's network as created. */
  createNetwork(name: string, o: Parameters<typeof networkManage.createNetwork>[2] = {}) {
    return networkManage.createNetwork(this.core, name, o);
  }

  /** False when it does not exist. */
  deleteNetwork(ref: Ref, o: { signal?: AbortSignal } = {}): Promise<boolean> {
    return networkManage.deleteNetwork(this.core, ref, o);
  }

  /** Neutron's subnet as created (ip_version from the CIDR unless given). */
  createSubnet(o: networkManage.CreateSubnetOptions) {
    return networkManage.createSubnet(this.core, o);
  }

  /** A subnet by id or name; null when none. */
  getSubnet(ref: Ref, o: { signal?: AbortSignal } = {}) {
    return networkManage.getSubnet(this.core, ref, o);
  }

  /** False when it does not exist. */
  deleteSubnet(ref: Ref, o: { signal?: AbortSignal } = {}): Promise<boolean> {
    return networkManage.deleteSubnet(this.core, ref, o);
  }

  /** Routers: create (optionally with an external gateway), set/clear the gateway, add/remove a subnet, delete. */
  createRouter(name: string, o: Parameters<typeof networkManage.createRouter>[2] = {}) {
    return networkManage.createRouter(this.core, name, o);
  }

  setRouterGateway(router: Ref, externalNetwork: Ref | null, o: { signal?: AbortSignal } = {}) {
    return networkManage.setRouterGateway(this.core, router, externalNetwork, o);
  }

  addRouterSubnet(router: Ref, subnet: Ref, o: { signal?: AbortSignal } = {}): Promise<void> {
    return networkManage.addRouterSubnet(this.core, router, subnet, o);
  }

  removeRouterSubnet(router: Ref, subnet: Ref, o: { signal?: AbortSignal } = {}): Promise<void> {
    return networkManage.removeRouterSubnet(this.core, router, subnet, o);
  }

  deleteRouter(ref: Ref, o: { signal?: AbortSignal } = {}): Promise<boolean> {
    return networkManage.deleteRouter(this.core, ref, o);
  }

  // ---------------------------------------------------------------- normalized subnets, routers, ports; updates

  /** Neutron's records (as the create calls answer them) as normalized resources with their location. */
  networkFromRecord(raw: NeutronNetwork): Promise<Network> {
    return networkUpdate.networkFromRecord(this.core, raw);
  }

  subnetFromRecord(raw: NeutronSubnet): Promise<Subnet> {
    return networkUpdate.subnetFromRecord(this.core, raw);
  }

  routerFromRecord(raw: NeutronRouter, o: Signal = {}): Promise<Router> {
    return networkUpdate.routerFromRecord(this.core, raw, o);
  }

  searchSubnets(nameOrId?: string, filters?: Filters, o: Signal = {}): Promise<Subnet[]> {
    return networkUpdate.searchSubnets(this.core, nameOrId, filters, o);
  }

  /** Routers with the subnets attached as interfaces. */
  searchRouters(nameOrId?: string, filters?: Filters, o: Signal = {}): Promise<Router[]> {
    return networkUpdate.searchRouters(this.core, nameOrId, filters, o);
  }

  searchPorts(nameOrId?: string, filters?: Filters): Promise<Port[]> {
    return networkUpdate.searchPorts(this.core, nameOrId, filters);
  }

  updateNetwork(ref: Ref, changes: Record<string, unknown>, o: Signal = {}): Promise<Network> {
    return networkUpdate.updateNetwork(this.core, ref, changes, o);
  }

  updateSubnet(id: string, changes: Record<string, unknown>, o: Signal = {}): Promise<Subnet> {
    return networkUpdate.updateSubnet(this.core, id, changes, o);
  }

  createPort(o: networkUpdate.CreatePortOptions): Promise<Port> {
    return networkUpdate.createPort(this.core, o);
  }

  updatePort(id: string, changes: Record<string, unknown>, o: Signal = {}): Promise<Port> {
    return networkUpdate.updatePort(this.core, id, changes, o);
  }

  // ---------------------------------------------------------------- security group changes

  createSecurityGroup(name: string, o: Signal & { description?: string } = {}): Promise<SecurityGroup> {
    return securityGroups.createSecurityGroup(this.core, name, o);
  }

  updateSecurityGroup(
    id: string,
    changes: { name?: string; description?: string },
    o: Signal = {},
  ): Promise<SecurityGroup> {
    return securityGroups.updateSecurityGroup(this.core, id, changes, o);
  }

  /** False when it does not exist. */
  deleteSecurityGroup(ref: Ref, o: Signal = {}): Promise<boolean> {
    return securityGroups.deleteSecurityGroup(this.core, ref, o);
  }

  createSecurityGroupRule(o: securityGroups.CreateRuleOptions): Promise<SecurityGroupRule> {
    return securityGroups.createSecurityGroupRule(this.core, o);
  }

  /** False when it does not exist. */
  deleteSecurityGroupRule(id: string, o: Signal = {}): Promise<boolean> {
    return securityGroups.deleteSecurityGroupRule(this.core, id, o);
  }

  // ---------------------------------------------------------------- floating IPs

  listFloatingIps(filters?: Filters): Promise<FloatingIp[]> {
    return networks.listFloatingIps(this.core, filters);
  }

  /** A floating IP by id or address; null when none, AMBIGUOUS when several match. */
  getFloatingIp(ref: Ref, filters?: Filters): Promise<FloatingIp | null> {
    return networks.getFloatingIp(this.core, ref, filters);
  }

  /** Associate floating IP `address` with the server's port holding `fixedAddress` (default: its private_v4). */
  attachFloatingIp(
    server: Ref,
    address: string,
    o: { fixedAddress?: string; signal?: AbortSignal } = {},
  ): Promise<FloatingIp> {
    return floatingAttach.attachFloatingIp(this.core, server, address, o);
  }

  /** Disassociate floating IP `address` from the server; CONFLICT when it is not attached to it. */
  detachFloatingIp(server: Ref, address: string, o: { signal?: AbortSignal } = {}): Promise<void> {
    return floatingAttach.detachFloatingIp(this.core, server, address, o);
  }

  /** Allocate a floating IP (default network: the cloud's first external one), optionally on a port at once. */
  createFloatingIp(o: floatingAttach.CreateFloatingIpOptions = {}): Promise<FloatingIp> {
    return floatingAttach.createFloatingIp(this.core, o);
  }

  /** False on 404. */
  deleteFloatingIp(id: string): Promise<boolean> {
    return networks.deleteFloatingIp(this.core, id);
  }

  /**
   * Delete every floating IP not attached to a port; returns how many were deleted. Only safe when nothing else is
   * in the middle of a create-then-attach (as shade warns).
   */
  deleteUnattachedFloatingIps(): Promise<number> {
    return networks.deleteUnattachedFloatingIps(this.core);
  }
}
