/**
 * Raw API records → normalized resources. Known keys become model fields; the rest go to `properties`.
 */
import type { CinderVolume } from '../services/block-storage.ts';
import type { NovaFlavor, NovaKeypair, NovaLimits, NovaServer } from '../services/compute.ts';
import type { GlanceImage } from '../services/image.ts';
import type {
  NeutronFloatingIp,
  NeutronNetwork,
  NeutronPort,
  NeutronSecurityGroup,
  NeutronSecurityGroupRule,
} from '../services/network.ts';
import type {
  ComputeLimits,
  Flavor,
  FloatingIp,
  Image,
  Keypair,
  Location,
  LocationProject,
  Network,
  Port,
  SecurityGroup,
  SecurityGroupRule,
  Server,
  ServerAddress,
  Volume,
} from './types.ts';

/** The cloud/region/current-project facts a Location is built from. */
export interface LocationBase {
  cloud: string;
  region: string | null;
  /** The token's project, used to fill in name and domain when a resource's project id matches it. */
  project: LocationProject;
}

export function makeLocation(base: LocationBase, projectId?: string | null, zone?: string | null): Location {
  let project: LocationProject;
  if (!projectId || projectId === base.project.id) project = { ...base.project };
  else project = { id: projectId, name: null, domain_id: null, domain_name: null };
  return { cloud: base.cloud, region: base.region, zone: zone || null, project };
}

function rest(raw: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const skip = new Set(known);
  for (const [k, v] of Object.entries(raw)) if (!skip.has(k) && k !== 'links') out[k] = v;
  return out;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : v === null || v === undefined ? null : String(v);
}

function numOr(v: unknown, dflt: number): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : dflt;
}

function numOrNull(v: unknown): number | null {
  const n = numOr(v, Number.NaN);
  return Number.isNaN(n) ? null : n;
}

function bool(v: unknown): boolean {
  return v === true || v === 'true' || v === 'True' || v === '1' || v === 1;
}

const SERVER_KEYS = [
  'id',
  'name',
  'status',
  'image',
  'flavor',
  'addresses',
  'accessIPv4',
  'accessIPv6',
  'key_name',
  'metadata',
  'hostId',
  'config_drive',
  'security_groups',
  'user_id',
  'tenant_id',
  'project_id',
  'progress',
  'created',
  'updated',
  'fault',
  'OS-EXT-AZ:availability_zone',
  'os-extended-volumes:volumes_attached',
  'OS-EXT-STS:power_state',
  'OS-EXT-STS:task_state',
  'OS-EXT-STS:vm_state',
  'OS-SRV-USG:launched_at',
  'OS-SRV-USG:terminated_at',
];

/** A Nova server, without address resolution (fields '' until `withAddresses`). */
export function normalizeServer(raw: NovaServer, base: LocationBase): Server {
  const image = typeof raw.image === 'object' && raw.image !== null ? { ...raw.image } : {};
  delete (image as Record<string, unknown>).links;
  const flavor = { ...(raw.flavor ?? {}) };
  delete (flavor as Record<string, unknown>).links;
  if (flavor.name === undefined && typeof flavor.original_name === 'string') flavor.name = flavor.original_name;
  const addresses: Record<string, ServerAddress[]> = {};
  for (const [net, list] of Object.entries(raw.addresses ?? {})) {
    addresses[net] = list.map((a) => ({ ...a, version: Number(a.version) === 6 ? 6 : 4 }));
  }
  return {
    id: raw.id,
    name: raw.name,
    location: makeLocation(base, str(raw.tenant_id ?? raw.project_id), str(raw['OS-EXT-AZ:availability_zone']) || null),
    status: raw.status,
    image,
    flavor,
    volumes: (raw['os-extended-volumes:volumes_attached'] ?? []).map((v) => ({ ...v })),
    addresses,
    accessIPv4: raw.accessIPv4 ?? '',
    accessIPv6: raw.accessIPv6 ?? '',
    public_v4: '',
    public_v6: '',
    private_v4: '',
    interface_ip: '',
    key_name: raw.key_name ?? null,
    metadata: { ...(raw.metadata ?? {}) },
    host_id: raw.hostId ?? '',
    has_config_drive: bool(raw.config_drive),
    security_groups: raw.security_groups ?? [],
    user_id: str(raw.user_id),
    progress: numOr(raw.progress, 0),
    power_state: numOrNull(raw['OS-EXT-STS:power_state']),
    task_state: str(raw['OS-EXT-STS:task_state']),
    vm_state: str(raw['OS-EXT-STS:vm_state']),
    launched_at: str(raw['OS-SRV-USG:launched_at']),
    terminated_at: str(raw['OS-SRV-USG:terminated_at']),
    created: str(raw.created),
    created_at: str(raw.created),
    updated: str(raw.updated),
    fault: raw.fault ? { ...raw.fault } : null,
    properties: rest(raw, SERVER_KEYS),
  };
}

