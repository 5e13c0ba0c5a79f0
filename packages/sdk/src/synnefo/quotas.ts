/** "My projects" and quota rows of a Synnefo cloud (Astakos `/projects` and `/quotas`), in the SDK's row form. */
import type { Connection } from '../multicloud/types.ts';
import { projectLocation } from '../quotas/projects.ts';
import type { MyProject, QuotaRow } from '../quotas/types.ts';
import { type CallOpts, SynnefoClient } from './client.ts';

const clients = new WeakMap<Connection, SynnefoClient>();

/** The Synnefo client of a connection whose cloud speaks Synnefo (same transport, cached per connection). */
export function synnefoClientFor(conn: Connection): SynnefoClient {
  let c = clients.get(conn);
  if (!c) {
    c = SynnefoClient.fromConfig(conn.config, conn.session.transport);
    clients.set(conn, c);
  }
  return c;
}

/** Astakos projects with accepted membership; the user's default project (the token's tenant) first. */
export async function synnefoProjects(conn: Connection, opts: CallOpts = {}): Promise<MyProject[]> {
  const client = synnefoClientFor(conn);
  const [access, projects] = await Promise.all([client.authenticate(opts), client.listProjects(opts)]);
  return projects
    .map(
      (p): MyProject => ({
        id: p.id,
        name: p.name,
        domain: { id: null, name: null },
        enabled: p.state === 'active',
        current: p.id === access.token.tenant.id,
        location: projectLocation(conn, { id: p.id, name: p.name, domainId: null, domainName: null }),
      }),
    )
    .sort((a, b) => Number(b.current) - Number(a.current) || a.name.localeCompare(b.name));
}

/** One `/quotas` call answers for every project: rows per project, resources sorted by name as kamaki prints them. */
export async function synnefoQuotaRows(
  conn: Connection,
  projects: readonly MyProject[],
  opts: CallOpts & { services?: readonly string[] | undefined } = {},
): Promise<QuotaRow[]> {
  const client = synnefoClientFor(conn);
  const [quotas, resources] = await Promise.all([client.getQuotas(opts), client.listResources(opts)]);
  const rows: QuotaRow[] = [];
  for (const p of projects) {
    const mine = quotas[p.id] ?? {};
    for (const name of Object.keys(mine).sort()) {
      const q = mine[name] as NonNullable<(typeof mine)[string]>;
      const service = name.split('.')[0] ?? name;
      if (opts.services && !opts.services.includes(service)) continue;
      rows.push({
        location: p.location,
        service,
        resource: name,
        usage: q.usage,
        limit: q.limit,
        reserved: q.pending,
        unit: resources[name]?.unit === 'bytes' ? 'bytes' : 'count',
        projectLimit: q.project_limit,
        projectUsage: q.project_usage,
      });
    }
  }
  return rows;
}
