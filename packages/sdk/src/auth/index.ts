// Public exports of auth/.
export type * from './types.ts';
export { accessInfoFromTokenBody, expiresSoon } from './access-info.ts';
export { discoverIdentityV3, clearDiscoveryCache } from './discovery.ts';
export { issueToken, scopeBody } from './keystone.ts';
export {
  PasswordAuth,
  TokenAuth,
  ApplicationCredentialAuth,
  authFromConfig,
  scopeFromAuthConfig,
  type DomainRef,
  type PasswordAuthOptions,
  type TokenAuthOptions,
  type ApplicationCredentialAuthOptions,
} from './plugins.ts';
export {
  cachedAccess,
  hashKey,
  MemoryTokenCache,
  defaultTokenCache,
  DEFAULT_REFRESH_MARGIN_MS,
  type TokenStore,
} from './cache.ts';
export { CookieJar } from './cookies.ts';
export {
  Keystone2Keystone,
  K2KStep,
  PAOS_CONTENT_TYPE,
  remoteIdentityUrl,
  type K2KTarget,
  type Keystone2KeystoneOptions,
} from './k2k.ts';
