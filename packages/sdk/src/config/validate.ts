import type { OcxError } from '../errors/ocx-error.ts';
import { type Dict, isDict, toBoolean } from './normalize.ts';
import { type ConfigSources, fail, type Origin } from './sources.ts';
import type { AuthType, Interface } from './types.ts';

// Checks and normalisation of a cloud's merged settings (auth, interface, networks, default domain).
export const SUPPORTED_AUTH_TYPES: readonly AuthType[] = [
  'password',
  'v3password',
  'token',
  'v3token',
  'v3applicationcredential',
  'applicationcredential',
];

export function str(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return String(v);
}

export function normalizeInterface(v: unknown): Interface | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const base = s.replace(/URL$/, '');
  if (base === 'public' || base === 'internal' || base === 'admin') return base;
  return undefined;
}

/**
 * `networks:` as openstacksdk reads it: booleans default to false, routes_ipv4/ipv6_externally default to
 * routes_externally, the deprecated external_network / internal_network become entries, every entry needs a name
 * and at most one network may be default_interface / nat_destination / nat_source.
 */
export function normalizeNetworks(extra: Dict, fail: (key: string, problem: string) => OcxError): void {
  const legacy = (['external_network', 'internal_network'] as const).filter((k) => extra[k] !== undefined);
  if (extra.networks === undefined && legacy.length === 0) return;
  if (extra.networks !== undefined && legacy.length > 0)
    throw fail(legacy[0] as string, `use either ${legacy[0]} or networks, not both (networks replaces it)`);
  const raw = Array.isArray(extra.networks) ? (extra.networks as unknown[]) : [];
  const out: Dict[] = raw.map((entry, i) => {
    if (!isDict(entry) || typeof entry.name !== 'string' || entry.name === '')
      throw fail(`networks[${i}].name`, 'expected the name (or id) of the network');
    const routes = toBoolean(entry.routes_externally);
    return {
      ...entry,
      name: entry.name,
      routes_externally: routes,
      routes_ipv4_externally:
        entry.routes_ipv4_externally === undefined ? routes : toBoolean(entry.routes_ipv4_externally),
      routes_ipv6_externally:
        entry.routes_ipv6_externally === undefined ? routes : toBoolean(entry.routes_ipv6_externally),
      nat_source: toBoolean(entry.nat_source),
      nat_destination: toBoolean(entry.nat_destination),
      default_interface: toBoolean(entry.default_interface),
    };
  });
  for (const key of legacy) {
    const external = key === 'external_network';
    out.push({
      name: String(extra[key]),
      routes_externally: external,
      routes_ipv4_externally: external,
      routes_ipv6_externally: external,
      nat_source: false,
      nat_destination: !external,
      default_interface: external,
    });
  }
  for (const flag of ['default_interface', 'nat_destination', 'nat_source']) {
    const flagged = out.map((n, i) => [n, i] as const).filter(([n]) => n[flag] === true);
    if (flagged.length > 1) {
      const [second, i] = flagged[1] as readonly [Dict, number];
      throw fail(
        `networks[${i}].${flag}`,
        `only one network may be ${flag}; both '${String(flagged[0]?.[0].name)}' and '${String(second.name)}' are`,
      );
    }
  }
  extra.networks = out;
}

export function checkAuth(
  auth: Dict,
  authType: AuthType,
  origin: Origin,
  name: string,
  src: ConfigSources,
  entry: Dict,
  profile: Dict | undefined,
  /** A cloud behind an OCX gateway may log in with an application credential the gateway exchanges. */
  viaGateway = false,
): void {
  const has = (k: string) => auth[k] !== undefined && auth[k] !== null && auth[k] !== '';
  const exchanged = viaGateway && (authType === 'v3applicationcredential' || authType === 'applicationcredential');
  if (!has('auth_url') && !exchanged) {
    const profileName = entry.profile ?? entry.cloud;
    const hint =
      profileName && !profile ? ` (profile '${String(profileName)}' was not found, so it supplied none)` : '';
    throw fail(
      origin,
      name,
      'auth.auth_url',
      `expected the Keystone URL, e.g. https://keystone.example.com:5000/v3${hint}`,
    );
  }
  void src;
  const userKnown = has('user_id') || has('username');
  switch (authType) {
    case 'password':
    case 'v3password':
      if (!userKnown)
        throw fail(origin, name, 'auth.username', `expected username (or user_id) for auth_type ${authType}`);
      if (!has('password')) throw fail(origin, name, 'auth.password', `expected a password for auth_type ${authType}`);
      break;
    case 'token':
    case 'v3token':
      if (!has('token')) throw fail(origin, name, 'auth.token', `expected a token for auth_type ${authType}`);
      break;
    case 'v3applicationcredential':
    case 'applicationcredential':
      if (!has('application_credential_secret'))
        throw fail(origin, name, 'auth.application_credential_secret', `expected the application credential secret`);
      if (!has('application_credential_id')) {
        if (!has('application_credential_name'))
          throw fail(
            origin,
            name,
            'auth.application_credential_id',
            'expected application_credential_id, or application_credential_name with user_id or username',
          );
        if (!userKnown)
          throw fail(
            origin,
            name,
            'auth.username',
            'expected user_id or username: an application credential given by name belongs to a user',
          );
      }
      break;
  }
}

/** Users and projects named without a domain live in the default domain (python-openstackclient's behaviour). */
export function applyDefaultDomain(auth: Dict, authType: AuthType, fallback: string): void {
  const defaultId = str(auth.default_domain_id);
  const defaultName = str(auth.default_domain_name);
  delete auth.default_domain_id;
  delete auth.default_domain_name;
  const fill = (idKey: string, nameKey: string) => {
    if (str(auth[idKey]) || str(auth[nameKey])) return;
    if (defaultName && !defaultId) auth[nameKey] = defaultName;
    else auth[idKey] = defaultId ?? fallback;
  };
  if (str(auth.username) && !str(auth.user_id)) fill('user_domain_id', 'user_domain_name');
  if (str(auth.project_name) && !str(auth.project_id)) fill('project_domain_id', 'project_domain_name');
  void authType;
}
