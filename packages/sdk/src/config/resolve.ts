import type { OcxError } from '../errors/ocx-error.ts';
import { canonicalServiceType } from '../wire/service-types.ts';
import { envVarForKey } from './env.ts';
import { configError, locate } from './errors.ts';
import type { ConfigFile } from './files.ts';
import { describe } from './files.ts';
import { authUpdate, type Dict, expandTemplate, isDict, magicFixes, normalizeKeys, toBoolean } from './normalize.ts';
import { cloudEntrySchema, keyPath, SERVICE_KEY_SUFFIXES } from './schema.ts';
import type { AuthConfig, AuthType, CloudConfig, FederationConfig, Interface, ServiceConfig } from './types.ts';

/** Everything the loader read, as the resolver needs it. */
export interface ConfigSources {
  cloudsFile?: ConfigFile | undefined;
  secureFile?: ConfigFile | undefined;
  publicFile?: ConfigFile | undefined;
  /** clouds.yaml merged with secure.yaml, plus the envvars cloud. */
  clouds: Dict;
  /** Name of the cloud built from OS_* variables ('envvars' unless OS_CLOUD_NAME says otherwise). */
  envKey: string;
  envCloud?: Dict | undefined;
  /** Domain assumed for users and projects given by name without a domain (python-openstackclient's 'default'). */
  defaultDomain: string;
  /** Problems that do not stop loading (unknown profile, ...). */
  warnings: string[];
}

export const ENV_SOURCE = 'environment (OS_* variables)';

const SUPPORTED_AUTH_TYPES: readonly AuthType[] = [
  'password',
  'v3password',
  'token',
  'v3token',
  'v3applicationcredential',
  'applicationcredential',
];

/** Auth-plugin options users may also write at the top level of a cloud (or set as OS_* variables). */
const AUTH_OPTIONS = [
  'auth_url',
  'username',
  'user_id',
  'password',
  'user_domain_name',
  'user_domain_id',
  'project_name',
  'project_id',
  'project_domain_name',
  'project_domain_id',
  'domain_name',
  'domain_id',
  'token',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
  'system_scope',
  'trust_id',
  'default_domain_id',
  'default_domain_name',
];

/** Top-level keys OCX turns into typed CloudConfig fields (everything else lands in `extra`). */
const CONSUMED = new Set([
  'auth',
  'auth_type',
  'profile',
  'cloud',
  'region_name',
  'regions',
  'interface',
  'identity_api_version',
  'verify',
  'insecure',
  'cacert',
  'cert',
  'key',
  'api_timeout',
  'federation',
]);

interface Origin {
  file: string | undefined;
  isEnv: boolean;
}

function originOf(src: ConfigSources, name: string): Origin {
  if (name === src.envKey && src.envCloud) return { file: ENV_SOURCE, isEnv: true };
  const inClouds = isDict(src.cloudsFile?.data.clouds) && name in (src.cloudsFile.data.clouds as Dict);
  if (inClouds) return { file: src.cloudsFile?.path, isEnv: false };
  return { file: src.secureFile?.path ?? src.cloudsFile?.path, isEnv: false };
}

function fail(origin: Origin, cloud: string, key: string | undefined, problem: string): OcxError {
  const shownKey = key && origin.isEnv ? envVarForKey(key) : key;
  return configError(`${locate(origin.file, cloud, shownKey)}: ${problem}`, {
    file: origin.file,
    cloud,
    key: shownKey,
  });
}

/** Check one file's entry for a cloud against the schema; the first problem becomes the error. */
function checkEntry(entry: unknown, origin: Origin, cloud: string, prefix = ''): void {
  const result = cloudEntrySchema.safeParse(entry);
  if (result.success) return;
  const issue = result.error.issues[0]!;
  const key = keyPath(issue.path);
  throw fail(origin, cloud, prefix + key || undefined, issue.message);
}

