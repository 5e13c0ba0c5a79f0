/** Keystone identity admin API: application credentials, which a user manages for themself. */
import type { FastifyInstance } from 'fastify';
import { badRequest, forbidden, notFound } from './errors.ts';
import { bodyObject, type Caller, caller, type KeystoneRoutes, queryOf } from './http.ts';
import { identityKit, optBool, optStr, params, reqStr } from './identity-kit.ts';
import { type AppCredential, keystoneTime } from './model.ts';
import { collection } from './render.ts';

export function appCredentialRoutes(app: FastifyInstance, r: KeystoneRoutes): void {
  const { ks, v3, userOf } = identityKit(r);

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
