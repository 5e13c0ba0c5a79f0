import { homedir } from 'node:os';
import { envCloudSettings } from './env.ts';
import { configError, locate } from './errors.ts';
import { type ConfigFile, candidateFiles, loadFirst } from './files.ts';
import { type Dict, deepMerge, isDict } from './normalize.ts';
import { type ConfigSources, ENV_SOURCE, findProfile, knownRegions, resolveCloud } from './resolve.ts';
import { cloudsFileSchema, keyPath, publicCloudsFileSchema } from './schema.ts';
import type { CloudConfig, FederationConfig } from './types.ts';

export interface LoadCloudsConfigOptions {
  /**
   * Candidate files tried in order instead of openstacksdk's search path (`.`, `~/.config/openstack`,
   * `/etc/openstack`). An explicit list is the caller's choice: OS_CLIENT_CONFIG_FILE / OS_CLIENT_SECURE_FILE
   * (which go first on the default search path) are not added to it. `[]` means "no such file".
   */
  files?: { clouds?: string[]; secure?: string[]; publicClouds?: string[] };
  /** Environment to read OS_* from (default: process.env). */
  env?: Record<string, string | undefined>;
  /** Directory searched first (default: process.cwd()). */
  cwd?: string;
  /** Home directory for ~/.config/openstack (default: os.homedir()). */
  home?: string;
  /** Read clouds.yaml/secure.yaml/clouds-public.yaml (default true). */
  loadYaml?: boolean;
  /** Build the `envvars` cloud from OS_* and honour OS_CLOUD etc. (default true). */
  loadEnv?: boolean;
  /** Domain for users/projects given by name only (python-openstackclient's --os-default-domain, default 'default'). */
  defaultDomain?: string;
}

export interface GetCloudOptions {
  /** Region to resolve for; must be one the cloud declares (when it declares any). Default: its first region. */
  region?: string | undefined;
  /**
   * Settings applied on top of the cloud's own (clouds.yaml keys: `password`, `project_name`, `auth_url`,
   * `interface`, `compute_api_version`, ...), as python-openstackclient applies its `--os-*` options and OS_*
   * variables to the `--os-cloud` it loads. They win over every file.
   */
  overrides?: Record<string, unknown> | undefined;
}

/** The loaded clouds.yaml world: names, defaults and per-cloud × region resolution. */
export interface CloudsConfig {
  /** The clouds.yaml file used, if any. */
  readonly cloudsFile: string | undefined;
  readonly secureFile: string | undefined;
  readonly publicCloudsFile: string | undefined;
  /** The cloud used when none is named: OS_CLOUD, else the envvars cloud, else the only cloud. */
  readonly defaultCloud: string | undefined;
  /** Non-fatal problems (e.g. an unknown profile). */
  readonly warnings: readonly string[];
  /** Names of every cloud (file clouds, then the envvars cloud). */
  cloudNames(): string[];
  /** Region names a cloud declares ([] when it names none). */
  regionsOf(name: string): string[];
  /** Resolve one cloud (default: `defaultCloud`) for one region. Throws CONFIG_INVALID naming file, cloud and key. */
  getCloud(name?: string, opts?: GetCloudOptions): CloudConfig;
  /** One CloudConfig per cloud × region (a cloud with no regions gives one with regionName ''). */
  getAllClouds(): CloudConfig[];
}

function readFile(candidates: string[], kind: 'clouds' | 'public'): ConfigFile | undefined {
  const file = loadFirst(candidates);
  if (!file) return undefined;
  const schema = kind === 'public' ? publicCloudsFileSchema : cloudsFileSchema;
  const result = schema.safeParse(file.data);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = keyPath(issue.path);
    throw configError(`${locate(file.path, undefined, key)}: ${issue.message}`, { file: file.path, key });
  }
  return file;
}

/**
 * Load clouds.yaml (+ secure.yaml merged on top, + clouds-public.yaml profiles) from openstacksdk's search path
 * and the OS_* environment. Files are read once, here; clouds are resolved (and validated) when asked for, so one
 * broken cloud never stops the others from working.
 */
