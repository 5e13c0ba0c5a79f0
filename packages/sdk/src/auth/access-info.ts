import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { AccessInfo, CatalogEntry, NamedRef, ScopedRef, ServiceProviderInfo } from './types.ts';

type Json = Record<string, unknown>;

function obj(v: unknown): Json | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined;
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function named(v: unknown): NamedRef | undefined {
  const o = obj(v);
  const id = str(o?.id);
  if (!o || id === undefined) return undefined;
  return { id, name: str(o.name) };
}
function scoped(v: unknown): ScopedRef | undefined {
  const base = named(v);
  if (!base) return undefined;
  return { ...base, domain: named(obj(v)?.domain) };
}

function catalogOf(v: unknown): CatalogEntry[] {
  if (!Array.isArray(v)) return [];
  const out: CatalogEntry[] = [];
  for (const item of v) {
    const e = obj(item);
    const type = str(e?.type);
    if (!e || !type) continue;
    const endpoints = Array.isArray(e.endpoints) ? e.endpoints : [];
    out.push({
      type,
      name: str(e.name),
      id: str(e.id),
      endpoints: endpoints.flatMap((ep) => {
        const p = obj(ep);
        const url = str(p?.url);
        const iface = str(p?.interface);
        if (!p || !url || !iface) return [];
        const regionId = str(p.region_id);
        return [{ id: str(p.id), interface: iface, region: str(p.region) ?? regionId ?? '', region_id: regionId, url }];
      }),
    });
  }
  return out;
}

function serviceProvidersOf(v: unknown): ServiceProviderInfo[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((item) => {
    const o = obj(item);
    const id = str(o?.id);
    const authUrl = str(o?.auth_url);
    const spUrl = str(o?.sp_url);
    return id && authUrl && spUrl ? [{ id, auth_url: authUrl, sp_url: spUrl }] : [];
  });
}

/** Build AccessInfo from a Keystone v3 token response (`{"token": {...}}`) and the X-Subject-Token value. */
export function accessInfoFromTokenBody(body: unknown, token: string, identityUrl: string): AccessInfo {
  const t = obj(obj(body)?.token);
  const expires = str(t?.expires_at);
  const user = scoped(t?.user);
  if (!t || !expires || !user) {
    throw new OcxError(ErrorCode.INVALID_RESPONSE, 'Keystone token response lacks token.expires_at or token.user', {
      service: 'identity',
    });
  }
  const expiresAt = new Date(expires);
  if (Number.isNaN(expiresAt.getTime())) {
    throw new OcxError(ErrorCode.INVALID_RESPONSE, `Keystone token expires_at is not a date: ${expires}`, {
      service: 'identity',
    });
  }
  const issued = str(t.issued_at);
  const fed = obj(obj(t.user)?.['OS-FEDERATION']);
  const project = scoped(t.project);
  const domain = named(t.domain);
  const system = obj(t.system) ? true : undefined;
  return {
    token,
    expiresAt,
    issuedAt: issued ? new Date(issued) : undefined,
    methods: Array.isArray(t.methods) ? t.methods.filter((m): m is string => typeof m === 'string') : [],
    user,
    project,
    domain,
    system,
    roles: Array.isArray(t.roles) ? t.roles.flatMap((r) => named(r) ?? []) : [],
    catalog: catalogOf(t.catalog),
    serviceProviders: serviceProvidersOf(t.service_providers),
    identityUrl: identityUrl.replace(/\/+$/, ''),
    federation: fed
      ? {
          identityProvider: str(obj(fed.identity_provider)?.id) ?? '',
          protocol: str(obj(fed.protocol)?.id) ?? '',
        }
      : undefined,
    unscoped: !project && !domain && !system,
  };
}

/**
 * True when the token expires within `marginMs` (or already has). The margin is capped at half the token's
 * lifetime, so a Keystone with short-lived tokens (say 2 minutes) does not make every call re-authenticate.
 */
export function expiresSoon(access: AccessInfo, marginMs: number, now = Date.now()): boolean {
  const expires = access.expiresAt.getTime();
  const lifetime = access.issuedAt ? expires - access.issuedAt.getTime() : Number.POSITIVE_INFINITY;
  const margin = lifetime > 0 ? Math.min(marginMs, lifetime / 2) : marginMs;
  return expires - margin <= now;
}
