/**
 * Normalized resources of the cloud layer (shade / openstacksdk `doc/source/user/model.rst` semantics).
 * Field names keep OpenStack's snake_case so they read like the JSON users know; every resource carries
 * `location` and `properties` (everything the server sent that the model does not name).
 */

export interface LocationProject {
  id: string | null;
  name: string | null;
  domain_id: string | null;
  domain_name: string | null;
}

/** Where a resource lives. `zone` is null for region-wide resources (flavors, images, networks). */
export interface Location {
  cloud: string;
  region: string | null;
  zone: string | null;
  project: LocationProject;
}

export interface Normalized {
  id: string;
  name: string;
  location: Location;
  /** Every key the server sent that this model does not name. */
  properties: Record<string, unknown>;
}

export interface Flavor extends Normalized {
  is_public: boolean;
  is_disabled: boolean;
  ram: number;
  vcpus: number;
  disk: number;
  ephemeral: number;
  swap: number;
  rxtx_factor: number;
  /** `os-extra_specs`, when fetched (`getExtra`), else {}. */
  extra_specs: Record<string, string>;
}

export interface Image extends Normalized {
  status: string;
  visibility: string;
  is_public: boolean;
  is_protected: boolean;
  checksum: string | null;
  size: number | null;
  virtual_size: number | null;
  min_ram: number;
  min_disk: number;
  disk_format: string | null;
  container_format: string | null;
  owner: string | null;
  tags: string[];
  created_at: string | null;
  updated_at: string | null;
  /** `os_hash_algo` / `os_hash_value` (multihash), when Glance computed them. */
  hash_algo: string | null;
  hash_value: string | null;
}

export interface Keypair {
  id: string;
  name: string;
  location: Location;
  public_key: string;
  fingerprint: string;
  type: string;
  /** Set only by createKeypair when the server generated the pair. */
  private_key: string | null;
  properties: Record<string, unknown>;
}

export interface ServerAddress {
  addr: string;
  version: 4 | 6;
  'OS-EXT-IPS:type'?: string;
  'OS-EXT-IPS-MAC:mac_addr'?: string;
}

export interface Server extends Normalized {
  status: string;
  /** `{id}` (plus `name` when known); `{}` when booted from volume. */
  image: { id?: string; name?: string; [k: string]: unknown };
  flavor: { id?: string; name?: string; original_name?: string; [k: string]: unknown };
  volumes: { id: string; delete_on_termination?: boolean }[];
  addresses: Record<string, ServerAddress[]>;
  accessIPv4: string;
  accessIPv6: string;
  /** Resolved like openstacksdk's meta.add_server_interfaces; '' when none. */
  public_v4: string;
  public_v6: string;
  private_v4: string;
  /** The address to reach the server on (nodepool ssh-keyscans this). */
  interface_ip: string;
  key_name: string | null;
  metadata: Record<string, string>;
  host_id: string;
  has_config_drive: boolean;
  security_groups: { name: string }[];
  user_id: string | null;
  progress: number;
  power_state: number | null;
  task_state: string | null;
  vm_state: string | null;
  launched_at: string | null;
  terminated_at: string | null;
  created: string | null;
  created_at: string | null;
  updated: string | null;
  /** Nova's fault (ERROR servers). */
  fault: { message?: string; code?: number; details?: string } | null;
  /** The admin password Nova returned on create (only on the createServer result). */
  admin_password?: string;
}

export interface FloatingIp {
  id: string;
  location: Location;
  /** True when associated with a port. */
  attached: boolean;
  fixed_ip_address: string | null;
  floating_ip_address: string;
  /** The floating (external) network id. */
  network: string;
  port: string | null;
  router: string | null;
  status: string;
  created_at: string | null;
  properties: Record<string, unknown>;
}

export interface Network extends Normalized {
  status: string;
  is_admin_state_up: boolean;
  is_shared: boolean;
  is_router_external: boolean;
  provider_physical_network: string | null;
  provider_network_type: string | null;
  subnets: string[];
  mtu: number | null;
}

export interface Port extends Normalized {
  network_id: string;
  mac_address: string;
  fixed_ips: { subnet_id: string; ip_address: string }[];
  device_id: string;
  device_owner: string;
  status: string;
  /** Security group ids. */
  security_groups: string[];
  is_admin_state_up: boolean;
}

export interface Subnet extends Normalized {
  network_id: string;
  cidr: string;
  ip_version: 4 | 6;
  /** null: no gateway. */
  gateway_ip: string | null;
  is_dhcp_enabled: boolean;
  dns_nameservers: string[];
  allocation_pools: { start: string; end: string }[];
}

export interface Router extends Normalized {
  status: string;
  is_admin_state_up: boolean;
  /** The external gateway's network id; null without a gateway. */
  external_network: string | null;
  /** Subnets attached as interfaces (ids), from the router's interface ports. */
  interface_subnets: string[];
}

export interface SecurityGroupRule {
  id: string;
  location: Location;
  direction: 'ingress' | 'egress';
  ethertype: string;
  port_range_min: number | null;
  port_range_max: number | null;
  protocol: string | null;
  remote_ip_prefix: string | null;
  security_group_id: string;
  remote_group_id: string | null;
  properties: Record<string, unknown>;
}

export interface SecurityGroup extends Normalized {
  description: string;
  security_group_rules: SecurityGroupRule[];
}

export interface VolumeAttachment {
  server_id: string;
  device?: string;
  attachment_id?: string;
}

export interface Volume extends Normalized {
  status: string;
  size: number;
  description: string | null;
  volume_type: string | null;
  is_bootable: boolean;
  is_encrypted: boolean;
  is_multiattach: boolean;
  attachments: VolumeAttachment[];
  metadata: Record<string, string>;
  snapshot_id: string | null;
  source_volume_id: string | null;
  created_at: string | null;
  updated_at: string | null;
}

/** Nova's absolute limits with shade's names; -1 means unlimited. */
export interface ComputeLimits {
  location: Location;
  max_personality: number | null;
  max_personality_size: number | null;
  max_server_group_members: number | null;
  max_server_groups: number | null;
  max_server_meta: number | null;
  max_total_cores: number | null;
  max_total_instances: number | null;
  max_total_keypairs: number | null;
  max_total_ram_size: number | null;
  total_cores_used: number | null;
  total_instances_used: number | null;
  total_ram_used: number | null;
  total_server_groups_used: number | null;
  properties: Record<string, unknown>;
}

/** A Swift container; its name is its id. Counts come from the listing or from HEAD. */
export interface Container extends Normalized {
  /** Objects in it. */
  count: number;
  bytes: number;
  /** `X-Container-Meta-*` (lower-cased keys, prefix removed); {} from a listing. */
  metadata: Record<string, string>;
  last_modified: string | null;
}

/** A Swift object (`id` and `name` are its name inside `container`). */
export interface StoredObject extends Normalized {
  container: string;
  bytes: number;
  /** The ETag (MD5 of the content, or of the segment ETags for a large object). */
  hash: string | null;
  content_type: string | null;
  last_modified: string | null;
  /** `X-Object-Meta-*` (lower-cased keys, prefix removed); {} from a listing. */
  metadata: Record<string, string>;
}

/** A pseudo-folder of an object listing rolled up at a delimiter (Swift's `subdir` entry): the shared start of the
 * names in it, the delimiter included. */
export interface ObjectFolder {
  subdir: string;
}

/** shade-style `name_or_id` + `filters` search. Filters compare nested keys exactly ('a.b' not supported: nest objects). */
export type Filters = Record<string, unknown>;
