/**
 * The proxy's path layout (devstack's): /compute/v2.1, /volume/v3/{project_id}, /image, /network,
 * /object-store/v1/AUTH_{project_id}. A request path is split into service, version, optional project segment
 * and the resource segments after it, so it can be re-rooted on any cloud's endpoint for the same service.
 */

export const PREFIXES: Record<string, string> = {
  compute: 'compute',
  volume: 'block-storage',
  image: 'image',
  network: 'network',
  'object-store': 'object-store',
};

export const SERVICE_PREFIX: Record<string, string> = Object.fromEntries(
  Object.entries(PREFIXES).map(([prefix, svc]) => [svc, `/${prefix}`]),
);

export interface ParsedPath {
  /** Canonical service type. */
  service: string;
  /** '/compute', '/volume', ... */
  prefix: string;
  /** 'v2.1', 'v3', 'v2', 'v2.0', 'v1'; undefined for the unversioned root (version document). */
  version: string | undefined;
  /** The project id in the path (without AUTH_), if the path carries one. */
  projectId: string | undefined;
  projectStyle: 'none' | 'plain' | 'auth';
  /** Decoded segments after version and project: ['servers', '<id>', 'action']. */
  segments: string[];
  /** The raw path after version and project (leading slash kept, may be ''). */
  tail: string;
  /** The raw path after the service prefix (what the home cloud gets, under its own service root). */
  rest: string;
}

const VERSION_RE = /^v\d+(\.\d+)?$/;
const HEX32 = /^[0-9a-f]{32}$/;

/**
 * Split `pathname` (no query). `tokenProjectId` helps recognise a project segment when ids are not 32-hex.
 * Returns undefined when the path is not under a served prefix.
 */
export function parsePath(pathname: string, tokenProjectId?: string): ParsedPath | undefined {
  const m = /^\/([^/]+)(\/.*)?$/.exec(pathname);
  if (!m) return undefined;
  const prefixName = m[1]!;
  const service = PREFIXES[prefixName];
  if (!service) return undefined;
  const rest = m[2] ?? '';
  const raw = rest.split('/').slice(1); // leading '' removed
  let i = 0;
  let version: string | undefined;
  if (raw[0] !== undefined && VERSION_RE.test(raw[0])) {
    version = raw[0];
    i = 1;
  }
  let projectId: string | undefined;
  let projectStyle: ParsedPath['projectStyle'] = 'none';
  const cand = raw[i];
  if (version && cand) {
    if (service === 'object-store' && cand.startsWith('AUTH_')) {
      projectId = cand.slice(5);
      projectStyle = 'auth';
      i++;
    } else if (
      (service === 'block-storage' || service === 'compute') &&
      (cand === tokenProjectId || HEX32.test(cand)) &&
      raw.length > i
    ) {
      projectId = cand;
      projectStyle = 'plain';
      i++;
    }
  }
  const tailSegs = raw.slice(i);
  const tail = tailSegs.length ? `/${tailSegs.join('/')}` : '';
  const segments = tailSegs.filter((s, idx) => s !== '' || idx < tailSegs.length - 1).map(safeDecode);
  return { service, prefix: `/${prefixName}`, version, projectId, projectStyle, segments, tail, rest };
}

function safeDecode(s: string): string {
  if (!s.includes('%')) return s; // nothing to decode (the usual segment)
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The path to send to a cloud whose project id for this user is `remoteProjectId`. */
export function pathFor(p: ParsedPath, remoteProjectId: string | undefined): string {
  if (!p.version) return p.rest;
  let proj = '';
  if (p.projectStyle === 'plain') proj = `/${remoteProjectId ?? p.projectId}`;
  else if (p.projectStyle === 'auth') proj = `/AUTH_${remoteProjectId ?? p.projectId}`;
  return `/${p.version}${proj}${p.tail}`;
}

/** Collections whose second segment is not a resource id that lives in one cloud. */
const NOT_RESOURCES = new Set([
  'extensions',
  'limits',
  'schemas',
  'info',
  'versions',
  'os-availability-zone',
  'availability-zones',
  'availability_zones',
  'os-quota-sets',
  'os-quota-class-sets',
  'quota-sets',
  'quotas',
  'os-services',
  'os-hypervisors',
  'os-simple-tenant-usage',
]);

const NOT_IDS = new Set(['detail', 'summary', 'count', 'default', 'defaults']);

export interface ResourceRef {
  type: string;
  id: string;
  /** True when the path is exactly {collection}/{id} (no sub-resource or action after it). */
  exact: boolean;
}

/** The resource a request names, if any: servers/<id>/…, v2/images/<id>/file, AUTH_x/<container>/<object>. */
export function resourceOf(p: ParsedPath): ResourceRef | undefined {
  const s = p.segments;
  if (p.service === 'object-store') {
    if (!p.version || s.length === 0 || !s[0]) return undefined;
    if (s[0] === 'info') return undefined;
    return { type: 'containers', id: `${p.projectId ?? ''}/${s[0]}`, exact: s.length === 1 };
  }
  if (s.length < 2) return undefined;
  const [collection, id] = s as [string, string];
  if (NOT_RESOURCES.has(collection) || NOT_IDS.has(id) || !id) return undefined;
  if (id === p.projectId) return undefined;
  return { type: collection, id, exact: s.length === 2 };
}

/** Collections answered from every cloud and merged. Everything else without an id goes to the home cloud. */
export const AGGREGATED = new Set([
  'servers',
  'volumes',
  'snapshots',
  'backups',
  'images',
  'networks',
  'subnets',
  'ports',
  'floatingips',
  'routers',
  'security-groups',
  'security-group-rules',
  'attachments',
  'groups',
]);

/** For a collection GET (`servers`, `servers/detail`), the collection name; else undefined. */
export function collectionOf(p: ParsedPath): string | undefined {
  const s = p.segments;
  if (!p.version || p.service === 'object-store') return undefined;
  if (s.length === 1) return s[0];
  if (s.length === 2 && s[1] === 'detail') return s[0];
  return undefined;
}

/** JSON key of the item array in a collection response (security-groups → security_groups). */
export function itemsKey(collection: string): string {
  return collection.replaceAll('-', '_');
}

/** JSON key of the single object in a create response (servers → server, security-groups → security_group). */
export function singularKey(collection: string): string {
  const k = itemsKey(collection);
  if (k.endsWith('ies')) return `${k.slice(0, -3)}y`;
  if (k.endsWith('s')) return k.slice(0, -1);
  return k;
}

const TYPE_SERVICE: Record<string, string> = {
  servers: 'compute',
  flavors: 'compute',
  'os-keypairs': 'compute',
  volumes: 'block-storage',
  snapshots: 'block-storage',
  backups: 'block-storage',
  attachments: 'block-storage',
  types: 'block-storage',
  images: 'image',
  networks: 'network',
  subnets: 'network',
  ports: 'network',
  floatingips: 'network',
  routers: 'network',
  'security-groups': 'network',
  'security-group-rules': 'network',
  containers: 'object-store',
};

/** The service a resource type belongs to (for locating it from a request to another service). */
export function serviceOfType(type: string): string | undefined {
  return TYPE_SERVICE[type];
}
