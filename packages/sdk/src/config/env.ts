import type { Dict } from './normalize.ts';

/** OS_* variables that choose or locate config rather than describe a cloud: alone they make no `envvars` cloud. */
const SELECTORS = new Set([
  'OS_CLOUD',
  'OS_CLOUD_NAME',
  'OS_REGION_NAME',
  'OS_CLIENT_CONFIG_FILE',
  'OS_CLIENT_SECURE_FILE',
  'OS_FORCE_IPV4',
  'OS_PREFER_IPV6',
]);

/** Never part of a cloud even when set: selectors that name files/clouds, and test-runner variables. */
const NEVER = new Set(['OS_CLOUD', 'OS_CLOUD_NAME', 'OS_CLIENT_CONFIG_FILE', 'OS_CLIENT_SECURE_FILE']);
const IGNORED_PREFIXES = ['OS_TEST', 'OS_STD', 'OS_LOG'];

/**
 * The settings of the `envvars` cloud: every OS_* variable, lower-cased without the prefix
 * (OS_AUTH_URL → auth_url, OS_PROJECT_DOMAIN_NAME → project_domain_name, OS_CACERT → cacert). Undefined when only
 * selector variables are set (then OS_CLOUD et al. choose among file clouds instead).
 */
export function envCloudSettings(env: Record<string, string | undefined>): Dict | undefined {
  const keys = Object.keys(env).filter(
    (k) =>
      k.startsWith('OS_') &&
      env[k] !== undefined &&
      env[k] !== '' &&
      !NEVER.has(k) &&
      !IGNORED_PREFIXES.some((p) => k.startsWith(p)),
  );
  if (!keys.some((k) => !SELECTORS.has(k))) return undefined;
  const out: Dict = {};
  for (const k of keys) out[k.slice(3).toLowerCase()] = env[k];
  // A token with no password and no explicit auth type means token auth, as `openstack --os-token` does.
  if (
    out.auth_type === undefined &&
    (out.token !== undefined || out.auth_token !== undefined) &&
    out.password === undefined
  ) {
    out.auth_type = 'token';
  }
  return out;
}

/** The environment variable a resolved key came from: `auth.auth_url` → `OS_AUTH_URL`. */
export function envVarForKey(key: string): string {
  const last = key.split('.').pop() ?? key;
  return `OS_${last.replace(/\[\d+\]$/, '').toUpperCase()}`;
}

/**
 * The OS_* variables as clouds.yaml settings to lay over a chosen cloud (python-openstackclient reads its
 * `--os-*` option defaults from them): `{}` when none describe a cloud.
 */
export function overridesFromEnv(env: Record<string, string | undefined>): Dict {
  return envCloudSettings(env) ?? {};
}