/** The regions a cloud declares, as `{name, values}` (from `regions`, `region_name`, or its profile). */
export function knownRegions(entry: Dict, profile: Dict | undefined): Array<{ name: string; values: Dict }> {
  const fromEntry = (e: Dict): Array<{ name: string; values: Dict }> | undefined => {
    if (Array.isArray(e.regions)) {
      return e.regions.map((r) =>
        typeof r === 'string'
          ? { name: r, values: {} }
          : { name: String((r as Dict).name), values: isDict((r as Dict).values) ? ((r as Dict).values as Dict) : {} },
      );
    }
    if (Array.isArray(e.region_name)) return e.region_name.map((n) => ({ name: String(n), values: {} }));
    if (typeof e.region_name === 'string' && e.region_name !== '') {
      return e.region_name.split(',').map((n) => ({ name: n.trim(), values: {} }));
    }
    return undefined;
  };
  return fromEntry(entry) ?? (profile ? fromEntry(profile) : undefined) ?? [];
}

/** The profile a cloud names (`profile:`, or the deprecated `cloud:`), looked up in clouds-public.yaml. */
export function findProfile(src: ConfigSources, name: string, entry: Dict): Dict | undefined {
  const profileName = entry.profile ?? entry.cloud;
  if (typeof profileName !== 'string' || profileName === '' || profileName === src.envKey) return undefined;
  const table = src.publicFile?.data['public-clouds'];
  if (isDict(table) && isDict(table[profileName])) {
    const profile = table[profileName] as Dict;
    checkEntry(profile, { file: src.publicFile?.path, isEnv: false }, profileName);
    return profile;
  }
  const msg =
    `cloud '${name}' uses profile '${profileName}', which is not defined in ` +
    `${src.publicFile ? src.publicFile.path : 'any clouds-public.yaml'}; OCX bundles no vendor profiles`;
  if (!src.warnings.includes(msg)) src.warnings.push(msg);
  return undefined;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  return String(v);
}

function normalizeInterface(v: unknown): Interface | undefined {
  const s = str(v);
  if (s === undefined) return undefined;
  const base = s.replace(/URL$/, '');
  if (base === 'public' || base === 'internal' || base === 'admin') return base;
  return undefined;
}

/**
 * Resolve one cloud + region into a CloudConfig, applying openstacksdk's precedence:
 * defaults < profile (clouds-public.yaml) < clouds.yaml < secure.yaml < region `values`.
 */
