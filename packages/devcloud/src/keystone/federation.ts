/**
 * Keystone-to-Keystone federation, both sides, as real Keystone + mod_auth_mellon serve it.
 *
 * IdP: service providers CRUD, `service_providers` in tokens, signed SAML2 assertions
 *   (POST /v3/auth/OS-FEDERATION/saml2[/ecp]) and the metadata with the signing certificate.
 * SP: identity providers (remote_ids), mappings, protocols; the ECP consumer at /v3/mellon/paosResponse
 *   (verify signature against the IdP metadata certificate, Recipient/Destination/Audience, validity window,
 *   replay) → 303 + session cookie; then .../identity_providers/{idp}/protocols/{protocol}/auth issues an
 *   unscoped federated token from the mapping rules.
 *
 * This file holds the state (the `Federation` class); the routes are in routes-federation*.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { forbidden, notFound, unauthorized } from './errors.ts';
import { applyMapping, type MappingRule } from './mapping.ts';
import type { Keystone } from './model.ts';
import type { VerifiedAssertion } from './saml.ts';
import { SamlError } from './saml-error.ts';

/** xml-crypto, xmldom and xpath load on the first SAML operation, not at start (memory, start time). */
export const saml = () => import('./saml.ts');

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
export const COOKIE = 'mellon-cookie';
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
