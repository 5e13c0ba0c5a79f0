/**
 * Astakos: identity (`/identity/v2.0/tokens`, the token is the credential) and the account API (`/account/v1.0`:
 * quotas, resources, projects, memberships, default project, and the service-only commissions), with the shapes of
 * snf-astakos-app astakos/api/{tokens,quotas,projects,user}.py as summarised in the OCX reference.
 */
import type { FastifyInstance } from 'fastify';
import { badRequest, forbidden, itemNotFound, jsonBody, SnfFault, unauthorized, userOf } from './http.ts';
import { OverLimit, type Provision, SNF_RESOURCES, type SnfProject, type SynnefoModel } from './model.ts';

export interface AstakosOptions {
  baseUrl: () => string;
  /** Token of the services (Cyclades, Pithos) that may issue commissions. */
  serviceToken: string;
  tokenTtlSeconds: number;
}

export function serviceCatalog(base: string): unknown[] {
  const entry = (name: string, type: string, path: string, versionId: string) => ({
    name,
    type,
    endpoints: [{ versionId, publicURL: `${base}${path}`, 'SNF:uiURL': `${base}/ui` }],
    endpoints_links: [],
  });
  return [
    entry('astakos_account', 'account', '/account/v1.0', 'v1.0'),
    entry('astakos_identity', 'identity', '/identity/v2.0', 'v2.0'),
    entry('cyclades_compute', 'compute', '/cyclades/compute/v2.0', 'v2.0'),
    entry('cyclades_network', 'network', '/cyclades/network/v2.0', 'v2.0'),
    entry('cyclades_volume', 'volume', '/cyclades/volume/v2.0', 'v2.0'),
    entry('cyclades_plankton', 'image', '/cyclades/image/v1.0', 'v1.0'),
    entry('pithos_object-store', 'object-store', '/pithos/object-store/v1', 'v1'),
  ];
}

function projectView(p: SnfProject): Record<string, unknown> {
  return {
    id: p.id,
    state: p.state,
    creation_date: '2026-01-01T00:00:00.000000+00:00',
    name: p.name,
    owner: p.owner,
    homepage: p.homepage,
    description: p.description,
    end_date: p.system_project ? null : '2027-01-01T00:00:00.000000+00:00',
    join_policy: p.system_project ? 'closed' : 'moderated',
    leave_policy: p.system_project ? 'closed' : 'auto',
    max_members: p.system_project ? 1 : 100,
    private: p.system_project,
    system_project: p.system_project,
    resources: p.resources,
  };
}