export function resolveCloud(
  src: ConfigSources,
  name: string,
  requestedRegion: string | undefined,
  resolving: Set<string> = new Set(),
  overrides: Dict | undefined = undefined,
): CloudConfig {
  const rawEntry = src.clouds[name];
  const origin = originOf(src, name);
  if (rawEntry === undefined) {
    const names = Object.keys(src.clouds);
    throw configError(
      `cloud '${name}' is not defined` +
        (names.length
          ? ` (defined: ${names.join(', ')}${src.cloudsFile ? ` in ${src.cloudsFile.path}` : ''})`
          : ' (no clouds.yaml was found and no OS_* variables are set)'),
      { cloud: name, file: src.cloudsFile?.path },
    );
  }
  // Check each source's own entry so the error names the file the user must edit.
  if (origin.isEnv) checkEntry(rawEntry, origin, name);
  else {
    const fromClouds = isDict(src.cloudsFile?.data.clouds) ? (src.cloudsFile.data.clouds as Dict)[name] : undefined;
    const fromSecure = isDict(src.secureFile?.data.clouds) ? (src.secureFile.data.clouds as Dict)[name] : undefined;
    if (fromClouds !== undefined) checkEntry(fromClouds, { file: src.cloudsFile?.path, isEnv: false }, name);
    if (fromSecure !== undefined) checkEntry(fromSecure, { file: src.secureFile?.path, isEnv: false }, name);
  }
  if (!isDict(rawEntry))
    throw fail(origin, name, undefined, `expected a mapping of cloud settings, got ${describe(rawEntry)}`);
  const entry = normalizeKeys(rawEntry);
  const profile = findProfile(src, name, entry);

  // defaults < profile < cloud entry
  const config: Dict = { interface: 'public', identity_api_version: '3', auth: {} };
  if (profile) authUpdate(config, normalizeKeys(profile));
  authUpdate(config, entry);

  // region: the requested one must be declared (when the cloud declares any); default is the first.
  const regions = knownRegions(entry, profile ? normalizeKeys(profile) : undefined);
  let region = regions[0] ?? { name: '', values: {} };
  if (requestedRegion !== undefined && requestedRegion !== '') {
    const match = regions.find((r) => r.name === requestedRegion);
    if (match) region = match;
    else if (regions.length === 0) region = { name: requestedRegion, values: {} };
    else
      throw fail(
        origin,
        name,
        'region_name',
        `region '${requestedRegion}' is not a region of this cloud; expected one of ${regions.map((r) => r.name).join(', ')} (region names are case sensitive)`,
      );
  }
  delete config.regions;
  delete config.profile;
  delete config.cloud;
  authUpdate(config, normalizeKeys(region.values));
  config.region_name = region.name;
  if (overrides) applyOverrides(config, normalizeKeys(overrides));
  magicFixes(config);
  config.auth_type ??= 'password';

  const auth = config.auth as Dict;
  // Auth options written at the top level move into auth (a value already inside auth wins).
  for (const opt of AUTH_OPTIONS) {
    if (opt in config) {
      if (auth[opt] === undefined && config[opt] !== undefined && config[opt] !== '') auth[opt] = config[opt];
      delete config[opt];
    }
  }
  for (const [k, v] of Object.entries(auth)) if (typeof v === 'number') auth[k] = String(v);

  // Templates such as https://{region_name}.example.com (profiles use them); never touch the password.
  const vars: Dict = { ...config };
  for (const [k, v] of Object.entries(config)) if (typeof v === 'string') config[k] = expandTemplate(v, vars);
  if (typeof auth.auth_url === 'string') auth.auth_url = expandTemplate(auth.auth_url, vars);

  // federation (OCX extension): reach this cloud through K2K from a home cloud.
  let federation: FederationConfig | undefined;
  if (isDict(config.federation)) {
    const f = config.federation;
    const homeName = String(f.home_cloud);
    if (homeName === name) throw fail(origin, name, 'federation.home_cloud', 'a cloud cannot be its own home cloud');
    if (!(homeName in src.clouds))
      throw fail(
        origin,
        name,
        'federation.home_cloud',
        `expected the name of a defined cloud, got '${homeName}' (defined: ${Object.keys(src.clouds).join(', ')})`,
      );
    if (resolving.has(homeName)) throw fail(origin, name, 'federation.home_cloud', 'home clouds form a loop');
    resolving.add(name);
    const home = resolveCloud(src, homeName, undefined, resolving);
    if (home.federation)
      throw fail(
        origin,
        name,
        'federation.home_cloud',
        `home cloud '${homeName}' is itself federated; expected a cloud with its own credentials`,
      );
    federation = {
      homeCloud: homeName,
      serviceProvider: String(f.service_provider),
      remoteProjectName: str(f.remote_project_name),
      remoteProjectId: str(f.remote_project_id),
      remoteProjectDomainName: str(f.remote_project_domain_name),
      remoteProjectDomainId: str(f.remote_project_domain_id),
      home,
    };
  }

  const authType = String(config.auth_type) as AuthType;
  if (!SUPPORTED_AUTH_TYPES.includes(authType)) {
    throw fail(
      origin,
      name,
      'auth_type',
      `auth type '${authType}' is not supported by OCX; expected one of ${SUPPORTED_AUTH_TYPES.join(', ')}`,
    );
  }
  const identityApiVersion = String(config.identity_api_version).replace(/^v/, '');
  if (!identityApiVersion.startsWith('3'))
    throw fail(
      origin,
      name,
      'identity_api_version',
      `expected 3 (OCX speaks Keystone v3 only), got '${identityApiVersion}'`,
    );

  if (!federation) checkAuth(auth, authType, origin, name, src, entry, profile);
  applyDefaultDomain(auth, authType, src.defaultDomain);

  const iface = normalizeInterface(config.interface);
  if (!iface)
    throw fail(origin, name, 'interface', `expected one of public, internal, admin, got ${describe(config.interface)}`);

  // services: <service>_api_version, _endpoint_override, _service_type, _service_name, _interface, ...
  const services: Record<string, ServiceConfig> = {};
  const extra: Dict = {};
  for (const [key, value] of Object.entries(config)) {
    if (CONSUMED.has(key)) continue;
    const suffix = (Object.keys(SERVICE_KEY_SUFFIXES) as Array<keyof typeof SERVICE_KEY_SUFFIXES>).find(
      (s) => key.endsWith(s) && key.length > s.length,
    );
    if (!suffix || value === undefined || value === null) {
      extra[key] = value;
      continue;
    }
    const service = canonicalServiceType(key.slice(0, -suffix.length));
    const field = SERVICE_KEY_SUFFIXES[suffix];
    services[service] ??= {};
    const svc = services[service];
    if (field === 'interface') {
      const i = normalizeInterface(value);
      if (!i) throw fail(origin, name, key, `expected one of public, internal, admin, got ${describe(value)}`);
      svc.interface = i;
    } else {
      svc[field] = String(value);
    }
  }
  services.identity ??= {};
  services.identity.apiVersion ??= identityApiVersion;

  // TLS: verify wins over cacert; insecure is the deprecated opposite of verify.
  let verify: boolean | string = true;
  if (config.insecure !== undefined && toBoolean(config.insecure)) verify = false;
  if (config.verify !== undefined) verify = toBoolean(config.verify);
  if (verify !== false && typeof config.cacert === 'string' && config.cacert) verify = config.cacert;

  let apiTimeout: number | undefined;
  if (config.api_timeout !== undefined && config.api_timeout !== null && config.api_timeout !== '') {
    apiTimeout = Number(config.api_timeout);
    if (!Number.isFinite(apiTimeout) || apiTimeout < 0)
      throw fail(origin, name, 'api_timeout', `expected a number of seconds, got ${describe(config.api_timeout)}`);
    if (apiTimeout === 0) apiTimeout = undefined; // 0 means "no timeout" in clouds.yaml: use the SDK default deadline
  }

  normalizeNetworks(extra, (key, problem) => fail(origin, name, key, problem));

  const result: CloudConfig = {
    name,
    regionName: region.name,
    regions: regions.map((r) => r.name),
    authType,
    auth: auth as AuthConfig,
    interface: iface,
    identityApiVersion,
    services,
    verify,
    extra,
  };
  if (typeof config.cert === 'string') result.cert = config.cert;
  if (typeof config.key === 'string') result.key = config.key;
  if (apiTimeout !== undefined) result.apiTimeout = apiTimeout;
  if (federation) result.federation = federation;
  if (origin.file) result.sourceFile = origin.file;
  return result;
}

