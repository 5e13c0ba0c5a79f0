/** Keystone identity admin API: domains and projects. */
import type { FastifyInstance } from 'fastify';
import { conflict, forbidden } from './errors.ts';
import { bodyObject, caller, type KeystoneRoutes, queryOf, requireAdmin } from './http.ts';
import { identityKit, optBool, optStr, params, reqStr, truthy } from './identity-kit.ts';
import { type Domain, newId, type Project } from './model.ts';
import { collection, projectBody } from './render.ts';

export function domainRoutes(app: FastifyInstance, r: KeystoneRoutes): void {
  const { ks, v3, domainBody, domainOf, projectOf } = identityKit(r);

  // ------------------------------------------------------------------ domains
  app.get('/v3/domains', async (req) => {
    const c = caller(ks, req);
    const q = queryOf(req);
    let list = ks.domains.all();
    if (!c.info.isAdmin) list = list.filter((d) => d.id === c.info.domainId || d.id === c.info.projectDomainId);
    if (q.name) list = list.filter((d) => d.name === q.name);
    const en = truthy(q.enabled);
    if (en !== undefined) list = list.filter((d) => d.enabled === en);
    return collection('domains', list.map(domainBody), `${v3()}/domains`);
  });
  app.get('/v3/domains/:id', async (req) => {
    const c = caller(ks, req);
    const d = domainOf(params(req).id as string);
    if (!c.info.isAdmin && d.id !== c.info.domainId && d.id !== c.info.projectDomainId && d.id !== c.info.userDomainId)
      throw forbidden('identity:get_domain');
    return { domain: domainBody(d) };
  });
  app.post('/v3/domains', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_domain');
    const b = bodyObject(req, 'domain');
    const name = reqStr(b.name, 'domain/name');
    if (ks.domains.filter((d) => d.name === name).length > 0)
      throw conflict('domain', `Duplicate entry found with name ${name}`);
    const d: Domain = {
      id: newId(),
      name,
      description: optStr(b.description, 'domain/description') ?? '',
      enabled: optBool(b.enabled, 'domain/enabled') ?? true,
    };
    ks.domains.put(d);
    return reply.code(201).send({ domain: domainBody(d) });
  });
  app.patch('/v3/domains/:id', async (req) => {
    requireAdmin(caller(ks, req), 'update_domain');
    const d = domainOf(params(req).id as string);
    const b = bodyObject(req, 'domain');
    const next: Domain = {
      ...d,
      ...(b.name !== undefined ? { name: reqStr(b.name, 'domain/name') } : {}),
      ...(b.description !== undefined ? { description: optStr(b.description, 'domain/description') ?? '' } : {}),
      ...(b.enabled !== undefined ? { enabled: optBool(b.enabled, 'domain/enabled') as boolean } : {}),
    };
    ks.domains.put(next);
    return { domain: domainBody(next) };
  });
  app.delete('/v3/domains/:id', async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_domain');
    const d = domainOf(params(req).id as string);
    if (d.enabled)
      throw forbidden('identity:delete_domain (cannot delete a domain that is enabled, please disable it first)');
    for (const p of ks.projects.filter((x) => x.domain_id === d.id)) ks.projects.delete(p.id);
    for (const u of ks.users.filter((x) => x.domain_id === d.id)) ks.users.delete(u.id);
    ks.domains.delete(d.id);
    return reply.code(204).send();
  });

  // ------------------------------------------------------------------ projects
  app.get('/v3/projects', async (req) => {
    const c = caller(ks, req);
    requireAdmin(c, 'list_projects');
    const q = queryOf(req);
    let list = ks.projects.all();
    if (q.name) list = list.filter((p) => p.name === q.name);
    if (q.domain_id) list = list.filter((p) => p.domain_id === q.domain_id);
    if (q.parent_id) list = list.filter((p) => p.parent_id === q.parent_id);
    const en = truthy(q.enabled);
    if (en !== undefined) list = list.filter((p) => p.enabled === en);
    if (q.tags) {
      const tags = q.tags.split(',');
      list = list.filter((p) => tags.every((t) => p.tags.includes(t)));
    }
    return collection(
      'projects',
      list.map((p) => projectBody(p, v3())),
      `${v3()}/projects`,
    );
  });
  app.get('/v3/projects/:id', async (req) => {
    const c = caller(ks, req);
    const p = projectOf(params(req).id as string);
    if (!c.info.isAdmin && c.info.projectId !== p.id) throw forbidden('identity:get_project');
    return { project: projectBody(p, v3()) };
  });
  app.post('/v3/projects', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_project');
    const b = bodyObject(req, 'project');
    const name = reqStr(b.name, 'project/name');
    const domainId = optStr(b.domain_id, 'project/domain_id') ?? 'default';
    domainOf(domainId);
    if (ks.projects.filter((p) => p.name === name && p.domain_id === domainId).length > 0) {
      throw conflict(
        'project',
        `it is not permitted to have two projects with either the same name or same id in the same domain: name is ${name}, project id ${'<new>'}`,
      );
    }
    const parentId = optStr(b.parent_id, 'project/parent_id') ?? domainId;
    if (parentId !== domainId) projectOf(parentId);
    const tags = Array.isArray(b.tags) ? b.tags.filter((t): t is string => typeof t === 'string') : [];
    const p: Project = {
      id: newId(),
      name,
      domain_id: domainId,
      description: optStr(b.description, 'project/description') ?? '',
      enabled: optBool(b.enabled, 'project/enabled') ?? true,
      parent_id: parentId,
      tags,
    };
    ks.projects.put(p);
    return reply.code(201).send({ project: projectBody(p, v3()) });
  });
  app.patch('/v3/projects/:id', async (req) => {
    requireAdmin(caller(ks, req), 'update_project');
    const p = projectOf(params(req).id as string);
    const b = bodyObject(req, 'project');
    const next: Project = {
      ...p,
      ...(b.name !== undefined ? { name: reqStr(b.name, 'project/name') } : {}),
      ...(b.description !== undefined ? { description: optStr(b.description, 'project/description') ?? '' } : {}),
      ...(b.enabled !== undefined ? { enabled: optBool(b.enabled, 'project/enabled') as boolean } : {}),
      ...(Array.isArray(b.tags) ? { tags: b.tags.filter((t): t is string => typeof t === 'string') } : {}),
    };
    if (
      next.name !== p.name &&
      ks.projects.filter((x) => x.name === next.name && x.domain_id === p.domain_id).length > 0
    ) {
      throw conflict('project', `Duplicate entry found with name ${next.name}`);
    }
    ks.projects.put(next);
    return { project: projectBody(next, v3()) };
  });
  app.delete('/v3/projects/:id', async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_project');
    const p = projectOf(params(req).id as string);
    if (ks.projects.filter((x) => x.parent_id === p.id).length > 0) {
      throw forbidden('identity:delete_project (cannot delete a project that has children)');
    }
    ks.projects.delete(p.id);
    for (const a of ks.assignments.filter((x) => x.scope === 'project' && x.scopeId === p.id))
      ks.assignments.delete(a.id);
    ks.revokeWhere((t) => t.projectId === p.id);
    return reply.code(204).send();
  });
}
