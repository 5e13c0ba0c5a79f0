/** "My projects" on an OpenStack cloud: the projects the connection's user can scope to, with their domain. */
import type { Connection, ItemLocation } from '../multicloud/types.ts';
import type { MyProject } from './types.ts';

interface Signalled {
  signal?: AbortSignal | undefined;
}

interface KeystoneProject {
  id?: unknown;
  name?: unknown;
  domain_id?: unknown;
  enabled?: unknown;
}

export function projectLocation(
  conn: Pick<Connection, 'cloud' | 'region'>,
  project: { id: string | null; name: string | null; domainId: string | null; domainName: string | null },
): ItemLocation {
  return {
    cloud: conn.cloud,
    region: conn.region || null,
    zone: null,
    project: {
      id: project.id,
      name: project.name,
      domain_id: project.domainId,
      domain_name: project.domainName,
    },
  };
}

/**
 * GET {keystone}/v3/auth/projects with the connection's token: on a cloud reached by K2K the token is the
 * federated user's, so these are the service provider's projects that user may use. Domain names come from the
 * token (its own project), `/v3/auth/domains`, or `GET /v3/domains/{id}` where policy allows; else null.
 */
export async function listMyProjects(conn: Connection, opts: Signalled = {}): Promise<MyProject[]> {
  const access = await conn.session.getAccess({ signal: opts.signal });
  const identity = conn.client('identity');
  const base = access.identityUrl.replace(/\/+$/, '');
  const body = await identity.getJson<{ projects?: KeystoneProject[] }>(`${base}/auth/projects`, {
    signal: opts.signal,
  });
  const list = (body.projects ?? []).filter((p): p is KeystoneProject & { id: string } => typeof p.id === 'string');

  const domainNames = new Map<string, string>();
  if (access.project?.domain?.id && access.project.domain.name)
    domainNames.set(access.project.domain.id, access.project.domain.name);
  const unknownDomains = () =>
    [...new Set(list.map((p) => (typeof p.domain_id === 'string' ? p.domain_id : '')))].filter(
      (d) => d && !domainNames.has(d),
    );
  if (unknownDomains().length > 0) {
    try {
      const doms = await identity.getJson<{ domains?: Array<{ id?: unknown; name?: unknown }> }>(
        `${base}/auth/domains`,
        { signal: opts.signal },
      );
      for (const d of doms.domains ?? [])
        if (typeof d.id === 'string' && typeof d.name === 'string') domainNames.set(d.id, d.name);
    } catch {
      // Names are a nicety: the ids are still shown.
    }
  }
  await Promise.all(
    unknownDomains().map(async (id) => {
      try {
        const d = await identity.getJson<{ domain?: { name?: unknown } }>(`${base}/domains/${encodeURIComponent(id)}`, {
          signal: opts.signal,
        });
        if (typeof d.domain?.name === 'string') domainNames.set(id, d.domain.name);
      } catch {
        // policy may refuse a non-admin; keep the id
      }
    }),
  );

  return list
    .map((p): MyProject => {
      const domainId = typeof p.domain_id === 'string' ? p.domain_id : null;
      const name = typeof p.name === 'string' ? p.name : p.id;
      const domainName = domainId ? (domainNames.get(domainId) ?? null) : null;
      return {
        id: p.id,
        name,
        domain: { id: domainId, name: domainName },
        enabled: p.enabled !== false,
        current: access.project?.id === p.id,
        location: projectLocation(conn, { id: p.id, name, domainId, domainName }),
      };
    })
    .sort((a, b) => Number(b.current) - Number(a.current) || a.name.localeCompare(b.name));
}

/** Pick projects by id or name (names may repeat across domains: all matches are kept). */
export function selectProjects(projects: readonly MyProject[], wanted: readonly string[] | undefined): MyProject[] {
  if (!wanted || wanted.length === 0) return [...projects];
  return projects.filter((p) => wanted.includes(p.id) || wanted.includes(p.name));
}