/**
 * `networks:` as openstacksdk reads it: booleans default to false, routes_ipv4/ipv6_externally default to
 * routes_externally, the deprecated external_network / internal_network become entries, every entry needs a name
 * and at most one network may be default_interface / nat_destination / nat_source.
 */
function normalizeNetworks(extra: Dict, fail: (key: string, problem: string) => OcxError): void {
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

/** Spellings whose top-level value already beats the one in `auth` (see normalize.ts fixBackwardsAuth). */
const TOP_LEVEL_WINS = new Set([
  'domain_id',
  'domain_name',
  'user_domain_id',
  'user_domain_name',
  'project_domain_id',
  'project_domain_name',
  'token',
  'auth_token',
  'project_id',
  'project_name',
  'tenant_id',
  'tenant_name',
]);

/**
 * Settings given on top of a cloud (python-openstackclient's `--os-*` options and OS_* variables next to
 * `--os-cloud`): they win over clouds.yaml, auth options included. `region_name` is chosen by the caller instead.
 */
function applyOverrides(config: Dict, overrides: Dict): void {
  const auth = config.auth as Dict;
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined || v === null || v === '' || k === 'region_name' || k === 'cloud' || k === 'cloud_name')
      continue;
    if (k === 'auth' && isDict(v)) Object.assign(auth, v);
    else if (TOP_LEVEL_WINS.has(k)) config[k] = v;
    else if (AUTH_OPTIONS.includes(k)) {
      auth[k] = v;
      delete config[k];
    } else config[k] = v;
  }
}

function checkAuth(
  auth: Dict,
  authType: AuthType,
  origin: Origin,
  name: string,
  src: ConfigSources,
  entry: Dict,
  profile: Dict | undefined,
): void {
  const has = (k: string) => auth[k] !== undefined && auth[k] !== null && auth[k] !== '';
  if (!has('auth_url')) {
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
function applyDefaultDomain(auth: Dict, authType: AuthType, fallback: string): void {
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
