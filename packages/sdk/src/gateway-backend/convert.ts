/**
 * ocx.cloud.v1 messages → the cloud layer's normalized resources (the inverse of the gateway's convert.ts). The
 * location's cloud becomes the name the caller's clouds.yaml gives the cloud (the gateway's own name for it is
 * `gateway.cloud`), as a REST cloud's resources carry their clouds.yaml name. Empty proto strings are the model's
 * null; `properties` keep the gateway's strings (non-string values arrive JSON-encoded).
 */

import type {
  ComputeLimits,
  Flavor,
  FloatingIp,
  Image,
  Keypair,
  Location,
  Network,
  Server,
  ServerAddress,
  Volume,
} from '../cloud/types.ts';
import type { Location as PbLocation } from '../gen/ocx/cloud/v1/common_pb.ts';
import type {
  ComputeLimits as PbComputeLimits,
  Flavor as PbFlavor,
  FloatingIp as PbFloatingIp,
  Image as PbImage,
  Keypair as PbKeypair,
  Network as PbNetwork,
  Server as PbServer,
  Volume as PbVolume,
  VolumeLimits as PbVolumeLimits,
} from '../gen/ocx/cloud/v1/resources_pb.ts';

const orNull = (v: string | undefined): string | null => (v ? v : null);
const num = (v: bigint | number | undefined): number => (v === undefined ? 0 : Number(v));
const optNum = (v: bigint | undefined): number | null => (v === undefined ? null : Number(v));

export function fromLocation(l: PbLocation | undefined, cloud: string): Location {
  return {
    cloud,
    region: orNull(l?.region),
    zone: orNull(l?.zone),
    project: {
      id: orNull(l?.project?.id),
      name: orNull(l?.project?.name),
      domain_id: orNull(l?.project?.domainId),
      domain_name: orNull(l?.project?.domainName),
    },
  };
}

/** The fields every named resource has: id, name, location (the caller's cloud name), properties. */
export function common(
  x: { id: string; name: string; location?: PbLocation | undefined; properties: Record<string, string> },
  cloud: string,
) {
  return { id: x.id, name: x.name, location: fromLocation(x.location, cloud), properties: { ...x.properties } };
}

export function fromFlavor(f: PbFlavor, cloud: string): Flavor {
  return {
    id: f.id,
    name: f.name,
    location: fromLocation(f.location, cloud),
    properties: { ...f.properties },
    is_public: f.isPublic,
    is_disabled: f.isDisabled,
    ram: f.ram,
    vcpus: f.vcpus,
    disk: num(f.disk),
    ephemeral: f.ephemeral,
    swap: num(f.swap),
    rxtx_factor: f.rxtxFactor,
    extra_specs: { ...f.extraSpecs },
  };
}

export function fromImage(i: PbImage, cloud: string): Image {
  return {
    id: i.id,
    name: i.name,
    location: fromLocation(i.location, cloud),
    properties: { ...i.properties },
    status: i.status,
    visibility: i.visibility,
    is_public: i.isPublic,
    is_protected: i.isProtected,
    checksum: orNull(i.checksum),
    size: i.size ? Number(i.size) : null,
    virtual_size: i.virtualSize ? Number(i.virtualSize) : null,
    min_ram: i.minRam,
    min_disk: num(i.minDisk),
    disk_format: orNull(i.diskFormat),
    container_format: orNull(i.containerFormat),
    owner: orNull(i.owner),
    tags: [...i.tags],
    created_at: orNull(i.createdAt),
    updated_at: orNull(i.updatedAt),
    hash_algo: orNull(i.hashAlgo),
    hash_value: orNull(i.hashValue),
  };
}

export function fromKeypair(k: PbKeypair, cloud: string): Keypair {
  return {
    id: k.id || k.name,
    name: k.name,
    location: fromLocation(k.location, cloud),
    public_key: k.publicKey,
    fingerprint: k.fingerprint,
    type: k.type,
    private_key: orNull(k.privateKey),
    properties: { ...k.properties },
  };
}

export function fromServer(v: PbServer, cloud: string): Server {
  const addresses: Record<string, ServerAddress[]> = {};
  for (const a of v.addresses) {
    const one: ServerAddress = { addr: a.addr, version: a.version === 6 ? 6 : 4 };
    if (a.type) one['OS-EXT-IPS:type'] = a.type;
    if (a.macAddr) one['OS-EXT-IPS-MAC:mac_addr'] = a.macAddr;
    addresses[a.network] ??= [];
    addresses[a.network]?.push(one);
  }
  const ref = (r: { id: string; name: string } | undefined) => ({
    ...(r?.id ? { id: r.id } : {}),
    ...(r?.name ? { name: r.name } : {}),
  });
  const server: Server = {
    id: v.id,
    name: v.name,
    location: fromLocation(v.location, cloud),
    properties: { ...v.properties },
    status: v.status,
    image: ref(v.image),
    // Nova 2.47+ embeds the flavor without an id: its name is `original_name` there (what OSC shows).
    flavor:
      v.flavor && !v.flavor.id && v.flavor.name ? { original_name: v.flavor.name, ...ref(v.flavor) } : ref(v.flavor),
    volumes: v.volumeIds.map((id) => ({ id })),
    addresses,
    accessIPv4: v.accessIpv4,
    accessIPv6: v.accessIpv6,
    public_v4: v.publicV4,
    public_v6: v.publicV6,
    private_v4: v.privateV4,
    interface_ip: v.interfaceIp,
    key_name: orNull(v.keyName),
    metadata: { ...v.metadata },
    host_id: v.hostId,
    has_config_drive: v.hasConfigDrive,
    security_groups: v.securityGroups.map((name) => ({ name })),
    user_id: orNull(v.userId),
    progress: v.progress,
    power_state: null,
    task_state: orNull(v.taskState),
    vm_state: orNull(v.vmState),
    launched_at: orNull(v.launchedAt),
    terminated_at: null,
    created: orNull(v.createdAt),
    created_at: orNull(v.createdAt),
    updated: orNull(v.updatedAt),
    fault: v.fault ? { message: v.fault.message, code: v.fault.code, details: v.fault.details } : null,
  };
  if (v.adminPassword) server.admin_password = v.adminPassword;
  return server;
}

