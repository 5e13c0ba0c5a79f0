/** Version discovery and /v3/auth/*: issue, validate, revoke tokens; catalog; projects and domains for a token. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { forbidden, notFound, unauthorized } from './errors.ts';
import { caller, headerValue, type KeystoneRoutes } from './http.ts';
import { collection, projectBody, renderCatalog, renderTokenBody } from './render.ts';

const MEDIA_TYPES = [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }];

function versionBody(href: string): Record<string, unknown> {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href }],
    'media-types': MEDIA_TYPES,
  };
}

export function authRoutes(app: FastifyInstance, r: KeystoneRoutes): void {
  const { ks } = r;

  app.get('/', async (_req, reply) => {
    return reply.code(300).send({ versions: { values: [versionBody(`${r.v3()}/`)] } });
  });
  app.get('/v3', async () => ({ version: versionBody(`${r.v3()}/`) }));

  app.post('/v3/auth/tokens', async (req, reply) => {
    const { token, row } = ks.authenticate(req.body);
    const nocatalog = Object.hasOwn((req.query ?? {}) as object, 'nocatalog');
    reply.header('X-Subject-Token', token);
    return reply.code(201).send(renderTokenBody(ks, row, { catalog: !nocatalog }));
  });

  const subject = (req: FastifyRequest) => {
    const c = caller(ks, req);
    const subjectToken = headerValue(req, 'x-subject-token');
    if (!subjectToken) throw unauthorized();
    const row = ks.lookup(subjectToken);
    if (!row || !ks.tokenInfo(subjectToken)) throw notFound('token', 'the subject token');
    if (!c.info.isAdmin && c.row.userId !== row.userId && !c.info.roles.includes('service')) {
      throw forbidden('identity:validate_token');
    }
    return { subjectToken, row };
  };

  app.get('/v3/auth/tokens', async (req, reply) => {
    const { subjectToken, row } = subject(req);
    const nocatalog = Object.hasOwn((req.query ?? {}) as object, 'nocatalog');
    reply.header('X-Subject-Token', subjectToken);
    return renderTokenBody(ks, row, { catalog: !nocatalog });
  });
  app.delete('/v3/auth/tokens', async (req, reply) => {
    const { subjectToken } = subject(req);
    ks.revoke(subjectToken);
    return reply.code(204).send();
  });

  app.get('/v3/auth/catalog', async (req) => {
    const c = caller(ks, req);
    if (!c.row.projectId && !c.row.domainId)
      throw new ApiFault(403, 'You are not authorized to perform the requested action.');
    return {
      catalog: renderCatalog(ks, c.row.projectId),
      links: { self: `${r.v3()}/auth/catalog`, previous: null, next: null },
    };
  });

  const projects = (req: FastifyRequest, self: string) => {
    const c = caller(ks, req);
    const list = ks.projectsForUser(c.row.userId, c.row.federated?.groupIds ?? []).map((p) => projectBody(p, r.v3()));
    return collection('projects', list, self);
  };
  app.get('/v3/auth/projects', async (req) => projects(req, `${r.v3()}/auth/projects`));
  app.get('/v3/OS-FEDERATION/projects', async (req) => projects(req, `${r.v3()}/OS-FEDERATION/projects`));

  const domains = (req: FastifyRequest, self: string) => {
    const c = caller(ks, req);
    const list = ks.domainsForUser(c.row.userId, c.row.federated?.groupIds ?? []).map((d) => ({
      id: d.id,
      name: d.name,
      description: d.description,
      enabled: d.enabled,
      tags: [],
      options: {},
      links: { self: `${r.v3()}/domains/${d.id}` },
    }));
    return collection('domains', list, self);
  };
  app.get('/v3/auth/domains', async (req) => domains(req, `${r.v3()}/auth/domains`));
  app.get('/v3/OS-FEDERATION/domains', async (req) => domains(req, `${r.v3()}/OS-FEDERATION/domains`));
  app.get('/v3/auth/system', async (req) => {
    caller(ks, req);
    return { system: [], links: { self: `${r.v3()}/auth/system`, previous: null, next: null } };
  });
}