const FLAVOR_KEYS = [
  'id',
  'name',
  'ram',
  'vcpus',
  'disk',
  'swap',
  'rxtx_factor',
  'extra_specs',
  'OS-FLV-EXT-DATA:ephemeral',
  'OS-FLV-DISABLED:disabled',
  'os-flavor-access:is_public',
];

export function normalizeFlavor(raw: NovaFlavor, base: LocationBase): Flavor {
  return {
    id: raw.id,
    name: raw.name,
    location: makeLocation(base),
    is_public: raw['os-flavor-access:is_public'] !== false,
    is_disabled: raw['OS-FLV-DISABLED:disabled'] === true,
    ram: numOr(raw.ram, 0),
    vcpus: numOr(raw.vcpus, 0),
    disk: numOr(raw.disk, 0),
    ephemeral: numOr(raw['OS-FLV-EXT-DATA:ephemeral'], 0),
    swap: numOr(raw.swap, 0),
    rxtx_factor: numOr(raw.rxtx_factor, 1),
    extra_specs: { ...(raw.extra_specs ?? {}) },
    properties: rest(raw, FLAVOR_KEYS),
  };
}

const IMAGE_KEYS = [
  'id',
  'name',
  'status',
  'visibility',
  'protected',
  'checksum',
  'size',
  'virtual_size',
  'min_ram',
  'min_disk',
  'disk_format',
  'container_format',
  'owner',
  'tags',
  'created_at',
  'updated_at',
  'os_hash_algo',
  'os_hash_value',
  'self',
  'schema',
  'file',
];

export function normalizeImage(raw: GlanceImage, base: LocationBase): Image {
  return {
    id: raw.id,
    name: raw.name ?? '',
    location: makeLocation(base, str(raw.owner)),
    status: raw.status,
    visibility: raw.visibility ?? 'private',
    is_public: raw.visibility === 'public',
    is_protected: raw.protected === true,
    checksum: raw.checksum ?? null,
    size: numOrNull(raw.size),
    virtual_size: numOrNull(raw.virtual_size),
    min_ram: numOr(raw.min_ram, 0),
    min_disk: numOr(raw.min_disk, 0),
    disk_format: raw.disk_format ?? null,
    container_format: raw.container_format ?? null,
    owner: str(raw.owner),
    tags: [...(raw.tags ?? [])],
    created_at: str(raw.created_at),
    updated_at: str(raw.updated_at),
    hash_algo: str(raw.os_hash_algo),
    hash_value: str(raw.os_hash_value),
    properties: rest(raw, IMAGE_KEYS),
  };
}

export function normalizeKeypair(raw: NovaKeypair, base: LocationBase): Keypair {
  return {
    id: raw.name,
    name: raw.name,
    location: makeLocation(base),
    public_key: raw.public_key,
    fingerprint: raw.fingerprint,
    type: raw.type ?? 'ssh',
    private_key: raw.private_key ?? null,
    properties: rest(raw, ['name', 'public_key', 'fingerprint', 'type', 'private_key']),
  };
}

export function normalizeFloatingIp(raw: NeutronFloatingIp, base: LocationBase): FloatingIp {
  return {
    id: raw.id,
    location: makeLocation(base, str(raw.project_id ?? raw.tenant_id)),
    attached: !!raw.port_id,
    fixed_ip_address: raw.fixed_ip_address ?? null,
    floating_ip_address: raw.floating_ip_address,
    network: raw.floating_network_id,
    port: raw.port_id ?? null,
    router: raw.router_id ?? null,
    status: raw.status,
    created_at: str(raw.created_at),
    properties: rest(raw, [
      'id',
      'project_id',
      'tenant_id',
      'port_id',
      'fixed_ip_address',
      'floating_ip_address',
      'floating_network_id',
      'router_id',
      'status',
      'created_at',
    ]),
  };
}

export function normalizeNetwork(raw: NeutronNetwork, base: LocationBase): Network {
  return {
    id: raw.id,
    name: raw.name,
    location: makeLocation(base, str(raw.project_id ?? raw.tenant_id)),
    status: raw.status ?? '',
    is_admin_state_up: raw.admin_state_up !== false,
    is_shared: raw.shared === true,
    is_router_external: raw['router:external'] === true,
    provider_physical_network: str(raw['provider:physical_network']),
    provider_network_type: str(raw['provider:network_type']),
    subnets: [...(raw.subnets ?? [])],
    mtu: numOrNull(raw.mtu),
    properties: rest(raw, [
      'id',
      'name',
      'project_id',
      'tenant_id',
      'status',
      'admin_state_up',
      'shared',
      'router:external',
      'provider:physical_network',
      'provider:network_type',
      'subnets',
      'mtu',
    ]),
  };
}