export function fromComputeLimits(l: PbComputeLimits | undefined, location: Location): ComputeLimits {
  return {
    location,
    max_personality: null,
    max_personality_size: null,
    max_server_group_members: optNum(l?.maxServerGroupMembers),
    max_server_groups: optNum(l?.maxServerGroups),
    max_server_meta: optNum(l?.maxServerMeta),
    max_total_cores: optNum(l?.maxTotalCores),
    max_total_instances: optNum(l?.maxTotalInstances),
    max_total_keypairs: optNum(l?.maxTotalKeypairs),
    max_total_ram_size: optNum(l?.maxTotalRamSize),
    total_cores_used: optNum(l?.totalCoresUsed),
    total_instances_used: optNum(l?.totalInstancesUsed),
    total_ram_used: optNum(l?.totalRamUsed),
    total_server_groups_used: optNum(l?.totalServerGroupsUsed),
    properties: {},
  };
}

/** Only the limits the gateway sent (an absent one is left out, as the API leaves out what it does not know). */
function named(pairs: [string, bigint | undefined][]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of pairs) if (v !== undefined) out[k] = Number(v);
  return out;
}

/** Nova's absolute limits with the API's names. */
export function computeAbsolute(l: PbComputeLimits | undefined): Record<string, number> {
  return named([
    ['maxTotalCores', l?.maxTotalCores],
    ['maxTotalInstances', l?.maxTotalInstances],
    ['maxTotalRAMSize', l?.maxTotalRamSize],
    ['maxTotalKeypairs', l?.maxTotalKeypairs],
    ['maxServerMeta', l?.maxServerMeta],
    ['maxServerGroups', l?.maxServerGroups],
    ['maxServerGroupMembers', l?.maxServerGroupMembers],
    ['totalCoresUsed', l?.totalCoresUsed],
    ['totalInstancesUsed', l?.totalInstancesUsed],
    ['totalRAMUsed', l?.totalRamUsed],
    ['totalServerGroupsUsed', l?.totalServerGroupsUsed],
  ]);
}

/** Cinder's absolute limits with the API's names. */
export function volumeAbsolute(l: PbVolumeLimits | undefined): Record<string, number> {
  return named([
    ['maxTotalVolumes', l?.maxTotalVolumes],
    ['maxTotalVolumeGigabytes', l?.maxTotalVolumeGigabytes],
    ['maxTotalSnapshots', l?.maxTotalSnapshots],
    ['maxTotalBackups', l?.maxTotalBackups],
    ['maxTotalBackupGigabytes', l?.maxTotalBackupGigabytes],
    ['totalVolumesUsed', l?.totalVolumesUsed],
    ['totalGigabytesUsed', l?.totalGigabytesUsed],
    ['totalSnapshotsUsed', l?.totalSnapshotsUsed],
    ['totalBackupsUsed', l?.totalBackupsUsed],
    ['totalBackupGigabytesUsed', l?.totalBackupGigabytesUsed],
  ]);
}

export function fromNetwork(x: PbNetwork, cloud: string): Network {
  return {
    ...common(x, cloud),
    status: x.status,
    is_admin_state_up: x.isAdminStateUp,
    is_shared: x.isShared,
    is_router_external: x.isRouterExternal,
    provider_physical_network: null,
    provider_network_type: null,
    subnets: [...x.subnets],
    mtu: x.mtu || null,
  };
}

export function fromVolume(x: PbVolume, cloud: string): Volume {
  return {
    ...common(x, cloud),
    status: x.status,
    size: num(x.size),
    description: orNull(x.description),
    volume_type: orNull(x.volumeType),
    is_bootable: x.isBootable,
    is_encrypted: false,
    is_multiattach: false,
    attachments: x.attachments.map((a) => ({
      server_id: a.serverId,
      ...(a.device ? { device: a.device } : {}),
      ...(a.attachmentId ? { attachment_id: a.attachmentId } : {}),
    })),
    metadata: { ...x.metadata },
    snapshot_id: null,
    source_volume_id: null,
    created_at: orNull(x.createdAt),
    updated_at: null,
  };
}

export function fromFloatingIp(x: PbFloatingIp, cloud: string): FloatingIp {
  return {
    id: x.id,
    location: fromLocation(x.location, cloud),
    attached: x.attached,
    fixed_ip_address: orNull(x.fixedIpAddress),
    floating_ip_address: x.floatingIpAddress,
    network: x.network,
    port: orNull(x.port),
    router: orNull(x.router),
    status: x.status,
    created_at: null,
    properties: { ...x.properties },
  };
}
