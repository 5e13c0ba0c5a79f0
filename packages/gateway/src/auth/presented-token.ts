/**
 * An auth plugin that uses the caller's own token as it is (no new token is issued in the caller's name): the
 * AccessInfo comes from the validation the gateway already did. Needed for tokens Keystone refuses to rescope
 * (application-credential tokens), and it saves a token issue per caller for all others.
 */

import type { ValidatedToken } from '@ocx/sdk';
import {
  type AccessInfo,
  type AuthContext,
  type AuthPlugin,
  type CatalogEntry,
  discoverIdentityV3,
  ErrorCode,
  hashKey,
  OcxError,
} from '@ocx/sdk';

export class PresentedTokenAuth implements AuthPlugin {
  readonly kind = 'token';
  readonly #token: string;
  readonly #user: ValidatedToken;
  readonly #authUrl: string;

  constructor(authUrl: string, token: string, user: ValidatedToken) {
    this.#authUrl = authUrl;
    this.#token = token;
    this.#user = user;
  }

  cacheKey(): string {
    return hashKey(['presented-token', this.#authUrl, this.#token]);
  }

  async authenticate(ctx: AuthContext): Promise<AccessInfo> {
    const u = this.#user;
    if (u.expiresAt <= Date.now()) {
      throw new OcxError(ErrorCode.AUTH_EXPIRED, 'the caller’s token has expired', { cloud: ctx.cloud });
    }
    const identityUrl = await discoverIdentityV3(this.#authUrl, ctx);
    return {
      token: this.#token,
      expiresAt: new Date(u.expiresAt),
      methods: u.methods,
      user: { id: u.userId, name: u.userName, domain: { id: u.userDomainId } },
      project: u.projectId
        ? {
            id: u.projectId,
            name: u.projectName,
            domain: u.projectDomainId ? { id: u.projectDomainId, name: u.projectDomainName } : undefined,
          }
        : undefined,
      roles: u.roles.map((name) => ({ id: name, name })),
      catalog: u.catalog as CatalogEntry[],
      serviceProviders: u.serviceProviders.map((sp) => ({ id: sp.id, auth_url: sp.authUrl, sp_url: sp.spUrl })),
      identityUrl,
      unscoped: !u.projectId,
    };
  }
}
