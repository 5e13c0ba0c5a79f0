import type { CatalogEndpoint, CatalogEntry } from '../auth/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { canonicalServiceType, serviceTypeCandidates } from '../wire/service-types.ts';

export interface EndpointQuery {
  serviceType: string;
  /** public | internal | admin (also accepts publicURL / internalURL / adminURL). Default public. */
  interface?: string | undefined;
  /** Region name; '' or undefined = any region. */
  region?: string | undefined;
  serviceName?: string | undefined;
}

export interface SelectedEndpoint {
  url: string;
  /** The catalog type that matched (may be an alias). */
  catalogType: string;
  serviceType: string;
  interface: string;
  region: string;
}

function normalizeInterface(i: string | undefined): string {
  return (i ?? 'public').replace(/URL$/i, '').toLowerCase();
}

/**
 * Pick the endpoint of a service from a Keystone v3 catalog: the official type or any alias (official first, then
 * aliases in service-types-authority order), matching interface and region (by name or id). Deterministic:
 * catalog order decides among equals. No match → ENDPOINT_NOT_FOUND saying what the catalog does offer.
 */
export function selectEndpoint(catalog: readonly CatalogEntry[], q: EndpointQuery): SelectedEndpoint {
  const iface = normalizeInterface(q.interface);
  const official = canonicalServiceType(q.serviceType);
  const candidates = serviceTypeCandidates(q.serviceType);
  for (const type of candidates) {
    for (const entry of catalog) {
      if (entry.type.toLowerCase() !== type) continue;
      if (q.serviceName && entry.name !== q.serviceName) continue;
      const ep = entry.endpoints.find(
        (e: CatalogEndpoint) =>
          normalizeInterface(e.interface) === iface && (!q.region || e.region === q.region || e.region_id === q.region),
      );
      if (ep)
        return { url: ep.url, catalogType: entry.type, serviceType: official, interface: iface, region: ep.region };
    }
  }
  const offered = catalog
    .filter((e) => candidates.includes(e.type.toLowerCase()))
    .flatMap((e) => e.endpoints.map((ep) => `${e.type}/${ep.interface}@${ep.region || '-'}`));
  throw new OcxError(
    ErrorCode.ENDPOINT_NOT_FOUND,
    `no ${official} endpoint with interface ${iface}${q.region ? ` in region ${q.region}` : ''}${
      q.serviceName ? ` named ${q.serviceName}` : ''
    }; the catalog offers ${offered.length ? offered.join(', ') : `no ${official} service`}`,
    { service: official, region: q.region || undefined },
  );
}

/** Substitute `%(project_id)s` / `%(tenant_id)s` / `$(project_id)s` in endpoint URLs and overrides. */
export function expandEndpointTemplate(url: string, projectId: string | undefined): string {
  return url.replace(/[%$]\((project_id|tenant_id)\)s/g, () => projectId ?? '');
}
