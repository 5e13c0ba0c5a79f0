/**
 * Keystone-to-Keystone federation, both sides, as real Keystone + mod_auth_mellon serve it.
 *
 * IdP: service providers CRUD, `service_providers` in tokens, signed SAML2 assertions
 *   (POST /v3/auth/OS-FEDERATION/saml2[/ecp]) and the metadata with the signing certificate.
 * SP: identity providers (remote_ids), mappings, protocols; the ECP consumer at /v3/mellon/paosResponse
 *   (verify signature against the IdP metadata certificate, Recipient/Destination/Audience, validity window,
 *   replay) → 303 + session cookie; then .../identity_providers/{idp}/protocols/{protocol}/auth issues an
 *   unscoped federated token from the mapping rules.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from '../fault.ts';
import { badRequest, conflict, forbidden, notFound, unauthorized } from './errors.ts';
import { bodyObject, caller, headerValue, type KeystoneRoutes, requireAdmin } from './http.ts';
import { applyMapping, type MappingRule, validateRules } from './mapping.ts';
import { type Keystone, newId } from './model.ts';
import { collection, renderTokenBody } from './render.ts';
import type { VerifiedAssertion } from './saml.ts';
import { SamlError } from './saml-error.ts';

/** xml-crypto, xmldom and xpath load on the first SAML operation, not at start (memory, start time). */
const saml = () => import('./saml.ts');

import { newSigningIdentity, type SigningIdentity } from './x509.ts';

export interface ServiceProvider {
  id: string;
  auth_url: string;
  sp_url: string;
  description: string;
  enabled: boolean;
  relay_state_prefix: string;
}
export interface IdentityProvider {
  id: string;
  remote_ids: string[];
  enabled: boolean;
  description: string;
  domain_id: string;
}
export interface Mapping {
  id: string;
  rules: MappingRule[];
  schema_version: string;
}
export interface Protocol {
  /** `${idp}:${protocol}` */
  id: string;
  idp_id: string;
  protocol_id: string;
  mapping_id: string;
  remote_id_attribute: string | null;
}
interface TrustedIdp {
  /** The IdP's entity id (Issuer). */
  id: string;
  metadataUrl?: string;
  certs: string[];
}
interface SamlSession {
  /** sha256 of the cookie value. */
  id: string;
  issuer: string;
  nameId: string;
  attributes: Record<string, string[]>;
  expiresAt: string;
}
interface SeenAssertion {
  id: string;
  expiresAt: string;
}
interface SigningRow extends SigningIdentity {
  id: string;
}

export const RELAY_STATE_PREFIX_K2K = '/identity/v3/OS-FEDERATION/k2k-relay/';
const COOKIE = 'mellon-cookie';
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

export class Federation {
  readonly ks: Keystone;
  readonly serviceProviders;
  readonly identityProviders;
  readonly mappings;
  readonly protocols;
  private readonly trusted;
  private readonly sessions;
  private readonly seen;
  private readonly signingRows;
  private signing: Promise<SigningIdentity> | undefined;
  /** e.g. http://127.0.0.1:PORT/identity/v3 (known once the cloud listens). */
  v3: () => string = () => '';
  assertionTtlSeconds = 3600;

  constructor(ks: Keystone, store: import('../context.ts').StateStore) {
    this.ks = ks;
    this.serviceProviders = store.table<ServiceProvider>('federation_service_providers');
    this.identityProviders = store.table<IdentityProvider>('federation_identity_providers');
    this.mappings = store.table<Mapping>('federation_mappings');
    this.protocols = store.table<Protocol>('federation_protocols');
    this.trusted = store.table<TrustedIdp>('federation_trusted_idps');
    this.sessions = store.table<SamlSession>('federation_saml_sessions');
    this.seen = store.table<SeenAssertion>('federation_seen_assertions');
    this.signingRows = store.table<SigningRow>('federation_signing');
    ks.serviceProviders = () =>
      this.serviceProviders.filter((s) => s.enabled).map((s) => ({ auth_url: s.auth_url, id: s.id, sp_url: s.sp_url }));
  }

