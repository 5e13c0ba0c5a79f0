/**
 * OpenStack service types and their historical aliases (the os-service-types registry, the subset OCX users meet).
 * clouds.yaml keys are prefixed with any of these, written with `_` instead of `-`
 * (`volume_api_version`, `block_storage_endpoint_override`, `object_store_api_version`, ...).
 */
const ALIASES: Record<string, readonly string[]> = {
  identity: [],
  compute: [],
  image: [],
  network: [],
  'block-storage': ['volumev3', 'volumev2', 'volume', 'block-store'],
  'object-store': [],
  placement: [],
  orchestration: [],
  'load-balancer': [],
  dns: [],
  'key-manager': [],
  'shared-file-system': ['sharev2', 'share'],
  baremetal: [],
  'baremetal-introspection': [],
  'container-infrastructure-management': ['container-infrastructure', 'container-infra'],
  clustering: [],
  workflow: [],
  metric: [],
  database: [],
  messaging: [],
  'application-catalog': [],
  accelerator: [],
  alarm: [],
  'instance-ha': [],
  'resource-cluster': [],
};

const TO_CANONICAL = new Map<string, string>();
for (const [canonical, aliases] of Object.entries(ALIASES)) {
  TO_CANONICAL.set(canonical, canonical);
  TO_CANONICAL.set(canonical.replace(/-/g, '_'), canonical);
  for (const alias of aliases) {
    TO_CANONICAL.set(alias, canonical);
    TO_CANONICAL.set(alias.replace(/-/g, '_'), canonical);
  }
}

/** `volume`, `volumev3`, `block_storage`, `block-storage` → `block-storage`; unknown types come back with `_` → `-`. */
export function canonicalServiceType(type: string): string {
  const lower = type.toLowerCase();
  return TO_CANONICAL.get(lower) ?? lower.replace(/_/g, '-');
}

/** Whether `type` (any spelling) is a service type OCX knows. */
export function isKnownServiceType(type: string): boolean {
  return TO_CANONICAL.has(type.toLowerCase());
}

/** The canonical type first, then its aliases (the order catalogs are searched in). */
export function serviceTypeAliases(type: string): string[] {
  const canonical = canonicalServiceType(type);
  return [canonical, ...(ALIASES[canonical] ?? [])];
}
