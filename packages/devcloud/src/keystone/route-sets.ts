/** Every Keystone route set beyond /v3/auth: identity admin API, unified limits and K2K federation (IdP and SP sides). */
import type { Federation } from './federation.ts';
import type { KeystoneRouteSet } from './index.ts';
import { federationRoutes } from './routes-federation.ts';
import { identityRoutes } from './routes-identity.ts';
import { limitsRoutes } from './routes-limits.ts';

export function keystoneRouteSets(fed: Federation): KeystoneRouteSet[] {
  return [identityRoutes, limitsRoutes, federationRoutes(fed)];
}