  // ------------------------------------------------------------ IdP

  entityId(): string {
    return `${this.v3()}/OS-FEDERATION/saml2/idp`;
  }
  metadataUrl(): string {
    return `${this.v3()}/OS-FEDERATION/saml2/metadata`;
  }
  /** The signing key and certificate: made on first use, kept in the store (stable across restarts with --state). */
  signingIdentity(): Promise<SigningIdentity> {
    if (!this.signing) {
      const row = this.signingRows.get('default');
      this.signing = row
        ? Promise.resolve(row)
        : newSigningIdentity('devcloud-keystone-idp').then((id) => {
            this.signingRows.put({ id: 'default', ...id });
            return id;
          });
    }
    return this.signing;
  }

  putServiceProvider(id: string, sp: Omit<ServiceProvider, 'id'>): ServiceProvider {
    const row = { id, ...sp };
    this.serviceProviders.put(row);
    return row;
  }

  // ------------------------------------------------------------ SP

  spUrl(): string {
    return `${this.v3()}/mellon/paosResponse`;
  }
  authUrl(idpId: string, protocol = 'saml2'): string {
    return `${this.v3()}/OS-FEDERATION/identity_providers/${idpId}/protocols/${protocol}/auth`;
  }

  /** Trust an IdP's signing certificate, from its metadata URL (fetched on first use) or given directly. */
  trustIdp(entityId: string, source: { metadataUrl?: string; certs?: string[] }): void {
    this.trusted.put({
      id: entityId,
      ...(source.metadataUrl ? { metadataUrl: source.metadataUrl } : {}),
      certs: source.certs ?? [],
    });
  }

  private async fetchMetadata(entityId: string, url: string): Promise<string[]> {
    const res = await fetch(url, {
      signal: AbortSignal.timeout(5000),
      headers: { accept: 'application/samlmetadata+xml, text/xml' },
    });
    if (!res.ok) throw new SamlError(`Could not fetch the identity provider metadata (HTTP ${res.status}).`);
    const md = (await saml()).certificatesFromMetadata(await res.text());
    if (md.entityId !== entityId) throw new SamlError('The identity provider metadata names another entity.');
    return md.certs;
  }

  /** Certificates trusted for an Issuer; `refresh` refetches the metadata (the IdP may have a new key). */
  async certsFor(issuer: string, refresh = false): Promise<string[] | undefined> {
    let t = this.trusted.get(issuer);
    if (!t) {
      // An issuer registered as remote_id of an enabled identity provider, with Keystone's IdP URL layout:
      // trust its published metadata (the admin's registration of the IdP is the trust decision).
      const registered = this.identityProviders.filter((i) => i.enabled && i.remote_ids.includes(issuer)).length > 0;
      if (!registered || !/^https?:\/\/.+\/OS-FEDERATION\/saml2\/idp$/.test(issuer)) return undefined;
      t = { id: issuer, metadataUrl: issuer.replace(/\/idp$/, '/metadata'), certs: [] };
    }
    if ((t.certs.length === 0 || refresh) && t.metadataUrl) {
      try {
        t = { ...t, certs: await this.fetchMetadata(issuer, t.metadataUrl) };
      } catch (err) {
        if (err instanceof SamlError) throw err;
        throw new SamlError('Could not fetch the identity provider metadata.');
      }
      this.trusted.put(t);
    }
    return t.certs;
  }

