/** Keystone identity admin API: roles, grants on projects/domains, role assignments. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { conflict, forbidden, notFound } from './errors.ts';
import { bodyObject, caller, type KeystoneRoutes, queryOf, requireAdmin } from './http.ts';
import { identityKit, params, reqStr, truthy } from './identity-kit.ts';
import { type Assignment, newId, type Role } from './model.ts';
import { collection } from './render.ts';

export function roleRoutes(app: FastifyInstance, r: KeystoneRoutes): void {
  const { ks, v3, roleBody, domainOf, projectOf, userOf, groupOf, roleOf } = identityKit(r);

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
}
