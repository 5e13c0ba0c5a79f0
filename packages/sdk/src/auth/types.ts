import type { LoggerLike, Transport } from '../transport/types.ts';

export interface CatalogEndpoint {
  id?: string | undefined;
  interface: string;
  /** Region name (Keystone v3 `region`, or `region_id` when only that is set). */
  region: string;
  region_id?: string | undefined;
  url: string;
}

export interface CatalogEntry {
  /** The service type exactly as the catalog states it (may be an alias such as volumev3). */
  type: string;
  name?: string | undefined;
  id?: string | undefined;
  endpoints: CatalogEndpoint[];
}

/** A Keystone-to-Keystone service provider as listed in the IdP token's `service_providers`. */
export interface ServiceProviderInfo {
  id: string;
  /** SP Keystone's federated auth endpoint (…/OS-FEDERATION/identity_providers/<idp>/protocols/<proto>/auth). */
  auth_url: string;
  /** SP's SAML ECP/PAOS endpoint (Shibboleth `/Shibboleth.sso/SAML2/ECP`, mellon `…/paosResponse`). */
  sp_url: string;
}

export interface NamedRef {
  id: string;
  name?: string | undefined;
}

export interface ScopedRef extends NamedRef {
  domain?: NamedRef | undefined;
}

/** Everything a Keystone v3 token response tells us. The token string itself is `token` (from X-Subject-Token). */
export interface AccessInfo {
  /** The token. Never log it. */
  readonly token: string;
  readonly expiresAt: Date;
  readonly issuedAt?: Date | undefined;
  readonly methods: string[];
  readonly user: ScopedRef;
  readonly project?: ScopedRef | undefined;
  readonly domain?: NamedRef | undefined;
  /** True for a system-scoped token. */
  readonly system?: boolean | undefined;
  readonly roles: NamedRef[];
  readonly catalog: CatalogEntry[];
  readonly serviceProviders: ServiceProviderInfo[];
  /** The Keystone v3 base URL that issued (or can validate/rescope) this token, e.g. https://ks:5000/v3. */
  readonly identityUrl: string;
  /** Set for federated tokens (K2K). */
  readonly federation?: { identityProvider: string; protocol: string } | undefined;
  /** True when the token has no project/domain/system scope. */
  readonly unscoped: boolean;
}

/** What scope to ask for. Exactly one of the forms; `unscoped` when none. */
export type AuthScope =
  | { kind: 'project'; id: string }
  | { kind: 'project'; name: string; domainId?: string | undefined; domainName?: string | undefined }
  | { kind: 'domain'; id: string }
  | { kind: 'domain'; name: string }
  | { kind: 'system'; system: string }
  | { kind: 'unscoped' };

/** Per-call environment an auth plugin runs in. */
export interface AuthContext {
  transport: Transport;
  signal?: AbortSignal | undefined;
  /** Absolute deadline (epoch ms) for the whole authentication. */
  deadline?: number | undefined;
  timeoutMs?: number | undefined;
  cloud?: string | undefined;
  region?: string | undefined;
  logger?: LoggerLike | undefined;
}

export interface AuthPlugin {
  /** 'password' | 'token' | 'v3applicationcredential' | 'k2k' | ... */
  readonly kind: string;
  /**
   * A stable hash of everything that determines the resulting token (URL, identity, scope; secrets hashed,
   * never included raw). Tokens are cached under this key.
   */
  cacheKey(): string;
  /** Get a new token (no cache). Errors: AUTH_FAILED, UNREACHABLE, TIMEOUT, CANCELLED, FEDERATION_FAILED, ... */
  authenticate(ctx: AuthContext): Promise<AccessInfo>;
}
