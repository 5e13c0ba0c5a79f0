import { canonicalServiceType as configCanonical, serviceTypeAliases } from '../config/service-types.ts';

/**
 * Official service types and their historical aliases, following OpenStack's service-types-authority.
 * Catalogs in the wild still say `volumev3`, `volumev2`, `volume`, `sharev2`, `container-infra`, ...
 * Order matters: the first alias found in a catalog wins when several are present.
 */
export const SERVICE_TYPE_ALIASES: Readonly<Record<string, readonly string[]>> = {
  'block-storage': ['volumev3', 'volumev2', 'volume', 'block-store'],
  compute: [],
  identity: [],
  image: [],
  network: [],
  'object-store': [],
  placement: [],
  'load-balancer': [],
  orchestration: [],
  dns: [],
  'key-manager': [],
  'shared-file-system': ['sharev2', 'share'],
  baremetal: [],
  'baremetal-introspection': [],
  'container-infrastructure-management': ['container-infrastructure', 'container-infra'],
  'application-catalog': [],
  'data-processing': [],
  database: [],
  workflow: ['workflowv2'],
  clustering: [],
  message: ['messaging'],
  alarm: [],
  metric: [],
  event: [],
  'instance-ha': ['ha'],
  reservation: [],
  'function-engine': [],
  accelerator: [],
  'resource-cluster': ['cluster'],
  backup: [],
};

/** volumev3 → block-storage; `block_storage` → block-storage; unknown types come back lower-cased. (One table: config's.) */
export const canonicalServiceType: (type: string) => string = configCanonical;

/** The official type first, then its aliases: every catalog `type` that can serve `type`. */
export function serviceTypeCandidates(type: string): string[] {
  const official = configCanonical(type);
  const mine = SERVICE_TYPE_ALIASES[official] ?? [];
  return [...new Set([...serviceTypeAliases(official), ...mine])];
}

/** Microversion header service name (`OpenStack-API-Version: <name> <version>`) for services that have them. */
export const MICROVERSION_HEADER_NAME: Readonly<Record<string, string>> = {
  compute: 'compute',
  'block-storage': 'volume',
  placement: 'placement',
  'shared-file-system': 'sharev2',
  baremetal: 'baremetal',
  'container-infrastructure-management': 'container-infra',
  'key-manager': 'key-manager',
};

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