export function astakosRoutes(app: FastifyInstance, model: SynnefoModel, opts: AstakosOptions): void {
  app.post('/identity/v2.0/tokens', async (req) => {
    const raw = req.body as unknown;
    const empty = raw === undefined || raw === null || (Buffer.isBuffer(raw) && raw.length === 0);
    // Public mode: no credentials, only the catalog (astakosclient.get_endpoints()).
    if (empty) return { access: { serviceCatalog: serviceCatalog(opts.baseUrl()) } };
    const body = jsonBody(req);
    const auth = body.auth as Record<string, unknown> | undefined;
    if (!auth || typeof auth !== 'object') throw badRequest('Malformed request');
    const tokenId = (auth.token as { id?: unknown } | undefined)?.id;
    const pc = auth.passwordCredentials as { username?: unknown; password?: unknown } | undefined;
    const secret = typeof tokenId === 'string' ? tokenId : typeof pc?.password === 'string' ? pc.password : undefined;
    if (secret === undefined) throw badRequest('Malformed request');
    const user = model.userByToken(secret);
    if (!user || (pc && typeof pc.username === 'string' && pc.username !== user.uuid))
      throw unauthorized('Invalid token');
    if (auth.tenantName !== undefined && auth.tenantName !== user.uuid) throw badRequest('Not conforming tenantName');
    const expires = new Date(Date.now() + opts.tokenTtlSeconds * 1000).toISOString();
    return {
      access: {
        token: { id: user.token, expires, tenant: { id: user.defaultProject, name: user.name } },
        user: {
          id: user.uuid,
          name: user.name,
          roles: [{ id: '1', name: 'default' }],
          roles_links: [],
          projects: model.projectsOf(user.uuid).map((p) => p.id),
        },
        serviceCatalog: serviceCatalog(opts.baseUrl()),
      },
    };
  });

  app.get('/account/v1.0/quotas', async (req) => model.quotasOf(userOf(model, req).uuid));

  app.get('/account/v1.0/resources', async () => {
    const out: Record<string, unknown> = {};
    for (const [name, r] of Object.entries(SNF_RESOURCES))
      out[name] = { service: r.service, description: r.description, unit: r.unit, ui_visible: true, api_visible: true };
    return out;
  });

  app.get('/account/v1.0/projects', async (req) => {
    const user = userOf(model, req);
    const q = req.query as Record<string, string | undefined>;
    return model
      .projectsOf(user.uuid)
      .filter((p) => (q.name ? p.name === q.name : true) && (q.state ? p.state === q.state : true))
      .map(projectView);
  });

  app.get('/account/v1.0/projects/memberships', async (req) => {
    const user = userOf(model, req);
    const q = req.query as Record<string, string | undefined>;
    return model.memberships
      .filter((m) => m.user === user.uuid && (!q.project || m.project === q.project))
      .map((m) => ({ ...m, removed: null, allowed_actions: m.project === user.uuid ? [] : ['leave'] }));
  });

  app.get<{ Params: { id: string } }>('/account/v1.0/projects/:id', async (req) => {
    const user = userOf(model, req);
    const p = model.projects.get(req.params.id);
    if (!p || !model.isMember(user.uuid, p.id)) throw itemNotFound(`Project ${req.params.id} not found.`);
    return projectView(p);
  });

  app.post('/account/v1.0/myaccount/default_project', async (req, reply) => {
    const user = userOf(model, req);
    const id = jsonBody(req).project_id;
    if (typeof id !== 'string') throw badRequest('Missing project_id');
    if (!model.isMember(user.uuid, id)) throw forbidden(`User is not a member of project ${id}`);
    user.defaultProject = id;
    return reply.code(200).send('');
  });

  // The service-side commission API (used by Cyclades and Pithos in Synnefo; here for fidelity and tests).
  app.post('/account/v1.0/commissions', async (req, reply) => {
    if (req.headers['x-auth-token'] !== opts.serviceToken) throw unauthorized('Invalid service token');
    const body = jsonBody(req);
    const provisions = Array.isArray(body.provisions) ? (body.provisions as Array<Record<string, unknown>>) : [];
    const parsed: Provision[] = provisions.map((p) => {
      const holder = String(p.holder ?? '');
      const source = p.source === null || p.source === undefined ? null : String(p.source);
      if (!holder.startsWith('user:') || !source?.startsWith('project:')) throw badRequest('Malformed provision');
      return {
        user: holder.slice(5),
        project: source.slice(8),
        resource: String(p.resource),
        quantity: Number(p.quantity),
      };
    });
    for (const p of parsed)
      if (!model.projects.get(p.project) || !(p.resource in SNF_RESOURCES))
        throw new SnfFault(404, 'itemNotFound', `No such holding: ${p.project} ${p.resource}`);
    try {
      return reply.code(201).send({ serial: model.commission(String(body.name ?? ''), parsed) });
    } catch (err) {
      if (!(err instanceof OverLimit)) throw err;
      throw overLimitAstakos(err);
    }
  });
}

/** Astakos' answer to a commission over a limit (the quotaholder's NoCapacityError). */
export function overLimitAstakos(err: OverLimit): SnfFault {
  const p = err.provision;
  return new SnfFault(413, 'overLimit', err.message, undefined, {
    data: {
      provision: {
        holder: `user:${p.user}`,
        source: `project:${p.project}`,
        resource: p.resource,
        quantity: p.quantity,
      },
      name: 'NoCapacityError',
      limit: err.limit,
      usage: err.usage,
    },
  });
}
