import { MICROVERSION_HEADER_NAME } from '../wire/headers.ts';
import { DEFAULT_API_VERSION } from '../wire/service-types.ts';
import { compareVersions, parseVersion } from './microversion.ts';
import type { EndpointVersion } from './types.ts';

const VERSION_SEGMENT = /^v\d+(\.\d+)?$/;

/** Split `http://h/volume/v3/<project>` into root `http://h/volume`, version `v3`, rest `/<project>`. */
export function splitVersionedUrl(url: string): { root: string; version?: string | undefined; rest: string } {
  const u = new URL(url);
  const segs = u.pathname.split('/').filter(Boolean);
  let idx = -1;
  for (let i = segs.length - 1; i >= 0; i--) {
    if (VERSION_SEGMENT.test(segs[i]!)) {
      idx = i;
      break;
    }
  }
  const origin = u.origin;
  if (idx < 0) return { root: `${origin}${trim(u.pathname)}`, rest: '' };
  const rootPath = segs.slice(0, idx).join('/');
  return {
    root: `${origin}${rootPath ? `/${rootPath}` : ''}`,
    version: segs[idx],
    rest: segs.length > idx + 1 ? `/${segs.slice(idx + 1).join('/')}` : '',
  };
}

function trim(p: string): string {
  return p.replace(/\/+$/, '');
}

interface VersionEntry {
  id?: string;
  status?: string;
  version?: string;
  min_version?: string;
  max_version?: string;
  links?: Array<{ rel?: string; href?: string }>;
}

/** All version entries of a version document (`{"versions": [...]}`, `{"versions": {"values": [...]}}`, `{"version": {...}}`). */
export function versionEntries(doc: unknown): VersionEntry[] {
  if (!doc || typeof doc !== 'object') return [];
  const d = doc as { versions?: unknown; version?: unknown };
  const out: VersionEntry[] = [];
  if (d.version && typeof d.version === 'object') out.push(d.version as VersionEntry);
  const vs = d.versions;
  if (Array.isArray(vs)) out.push(...(vs as VersionEntry[]));
  else if (vs && typeof vs === 'object' && Array.isArray((vs as { values?: unknown }).values))
    out.push(...((vs as { values: VersionEntry[] }).values ?? []));
  return out.filter((e) => e && typeof e.id === 'string');
}

const STATUS_RANK: Record<string, number> = { current: 3, stable: 3, supported: 2, deprecated: 1 };

/** Pick the entry for the wanted major version (exact id first), else the best current one. */
export function pickVersion(entries: VersionEntry[], wanted: string | undefined): VersionEntry | undefined {
  const rank = (e: VersionEntry) => STATUS_RANK[(e.status ?? '').toLowerCase()] ?? 0;
  const sorted = [...entries].sort((a, b) => rank(b) - rank(a) || compareVersions(b.id ?? '', a.id ?? ''));
  if (!wanted) return sorted[0];
  const w = wanted.replace(/^v/, '');
  const exact = sorted.find((e) => e.id === `v${w}` || e.id === w);
  if (exact) return exact;
  const major = parseVersion(w)?.[0];
  return sorted.find((e) => parseVersion(e.id)?.[0] === major);
}

function microversionRange(entry: VersionEntry | undefined): { min?: string; max?: string } {
  if (!entry) return {};
  const max = entry.max_version || entry.version || undefined;
  const min = entry.min_version || undefined;
  return max ? { min, max } : {};
}

/** Fetch a JSON document; undefined when the server has none (404, not JSON). Network errors propagate. */
export type DocFetcher = (url: string) => Promise<unknown | undefined>;

/**
 * Version discovery for one service endpoint, as keystoneauth does it:
 * - a versioned URL (`…/v2.1`, `…/v3/<project>`) is kept; for services with microversions its version document
 *   (`…/v3/` without the project) gives the [min, max] range;
 * - an unversioned URL (`http://h:9292`, devstack `/image`, `/network`, `/placement`) is asked for its version list;
 *   the wanted (or best current) version's self link becomes the base; placement-style empty links keep the root;
 * - no document: the service's default version path is appended for image (`/v2`) and network (`/v2.0`).
 */
export async function discoverEndpoint(
  url: string,
  serviceType: string,
  wanted: string | undefined,
  fetchDoc: DocFetcher,
): Promise<EndpointVersion> {
  const base = trim(url);
  const parts = splitVersionedUrl(base);
  const hasMicroversions = MICROVERSION_HEADER_NAME[serviceType] !== undefined;
  if (parts.version) {
    const version = parts.version.replace(/^v/, '');
    if (!hasMicroversions) return { url: base, version };
    const doc = await fetchDoc(`${parts.root}/${parts.version}/`);
    let entries = versionEntries(doc);
    if (entries.length === 0 && parts.root) entries = versionEntries(await fetchDoc(`${parts.root}/`));
    const entry = pickVersion(entries, version);
    const range = microversionRange(entry);
    return { url: base, version, minMicroversion: range.min, maxMicroversion: range.max };
  }
  const doc = await fetchDoc(`${base}/`);
  const entries = versionEntries(doc);
  const entry = pickVersion(entries, wanted ?? undefined);
  if (!entry) {
    const def = serviceType === 'image' || serviceType === 'network' ? DEFAULT_API_VERSION[serviceType] : undefined;
    const v = wanted ?? def;
    if (v && (serviceType === 'image' || serviceType === 'network'))
      return { url: `${base}/v${v.replace(/^v/, '')}`, version: v.replace(/^v/, '') };
    return { url: base, version: wanted ?? DEFAULT_API_VERSION[serviceType] ?? '' };
  }
  const href = entry.links?.find((l) => l.rel === 'self')?.href;
  const range = hasMicroversions ? microversionRange(entry) : {};
  const id = (entry.id ?? '').replace(/^v/, '');
  let versioned = base;
  if (href) {
    const abs = new URL(href, `${base}/`);
    const seg = splitVersionedUrl(abs.toString()).version;
    // Trust the catalog's origin and prefix (proxies, devstack paths); take only the version segment from the href.
    versioned = seg ? `${base}/${seg}` : base;
  }
  return { url: versioned, version: id, minMicroversion: range.min, maxMicroversion: range.max };
}
