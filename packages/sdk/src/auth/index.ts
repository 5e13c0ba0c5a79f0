// Public exports of auth/.

export { accessInfoFromTokenBody, expiresSoon } from './access-info.ts';
export {
  cachedAccess,
  DEFAULT_REFRESH_MARGIN_MS,
  defaultTokenCache,
  hashKey,
  MemoryTokenCache,
  type TokenStore,
} from './cache.ts';
export { CookieJar } from './cookies.ts';
export { clearDiscoveryCache, discoverIdentityV3 } from './discovery.ts';
export { DiskTokenCache, type DiskTokenCacheOptions, defaultTokenCacheDir, tokenFileName } from './disk-cache.ts';
export {
  K2KStep,
  type K2KTarget,
  Keystone2Keystone,
  type Keystone2KeystoneOptions,
  k2kAtServiceProvider,
  PAOS_CONTENT_TYPE,
  remoteIdentityUrl,
  requestEcpAssertion,
} from './k2k.ts';
export { issueToken, scopeBody } from './keystone.ts';
export {
  ApplicationCredentialAuth,
  type ApplicationCredentialAuthOptions,
  authFromConfig,
  type DomainRef,
  PasswordAuth,
  type PasswordAuthOptions,
  scopeFromAuthConfig,
  TokenAuth,
  type TokenAuthOptions,
} from './plugins.ts';
export {
  SERVICE_LOGIN_STEP,
  SUBJECT_TOKEN_STEP,
  TokenValidator,
  type TokenValidatorOptions,
  type ValidatedToken,
  validatedTokenFromBody,
} from './token-validator.ts';
export type * from './types.ts';