export function normalizePort(raw: NeutronPort, base: LocationBase): Port {
  return {
    id: raw.id,
    name: raw.name ?? '',
    location: makeLocation(base, str(raw.project_id)),
    network_id: raw.network_id,
    mac_address: raw.mac_address,
    fixed_ips: raw.fixed_ips ?? [],
    device_id: raw.device_id ?? '',
    device_owner: raw.device_owner ?? '',
    status: raw.status,
    properties: rest(raw, [
      'id',
      'name',
      'project_id',
      'tenant_id',
      'network_id',
      'mac_address',
      'fixed_ips',
      'device_id',
      'device_owner',
      'status',
    ]),
  };
}

export function normalizeVolume(raw: CinderVolume, base: LocationBase): Volume {
  return {
    id: raw.id,
    name: raw.name ?? '',
    location: makeLocation(base, str(raw['os-vol-tenant-attr:tenant_id']), str(raw.availability_zone)),
    status: raw.status,
    size: numOr(raw.size, 0),
    description: raw.description ?? null,
    volume_type: raw.volume_type ?? null,
    is_bootable: bool(raw.bootable),
    is_encrypted: raw.encrypted === true,
    is_multiattach: raw.multiattach === true,
    attachments: (raw.attachments ?? []).map((a) => ({ ...a })),
    metadata: { ...(raw.metadata ?? {}) },
    snapshot_id: raw.snapshot_id ?? null,
    source_volume_id: raw.source_volid ?? null,
    created_at: str(raw.created_at),
    updated_at: str(raw.updated_at),
    properties: rest(raw, [
      'id',
      'name',
      'status',
      'size',
      'description',
      'volume_type',
      'bootable',
      'encrypted',
      'multiattach',
      'attachments',
      'metadata',
      'snapshot_id',
      'source_volid',
      'created_at',
      'updated_at',
      'availability_zone',
      'os-vol-tenant-attr:tenant_id',
    ]),
  };
}

const LIMIT_NAMES: Record<string, keyof ComputeLimits> = {
  maxPersonality: 'max_personality',
  maxPersonalitySize: 'max_personality_size',
  maxServerGroupMembers: 'max_server_group_members',
  maxServerGroups: 'max_server_groups',
  maxServerMeta: 'max_server_meta',
  maxTotalCores: 'max_total_cores',
  maxTotalInstances: 'max_total_instances',
  maxTotalKeypairs: 'max_total_keypairs',
  maxTotalRAMSize: 'max_total_ram_size',
  totalCoresUsed: 'total_cores_used',
  totalInstancesUsed: 'total_instances_used',
  totalRAMUsed: 'total_ram_used',
  totalServerGroupsUsed: 'total_server_groups_used',
};

export function normalizeComputeLimits(raw: NovaLimits, base: LocationBase): ComputeLimits {
  const out: ComputeLimits = {
    location: makeLocation(base),
    max_personality: null,
    max_personality_size: null,
    max_server_group_members: null,
    max_server_groups: null,
    max_server_meta: null,
    max_total_cores: null,
    max_total_instances: null,
    max_total_keypairs: null,
    max_total_ram_size: null,
    total_cores_used: null,
    total_instances_used: null,
    total_ram_used: null,
    total_server_groups_used: null,
    properties: {},
  };
  for (const [k, v] of Object.entries(raw.absolute ?? {})) {
    const name = LIMIT_NAMES[k];
    if (name) (out as unknown as Record<string, unknown>)[name] = numOrNull(v);
    else out.properties[k] = v;
  }
  return out;
}

const RULE_KEYS = [
  'id',
  'direction',
  'ethertype',
  'port_range_min',
  'port_range_max',
  'protocol',
  'remote_ip_prefix',
  'security_group_id',
  'remote_group_id',
  'project_id',
  'tenant_id',
];

export function normalizeSecurityGroupRule(raw: NeutronSecurityGroupRule, base: LocationBase): SecurityGroupRule {
  return {
    id: raw.id,
    location: makeLocation(base, str(raw.project_id ?? raw.tenant_id)),
    direction: raw.direction,
    ethertype: raw.ethertype ?? 'IPv4',
    port_range_min: numOrNull(raw.port_range_min),
    port_range_max: numOrNull(raw.port_range_max),
    protocol: raw.protocol ?? null,
    remote_ip_prefix: raw.remote_ip_prefix ?? null,
    security_group_id: raw.security_group_id,
    remote_group_id: raw.remote_group_id ?? null,
    properties: rest(raw, RULE_KEYS),
  };
}

export function normalizeSecurityGroup(raw: NeutronSecurityGroup, base: LocationBase): SecurityGroup {
  return {
    id: raw.id,
    name: raw.name,
    location: makeLocation(base, str(raw.project_id ?? raw.tenant_id)),
    description: raw.description ?? '',
    security_group_rules: (raw.security_group_rules ?? []).map((r) => normalizeSecurityGroupRule(r, base)),
    properties: rest(raw, ['id', 'name', 'description', 'security_group_rules', 'project_id', 'tenant_id']),
  };
}