export function loadCloudsConfig(opts: LoadCloudsConfigOptions = {}): CloudsConfig {
  const env = opts.env ?? process.env;
  const loadEnv = opts.loadEnv ?? true;
  const loadYaml = opts.loadYaml ?? true;
  const search = { env: loadEnv ? env : {}, cwd: opts.cwd ?? process.cwd(), home: opts.home ?? homedir() };
  const envGet = (k: string) => (loadEnv ? env[k] || undefined : undefined);

  let cloudsFile: ConfigFile | undefined;
  let secureFile: ConfigFile | undefined;
  let publicFile: ConfigFile | undefined;
  if (loadYaml) {
    const override = envGet('OS_CLIENT_CONFIG_FILE');
    const secureOverride = envGet('OS_CLIENT_SECURE_FILE');
    cloudsFile = readFile(
      opts.files?.clouds ? [...opts.files.clouds] : candidateFiles('clouds', search, override),
      'clouds',
    );
    secureFile = readFile(
      opts.files?.secure ? [...opts.files.secure] : candidateFiles('secure', search, secureOverride),
      'clouds',
    );
    publicFile = readFile(opts.files?.publicClouds ?? candidateFiles('clouds-public', search), 'public');
  }

  const fileClouds: Dict = isDict(cloudsFile?.data.clouds) ? (cloudsFile.data.clouds as Dict) : {};
  const secureClouds: Dict = isDict(secureFile?.data.clouds) ? (secureFile.data.clouds as Dict) : {};
  const clouds: Dict = deepMerge(fileClouds, secureClouds);

  const envKey = envGet('OS_CLOUD_NAME') ?? 'envvars';
  if (envKey in clouds && loadEnv) {
    throw configError(
      `${cloudsFile?.path ?? secureFile?.path}: cloud '${envKey}' is defined in the file, but that is also the name of ` +
        `the cloud built from OS_* variables (OS_CLOUD_NAME); rename one of them`,
      { file: cloudsFile?.path, cloud: envKey },
    );
  }
  const envCloud = loadEnv ? envCloudSettings(env) : undefined;
  if (envCloud) clouds[envKey] = envCloud;

  let defaultCloud = envGet('OS_CLOUD');
  if (!defaultCloud && envCloud) defaultCloud = envKey;
  const names = Object.keys(clouds);
  if (!defaultCloud && names.length === 1) defaultCloud = names[0];

  const sources: ConfigSources = {
    cloudsFile,
    secureFile,
    publicFile,
    clouds,
    envKey,
    envCloud,
    defaultDomain: opts.defaultDomain ?? envGet('OS_DEFAULT_DOMAIN') ?? 'default',
    warnings: [],
  };

  const regionsOf = (name: string): string[] => {
    const entry = clouds[name];
    if (!isDict(entry)) return [];
    const profile = findProfile(sources, name, entry);
    return knownRegions(entry, profile).map((r) => r.name);
  };

  const getCloud = (name?: string, o: GetCloudOptions = {}): CloudConfig => {
    const chosen = name ?? defaultCloud;
    if (chosen === undefined) {
      if (names.length === 0)
        throw configError(
          'no cloud is configured: no clouds.yaml was found (searched OS_CLIENT_CONFIG_FILE, ., ~/.config/openstack, ' +
            '/etc/openstack) and no OS_* variables are set',
        );
      throw configError(
        `${cloudsFile?.path ?? ENV_SOURCE}: several clouds are defined (${names.join(', ')}); choose one with OS_CLOUD or --os-cloud`,
        { file: cloudsFile?.path },
      );
    }
    return resolveCloud(sources, chosen, o.region, new Set(), o.overrides);
  };

  return {
    cloudsFile: cloudsFile?.path,
    secureFile: secureFile?.path,
    publicCloudsFile: publicFile?.path,
    defaultCloud,
    get warnings() {
      return sources.warnings;
    },
    cloudNames: () => [...names],
    regionsOf,
    getCloud,
    getAllClouds() {
      const out: CloudConfig[] = [];
      for (const name of names) {
        const regions = regionsOf(name);
        if (regions.length === 0) out.push(getCloud(name));
        else for (const region of regions) out.push(getCloud(name, { region }));
      }
      return out;
    },
  };
}

/** The `envvars` cloud alone (OS_* variables only, no files); undefined when no OS_* variable describes a cloud. */
export function cloudFromEnv(
  env: Record<string, string | undefined> = process.env,
  opts: { region?: string; defaultDomain?: string } = {},
): CloudConfig | undefined {
  const loaded = loadCloudsConfig({ env, loadYaml: false, defaultDomain: opts.defaultDomain });
  const key = env.OS_CLOUD_NAME || 'envvars';
  if (!loaded.cloudNames().includes(key)) return undefined;
  return loaded.getCloud(key, { region: opts.region });
}

/**
 * A K2K CloudConfig made on the fly (python-openstackclient's --os-service-provider and --os-remote-project-*):
 * reach `serviceProvider` through `home`'s Keystone.
 */
export function k2kCloudConfig(
  home: CloudConfig,
  fed: Omit<FederationConfig, 'homeCloud' | 'home'>,
  name: string = `${home.name}→${fed.serviceProvider}`,
): CloudConfig {
  return {
    name,
    regionName: '',
    regions: [],
    authType: home.authType,
    auth: {},
    interface: home.interface,
    identityApiVersion: '3',
    services: {},
    verify: home.verify,
    ...(home.cert ? { cert: home.cert } : {}),
    ...(home.key ? { key: home.key } : {}),
    ...(home.apiTimeout !== undefined ? { apiTimeout: home.apiTimeout } : {}),
    federation: { ...fed, homeCloud: home.name, home },
    extra: {},
  };
}
