import type { AuthConfig, CloudConfig } from '../config/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { registerSecret } from '../transport/redact.ts';
import { hashKey } from './cache.ts';
import { discoverIdentityV3 } from './discovery.ts';
import { issueToken } from './keystone.ts';
import type { AccessInfo, AuthContext, AuthPlugin, AuthScope } from './types.ts';

/** A domain reference: by id or by name. */
export type DomainRef = { id: string } | { name: string };

function domainRef(id: string | undefined, name: string | undefined): DomainRef | undefined {
  if (id) return { id };
  if (name) return { name };
  return undefined;
}

abstract class V3Plugin implements AuthPlugin {
  abstract readonly kind: string;
  readonly authUrl: string;
  readonly scope: AuthScope;
  constructor(authUrl: string, scope: AuthScope | undefined) {
    if (!authUrl) throw new OcxError(ErrorCode.CONFIG_INVALID, 'auth_url is required', { key: 'auth.auth_url' });
    this.authUrl = authUrl;
    this.scope = scope ?? { kind: 'unscoped' };
  }
  protected abstract identity(): Record<string, unknown>;
  protected abstract keyParts(): unknown;
  protected scopeForRequest(): AuthScope {
    return this.scope;
  }
  #cacheKey: string | undefined;
  /** Computed once: every authenticated request asks for it, and its inputs never change after construction. */
  cacheKey(): string {
    this.#cacheKey ??= hashKey([this.kind, this.authUrl.replace(/\/+$/, ''), this.keyParts(), this.scope]);
    return this.#cacheKey;
  }
  async authenticate(ctx: AuthContext): Promise<AccessInfo> {
    const v3 = await discoverIdentityV3(this.authUrl, ctx);
    return issueToken(v3, this.identity(), this.scopeForRequest(), ctx, `auth.${this.kind}`);
  }
}

export interface PasswordAuthOptions {
  authUrl: string;
  password: string;
  /** The user by id ... */
  userId?: string | undefined;
  /** ... or by name + domain (default domain `default`, as python-openstackclient's default_domain). */
  username?: string | undefined;
  userDomain?: DomainRef | undefined;
  scope?: AuthScope | undefined;
}

export class PasswordAuth extends V3Plugin {
  readonly kind = 'password';
  readonly #opts: PasswordAuthOptions;
  constructor(opts: PasswordAuthOptions) {
    super(opts.authUrl, opts.scope);
    if (!opts.userId && !opts.username)
      throw new OcxError(ErrorCode.CONFIG_INVALID, 'password auth needs username or user_id', { key: 'auth.username' });
    if (!opts.password)
      throw new OcxError(ErrorCode.CONFIG_INVALID, 'password auth needs a password', { key: 'auth.password' });
    registerSecret(opts.password);
    this.#opts = opts;
  }
  protected identity(): Record<string, unknown> {
    const o = this.#opts;
    const user = o.userId
      ? { id: o.userId, password: o.password }
      : { name: o.username, domain: o.userDomain ?? { id: 'default' }, password: o.password };
    return { methods: ['password'], password: { user } };
  }
  protected keyParts(): unknown {
    const o = this.#opts;
    return [o.userId, o.username, o.userDomain, hashKey(o.password)];
  }
}

export interface TokenAuthOptions {
  authUrl: string;
  token: string;
  scope?: AuthScope | undefined;
}

