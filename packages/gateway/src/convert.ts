/** The cloud layer's normalized resources (shade's model) as ocx.cloud.v1 messages (init shapes). */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  ComputeLimits as SdkComputeLimits,
  Flavor as SdkFlavor,
  Image as SdkImage,
  Keypair as SdkKeypair,
  Location as SdkLocation,
  Server as SdkServer,
} from '@ocx/sdk';
import type { LocationSchema } from '@ocx/sdk/gen/ocx/cloud/v1/common_pb';
import type {
  ComputeLimitsSchema,
  FlavorSchema,
  ImageSchema,
  KeypairSchema,
  ServerSchema,
  VolumeLimitsSchema,
} from '@ocx/sdk/gen/ocx/cloud/v1/resources_pb';

/** Strings stay strings; everything else is JSON. null/undefined entries are dropped. */
export function stringMap(obj: Record<string, unknown> | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj ?? {})) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

const s = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : String(v));
const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const big = (v: unknown): bigint => BigInt(Math.max(0, Math.trunc(n(v))));

export function toLocation(l: SdkLocation): MessageInitShape<typeof LocationSchema> {
  return {
    cloud: l.cloud,
    region: s(l.region),
    zone: s(l.zone),
    project: {
      id: s(l.project.id),
      name: s(l.project.name),
      domainId: s(l.project.domain_id),
      domainName: s(l.project.domain_name),
    },
  };
}

export function toFlavor(f: SdkFlavor): MessageInitShape<typeof FlavorSchema> {
  return {
    location: toLocation(f.location),
    id: f.id,
    name: f.name,
    isPublic: f.is_public,
    isDisabled: f.is_disabled,
    ram: n(f.ram),
    vcpus: n(f.vcpus),
    disk: big(f.disk),
    ephemeral: n(f.ephemeral),
    swap: big(f.swap),
    rxtxFactor: n(f.rxtx_factor),
    extraSpecs: stringMap(f.extra_specs),
    properties: stringMap(f.properties),
  };
}

export function toImage(i: SdkImage): MessageInitShape<typeof ImageSchema> {
  return {
    location: toLocation(i.location),
    id: i.id,
    name: s(i.name),
    status: s(i.status),
    visibility: s(i.visibility),
    isPublic: i.is_public,
    isProtected: i.is_protected,
    checksum: s(i.checksum),
    size: big(i.size),
    virtualSize: big(i.virtual_size),
    minRam: n(i.min_ram),
    minDisk: big(i.min_disk),
    diskFormat: s(i.disk_format),
    containerFormat: s(i.container_format),
    owner: s(i.owner),
    tags: i.tags ?? [],
    createdAt: s(i.created_at),
    updatedAt: s(i.updated_at),
    hashAlgo: s(i.hash_algo),
    hashValue: s(i.hash_value),
    properties: stringMap(i.properties),
  };
}

export function toKeypair(k: SdkKeypair): MessageInitShape<typeof KeypairSchema> {
  return {
    location: toLocation(k.location),
    id: s(k.id),
    name: k.name,
    publicKey: s(k.public_key),
    fingerprint: s(k.fingerprint),
    type: s(k.type),
    privateKey: s(k.private_key),
    properties: stringMap(k.properties),
  };
}

export function toServer(v: SdkServer): MessageInitShape<typeof ServerSchema> {
  const addresses = Object.entries(v.addresses ?? {}).flatMap(([network, list]) =>
    (list ?? []).map((a) => ({
      network,
      addr: a.addr,
      version: n(a.version),
      type: s(a['OS-EXT-IPS:type']),
      macAddr: s(a['OS-EXT-IPS-MAC:mac_addr']),
    })),
  );
  return {
    location: toLocation(v.location),
    id: v.id,
    name: v.name,
    status: s(v.status),
    image: { id: s(v.image?.id), name: s(v.image?.name) },
    flavor: { id: s(v.flavor?.id), name: s(v.flavor?.name ?? v.flavor?.original_name) },
    addresses,
    accessIpv4: s(v.accessIPv4),
    accessIpv6: s(v.accessIPv6),
    publicV4: s(v.public_v4),
    publicV6: s(v.public_v6),
    privateV4: s(v.private_v4),
    interfaceIp: s(v.interface_ip),
    keyName: s(v.key_name),
    metadata: stringMap(v.metadata),
    hostId: s(v.host_id),
    hasConfigDrive: !!v.has_config_drive,
    securityGroups: (v.security_groups ?? []).map((g) => g.name),
    userId: s(v.user_id),
    progress: n(v.progress),
    taskState: s(v.task_state),
    vmState: s(v.vm_state),
    launchedAt: s(v.launched_at),
    createdAt: s(v.created_at ?? v.created),
    updatedAt: s(v.updated),
    fault: v.fault ? { message: s(v.fault.message), code: n(v.fault.code), details: s(v.fault.details) } : undefined,
    volumeIds: (v.volumes ?? []).map((x) => x.id),
    adminPassword: s(v.admin_password),
    properties: stringMap(v.properties),
  };
}

const opt = (v: unknown): bigint | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? BigInt(Math.trunc(v)) : undefined;

export function toComputeLimits(l: SdkComputeLimits): MessageInitShape<typeof ComputeLimitsSchema> {
  return {
    maxTotalCores: opt(l.max_total_cores),
    maxTotalInstances: opt(l.max_total_instances),
    maxTotalRamSize: opt(l.max_total_ram_size),
    maxTotalKeypairs: opt(l.max_total_keypairs),
    maxServerMeta: opt(l.max_server_meta),
    maxServerGroups: opt(l.max_server_groups),
    maxServerGroupMembers: opt(l.max_server_group_members),
    totalCoresUsed: opt(l.total_cores_used),
    totalInstancesUsed: opt(l.total_instances_used),
    totalRamUsed: opt(l.total_ram_used),
    totalServerGroupsUsed: opt(l.total_server_groups_used),
  };
}

/** Cinder's `GET /limits` body (`limits.absolute`). */
export function toVolumeLimits(body: unknown): MessageInitShape<typeof VolumeLimitsSchema> {
  const abs = ((body as { limits?: { absolute?: Record<string, unknown> } })?.limits?.absolute ?? {}) as Record<
    string,
    unknown
  >;
  return {
    maxTotalVolumes: opt(abs.maxTotalVolumes),
    maxTotalVolumeGigabytes: opt(abs.maxTotalVolumeGigabytes),
    maxTotalSnapshots: opt(abs.maxTotalSnapshots),
    maxTotalBackups: opt(abs.maxTotalBackups),
    maxTotalBackupGigabytes: opt(abs.maxTotalBackupGigabytes),
    totalVolumesUsed: opt(abs.totalVolumesUsed),
    totalGigabytesUsed: opt(abs.totalGigabytesUsed),
    totalSnapshotsUsed: opt(abs.totalSnapshotsUsed),
    totalBackupsUsed: opt(abs.totalBackupsUsed),
    totalBackupGigabytesUsed: opt(abs.totalBackupGigabytesUsed),
  };
}
