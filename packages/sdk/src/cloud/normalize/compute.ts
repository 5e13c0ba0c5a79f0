/** Compute (Nova) records → normalized servers, flavors, keypairs and limits. */
import type { NovaFlavor, NovaKeypair, NovaLimits, NovaServer } from '../../services/compute.ts';
import type { ComputeLimits, Flavor, Keypair, Server, ServerAddress } from '../types.ts';
import { bool, numOr, numOrNull, rest, str } from './fields.ts';
import { type LocationBase, makeLocation } from './location.ts';

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
