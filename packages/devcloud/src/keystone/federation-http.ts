/** What the federation route files share: the bodies they render, input checks, the IdP create path. */
import type { FastifyRequest } from 'fastify';
import { badRequest, conflict, notFound } from './errors.ts';
import type { Federation, IdentityProvider, Mapping, Protocol, ServiceProvider } from './federation.ts';
import { headerValue } from './http.ts';
import { newId } from './model.ts';

export function spBody(sp: ServiceProvider, v3: string): Record<string, unknown> {
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
export function idpBody(idp: IdentityProvider, v3: string): Record<string, unknown> {
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
export function mappingBody(m: Mapping, v3: string): Record<string, unknown> {
  return {
    id: m.id,
    rules: m.rules,
    schema_version: m.schema_version,
    links: { self: `${v3}/OS-FEDERATION/mappings/${m.id}` },
  };
}
export function protocolBody(p: Protocol, v3: string): Record<string, unknown> {
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
export const str = (v: unknown, field: string): string => {
  if (typeof v !== 'string' || v === '') throw badRequest(`Invalid input for field '${field}': expected a string.`);
  return v;
};
export const optBool = (v: unknown, field: string, dflt: boolean): boolean => {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw badRequest(`Invalid input for field '${field}': expected a boolean.`);
  return v;
};
export const isUrl = (v: string): boolean => /^https?:\/\/[^\s]+$/.test(v);

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = headerValue(req, 'cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...rest] = part.trim().split('=');
    if (k === name) return rest.join('=');
  }
  return undefined;
}
export function remoteIds(fed: Federation, value: unknown, selfId: string): string[] {
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
