import { canonicalServiceType } from '../wire/service-types.ts';
import { configError } from './errors.ts';
import { describe } from './files.ts';
import { gatewayOf } from './gateway.ts';
import { authUpdate, type Dict, expandTemplate, isDict, magicFixes, normalizeKeys, toBoolean } from './normalize.ts';
import { SERVICE_KEY_SUFFIXES } from './schema.ts';
import { type ConfigSources, checkEntry, fail, findProfile, knownRegions, originOf } from './sources.ts';
import type { AuthConfig, AuthType, CloudConfig, FederationConfig, ServiceConfig } from './types.ts';
import {
  applyDefaultDomain,
  checkAuth,
  normalizeInterface,
  normalizeNetworks,
  SUPPORTED_AUTH_TYPES,
  str,
} from './validate.ts';

// Kept for the loader and anyone importing them from here: the per-source helpers now live in sources.ts.
export { type ConfigSources, ENV_SOURCE, findProfile, knownRegions } from './sources.ts';

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
  'gateway',
]);

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

  if (!federation) checkAuth(auth, authType, origin, name, src, entry, profile, isDict(config.gateway));
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
  if (isDict(config.gateway)) {
    if (federation)
      throw fail(origin, name, 'gateway', 'a cloud reached through a gateway cannot also name federation');
    result.gateway = gatewayOf(config.gateway, name, (key, problem) => fail(origin, name, key, problem));
  }
  if (origin.file) result.sourceFile = origin.file;
  return result;
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
