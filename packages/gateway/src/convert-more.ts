/** Networks, volumes, security groups and floating IPs (the Ansible read surface) as ocx.cloud.v1 messages. */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  FloatingIp as SdkFloatingIp,
  Network as SdkNetwork,
  SecurityGroup as SdkSecurityGroup,
  Volume as SdkVolume,
} from '@ocx/sdk';
import type {
  FloatingIpSchema,
  NetworkSchema,
  SecurityGroupSchema,
  VolumeSchema,
} from '@ocx/sdk/gen/ocx/cloud/v1/resources_pb';
import { stringMap, toLocation } from './convert.ts';

const s = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.trunc(v) : 0);

export function toNetwork(x: SdkNetwork): MessageInitShape<typeof NetworkSchema> {
  return {
    location: toLocation(x.location),
    id: x.id,
    name: s(x.name),
    status: s(x.status),
    isAdminStateUp: !!x.is_admin_state_up,
    isShared: !!x.is_shared,
    isRouterExternal: !!x.is_router_external,
    subnets: x.subnets ?? [],
    mtu: n(x.mtu),
    properties: stringMap(x.properties),
  };
}

export function toVolume(x: SdkVolume): MessageInitShape<typeof VolumeSchema> {
  return {
    location: toLocation(x.location),
    id: x.id,
    name: s(x.name),
    status: s(x.status),
    size: BigInt(n(x.size)),
    description: s(x.description),
    volumeType: s(x.volume_type),
    isBootable: !!x.is_bootable,
    attachments: (x.attachments ?? []).map((a) => ({
      serverId: s(a.server_id),
      device: s(a.device),
      attachmentId: s(a.attachment_id),
    })),
    metadata: stringMap(x.metadata),
    createdAt: s(x.created_at),
    properties: stringMap(x.properties),
  };
}

export function toSecurityGroup(x: SdkSecurityGroup): MessageInitShape<typeof SecurityGroupSchema> {
  return {
    location: toLocation(x.location),
    id: x.id,
    name: s(x.name),
    description: s(x.description),
    rules: (x.security_group_rules ?? []).map((r) => ({
      id: r.id,
      direction: s(r.direction),
      ethertype: s(r.ethertype),
      portRangeMin: n(r.port_range_min),
      portRangeMax: n(r.port_range_max),
      protocol: s(r.protocol),
      remoteIpPrefix: s(r.remote_ip_prefix),
      remoteGroupId: s(r.remote_group_id),
    })),
    properties: stringMap(x.properties),
  };
}

export function toFloatingIp(x: SdkFloatingIp): MessageInitShape<typeof FloatingIpSchema> {
  return {
    location: toLocation(x.location),
    id: x.id,
    attached: x.attached,
    fixedIpAddress: s(x.fixed_ip_address),
    floatingIpAddress: s(x.floating_ip_address),
    network: s(x.network),
    port: s(x.port),
    router: s(x.router),
    status: s(x.status),
    properties: stringMap(x.properties),
  };
}