  async consumeAssertion(xml: string): Promise<{ cookie: string; relayState?: string; session: SamlSession }> {
    const opts = {
      spUrls: [this.spUrl()],
      audiences: [this.spUrl(), `${this.v3()}/mellon/metadata`],
    };
    const { verifyResponse } = await saml();
    let verified: VerifiedAssertion;
    try {
      verified = await verifyResponse(xml, { ...opts, certsFor: (i) => this.certsFor(i) });
    } catch (err) {
      if (!(err instanceof SamlError) || !/signature verification failed/.test(err.message)) throw err;
      // Maybe the IdP has a new key since we fetched its metadata: refetch once.
      verified = await verifyResponse(xml, { ...opts, certsFor: (i) => this.certsFor(i, true) });
    }
    const now = Date.now();
    for (const s of this.seen.filter((r) => new Date(r.expiresAt).getTime() < now - 120_000)) this.seen.delete(s.id);
    const seenId = sha256(`${verified.issuer}\n${verified.id}`);
    if (this.seen.get(seenId))
      throw new SamlError('SAML assertion rejected: replayed (this assertion was already used).');
    this.seen.put({ id: seenId, expiresAt: verified.notOnOrAfter.toISOString() });
    const cookie = randomBytes(24).toString('hex');
    const expires = Math.min(verified.notOnOrAfter.getTime(), now + this.ks.tokenTtlSeconds * 1000);
    const session: SamlSession = {
      id: sha256(cookie),
      issuer: verified.issuer,
      nameId: verified.nameId,
      attributes: verified.attributes,
      expiresAt: new Date(expires).toISOString(),
    };
    for (const s of this.sessions.filter((r) => new Date(r.expiresAt).getTime() < now)) this.sessions.delete(s.id);
    this.sessions.put(session);
    return { cookie, ...(verified.relayState !== undefined ? { relayState: verified.relayState } : {}), session };
  }

  session(cookie: string | undefined): SamlSession | undefined {
    if (!cookie) return undefined;
    const s = this.sessions.get(sha256(cookie));
    if (!s || new Date(s.expiresAt).getTime() <= Date.now()) return undefined;
    return s;
  }

  /** Mapping → shadow user + groups → unscoped federated token. */
  federatedLogin(
    idpId: string,
    protocolId: string,
    session: SamlSession,
  ): { token: string; row: import('./model.ts').TokenRow } {
    const idp = this.identityProviders.get(idpId);
    if (!idp) throw notFound('Identity Provider', idpId);
    if (!idp.enabled) throw forbidden('identity:authenticate (identity provider disabled)');
    if (!idp.remote_ids.includes(session.issuer)) {
      throw unauthorized('The assertion was issued by an identity provider other than this one (remote_ids).');
    }
    const proto = this.protocols.get(`${idpId}:${protocolId}`);
    if (!proto) throw notFound('federated protocol', protocolId);
    const mapping = this.mappings.get(proto.mapping_id);
    if (!mapping) throw notFound('mapping', proto.mapping_id);
    const attrs: Record<string, string[]> = { MELLON_IDP: [session.issuer], MELLON_NAME_ID: [session.nameId] };
    for (const [k, v] of Object.entries(session.attributes)) {
      attrs[k] = v;
      attrs[`MELLON_${k}`] = v;
    }
    const mapped = applyMapping(mapping.rules, attrs);
    if (!mapped.user) throw unauthorized('Could not map any identity from the assertion (no mapping rule matched).');
    const groupIds = new Set<string>(mapped.groupIds.filter((id) => this.ks.groups.get(id)));
    for (const g of mapped.groupNames) {
      const domain = this.ks.findDomain(g.domain) ?? this.ks.domains.get('default');
      const group = domain
        ? this.ks.groups.filter((x) => x.name === g.name && x.domain_id === domain.id)[0]
        : undefined;
      if (group) groupIds.add(group.id);
    }
    let userId: string;
    if (mapped.user.type === 'local') {
      const domain = this.ks.findDomain(mapped.user.domain ?? { id: 'default' });
      const local = domain ? this.ks.findUserByName(mapped.user.name, domain.id) : undefined;
      if (!local) throw unauthorized('The mapped local user does not exist.');
      userId = local.id;
    } else {
      const uniqueId = mapped.user.id ?? mapped.user.name;
      userId = sha256(`${idpId}\n${uniqueId}`);
      const existing = this.ks.users.get(userId);
      this.ks.users.put({
        ...(existing ?? {}),
        id: userId,
        name: mapped.user.name,
        domain_id: idp.domain_id,
        enabled: existing?.enabled ?? true,
        federated: { idpId, protocolId, uniqueId },
      });
    }
    return this.ks.issueFederated(userId, { idpId, protocolId, groupIds: [...groupIds] });
  }
}

