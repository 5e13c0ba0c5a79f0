/**
 * Keystone's identity admin API: domains, projects, users, groups, roles, grants, role assignments, services,
 * endpoints, regions, application credentials. Policy follows Keystone's defaults in spirit: project-admin
 * tokens may do everything, other tokens may read themselves, their projects and their own credentials.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { badRequest, conflict, forbidden, notFound } from './errors.ts';
import {
  bodyObject,
  type Caller,
  caller,
  type KeystoneRoutes,
  queryOf,
  requireAdmin,
  requireSelfOrAdmin,
} from './http.ts';
import {
  type AppCredential,
  type Assignment,
  type Domain,
  type Group,
  type Keystone,
  keystoneTime,
  newId,
  type Project,
  type Role,
  type User,
} from './model.ts';
import { collection, projectBody, userBody } from './render.ts';

const optStr = (v: unknown, field: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(`Invalid input for field '${field}': expected a string.`);
  return v;
};
const reqStr = (v: unknown, field: string): string => {
  const s = optStr(v, field);
  if (s === undefined || s === '')
    throw badRequest(`Invalid input for field '${field}': '${field.split('/').pop()}' is a required property`);
  return s;
};
const optBool = (v: unknown, field: string): boolean | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw badRequest(`Invalid input for field '${field}': expected a boolean.`);
  return v;
};
const truthy = (v: string | undefined): boolean | undefined =>
  v === undefined ? undefined : !['false', '0', 'no', 'off'].includes(v.toLowerCase());
const params = (req: FastifyRequest) => req.params as Record<string, string>;

export function identityRoutes(app: FastifyInstance, r: KeystoneRoutes): void {
  const { ks } = r;
  const v3 = () => r.v3();

  const domainBody = (d: Domain) => ({
    id: d.id,
    name: d.name,
    description: d.description,
    enabled: d.enabled,
    tags: [],
    options: {},
    links: { self: `${v3()}/domains/${d.id}` },
  });
  const roleBody = (x: Role) => ({
    id: x.id,
    name: x.name,
    domain_id: x.domain_id,
    description: x.description ?? null,
    options: {},
    links: { self: `${v3()}/roles/${x.id}` },
  });
  const groupBody = (g: Group) => ({
    id: g.id,
    name: g.name,
    domain_id: g.domain_id,
    description: g.description,
    links: { self: `${v3()}/groups/${g.id}` },
  });

  const need = <T>(value: T | undefined, kind: string, id: string): T => {
    if (value === undefined) throw notFound(kind, id);
    return value;
  };
  const domainOf = (id: string) => need(ks.domains.get(id), 'domain', id);
  const projectOf = (id: string) => need(ks.projects.get(id), 'project', id);
  const userOf = (id: string) => need(ks.users.get(id), 'user', id);
  const groupOf = (id: string) => need(ks.groups.get(id), 'group', id);
  const roleOf = (id: string) => need(ks.roles.get(id), 'role', id);

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

  // ------------------------------------------------------------------ users
  app.get('/v3/users', async (req) => {
    requireAdmin(caller(ks, req), 'list_users');
    const q = queryOf(req);
    let list = ks.users.all();
    if (q.name) list = list.filter((u) => u.name === q.name);
    if (q.domain_id) list = list.filter((u) => u.domain_id === q.domain_id);
    const en = truthy(q.enabled);
    if (en !== undefined) list = list.filter((u) => u.enabled === en);
    if (q.idp_id) list = list.filter((u) => u.federated?.idpId === q.idp_id);
    return collection(
      'users',
      list.map((u) => userBody(u, v3())),
      `${v3()}/users`,
    );
  });
  app.get('/v3/users/:id', async (req) => {
    const c = caller(ks, req);
    const id = params(req).id as string;
    requireSelfOrAdmin(c, id, 'get_user');
    return { user: userBody(userOf(id), v3()) };
  });
  app.post('/v3/users', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_user');
    const b = bodyObject(req, 'user');
    const name = reqStr(b.name, 'user/name');
    const domainId = optStr(b.domain_id, 'user/domain_id') ?? 'default';
    domainOf(domainId);
    if (ks.findUserByName(name, domainId))
      throw conflict('user', `Duplicate entry found with name ${name} at domain ID ${domainId}`);
    const defaultProjectId = optStr(b.default_project_id, 'user/default_project_id');
    if (defaultProjectId) projectOf(defaultProjectId);
    const password = optStr(b.password, 'user/password');
    const email = optStr(b.email, 'user/email');
    const description = optStr(b.description, 'user/description');
    const enabled = optBool(b.enabled, 'user/enabled');
    const u = ks.createUser({
      name,
      domainId,
      ...(password !== undefined ? { password } : {}),
      ...(defaultProjectId ? { defaultProjectId } : {}),
      ...(email ? { email } : {}),
      ...(description ? { description } : {}),
      ...(enabled !== undefined ? { enabled } : {}),
    });
    return reply.code(201).send({ user: userBody(u, v3()) });
  });
  app.patch('/v3/users/:id', async (req) => {
    requireAdmin(caller(ks, req), 'update_user');
    const u = userOf(params(req).id as string);
    const b = bodyObject(req, 'user');
    const next: User = { ...u };
    if (b.name !== undefined) next.name = reqStr(b.name, 'user/name');
    if (b.email !== undefined) next.email = optStr(b.email, 'user/email') ?? '';
    if (b.description !== undefined) next.description = optStr(b.description, 'user/description') ?? '';
    if (b.default_project_id !== undefined) {
      const pid = optStr(b.default_project_id, 'user/default_project_id');
      if (pid) projectOf(pid);
      if (pid) next.default_project_id = pid;
      else delete next.default_project_id;
    }
    if (b.enabled !== undefined) next.enabled = optBool(b.enabled, 'user/enabled') as boolean;
    ks.users.put(next);
    if (b.password !== undefined) {
      ks.setPassword(next, reqStr(b.password, 'user/password'));
      ks.revokeWhere((t) => t.userId === u.id);
    }
    if (!next.enabled) ks.revokeWhere((t) => t.userId === u.id);
    return { user: userBody(ks.users.get(u.id) as User, v3()) };
  });
  app.delete('/v3/users/:id', async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_user');
    const u = userOf(params(req).id as string);
    ks.users.delete(u.id);
    for (const a of ks.assignments.filter((x) => x.actor === 'user' && x.actorId === u.id)) ks.assignments.delete(a.id);
    for (const m of ks.groupMembers.filter((x) => x.userId === u.id)) ks.groupMembers.delete(m.id);
    for (const ac of ks.appCreds.filter((x) => x.user_id === u.id)) ks.appCreds.delete(ac.id);
    ks.revokeWhere((t) => t.userId === u.id);
    return reply.code(204).send();
  });
  app.post('/v3/users/:id/password', async (req, reply) => {
    const c = caller(ks, req);
    const id = params(req).id as string;
    if (c.info.userId !== id) throw forbidden('identity:change_password');
    const u = userOf(id);
    const b = bodyObject(req, 'user');
    const original = reqStr(b.original_password, 'user/original_password');
    const password = reqStr(b.password, 'user/password');
    try {
      ks.authenticate({
        auth: {
          identity: { methods: ['password'], password: { user: { id, password: original } } },
          scope: 'unscoped',
        },
      });
    } catch {
      throw new ApiFault(401, 'The request you have made requires authentication.');
    }
    ks.setPassword(u, password);
    ks.revokeWhere((t) => t.userId === id);
    return reply.code(204).send();
  });
  app.get('/v3/users/:id/projects', async (req) => {
    const c = caller(ks, req);
    const id = params(req).id as string;
    requireSelfOrAdmin(c, id, 'list_user_projects');
    userOf(id);
    // Like Keystone: direct and stored-group assignments only (a federated token's mapped groups are not stored).
    return collection(
      'projects',
      ks.projectsForUser(id).map((p) => projectBody(p, v3())),
      `${v3()}/users/${id}/projects`,
    );
  });
  app.get('/v3/users/:id/groups', async (req) => {
    const c = caller(ks, req);
    const id = params(req).id as string;
    requireSelfOrAdmin(c, id, 'list_groups_for_user');
    userOf(id);
    const groups = ks
      .userGroupIds(id)
      .map((g) => ks.groups.get(g))
      .filter((g): g is Group => g !== undefined);
    return collection('groups', groups.map(groupBody), `${v3()}/users/${id}/groups`);
  });

  // ------------------------------------------------------------------ groups
  app.get('/v3/groups', async (req) => {
    requireAdmin(caller(ks, req), 'list_groups');
    const q = queryOf(req);
    let list = ks.groups.all();
    if (q.name) list = list.filter((g) => g.name === q.name);
    if (q.domain_id) list = list.filter((g) => g.domain_id === q.domain_id);
    return collection('groups', list.map(groupBody), `${v3()}/groups`);
  });
  app.get('/v3/groups/:id', async (req) => {
    requireAdmin(caller(ks, req), 'get_group');
    return { group: groupBody(groupOf(params(req).id as string)) };
  });
  app.post('/v3/groups', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_group');
    const b = bodyObject(req, 'group');
    const name = reqStr(b.name, 'group/name');
    const domainId = optStr(b.domain_id, 'group/domain_id') ?? 'default';
    domainOf(domainId);
    if (ks.groups.filter((g) => g.name === name && g.domain_id === domainId).length > 0)
      throw conflict('group', `Duplicate entry found with name ${name}`);
    const g: Group = {
      id: newId(),
      name,
      domain_id: domainId,
      description: optStr(b.description, 'group/description') ?? '',
    };
    ks.groups.put(g);
    return reply.code(201).send({ group: groupBody(g) });
  });
  app.patch('/v3/groups/:id', async (req) => {
    requireAdmin(caller(ks, req), 'update_group');
    const g = groupOf(params(req).id as string);
    const b = bodyObject(req, 'group');
    const next: Group = {
      ...g,
      ...(b.name !== undefined ? { name: reqStr(b.name, 'group/name') } : {}),
      ...(b.description !== undefined ? { description: optStr(b.description, 'group/description') ?? '' } : {}),
    };
    ks.groups.put(next);
    return { group: groupBody(next) };
  });
  app.delete('/v3/groups/:id', async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_group');
    const g = groupOf(params(req).id as string);
    ks.groups.delete(g.id);
    for (const m of ks.groupMembers.filter((x) => x.groupId === g.id)) ks.groupMembers.delete(m.id);
    for (const a of ks.assignments.filter((x) => x.actor === 'group' && x.actorId === g.id))
      ks.assignments.delete(a.id);
    return reply.code(204).send();
  });
  app.get('/v3/groups/:id/users', async (req) => {
    requireAdmin(caller(ks, req), 'list_users_in_group');
    const g = groupOf(params(req).id as string);
    const users = ks.groupMembers
      .filter((m) => m.groupId === g.id)
      .map((m) => ks.users.get(m.userId))
      .filter((u): u is User => u !== undefined);
    return collection(
      'users',
      users.map((u) => userBody(u, v3())),
      `${v3()}/groups/${g.id}/users`,
    );
  });
  app.put('/v3/groups/:gid/users/:uid', async (req, reply) => {
    requireAdmin(caller(ks, req), 'add_user_to_group');
    const g = groupOf(params(req).gid as string);
    const u = userOf(params(req).uid as string);
    ks.groupMembers.put({ id: `${g.id}:${u.id}`, groupId: g.id, userId: u.id });
    return reply.code(204).send();
  });
  app.get('/v3/groups/:gid/users/:uid', async (req, reply) => {
    requireAdmin(caller(ks, req), 'check_user_in_group');
    const g = groupOf(params(req).gid as string);
    const u = userOf(params(req).uid as string);
    if (!ks.groupMembers.get(`${g.id}:${u.id}`)) throw notFound('membership', `${u.id} in group ${g.id}`);
    return reply.code(204).send();
  });
  app.delete('/v3/groups/:gid/users/:uid', async (req, reply) => {
    requireAdmin(caller(ks, req), 'remove_user_from_group');
    const g = groupOf(params(req).gid as string);
    const u = userOf(params(req).uid as string);
    if (!ks.groupMembers.delete(`${g.id}:${u.id}`)) throw notFound('membership', `${u.id} in group ${g.id}`);
    return reply.code(204).send();
  });

  // ------------------------------------------------------------------ roles
  app.get('/v3/roles', async (req) => {
    requireAdmin(caller(ks, req), 'list_roles');
    const q = queryOf(req);
    let list = ks.roles.all();
    if (q.name) list = list.filter((x) => x.name === q.name);
    return collection('roles', list.map(roleBody), `${v3()}/roles`);
  });
  app.get('/v3/roles/:id', async (req) => {
    requireAdmin(caller(ks, req), 'get_role');
    return { role: roleBody(roleOf(params(req).id as string)) };
  });
  app.post('/v3/roles', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_role');
    const b = bodyObject(req, 'role');
    const name = reqStr(b.name, 'role/name');
    if (ks.findRoleByName(name)) throw conflict('role', `Duplicate entry found with name ${name}`);
    const role: Role = {
      id: newId(),
      name,
      domain_id: null,
      implies: [],
      ...(typeof b.description === 'string' ? { description: b.description } : {}),
    };
    ks.roles.put(role);
    return reply.code(201).send({ role: roleBody(role) });
  });
  app.patch('/v3/roles/:id', async (req) => {
    requireAdmin(caller(ks, req), 'update_role');
    const role = roleOf(params(req).id as string);
    const b = bodyObject(req, 'role');
    const next: Role = {
      ...role,
      ...(b.name !== undefined ? { name: reqStr(b.name, 'role/name') } : {}),
      ...(typeof b.description === 'string' ? { description: b.description } : {}),
    };
    ks.roles.put(next);
    return { role: roleBody(next) };
  });
  app.delete('/v3/roles/:id', async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_role');
    const role = roleOf(params(req).id as string);
    ks.roles.delete(role.id);
    for (const a of ks.assignments.filter((x) => x.roleId === role.id)) ks.assignments.delete(a.id);
    for (const other of ks.roles.filter((x) => x.implies.includes(role.id)))
      ks.roles.put({ ...other, implies: other.implies.filter((i) => i !== role.id) });
    return reply.code(204).send();
  });

  // ------------------------------------------------------------------ grants
  const scopes = [
    { scope: 'project' as const, path: 'projects', of: (id: string) => projectOf(id).id },
    { scope: 'domain' as const, path: 'domains', of: (id: string) => domainOf(id).id },
  ];
  const actors = [
    { actor: 'user' as const, path: 'users', of: (id: string) => userOf(id).id },
    { actor: 'group' as const, path: 'groups', of: (id: string) => groupOf(id).id },
  ];
  for (const s of scopes) {
    for (const a of actors) {
      const base = `/v3/${s.path}/:sid/${a.path}/:aid/roles`;
      const resolve = (req: FastifyRequest) => ({
        sid: s.of(params(req).sid as string),
        aid: a.of(params(req).aid as string),
      });
      app.get(base, async (req) => {
        requireAdmin(caller(ks, req), `list_grants`);
        const { sid, aid } = resolve(req);
        const roles = ks.assignments
          .filter((x) => x.scope === s.scope && x.scopeId === sid && x.actor === a.actor && x.actorId === aid)
          .map((x) => ks.roles.get(x.roleId))
          .filter((x): x is Role => x !== undefined);
        return collection('roles', roles.map(roleBody), `${v3()}/${s.path}/${sid}/${a.path}/${aid}/roles`);
      });
      app.put(`${base}/:rid`, async (req, reply) => {
        requireAdmin(caller(ks, req), 'create_grant');
        const { sid, aid } = resolve(req);
        const role = roleOf(params(req).rid as string);
        ks.grant(a.actor, aid, s.scope, sid, role.id);
        return reply.code(204).send();
      });
      app.get(`${base}/:rid`, async (req, reply) => {
        requireAdmin(caller(ks, req), 'check_grant');
        const { sid, aid } = resolve(req);
        const role = roleOf(params(req).rid as string);
        if (!ks.assignments.get(`${a.actor}:${aid}:${s.scope}:${sid}:${role.id}`))
          throw notFound('role assignment', `${role.id}`);
        return reply.code(204).send();
      });
      app.delete(`${base}/:rid`, async (req, reply) => {
        requireAdmin(caller(ks, req), 'revoke_grant');
        const { sid, aid } = resolve(req);
        const role = roleOf(params(req).rid as string);
        if (!ks.assignments.delete(`${a.actor}:${aid}:${s.scope}:${sid}:${role.id}`))
          throw notFound('role assignment', `${role.id}`);
        return reply.code(204).send();
      });
    }
  }

  // ------------------------------------------------------------------ role assignments
  app.get('/v3/role_assignments', async (req) => {
    const c = caller(ks, req);
    const q = queryOf(req);
    const selfOnly = !c.info.isAdmin;
    if (selfOnly && q['user.id'] !== c.info.userId) throw forbidden('identity:list_role_assignments');
    const names = truthy(q.include_names) === true || Object.hasOwn(q, 'include_names');
    const effective = Object.hasOwn(q, 'effective') && truthy(q.effective) !== false;
    type Row = {
      actor: 'user' | 'group';
      actorId: string;
      scope: 'project' | 'domain';
      scopeId: string;
      roleId: string;
      viaGroup?: string;
    };
    let rows: Row[] = ks.assignments.all().map((x: Assignment) => ({ ...x }));
    if (effective) {
      const expanded: Row[] = [];
      for (const row of rows) {
        const users =
          row.actor === 'group'
            ? ks.groupMembers.filter((m) => m.groupId === row.actorId).map((m) => ({ id: m.userId, via: row.actorId }))
            : [{ id: row.actorId, via: undefined }];
        for (const u of users) {
          for (const roleId of ks.expandImplied([row.roleId])) {
            expanded.push({
              actor: 'user',
              actorId: u.id,
              scope: row.scope,
              scopeId: row.scopeId,
              roleId,
              ...(u.via ? { viaGroup: u.via } : {}),
            });
          }
        }
      }
      const seen = new Set<string>();
      rows = expanded.filter((x) => {
        const k = `${x.actorId}:${x.scope}:${x.scopeId}:${x.roleId}`;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    }
    if (q['user.id']) rows = rows.filter((x) => x.actor === 'user' && x.actorId === q['user.id']);
    if (q['group.id']) rows = rows.filter((x) => x.actor === 'group' && x.actorId === q['group.id']);
    if (q['scope.project.id']) rows = rows.filter((x) => x.scope === 'project' && x.scopeId === q['scope.project.id']);
    if (q['scope.domain.id']) rows = rows.filter((x) => x.scope === 'domain' && x.scopeId === q['scope.domain.id']);
    if (q['role.id']) rows = rows.filter((x) => x.roleId === q['role.id']);
    const domainRef = (id: string) => ({ id, ...(names ? { name: ks.domains.get(id)?.name ?? id } : {}) });
    const body = rows.map((x) => {
      const role = ks.roles.get(x.roleId);
      const out: Record<string, unknown> = {
        role: { id: x.roleId, ...(names ? { name: role?.name ?? x.roleId } : {}) },
        scope:
          x.scope === 'project'
            ? {
                project: {
                  id: x.scopeId,
                  ...(names
                    ? {
                        name: ks.projects.get(x.scopeId)?.name ?? x.scopeId,
                        domain: domainRef(ks.projects.get(x.scopeId)?.domain_id ?? 'default'),
                      }
                    : {}),
                },
              }
            : { domain: domainRef(x.scopeId) },
        links: {
          assignment: `${v3()}/${x.scope === 'project' ? 'projects' : 'domains'}/${x.scopeId}/${x.actor === 'user' ? 'users' : 'groups'}/${x.actorId}/roles/${x.roleId}`,
          ...(x.viaGroup ? { membership: `${v3()}/groups/${x.viaGroup}/users/${x.actorId}` } : {}),
        },
      };
      if (x.actor === 'user') {
        const u = ks.users.get(x.actorId);
        out.user = { id: x.actorId, ...(names && u ? { name: u.name, domain: domainRef(u.domain_id) } : {}) };
      } else {
        const g = ks.groups.get(x.actorId);
        out.group = { id: x.actorId, ...(names && g ? { name: g.name, domain: domainRef(g.domain_id) } : {}) };
      }
      return out;
    });
    return collection('role_assignments', body, `${v3()}/role_assignments`);
  });

  // ------------------------------------------------------------------ services, endpoints, regions
  const serviceBody = (s: { id: string; type: string; name: string; description: string; enabled: boolean }) => ({
    ...s,
    links: { self: `${v3()}/services/${s.id}` },
  });
  const endpointBody = (e: {
    id: string;
    service_id: string;
    interface: string;
    region_id: string;
    url: string;
    enabled: boolean;
  }) => ({
    id: e.id,
    interface: e.interface,
    region_id: e.region_id,
    region: e.region_id,
    service_id: e.service_id,
    url: e.url,
    enabled: e.enabled,
    links: { self: `${v3()}/endpoints/${e.id}` },
  });
  const regionBody = (x: { id: string; description: string; parent_region_id: string | null }) => ({
    ...x,
    links: { self: `${v3()}/regions/${x.id}` },
  });
  app.get('/v3/services', async (req) => {
    requireAdmin(caller(ks, req), 'list_services');
    const q = queryOf(req);
    let list = ks.services.all();
    if (q.type) list = list.filter((s) => s.type === q.type);
    if (q.name) list = list.filter((s) => s.name === q.name);
    return collection('services', list.map(serviceBody), `${v3()}/services`);
  });
  app.get('/v3/services/:id', async (req) => {
    requireAdmin(caller(ks, req), 'get_service');
    return {
      service: serviceBody(need(ks.services.get(params(req).id as string), 'service', params(req).id as string)),
    };
  });
  app.post('/v3/services', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_service');
    const b = bodyObject(req, 'service');
    const s = {
      id: newId(),
      type: reqStr(b.type, 'service/type'),
      name: optStr(b.name, 'service/name') ?? '',
      description: optStr(b.description, 'service/description') ?? '',
      enabled: optBool(b.enabled, 'service/enabled') ?? true,
    };
    ks.services.put(s);
    return reply.code(201).send({ service: serviceBody(s) });
  });
  app.delete('/v3/services/:id', async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_service');
    const id = params(req).id as string;
    if (!ks.services.delete(id)) throw notFound('service', id);
    for (const e of ks.endpoints.filter((x) => x.service_id === id)) ks.endpoints.delete(e.id);
    return reply.code(204).send();
  });
  app.get('/v3/endpoints', async (req) => {
    requireAdmin(caller(ks, req), 'list_endpoints');
    const q = queryOf(req);
    let list = ks.endpoints.all();
    if (q.interface) list = list.filter((e) => e.interface === q.interface);
    if (q.service_id) list = list.filter((e) => e.service_id === q.service_id);
    if (q.region_id) list = list.filter((e) => e.region_id === q.region_id);
    return collection('endpoints', list.map(endpointBody), `${v3()}/endpoints`);
  });
  app.get('/v3/endpoints/:id', async (req) => {
    requireAdmin(caller(ks, req), 'get_endpoint');
    return {
      endpoint: endpointBody(need(ks.endpoints.get(params(req).id as string), 'endpoint', params(req).id as string)),
    };
  });
  app.post('/v3/endpoints', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_endpoint');
    const b = bodyObject(req, 'endpoint');
    const serviceId = reqStr(b.service_id, 'endpoint/service_id');
    need(ks.services.get(serviceId), 'service', serviceId);
    const iface = reqStr(b.interface, 'endpoint/interface');
    if (!['public', 'internal', 'admin'].includes(iface))
      throw badRequest("Invalid input for field 'endpoint/interface'.");
    const regionId = optStr(b.region_id ?? b.region, 'endpoint/region_id') ?? ks.region;
    // As Keystone does: an endpoint in a region that does not exist yet creates the region.
    if (!ks.regions.get(regionId)) ks.regions.put({ id: regionId, description: '', parent_region_id: null });
    const e = {
      id: newId(),
      service_id: serviceId,
      interface: iface as 'public' | 'internal' | 'admin',
      region_id: regionId,
      url: reqStr(b.url, 'endpoint/url'),
      enabled: optBool(b.enabled, 'endpoint/enabled') ?? true,
    };
    ks.endpoints.put(e);
    return reply.code(201).send({ endpoint: endpointBody(e) });
  });
  app.delete('/v3/endpoints/:id', async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_endpoint');
    const id = params(req).id as string;
    if (!ks.endpoints.delete(id)) throw notFound('endpoint', id);
    return reply.code(204).send();
  });
  app.get('/v3/regions', async (req) => {
    caller(ks, req);
    return collection('regions', ks.regions.all().map(regionBody), `${v3()}/regions`);
  });
  app.post('/v3/regions', async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_region');
    const b = bodyObject(req, 'region');
    const id = optStr(b.id, 'region/id') ?? newId();
    if (ks.regions.get(id)) throw conflict('region', `Duplicate ID, ${id}.`);
    const parent = optStr(b.parent_region_id, 'region/parent_region_id') ?? null;
    if (parent) need(ks.regions.get(parent), 'region', parent);
    const r = { id, description: optStr(b.description, 'region/description') ?? '', parent_region_id: parent };
    ks.regions.put(r);
    return reply.code(201).send({ region: regionBody(r) });
  });
  app.delete('/v3/regions/:id', async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_region');
    const id = params(req).id as string;
    need(ks.regions.get(id), 'region', id);
    if (ks.endpoints.filter((e) => e.region_id === id).length > 0) {
      throw new ApiFault(
        403,
        `Unable to delete region ${id} because it or its child regions have associated endpoints.`,
      );
    }
    ks.regions.delete(id);
    return reply.code(204).send();
  });
  app.get('/v3/regions/:id', async (req) => {
    caller(ks, req);
    return { region: regionBody(need(ks.regions.get(params(req).id as string), 'region', params(req).id as string)) };
  });

  // ------------------------------------------------------------------ application credentials
  const acBody = (ac: AppCredential) => ({
    id: ac.id,
    name: ac.name,
    description: ac.description,
    user_id: ac.user_id,
    project_id: ac.project_id,
    expires_at: ac.expires_at ? keystoneTime(ac.expires_at) : null,
    unrestricted: ac.unrestricted,
    system: null,
    roles: ac.roleIds.map((id) => ({ id, name: ks.roles.get(id)?.name ?? id, domain_id: null })),
    access_rules: [],
    links: { self: `${v3()}/users/${ac.user_id}/application_credentials/${ac.id}` },
  });
  const ownCreds = (c: Caller, userId: string, action: string) => {
    if (c.info.userId !== userId && !c.info.isAdmin) throw forbidden(`identity:${action}`);
    userOf(userId);
  };
  app.get('/v3/users/:uid/application_credentials', async (req) => {
    const c = caller(ks, req);
    const uid = params(req).uid as string;
    ownCreds(c, uid, 'list_application_credentials');
    const q = queryOf(req);
    let list = ks.appCreds.filter((x) => x.user_id === uid);
    if (q.name) list = list.filter((x) => x.name === q.name);
    return collection('application_credentials', list.map(acBody), `${v3()}/users/${uid}/application_credentials`);
  });
  app.get('/v3/users/:uid/application_credentials/:id', async (req) => {
    const c = caller(ks, req);
    const uid = params(req).uid as string;
    ownCreds(c, uid, 'get_application_credential');
    const ac = ks.appCreds.get(params(req).id as string);
    if (!ac || ac.user_id !== uid) throw notFound('application credential', params(req).id as string);
    return { application_credential: acBody(ac) };
  });
  app.post('/v3/users/:uid/application_credentials', async (req, reply) => {
    const c = caller(ks, req);
    const uid = params(req).uid as string;
    if (c.info.userId !== uid) throw forbidden('identity:create_application_credential');
    if (!c.row.projectId) throw badRequest('An application credential must be created with a project-scoped token.');
    if (c.row.appCredId)
      throw forbidden('identity:create_application_credential (not with an application credential token)');
    const b = bodyObject(req, 'application_credential');
    const name = reqStr(b.name, 'application_credential/name');
    const tokenRoles = ks.tokenRoleIds(c.row);
    let roleIds = tokenRoles;
    if (Array.isArray(b.roles) && b.roles.length > 0) {
      roleIds = b.roles.map((x: unknown) => {
        const ref = x as { id?: string; name?: string };
        const role = ref.id ? ks.roles.get(ref.id) : ref.name ? ks.findRoleByName(ref.name) : undefined;
        if (!role) throw notFound('role', String(ref.id ?? ref.name));
        if (!tokenRoles.includes(role.id))
          throw forbidden('identity:create_application_credential (role not held on the project)');
        return role.id;
      });
    }
    let expiresAt: string | null = null;
    if (b.expires_at !== undefined && b.expires_at !== null) {
      const d = new Date(reqStr(b.expires_at, 'application_credential/expires_at'));
      if (Number.isNaN(d.getTime())) throw badRequest("Invalid input for field 'application_credential/expires_at'.");
      expiresAt = d.toISOString();
    }
    const secret = optStr(b.secret, 'application_credential/secret');
    const { cred, secret: actualSecret } = ks.createAppCredential({
      userId: uid,
      projectId: c.row.projectId,
      name,
      description: optStr(b.description, 'application_credential/description') ?? '',
      ...(secret ? { secret } : {}),
      roleIds,
      expiresAt,
      unrestricted: optBool(b.unrestricted, 'application_credential/unrestricted') ?? false,
    });
    return reply.code(201).send({ application_credential: { ...acBody(cred), secret: actualSecret } });
  });
  app.delete('/v3/users/:uid/application_credentials/:id', async (req, reply) => {
    const c = caller(ks, req);
    const uid = params(req).uid as string;
    ownCreds(c, uid, 'delete_application_credential');
    const id = params(req).id as string;
    const ac = ks.appCreds.get(id);
    if (!ac || ac.user_id !== uid) throw notFound('application credential', id);
    ks.appCreds.delete(id);
    ks.revokeWhere((t) => t.appCredId === id);
    return reply.code(204).send();
  });
}

export type { Keystone };
