/**
 * ocx.cloud.v1 messages of the gateway's Ansible surface (subnets, routers, ports, security groups and rules,
 * containers, objects) → the cloud layer's normalized resources, and → the Neutron records the REST backend's
 * createNetwork, createSubnet, getSubnet and createRouter answer (Neutron's record as created, not normalized).
 * Same conventions as convert.ts: empty proto strings are the model's null, `properties` keep the gateway's strings.
 */
import type {
  Container,
  Port,
  Router,
  SecurityGroup,
  SecurityGroupRule,
  StoredObject,
  Subnet,
} from '../cloud/types.ts';
import type { Location as PbLocation } from '../gen/ocx/cloud/v1/common_pb.ts';
import type {
  Container as PbContainer,
  Network as PbNetwork,
  StoredObject as PbObject,
  Port as PbPort,
  Router as PbRouter,
  SecurityGroupRule as PbRule,
  SecurityGroup as PbSecurityGroup,
  Subnet as PbSubnet,
} from '../gen/ocx/cloud/v1/resources_pb.ts';
import type { NeutronNetwork, NeutronRouter, NeutronSubnet } from '../services/network.ts';
import { common, fromLocation } from './convert.ts';

const orNull = (v: string | undefined): string | null => (v ? v : null);

export function fromSubnet(x: PbSubnet, cloud: string): Subnet {
  return {
    ...common(x, cloud),
    network_id: x.networkId,
    cidr: x.cidr,
    ip_version: x.ipVersion === 6 ? 6 : 4,
    gateway_ip: orNull(x.gatewayIp),
    is_dhcp_enabled: x.isDhcpEnabled,
    dns_nameservers: [...x.dnsNameservers],
    allocation_pools: x.allocationPools.map((p) => ({ start: p.start, end: p.end })),
  };
}

export function fromRouter(x: PbRouter, cloud: string): Router {
  return {
    ...common(x, cloud),
    status: x.status,
    is_admin_state_up: x.isAdminStateUp,
    external_network: orNull(x.externalNetwork),
    interface_subnets: [...x.interfaceSubnets],
  };
}

export function fromPort(x: PbPort, cloud: string): Port {
  return {
    ...common(x, cloud),
    network_id: x.networkId,
    mac_address: x.macAddress,
    fixed_ips: x.fixedIps.map((f) => ({ subnet_id: f.subnetId, ip_address: f.ipAddress })),
    device_id: x.deviceId,
    device_owner: x.deviceOwner,
    status: x.status,
    security_groups: [...x.securityGroups],
    is_admin_state_up: x.isAdminStateUp,
  };
}

/** A rule; inside a group its location and group id come from the group (the gateway leaves them empty there). */
export function fromRule(
  r: PbRule,
  cloud: string,
  inGroup?: { id: string; location?: PbLocation | undefined },
): SecurityGroupRule {
  return {
    id: r.id,
    location: fromLocation(inGroup ? inGroup.location : r.location, cloud),
    direction: r.direction === 'egress' ? 'egress' : 'ingress',
    ethertype: r.ethertype,
    port_range_min: r.portRangeMin || null,
    port_range_max: r.portRangeMax || null,
    protocol: orNull(r.protocol),
    remote_ip_prefix: orNull(r.remoteIpPrefix),
    security_group_id: inGroup ? inGroup.id : r.securityGroupId,
    remote_group_id: orNull(r.remoteGroupId),
    properties: {},
  };
}

export function fromSecurityGroup(x: PbSecurityGroup, cloud: string): SecurityGroup {
  return {
    ...common(x, cloud),
    description: x.description,
    security_group_rules: x.rules.map((r) => fromRule(r, cloud, x)),
  };
}

export function fromContainer(x: PbContainer, cloud: string): Container {
  return {
    id: x.name,
    name: x.name,
    location: fromLocation(x.location, cloud),
    properties: {},
    count: Number(x.count),
    bytes: Number(x.bytes),
    metadata: { ...x.metadata },
    last_modified: orNull(x.lastModified),
  };
}

export function fromStoredObject(x: PbObject, cloud: string): StoredObject {
  return {
    id: x.name,
    name: x.name,
    location: fromLocation(x.location, cloud),
    properties: {},
    container: x.container,
    bytes: Number(x.bytes),
    hash: orNull(x.hash),
    content_type: orNull(x.contentType),
    last_modified: orNull(x.lastModified),
    metadata: { ...x.metadata },
  };
}

/** The project a record of the gateway's names (Neutron records carry `project_id`). */
const project = (l: PbLocation | undefined) => (l?.project?.id ? { project_id: l.project.id } : {});

export function neutronNetwork(x: PbNetwork): NeutronNetwork {
  return {
    ...x.properties,
    id: x.id,
    name: x.name,
    status: x.status,
    admin_state_up: x.isAdminStateUp,
    shared: x.isShared,
    'router:external': x.isRouterExternal,
    subnets: [...x.subnets],
    ...(x.mtu ? { mtu: x.mtu } : {}),
    ...project(x.location),
  };
}

export function neutronSubnet(x: PbSubnet): NeutronSubnet {
  return {
    ...x.properties,
    id: x.id,
    name: x.name,
    network_id: x.networkId,
    cidr: x.cidr,
    ip_version: x.ipVersion === 6 ? 6 : 4,
    gateway_ip: orNull(x.gatewayIp),
    enable_dhcp: x.isDhcpEnabled,
    dns_nameservers: [...x.dnsNameservers],
    allocation_pools: x.allocationPools.map((p) => ({ start: p.start, end: p.end })),
    ...project(x.location),
  };
}

export function neutronRouter(x: PbRouter): NeutronRouter {
  return {
    ...x.properties,
    id: x.id,
    name: x.name,
    status: x.status,
    admin_state_up: x.isAdminStateUp,
    external_gateway_info: x.externalNetwork ? { network_id: x.externalNetwork } : null,
    ...project(x.location),
  };
}