// ------------------------------------------------------------------ routes

function spBody(sp: ServiceProvider, v3: string): Record<string, unknown> {
  return {
    auth_url: sp.auth_url,
    description: sp.description,
    enabled: sp.enabled,
    id: sp.id,
    relay_state_prefix: sp.relay_state_prefix,
    sp_url: sp.sp_url,
    links: { self: `${v3}/OS-FEDERATION/service_providers/${sp.id}` },
  };
}
function idpBody(idp: IdentityProvider, v3: string): Record<string, unknown> {
  return {
    authorization_ttl: null,
    description: idp.description,
    domain_id: idp.domain_id,
    enabled: idp.enabled,
    id: idp.id,
    remote_ids: idp.remote_ids,
    links: {
      protocols: `${v3}/OS-FEDERATION/identity_providers/${idp.id}/protocols`,
      self: `${v3}/OS-FEDERATION/identity_providers/${idp.id}`,
    },
  };
}
function mappingBody(m: Mapping, v3: string): Record<string, unknown> {
  return {
    id: m.id,
    rules: m.rules,
    schema_version: m.schema_version,
    links: { self: `${v3}/OS-FEDERATION/mappings/${m.id}` },
  };
}
function protocolBody(p: Protocol, v3: string): Record<string, unknown> {
  return {
    id: p.protocol_id,
    mapping_id: p.mapping_id,
    remote_id_attribute: p.remote_id_attribute,
    links: {
      identity_provider: `${v3}/OS-FEDERATION/identity_providers/${p.idp_id}`,
      self: `${v3}/OS-FEDERATION/identity_providers/${p.idp_id}/protocols/${p.protocol_id}`,
    },
  };
}

const str = (v: unknown, field: string): string => {
  if (typeof v !== 'string' || v === '') throw badRequest(`Invalid input for field '${field}': expected a string.`);
  return v;
};
const optBool = (v: unknown, field: string, dflt: boolean): boolean => {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw badRequest(`Invalid input for field '${field}': expected a boolean.`);
  return v;
};
const isUrl = (v: string): boolean => /^https?:\/\/[^\s]+$/.test(v);

function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = headerValue(req, 'cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...rest] = part.trim().split('=');
    if (k === name) return rest.join('=');
  }
  return undefined;
}

export function federationRoutes(fed: Federation) {
  return (app: FastifyInstance, r: KeystoneRoutes): void => {
    const { ks } = r;
    fed.v3 = r.v3;
    for (const type of ['application/vnd.paos+xml', 'text/xml', 'application/xml', 'application/samlassertion+xml']) {
      app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
        done(null, body),
      );
    }

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
  };
}

function remoteIds(fed: Federation, value: unknown, selfId: string): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw badRequest("Invalid input for field 'identity_provider/remote_ids': expected a list of strings.");
  }
  for (const other of fed.identityProviders.all()) {
    if (other.id !== selfId && other.remote_ids.some((id) => value.includes(id))) {
      throw conflict('identity_provider', 'Duplicate remote ID');
    }
  }
  return value;
}

/** Create an identity provider; without domain_id a domain is made for it (as Keystone does). */
export function createIdentityProvider(fed: Federation, id: string, b: Record<string, unknown>): IdentityProvider {
  let domainId = typeof b.domain_id === 'string' ? b.domain_id : undefined;
  if (domainId && !fed.ks.domains.get(domainId)) throw notFound('domain', domainId);
  if (!domainId) {
    domainId = newId();
    fed.ks.domains.put({
      id: domainId,
      name: domainId,
      description: `Auto generated federated domain for Identity Provider: ${id}`,
      enabled: true,
    });
  }
  const row: IdentityProvider = {
    id,
    remote_ids: b.remote_ids === undefined ? [] : remoteIds(fed, b.remote_ids, id),
    enabled: optBool(b.enabled, 'identity_provider/enabled', false),
    description: typeof b.description === 'string' ? b.description : '',
    domain_id: domainId,
  };
  fed.identityProviders.put(row);
  return row;
}
