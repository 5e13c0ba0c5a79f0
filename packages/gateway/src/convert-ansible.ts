/** Subnets, routers, ports, rules, containers and objects (the Ansible write surface) as ocx.cloud.v1 messages. */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  Container as SdkContainer,
  StoredObject as SdkObject,
  Port as SdkPort,
  Router as SdkRouter,
  SecurityGroupRule as SdkRule,
  Subnet as SdkSubnet,
  ServerVolumeAttachment,
} from '@ocx/sdk';
import type {
  ContainerSchema,
  PortSchema,
  RouterSchema,
  SecurityGroupRuleSchema,
  StoredObjectSchema,
  SubnetSchema,
  VolumeAttachmentSchema,
} from '@ocx/sdk/gen/ocx/cloud/v1/resources_pb';
import { stringMap, toLocation } from './convert.ts';

const s = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0);

export function toSubnet(x: SdkSubnet): MessageInitShape<typeof SubnetSchema> {
  return {
    location: toLocation(x.location),
    id: x.id,
    name: s(x.name),
    networkId: x.network_id,
    cidr: x.cidr,
    ipVersion: x.ip_version,
    gatewayIp: s(x.gateway_ip),
    isDhcpEnabled: x.is_dhcp_enabled,
    dnsNameservers: x.dns_nameservers,
    allocationPools: x.allocation_pools.map((p) => ({ start: p.start, end: p.end })),
    properties: stringMap(x.properties),
  };
}

export function toRouter(x: SdkRouter): MessageInitShape<typeof RouterSchema> {
  return {
    location: toLocation(x.location),
    id: x.id,
    name: s(x.name),
    status: s(x.status),
    isAdminStateUp: x.is_admin_state_up,
    externalNetwork: s(x.external_network),
    interfaceSubnets: x.interface_subnets,
    properties: stringMap(x.properties),
  };
}

export function toPort(x: SdkPort): MessageInitShape<typeof PortSchema> {
  return {
    location: toLocation(x.location),
    id: x.id,
    name: s(x.name),
    networkId: x.network_id,
    macAddress: s(x.mac_address),
    fixedIps: x.fixed_ips.map((f) => ({ subnetId: f.subnet_id, ipAddress: f.ip_address })),
    deviceId: s(x.device_id),
    deviceOwner: s(x.device_owner),
    status: s(x.status),
    securityGroups: x.security_groups,
    isAdminStateUp: x.is_admin_state_up,
    properties: stringMap(x.properties),
  };
}

export function toRule(x: SdkRule): MessageInitShape<typeof SecurityGroupRuleSchema> {
  return {
    id: x.id,
    direction: s(x.direction),
    ethertype: s(x.ethertype),
    portRangeMin: n(x.port_range_min),
    portRangeMax: n(x.port_range_max),
    protocol: s(x.protocol),
    remoteIpPrefix: s(x.remote_ip_prefix),
    remoteGroupId: s(x.remote_group_id),
    securityGroupId: x.security_group_id,
    location: toLocation(x.location),
  };
}

export function toAttachment(a: ServerVolumeAttachment): MessageInitShape<typeof VolumeAttachmentSchema> {
  return { serverId: a.server_id, device: s(a.device), attachmentId: a.id };
}

export function toContainer(x: SdkContainer): MessageInitShape<typeof ContainerSchema> {
  return {
    location: toLocation(x.location),
    name: x.name,
    count: BigInt(n(x.count)),
    bytes: BigInt(n(x.bytes)),
    metadata: stringMap(x.metadata),
    lastModified: s(x.last_modified),
  };
}

export function toStoredObject(x: SdkObject): MessageInitShape<typeof StoredObjectSchema> {
  return {
    location: toLocation(x.location),
    container: x.container,
    name: x.name,
    bytes: BigInt(n(x.bytes)),
    hash: s(x.hash),
    contentType: s(x.content_type),
    lastModified: s(x.last_modified),
    metadata: stringMap(x.metadata),
  };
}
