/** Keystone identity admin API: users (incl. password change, their projects and groups) and groups with membership. */
import type { FastifyInstance } from 'fastify';
import { ApiFault } from '../fault.ts';
import { conflict, forbidden, notFound } from './errors.ts';
import { bodyObject, caller, type KeystoneRoutes, queryOf, requireAdmin, requireSelfOrAdmin } from './http.ts';
import { identityKit, optBool, optStr, params, reqStr, truthy } from './identity-kit.ts';
import { type Group, newId, type User } from './model.ts';
import { collection, projectBody, userBody } from './render.ts';

export function userRoutes(app: FastifyInstance, r: KeystoneRoutes): void {
  const { ks, v3, groupBody, domainOf, projectOf, userOf, groupOf } = identityKit(r);

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
}