/** Exchange an existing token for a (re)scoped one (`auth_type: token` / `v3token`). */
export class TokenAuth extends V3Plugin {
  readonly kind = 'token';
  readonly #token: string;
  constructor(opts: TokenAuthOptions) {
    super(opts.authUrl, opts.scope);
    if (!opts.token) throw new OcxError(ErrorCode.CONFIG_INVALID, 'token auth needs a token', { key: 'auth.token' });
    registerSecret(opts.token);
    this.#token = opts.token;
  }
  protected identity(): Record<string, unknown> {
    return { methods: ['token'], token: { id: this.#token } };
  }
  protected keyParts(): unknown {
    return [hashKey(this.#token)];
  }
}

export interface ApplicationCredentialAuthOptions {
  authUrl: string;
  secret: string;
  /** The credential by id ... */
  id?: string | undefined;
  /** ... or by name + its owner (user id, or user name + domain). */
  name?: string | undefined;
  userId?: string | undefined;
  username?: string | undefined;
  userDomain?: DomainRef | undefined;
}

/** Application credentials carry their own scope (Keystone rejects an explicit one). */
export class ApplicationCredentialAuth extends V3Plugin {
  readonly kind = 'v3applicationcredential';
  readonly #opts: ApplicationCredentialAuthOptions;
  constructor(opts: ApplicationCredentialAuthOptions) {
    super(opts.authUrl, { kind: 'unscoped' });
    if (!opts.secret)
      throw new OcxError(ErrorCode.CONFIG_INVALID, 'application credential auth needs application_credential_secret', {
        key: 'auth.application_credential_secret',
      });
    if (!opts.id && !(opts.name && (opts.userId || opts.username)))
      throw new OcxError(
        ErrorCode.CONFIG_INVALID,
        'application credential auth needs application_credential_id, or application_credential_name with user_id or username',
        { key: 'auth.application_credential_id' },
      );
    registerSecret(opts.secret);
    this.#opts = opts;
  }
  protected identity(): Record<string, unknown> {
    const o = this.#opts;
    const cred: Record<string, unknown> = o.id
      ? { id: o.id, secret: o.secret }
      : {
          name: o.name,
          secret: o.secret,
          user: o.userId ? { id: o.userId } : { name: o.username, domain: o.userDomain ?? { id: 'default' } },
        };
    return { methods: ['application_credential'], application_credential: cred };
  }
  protected keyParts(): unknown {
    const o = this.#opts;
    return [o.id, o.name, o.userId, o.username, o.userDomain, hashKey(o.secret)];
  }
}

/**
 * The scope a clouds.yaml `auth` section asks for, following keystoneauth: project_id, or project_name with
 * project_domain_{id,name} (falling back to default_domain_*, then user_domain_*, then `default`);
 * domain_{id,name}; system_scope; else unscoped.
 */
export function scopeFromAuthConfig(auth: AuthConfig): AuthScope {
  const s = (k: string) => (typeof auth[k] === 'string' && auth[k] !== '' ? (auth[k] as string) : undefined);
  const projectId = s('project_id') ?? s('tenant_id');
  const projectName = s('project_name') ?? s('tenant_name');
  if (projectId) return { kind: 'project', id: projectId };
  if (projectName) {
    const dom = domainRef(s('project_domain_id'), s('project_domain_name')) ??
      domainRef(s('default_domain_id'), s('default_domain_name')) ??
      domainRef(s('user_domain_id'), s('user_domain_name')) ?? { id: 'default' };
    return 'id' in dom
      ? { kind: 'project', name: projectName, domainId: dom.id }
      : { kind: 'project', name: projectName, domainName: dom.name };
  }
  const domainId = s('domain_id');
  const domainName = s('domain_name');
  if (domainId) return { kind: 'domain', id: domainId };
  if (domainName) return { kind: 'domain', name: domainName };
  const system = s('system_scope');
  if (system) return { kind: 'system', system };
  return { kind: 'unscoped' };
}

/** Build the auth plugin for a resolved cloud (`auth_type` password / v3password / token / v3token / v3applicationcredential). */
export function authFromConfig(cloud: Pick<CloudConfig, 'authType' | 'auth' | 'name'>): AuthPlugin {
  const a = cloud.auth;
  const s = (k: string) => (typeof a[k] === 'string' && a[k] !== '' ? (a[k] as string) : undefined);
  const authUrl = s('auth_url');
  const where = { key: 'auth.auth_url', cloud: cloud.name };
  if (!authUrl) throw new OcxError(ErrorCode.CONFIG_INVALID, `cloud ${cloud.name} has no auth.auth_url`, where);
  const userDomain =
    domainRef(s('user_domain_id'), s('user_domain_name')) ??
    domainRef(s('default_domain_id'), s('default_domain_name'));
  const scope = scopeFromAuthConfig(a);
  const fail = (key: string, what: string) =>
    new OcxError(ErrorCode.CONFIG_INVALID, `cloud ${cloud.name}: ${what}`, { key: `auth.${key}`, cloud: cloud.name });
  switch (cloud.authType) {
    case 'password':
    case 'v3password': {
      const password = s('password');
      if (!password) throw fail('password', `auth_type ${cloud.authType} needs auth.password`);
      if (!s('user_id') && !s('username'))
        throw fail('username', `auth_type ${cloud.authType} needs auth.username or auth.user_id`);
      return new PasswordAuth({ authUrl, password, userId: s('user_id'), username: s('username'), userDomain, scope });
    }
    case 'token':
    case 'v3token': {
      const token = s('token');
      if (!token) throw fail('token', `auth_type ${cloud.authType} needs auth.token`);
      return new TokenAuth({ authUrl, token, scope });
    }
    case 'v3applicationcredential':
    case 'applicationcredential': {
      const secret = s('application_credential_secret');
      if (!secret) throw fail('application_credential_secret', 'application credential auth needs a secret');
      const id = s('application_credential_id');
      const name = s('application_credential_name');
      if (!id && !(name && (s('user_id') || s('username'))))
        throw fail(
          'application_credential_id',
          'application credential auth needs application_credential_id, or application_credential_name with user_id or username',
        );
      return new ApplicationCredentialAuth({
        authUrl,
        secret,
        id,
        name,
        userId: s('user_id'),
        username: s('username'),
        userDomain,
      });
    }
    default:
      throw new OcxError(
        ErrorCode.CONFIG_INVALID,
        `cloud ${cloud.name}: unsupported auth_type ${String(cloud.authType)}`,
        {
          key: 'auth_type',
          cloud: cloud.name,
        },
      );
  }
}
