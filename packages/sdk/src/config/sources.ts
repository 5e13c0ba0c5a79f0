import type { OcxError } from '../errors/ocx-error.ts';
import { envVarForKey } from './env.ts';
import { configError, locate } from './errors.ts';
import type { ConfigFile } from './files.ts';
import { type Dict, isDict } from './normalize.ts';
import { cloudEntrySchema, keyPath } from './schema.ts';

// Per-source resolution: which file (or the environment) a cloud comes from, its own entry checked against the
// schema, its regions and its profile. resolve.ts merges the sources; validate.ts checks the merged result.
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

export interface Origin {
  file: string | undefined;
  isEnv: boolean;
}

export function originOf(src: ConfigSources, name: string): Origin {
  if (name === src.envKey && src.envCloud) return { file: ENV_SOURCE, isEnv: true };
  const inClouds = isDict(src.cloudsFile?.data.clouds) && name in (src.cloudsFile.data.clouds as Dict);
  if (inClouds) return { file: src.cloudsFile?.path, isEnv: false };
  return { file: src.secureFile?.path ?? src.cloudsFile?.path, isEnv: false };
}

export function fail(origin: Origin, cloud: string, key: string | undefined, problem: string): OcxError {
  const shownKey = key && origin.isEnv ? envVarForKey(key) : key;
  return configError(`${locate(origin.file, cloud, shownKey)}: ${problem}`, {
    file: origin.file,
    cloud,
    key: shownKey,
  });
}

/** Check one file's entry for a cloud against the schema; the first problem becomes the error. */
export function checkEntry(entry: unknown, origin: Origin, cloud: string, prefix = ''): void {
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
