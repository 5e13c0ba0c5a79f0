/** K2K IdP side: service providers CRUD, the SAML metadata and the signed assertions (saml2, saml2/ecp). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { badRequest, conflict, forbidden, notFound, unauthorized } from './errors.ts';
import { type Federation, type ServiceProvider, saml } from './federation.ts';
import { isUrl, optBool, spBody, str } from './federation-http.ts';
import { bodyObject, caller, type KeystoneRoutes, requireAdmin } from './http.ts';
import { newId } from './model.ts';
import { collection } from './render.ts';

export function federationIdpRoutes(app: FastifyInstance, r: KeystoneRoutes, fed: Federation): void {
  const { ks } = r;

  // ---------------------------------------------------------- IdP: service providers
  const SPS = '/v3/OS-FEDERATION/service_providers';
  app.get(SPS, async (req) => {
    requireAdmin(caller(ks, req), 'list_service_providers');
    return collection(
      'service_providers',
      fed.serviceProviders.all().map((s) => spBody(s, r.v3())),
      `${r.v3()}/OS-FEDERATION/service_providers`,
    );
  });
  app.get(`${SPS}/:id`, async (req) => {
    requireAdmin(caller(ks, req), 'get_service_provider');
    const { id } = req.params as { id: string };
    const sp = fed.serviceProviders.get(id);
    if (!sp) throw notFound('Service Provider', id);
    return { service_provider: spBody(sp, r.v3()) };
  });
  app.put(`${SPS}/:id`, async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_service_provider');
    const { id } = req.params as { id: string };
    if (fed.serviceProviders.get(id)) throw conflict('service_provider', `Duplicate entry found with ID ${id}`);
    const b = bodyObject(req, 'service_provider');
    const authUrl = str(b.auth_url, 'service_provider/auth_url');
    const spUrl = str(b.sp_url, 'service_provider/sp_url');
    if (!isUrl(authUrl) || !isUrl(spUrl))
      throw badRequest("Invalid input for field 'service_provider': auth_url and sp_url must be URLs.");
    const sp = fed.putServiceProvider(id, {
      auth_url: authUrl,
      sp_url: spUrl,
      description: typeof b.description === 'string' ? b.description : '',
      enabled: optBool(b.enabled, 'service_provider/enabled', false),
      relay_state_prefix: typeof b.relay_state_prefix === 'string' ? b.relay_state_prefix : 'ss:mem:',
    });
    return reply.code(201).send({ service_provider: spBody(sp, r.v3()) });
  });
  app.patch(`${SPS}/:id`, async (req) => {
    requireAdmin(caller(ks, req), 'update_service_provider');
    const { id } = req.params as { id: string };
    const sp = fed.serviceProviders.get(id);
    if (!sp) throw notFound('Service Provider', id);
    const b = bodyObject(req, 'service_provider');
    const next: ServiceProvider = {
      ...sp,
      ...(b.auth_url !== undefined ? { auth_url: str(b.auth_url, 'service_provider/auth_url') } : {}),
      ...(b.sp_url !== undefined ? { sp_url: str(b.sp_url, 'service_provider/sp_url') } : {}),
      ...(typeof b.description === 'string' ? { description: b.description } : {}),
      ...(b.enabled !== undefined ? { enabled: optBool(b.enabled, 'service_provider/enabled', sp.enabled) } : {}),
      ...(typeof b.relay_state_prefix === 'string' ? { relay_state_prefix: b.relay_state_prefix } : {}),
    };
    fed.serviceProviders.put(next);
    return { service_provider: spBody(next, r.v3()) };
  });
  app.delete(`${SPS}/:id`, async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_service_provider');
    const { id } = req.params as { id: string };
    if (!fed.serviceProviders.delete(id)) throw notFound('Service Provider', id);
    return reply.code(204).send();
  });

  // ---------------------------------------------------------- IdP: metadata and assertions
  app.get('/v3/OS-FEDERATION/saml2/metadata', async (_req, reply) => {
    const id = await fed.signingIdentity();
    return reply
      .type('text/xml')
      .send((await saml()).idpMetadata(fed.entityId(), `${r.v3()}/OS-FEDERATION/saml2/sso`, id.certB64));
  });

  const assertion = async (req: FastifyRequest, reply: FastifyReply, ecp: boolean) => {
    const body = req.body as {
      auth?: {
        identity?: { methods?: unknown; token?: { id?: unknown } };
        scope?: { service_provider?: { id?: unknown } };
      };
    };
    const auth = body?.auth;
    const tokenId = auth?.identity?.token?.id;
    if (
      !auth ||
      !Array.isArray(auth.identity?.methods) ||
      !(auth.identity.methods as unknown[]).includes('token') ||
      typeof tokenId !== 'string'
    ) {
      throw badRequest("Invalid input for field 'auth/identity': a token is required to create a SAML assertion.");
    }
    const spId = auth.scope?.service_provider?.id;
    if (typeof spId !== 'string') throw badRequest("Invalid input for field 'auth/scope/service_provider/id'.");
    const row = ks.lookup(tokenId);
    const info = row ? ks.tokenInfo(tokenId) : undefined;
    if (!row || !info) throw unauthorized();
    if (!row.projectId) throw forbidden('Use a project scoped token when attempting to create a SAML assertion');
    const sp = fed.serviceProviders.get(spId);
    if (!sp) throw notFound('Service Provider', spId);
    if (!sp.enabled) throw new ApiFault(403, `Service provider ${spId} is disabled.`);
    const user = ks.users.get(row.userId);
    const project = ks.projects.get(row.projectId);
    if (!user || !project) throw unauthorized();
    const groups = ks
      .userGroupIds(user.id)
      .map((gid) => ks.groups.get(gid))
      .filter((g) => g !== undefined)
      .map(
        (g) =>
          `JSON:${JSON.stringify({ name: g.name, domain: { name: ks.domains.get(g.domain_id)?.name ?? g.domain_id } })}`,
      );
    const attributes: [string, string[]][] = [
      ['openstack_user', [user.name]],
      ['openstack_roles', info.roles],
      ['openstack_project', [project.name]],
      ['openstack_project_domain', [ks.domains.get(project.domain_id)?.name ?? project.domain_id]],
      ['openstack_user_domain', [ks.domains.get(user.domain_id)?.name ?? user.domain_id]],
    ];
    if (groups.length > 0) attributes.push(['openstack_groups', groups]);
    const signing = await fed.signingIdentity();
    const { buildResponse, signAssertion, ecpEnvelope } = await saml();
    const unsigned = buildResponse({
      issuer: fed.entityId(),
      recipient: sp.sp_url,
      nameId: user.name,
      attributes,
      ttlSeconds: fed.assertionTtlSeconds,
    });
    const signed = signAssertion(unsigned.xml, unsigned.assertionId, signing.keyPem, signing.certB64);
    const relayState = `${sp.relay_state_prefix}${newId()}`;
    reply.header('X-sp-url', sp.sp_url).header('X-auth-url', sp.auth_url).type('text/xml');
    return reply.code(200).send(ecp ? ecpEnvelope(signed, relayState) : signed);
  };
  app.post('/v3/auth/OS-FEDERATION/saml2', async (req, reply) => assertion(req, reply, false));
  app.post('/v3/auth/OS-FEDERATION/saml2/ecp', async (req, reply) => assertion(req, reply, true));
}
