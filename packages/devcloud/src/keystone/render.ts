/** Keystone's JSON shapes: token bodies, catalog, entities with `links.self`, collections with `links`. */
import type { Endpoint, Keystone, Project, TokenRow, User } from './model.ts';
import { keystoneTime } from './model.ts';

export interface CatalogEntry {
  endpoints: { id: string; interface: string; region_id: string; url: string; region: string }[];
  id: string;
  type: string;
  name: string;
}

/** `$(project_id)s` / `%(project_id)s` / `$(tenant_id)s` substitution, as Keystone's catalog does. */
export function substituteEndpointUrl(url: string, projectId: string | undefined): string | undefined {
  if (!/[$%]\((project_id|tenant_id)\)s/.test(url)) return url;
  if (!projectId) return undefined;
  return url.replace(/[$%]\((project_id|tenant_id)\)s/g, projectId);
}

export function renderCatalog(ks: Keystone, projectId: string | undefined): CatalogEntry[] {
  const out: CatalogEntry[] = [];
  for (const svc of ks.services.all()) {
    if (!svc.enabled) continue;
    const endpoints: CatalogEntry['endpoints'] = [];
    for (const ep of ks.endpoints.filter((e: Endpoint) => e.service_id === svc.id && e.enabled)) {
      const url = substituteEndpointUrl(ep.url, projectId);
      if (url === undefined) continue;
      endpoints.push({ id: ep.id, interface: ep.interface, region_id: ep.region_id, url, region: ep.region_id });
    }
    out.push({ endpoints, id: svc.id, type: svc.type, name: svc.name });
  }
  return out;
}

function domainRef(ks: Keystone, id: string): { id: string; name: string } {
  return { id, name: ks.domains.get(id)?.name ?? id };
}

export function renderTokenBody(
  ks: Keystone,
  row: TokenRow,
  opts: { catalog: boolean },
): { token: Record<string, unknown> } {
  const user = ks.users.get(row.userId) as User;
  const userBody: Record<string, unknown> = {
    domain: domainRef(ks, user.domain_id),
    id: user.id,
    name: user.name,
  };
  if (row.federated) {
    userBody['OS-FEDERATION'] = {
      identity_provider: { id: row.federated.idpId },
      protocol: { id: row.federated.protocolId },
      groups: row.federated.groupIds.map((id) => ({ id })),
    };
  } else {
    userBody.password_expires_at = null;
  }
  const token: Record<string, unknown> = {
    methods: row.methods,
    user: userBody,
    audit_ids: row.auditIds,
    expires_at: keystoneTime(row.expiresAt),
    issued_at: keystoneTime(row.issuedAt),
  };
  const scoped = Boolean(row.projectId || row.domainId);
  if (row.projectId) {
    const p = ks.projects.get(row.projectId) as Project;
    token.project = { domain: domainRef(ks, p.domain_id), id: p.id, name: p.name };
    token.is_domain = false;
  } else if (row.domainId) {
    token.domain = domainRef(ks, row.domainId);
  }
  if (scoped) {
    token.roles = ks.tokenRoleIds(row).map((id) => ({ id, name: ks.roles.get(id)?.name ?? id }));
    if (opts.catalog) token.catalog = renderCatalog(ks, row.projectId);
  }
  if (row.appCredId) {
    const ac = ks.appCreds.get(row.appCredId);
    if (ac) token.application_credential = { id: ac.id, name: ac.name, restricted: !ac.unrestricted };
  }
  const sps = ks.serviceProviders();
  if (sps.length > 0 && !row.federated) token.service_providers = sps;
  return { token };
}

export function collection(key: string, items: unknown[], selfUrl: string): Record<string, unknown> {
  return { [key]: items, links: { next: null, self: selfUrl, previous: null } };
}

export function projectBody(p: Project, base: string): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    domain_id: p.domain_id,
    description: p.description,
    enabled: p.enabled,
    parent_id: p.parent_id,
    is_domain: false,
    tags: p.tags,
    options: {},
    links: { self: `${base}/projects/${p.id}` },
  };
}

export function userBody(u: User, base: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: u.id,
    name: u.name,
    domain_id: u.domain_id,
    enabled: u.enabled,
    password_expires_at: null,
    options: {},
    links: { self: `${base}/users/${u.id}` },
  };
  if (u.default_project_id) body.default_project_id = u.default_project_id;
  if (u.email) body.email = u.email;
  if (u.description) body.description = u.description;
  if (u.federated) {
    body.federated = [
      {
        idp_id: u.federated.idpId,
        protocols: [{ protocol_id: u.federated.protocolId, unique_id: u.federated.uniqueId }],
      },
    ];
  }
  return body;
}
