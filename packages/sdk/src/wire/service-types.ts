/**
 * OpenStack service types and their historical aliases, after OpenStack's service-types-authority registry
 * (service-types.yaml: each official type with its ordered aliases). Catalogs in the wild still say `volumev3`,
 * `volumev2`, `volume`, `sharev2`, `container-infra`, ...; clouds.yaml keys are prefixed with any spelling written
 * with `_` instead of `-` (`volume_api_version`, `block_storage_endpoint_override`, `object_store_api_version`).
 * Order matters: the first alias found in a catalog wins when several are present.
 */
export const SERVICE_TYPE_ALIASES: Readonly<Record<string, readonly string[]>> = {
  identity: [],
  compute: [],
  image: [],
  'load-balancer': [],
  'object-store': [],
  clustering: ['resource-cluster', 'cluster'],
  'data-processing': [],
  baremetal: ['bare-metal'],
  'baremetal-introspection': [],
  'key-manager': [],
  'ec2-api': [],
  'resource-optimization': ['infra-optim'],
  // The authority's type is `message` (Zaqar); `messaging` is its historical alias.
  message: ['messaging'],
  'application-catalog': [],
  'container-infrastructure-management': ['container-infrastructure', 'container-infra'],
  search: [],
  dns: [],
  workflow: ['workflowv2'],
  rating: [],
  'operator-policy': ['policy'],
  'shared-file-system': ['sharev2', 'share'],
  'data-protection-orchestration': [],
  orchestration: [],
  'block-storage': ['volumev3', 'volumev2', 'volume', 'block-store'],
  alarm: ['alarming'],
  meter: ['metering', 'telemetry'],
  event: ['events'],
  'application-deployment': ['application_deployment'],
  'multi-region-network-automation': ['tricircle'],
  database: [],
  'application-container': ['container'],
  'log-management': [],
  'root-cause-analysis': ['rca'],
  'nfv-orchestration': [],
  network: [],
  backup: [],
  'monitoring-logging': ['monitoring-log-api'],
  monitoring: [],
  'monitoring-events': [],
  placement: [],
  'instance-ha': ['ha'],
  reservation: [],
  'function-engine': [],
  accelerator: [],
  'admin-logic': ['registration'],
  // Not in the authority, but met in catalogs OCX talks to: Gnocchi's `metric`, and the type under which an OCX
  // federation proxy registers itself in a cloud's catalog.
  metric: [],
  'federation-proxy': [],
};

const TO_CANONICAL = new Map<string, string>();
for (const [canonical, aliases] of Object.entries(SERVICE_TYPE_ALIASES)) {
  for (const name of [canonical, ...aliases]) {
    TO_CANONICAL.set(name, canonical);
    TO_CANONICAL.set(name.replace(/-/g, '_'), canonical);
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

/** The official type first, then its aliases: every catalog `type` that can serve `type`, in search order. */
export function serviceTypeAliases(type: string): string[] {
  const canonical = canonicalServiceType(type);
  return [canonical, ...(SERVICE_TYPE_ALIASES[canonical] ?? [])];
}

/** Same as serviceTypeAliases (the name the session's catalog code uses). */
export const serviceTypeCandidates: (type: string) => string[] = serviceTypeAliases;

/** Major API version assumed when discovery gives no answer and config names none. */
export const DEFAULT_API_VERSION: Readonly<Record<string, string>> = {
  compute: '2.1',
  'block-storage': '3',
  image: '2',
  network: '2.0',
  identity: '3',
  'object-store': '1',
  placement: '1.0',
};
