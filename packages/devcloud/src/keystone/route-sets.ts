/** Every Keystone route set beyond /v3/auth: identity admin API and K2K federation (IdP and SP sides). */
import type { KeystoneRouteSet } from './index.ts';

export function keystoneRouteSets(): KeystoneRouteSet[] {
  return [];
}
