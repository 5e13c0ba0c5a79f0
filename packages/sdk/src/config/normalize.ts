/**
 * The merge and fix-up rules openstacksdk applies to a cloud's settings before using them, re-stated for OCX:
 * deep merges, the special `auth` update, key normalisation, and the backwards-compatible spellings
 * (tenant_* → project_*, auth_token → token, *endpoint_type → *interface, auth_plugin → auth_type, per-service
 * timeouts → api_timeout, a lone domain applied to user and project).
 */

export type Dict = Record<string, unknown>;

export function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Deep merge: mappings merge recursively, everything else is replaced (secure.yaml over clouds.yaml). */
export function deepMerge(base: Dict, over: Dict): Dict {
  const out: Dict = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k];
    if (isDict(v) && isDict(prev)) out[k] = deepMerge(prev, v);
    else out[k] = clone(v);
  }
  return out;
}

/** Like Object.assign, except the nested `auth` mapping is merged key by key (profile → cloud → region values). */
export function authUpdate(target: Dict, source: Dict): Dict {
  for (const [k, v] of Object.entries(source)) {
    if (k === 'auth' && isDict(v)) {
      target.auth = { ...(isDict(target.auth) ? target.auth : {}), ...clone(v) };
    } else {
      target[k] = clone(v);
    }
  }
  return target;
}

/** `-` → `_` in keys; numbers become strings (ids written unquoted), except api_timeout which stays a number. */
export function normalizeKeys(value: Dict): Dict {
  const out: Dict = {};
  for (const [rawKey, v] of Object.entries(value)) {
    const key = rawKey.replace(/-/g, '_');
    if (isDict(v)) out[key] = normalizeKeys(v);
    else if (typeof v === 'number' && key !== 'api_timeout') out[key] = String(v);
    else out[key] = v;
  }
  return out;
}

const TRUE_STRINGS = new Set(['true', 'yes', '1', 'on']);

export function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return TRUE_STRINGS.has(value.toLowerCase());
  if (typeof value === 'number') return value !== 0;
  return false;
}

/** Per-service `*_timeout` keys (legacy clients) become api_timeout. */
function fixTimeouts(cloud: Dict): void {
  let serviceTimeout: unknown;
  for (const key of Object.keys(cloud)) {
    if (key.endsWith('_timeout') && key !== 'api_timeout' && key !== 'timeout') {
      serviceTimeout = cloud[key];
      delete cloud[key];
    }
  }
  if (serviceTimeout !== undefined) cloud.api_timeout = serviceTimeout;
}

function fixAuthPlugin(cloud: Dict): void {
  let authType: unknown;
  for (const key of ['auth_plugin', 'auth_type']) {
    if (key in cloud) {
      authType = cloud[key];
      delete cloud[key];
    }
  }
  if (authType !== undefined && authType !== null) cloud.auth_type = authType;
}

/**
 * Settings that may be written in several spellings, at the top level or in `auth`. As in openstacksdk, a value at
 * the top level of the cloud (where environment and command-line overrides land) beats the one inside `auth`.
 */
const AUTH_SPELLINGS: Record<string, readonly string[]> = {
  domain_id: ['domain_id'],
  domain_name: ['domain_name'],
  user_domain_id: ['user_domain_id'],
  user_domain_name: ['user_domain_name'],
  project_domain_id: ['project_domain_id'],
  project_domain_name: ['project_domain_name'],
  token: ['auth_token', 'token'],
  project_id: ['tenant_id', 'project_id'],
  project_name: ['tenant_name', 'project_name'],
};

function fixBackwardsAuth(cloud: Dict): void {
  const auth = cloud.auth as Dict;
  for (const [target, spellings] of Object.entries(AUTH_SPELLINGS)) {
    let value: unknown;
    for (const key of spellings) {
      if (key in auth) {
        if (auth[key] !== null && auth[key] !== undefined && auth[key] !== '') value = auth[key];
        delete auth[key];
      }
      if (key in cloud) {
        if (cloud[key] !== null && cloud[key] !== undefined && cloud[key] !== '') value = cloud[key];
        delete cloud[key];
      }
    }
    if (value !== undefined) auth[target] = String(value);
  }
}

function fixInterfaceSpelling(cloud: Dict): void {
  for (const key of Object.keys(cloud)) {
    if (key.endsWith('endpoint_type')) {
      const target = key.replace(/endpoint_type$/, 'interface');
      if (!(target in cloud)) cloud[target] = cloud[key];
      delete cloud[key];
    }
  }
}

function projectScoped(cloud: Dict): boolean {
  const auth = cloud.auth as Dict;
  return 'project_id' in auth || 'project_name' in auth;
}

/** `domain_id`/`domain_name` alone mean "the user's and the project's domain" when a project is the scope. */
function fixDomain(cloud: Dict): void {
  const auth = cloud.auth as Dict;
  const pairs: Array<[string, string, string]> = [
    ['domain_id', 'user_domain_id', 'project_domain_id'],
    ['domain_name', 'user_domain_name', 'project_domain_name'],
  ];
  for (const [domainKey, userKey, projectKey] of pairs) {
    if (!projectScoped(cloud)) continue;
    if (domainKey in auth) {
      if (!(userKey in auth)) auth[userKey] = auth[domainKey];
      if (!(projectKey in auth)) auth[projectKey] = auth[domainKey];
      delete auth[domainKey];
    }
  }
}

/** All the fix-ups above, in openstacksdk's order. Mutates and returns `cloud` (which must have an `auth` dict). */
export function magicFixes(cloud: Dict): Dict {
  if (!isDict(cloud.auth)) cloud.auth = {};
  fixTimeouts(cloud);
  fixAuthPlugin(cloud);
  fixBackwardsAuth(cloud);
  fixInterfaceSpelling(cloud);
  fixDomain(cloud);
  return cloud;
}

/** Expand `{region_name}`-style templates (used by profiles) from the cloud's own string settings. */
export function expandTemplate(value: string, vars: Dict): string {
  return value.replace(/\{([a-z_][a-z0-9_]*)\}/gi, (whole, name: string) => {
    const v = vars[name];
    return typeof v === 'string' || typeof v === 'number' ? String(v) : whole;
  });
}
