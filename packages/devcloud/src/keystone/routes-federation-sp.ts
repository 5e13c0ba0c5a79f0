/** K2K SP side: identity providers, mappings, protocols; the ECP consumer and the federated token. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, conflict, notFound, unauthorized } from './errors.ts';
import { COOKIE, type Federation, type IdentityProvider, type Mapping, type Protocol } from './federation.ts';
import {
  createIdentityProvider,
  idpBody,
  isUrl,
  mappingBody,
  optBool,
  protocolBody,
  readCookie,
  remoteIds,
  str,
} from './federation-http.ts';
import { bodyObject, caller, type KeystoneRoutes, requireAdmin } from './http.ts';
import { validateRules } from './mapping.ts';
import { collection, renderTokenBody } from './render.ts';
import { SamlError } from './saml-error.ts';

export function federationSpRoutes(app: FastifyInstance, r: KeystoneRoutes, fed: Federation): void {
  const { ks } = r;

  // ---------------------------------------------------------- SP: identity providers, mappings, protocols
  const IDPS = '/v3/OS-FEDERATION/identity_providers';
  app.get(IDPS, async (req) => {
    requireAdmin(caller(ks, req), 'list_identity_providers');
    return collection(
      'identity_providers',
      fed.identityProviders.all().map((i) => idpBody(i, r.v3())),
      `${r.v3()}/OS-FEDERATION/identity_providers`,
    );
  });
  app.get(`${IDPS}/:idp`, async (req) => {
    requireAdmin(caller(ks, req), 'get_identity_provider');
    const { idp } = req.params as { idp: string };
    const row = fed.identityProviders.get(idp);
    if (!row) throw notFound('Identity Provider', idp);
    return { identity_provider: idpBody(row, r.v3()) };
  });
  app.put(`${IDPS}/:idp`, async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_identity_provider');
    const { idp } = req.params as { idp: string };
    if (fed.identityProviders.get(idp)) throw conflict('identity_provider', `Duplicate entry found with ID ${idp}`);
    const b = bodyObject(req, 'identity_provider');
    const row = createIdentityProvider(fed, idp, b);
    return reply.code(201).send({ identity_provider: idpBody(row, r.v3()) });
  });
  app.patch(`${IDPS}/:idp`, async (req) => {
    requireAdmin(caller(ks, req), 'update_identity_provider');
    const { idp } = req.params as { idp: string };
    const row = fed.identityProviders.get(idp);
    if (!row) throw notFound('Identity Provider', idp);
    const b = bodyObject(req, 'identity_provider');
    const next: IdentityProvider = {
      ...row,
      ...(b.remote_ids !== undefined ? { remote_ids: remoteIds(fed, b.remote_ids, idp) } : {}),
      ...(b.enabled !== undefined ? { enabled: optBool(b.enabled, 'identity_provider/enabled', row.enabled) } : {}),
      ...(typeof b.description === 'string' ? { description: b.description } : {}),
    };
    fed.identityProviders.put(next);
    return { identity_provider: idpBody(next, r.v3()) };
  });
  app.delete(`${IDPS}/:idp`, async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_identity_provider');
    const { idp } = req.params as { idp: string };
    if (!fed.identityProviders.delete(idp)) throw notFound('Identity Provider', idp);
    for (const p of fed.protocols.filter((x) => x.idp_id === idp)) fed.protocols.delete(p.id);
    ks.revokeWhere((t) => t.federated?.idpId === idp);
    return reply.code(204).send();
  });

  const MAPS = '/v3/OS-FEDERATION/mappings';
  app.get(MAPS, async (req) => {
    requireAdmin(caller(ks, req), 'list_mappings');
    return collection(
      'mappings',
      fed.mappings.all().map((m) => mappingBody(m, r.v3())),
      `${r.v3()}/OS-FEDERATION/mappings`,
    );
  });
  app.get(`${MAPS}/:id`, async (req) => {
    requireAdmin(caller(ks, req), 'get_mapping');
    const { id } = req.params as { id: string };
    const m = fed.mappings.get(id);
    if (!m) throw notFound('mapping', id);
    return { mapping: mappingBody(m, r.v3()) };
  });
  app.put(`${MAPS}/:id`, async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_mapping');
    const { id } = req.params as { id: string };
    if (fed.mappings.get(id)) throw conflict('mapping', `Duplicate entry found with ID ${id}`);
    const b = bodyObject(req, 'mapping');
    const m: Mapping = {
      id,
      rules: validateRules(b.rules),
      schema_version: typeof b.schema_version === 'string' ? b.schema_version : '1.0',
    };
    fed.mappings.put(m);
    return reply.code(201).send({ mapping: mappingBody(m, r.v3()) });
  });
  app.patch(`${MAPS}/:id`, async (req) => {
    requireAdmin(caller(ks, req), 'update_mapping');
    const { id } = req.params as { id: string };
    const m = fed.mappings.get(id);
    if (!m) throw notFound('mapping', id);
    const b = bodyObject(req, 'mapping');
    const next: Mapping = { ...m, ...(b.rules !== undefined ? { rules: validateRules(b.rules) } : {}) };
    fed.mappings.put(next);
    return { mapping: mappingBody(next, r.v3()) };
  });
  app.delete(`${MAPS}/:id`, async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_mapping');
    const { id } = req.params as { id: string };
    if (!fed.mappings.delete(id)) throw notFound('mapping', id);
    return reply.code(204).send();
  });

  const PROTOS = `${IDPS}/:idp/protocols`;
  app.get(PROTOS, async (req) => {
    requireAdmin(caller(ks, req), 'list_protocols');
    const { idp } = req.params as { idp: string };
    if (!fed.identityProviders.get(idp)) throw notFound('Identity Provider', idp);
    return collection(
      'protocols',
      fed.protocols.filter((p) => p.idp_id === idp).map((p) => protocolBody(p, r.v3())),
      `${r.v3()}/OS-FEDERATION/identity_providers/${idp}/protocols`,
    );
  });
  app.get(`${PROTOS}/:proto`, async (req) => {
    requireAdmin(caller(ks, req), 'get_protocol');
    const { idp, proto } = req.params as { idp: string; proto: string };
    const p = fed.protocols.get(`${idp}:${proto}`);
    if (!p) throw notFound('federated protocol', proto);
    return { protocol: protocolBody(p, r.v3()) };
  });
  app.put(`${PROTOS}/:proto`, async (req, reply) => {
    requireAdmin(caller(ks, req), 'create_protocol');
    const { idp, proto } = req.params as { idp: string; proto: string };
    if (!fed.identityProviders.get(idp)) throw notFound('Identity Provider', idp);
    if (fed.protocols.get(`${idp}:${proto}`))
      throw conflict('federation_protocol', `Duplicate entry found with ID ${proto}`);
    const b = bodyObject(req, 'protocol');
    const mappingId = str(b.mapping_id, 'protocol/mapping_id');
    if (!fed.mappings.get(mappingId)) throw notFound('mapping', mappingId);
    const p: Protocol = {
      id: `${idp}:${proto}`,
      idp_id: idp,
      protocol_id: proto,
      mapping_id: mappingId,
      remote_id_attribute: typeof b.remote_id_attribute === 'string' ? b.remote_id_attribute : null,
    };
    fed.protocols.put(p);
    return reply.code(201).send({ protocol: protocolBody(p, r.v3()) });
  });
  app.patch(`${PROTOS}/:proto`, async (req) => {
    requireAdmin(caller(ks, req), 'update_protocol');
    const { idp, proto } = req.params as { idp: string; proto: string };
    const p = fed.protocols.get(`${idp}:${proto}`);
    if (!p) throw notFound('federated protocol', proto);
    const b = bodyObject(req, 'protocol');
    const mappingId = b.mapping_id !== undefined ? str(b.mapping_id, 'protocol/mapping_id') : p.mapping_id;
    if (!fed.mappings.get(mappingId)) throw notFound('mapping', mappingId);
    const next = { ...p, mapping_id: mappingId };
    fed.protocols.put(next);
    return { protocol: protocolBody(next, r.v3()) };
  });
  app.delete(`${PROTOS}/:proto`, async (req, reply) => {
    requireAdmin(caller(ks, req), 'delete_protocol');
    const { idp, proto } = req.params as { idp: string; proto: string };
    if (!fed.protocols.delete(`${idp}:${proto}`)) throw notFound('federated protocol', proto);
    return reply.code(204).send();
  });

  // ---------------------------------------------------------- SP: ECP consumer (mod_auth_mellon's role)
  app.post('/v3/mellon/paosResponse', async (req, reply) => {
    const xml = typeof req.body === 'string' ? req.body : undefined;
    if (!xml) throw badRequest('Expected a SAML ECP response (Content-Type: application/vnd.paos+xml).');
    let consumed: Awaited<ReturnType<Federation['consumeAssertion']>>;
    try {
      consumed = await fed.consumeAssertion(xml);
    } catch (err) {
      if (err instanceof SamlError) throw badRequest(err.message);
      throw err;
    }
    const idpId = fed.identityProviders.filter((i) => i.remote_ids.includes(consumed.session.issuer))[0]?.id;
    const relay = consumed.relayState;
    const location =
      relay && (isUrl(relay) || relay.startsWith('/')) ? relay : idpId ? fed.authUrl(idpId) : `${r.v3()}/auth/tokens`;
    reply.header('Set-Cookie', `${COOKIE}=${consumed.cookie}; Version=1; Path=/; HttpOnly`);
    reply.header('Cache-Control', 'private, max-age=0, must-revalidate');
    return reply
      .code(303)
      .header('Location', location)
      .type('text/html; charset=utf-8')
      .send(`<html><body><a href="${location}">See Other</a></body></html>`);
  });

  // ---------------------------------------------------------- SP: federated authentication
  const federatedAuth = async (req: FastifyRequest, reply: FastifyReply) => {
    const { idp, proto } = req.params as { idp: string; proto: string };
    const session = fed.session(readCookie(req, COOKIE));
    if (!session) {
      throw unauthorized(
        `No SAML session: POST the IdP's ECP assertion to ${fed.spUrl()} first, then send its cookie here.`,
      );
    }
    const { token, row } = fed.federatedLogin(idp, proto, session);
    reply.header('X-Subject-Token', token);
    return reply.code(201).send(renderTokenBody(ks, row, { catalog: false }));
  };
  app.get(`${PROTOS}/:proto/auth`, federatedAuth);
  app.post(`${PROTOS}/:proto/auth`, federatedAuth);
}
