/**
 * The proxy's view of its home Keystone: its own service token (password or application credential from the
 * home cloud's clouds.yaml entry), validation of incoming user tokens, and the home catalog. All of it goes through
 * the SDK's TokenValidator (the SDK's auth, token cache and transport): the proxy has no Keystone client of its own.
 */
import type { AccessInfo, CloudConfig, Transport } from '@ocx/sdk';
import { ErrorCode, OcxError, SUBJECT_TOKEN_STEP, serviceTypeAliases, TokenValidator } from '@ocx/sdk';

export interface CatalogEndpointLike {
  interface: string;
  region?: string | null;
  region_id?: string | null;
  url: string;
}
export interface CatalogEntryLike {
  type: string;
  endpoints: CatalogEndpointLike[];
}
export interface ServiceProviderRef {
  id: string;
  auth_url: string;
  sp_url: string;
}

/** What the proxy needs to know about a validated user token (the SDK's ValidatedToken, in the proxy's shapes). */
export interface ValidatedToken {
  userId: string;
  userName: string;
  projectId: string | undefined;
  projectName: string | undefined;
  projectDomainId: string | undefined;
  projectDomainName: string | undefined;
  roles: string[];
  expiresAt: Date;
  serviceProviders: ServiceProviderRef[];
}

export function identityBase(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(u) ? u : `${u}/v3`;
}

/** Canonical service types the proxy serves; the catalog aliases that mean the same come from the SDK's wire module. */
export const PROXIED_SERVICE_TYPES = [
  'compute',
  'block-storage',
  'image',
  'network',
  'object-store',
  /** A federation proxy in front of this cloud's services (where token injection is delivered). */
  'federation-proxy',
] as const;

/**
 * The service root of an endpoint: the URL with its version (and anything after it) removed, so that a path the
 * proxy received (`/v2.1/servers`, `/v3/<project>/volumes`) can be appended as is.
 * http://h/compute/v2.1 → http://h/compute; http://h:8776/v3/abc → http://h:8776; http://h:9292 → http://h:9292;
 * http://h/object-store/v1/AUTH_x → http://h/object-store.
 */
export function serviceRoot(endpointUrl: string): string {
  const u = new URL(endpointUrl);
  const path = u.pathname.replace(/\/+$/, '');
  const m = /^(.*?)\/v\d+(?:\.\d+)?(?:\/.*)?$/.exec(path);
  const rootPath = m ? m[1]! : path;
  return `${u.origin}${rootPath}`;
}

/**
 * serviceType → service root, from a catalog (public interface, optional region). With a region, endpoints of other
 * regions are never used (as keystoneauth): the proxy's own `ocx-proxy` region in the home catalog must not become
 * the home cloud's endpoint, or the proxy would forward to itself.
 */
export function rootsFromCatalog(catalog: CatalogEntryLike[] | undefined, region?: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!catalog) return out;
  for (const canonical of PROXIED_SERVICE_TYPES) {
    for (const alias of serviceTypeAliases(canonical)) {
      const entry = catalog.find((e) => e.type === alias);
      if (!entry) continue;
      const eps = entry.endpoints.filter(
        (e) => e.interface === 'public' && (!region || e.region === region || e.region_id === region),
      );
      const ep = eps[0] ?? (region ? undefined : entry.endpoints.find((e) => e.interface === 'public'));
      if (ep) {
        out[canonical] = serviceRoot(ep.url);
        break;
      }
    }
  }
  return out;
}

export interface ServiceLogin {
  token: string;
  expiresAt: number;
  catalog: CatalogEntryLike[];
  serviceProviders: ServiceProviderRef[];
  /** The service account's own project (K2K needs a project-scoped IdP token). */
  projectId: string | undefined;
  projectName: string | undefined;
  projectDomainName: string | undefined;
}

export interface HomeKeystoneOptions {
  cloud: CloudConfig;
  /** Budget of one Keystone call (service login or validation). */
  timeoutMs: number;
  /** Share a transport (e.g. with other SDK users in the process); default: the validator's own. */
  transport?: Transport | undefined;
}

export class HomeKeystone {
  readonly identityUrl: string;
  readonly validator: TokenValidator;
  private readonly cloud: CloudConfig;
  private roots: { token: string; roots: Record<string, string> } | undefined;

  constructor(opts: HomeKeystoneOptions) {
    this.cloud = opts.cloud;
    const authUrl = opts.cloud.auth.auth_url;
    if (!authUrl) {
      throw new OcxError(ErrorCode.CONFIG_INVALID, `cloud ${opts.cloud.name} has no auth.auth_url`, {
        cloud: opts.cloud.name,
        key: 'auth.auth_url',
      });
    }
    this.identityUrl = identityBase(authUrl);
    // No result cache here: the engine keeps its own validation cache (validationCacheMs), one is enough.
    this.validator = new TokenValidator({
      cloud: opts.cloud,
      timeoutMs: opts.timeoutMs,
      transport: opts.transport,
      cacheTtlMs: 0,
      // The proxy reads a user token's identity, project, roles and service providers, never its catalog.
      withCatalog: false,
    });
  }

  get cloudName(): string {
    return this.cloud.name;
  }

  /** The proxy's own token (the SDK's cached one, renewed before expiry; `force` logs in again). */
  async serviceToken(force = false): Promise<ServiceLogin> {
    return toLogin(await this.validator.serviceAccess({ force }));
  }

  /** Home service roots from the proxy's own catalog. */
  async homeRoots(): Promise<Record<string, string>> {
    const login = await this.serviceToken();
    if (this.roots?.token !== login.token) {
      this.roots = { token: login.token, roots: rootsFromCatalog(login.catalog, this.cloud.regionName || undefined) };
    }
    return this.roots.roots;
  }

  /**
   * Validate a user token. Resolves undefined when Keystone says it is not valid (unknown, expired, revoked).
   * Rejects with OcxError when Keystone cannot be asked.
   */
  async validate(userToken: string, signal?: AbortSignal): Promise<ValidatedToken | undefined> {
    try {
      const v = await this.validator.validate(userToken, { signal });
      const providers = v.serviceProviders.map((sp) => ({ id: sp.id, auth_url: sp.authUrl, sp_url: sp.spUrl }));
      return {
        userId: v.userId,
        userName: v.userName,
        projectId: v.projectId,
        projectName: v.projectName,
        projectDomainId: v.projectDomainId,
        projectDomainName: v.projectDomainName,
        roles: v.roles,
        expiresAt: new Date(v.expiresAt),
        // Keystone lists the enabled service providers in every token; fall back to the proxy's own list.
        serviceProviders: providers.length > 0 ? providers : (await this.serviceToken()).serviceProviders,
      };
    } catch (err) {
      // Only a refusal of the user's token means "not valid"; the service account's own failed login (step
      // service-login) means Keystone cannot be asked.
      if (err instanceof OcxError && err.code === ErrorCode.AUTH_FAILED && err.step === SUBJECT_TOKEN_STEP)
        return undefined;
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.validator.close();
  }
}

function toLogin(access: AccessInfo): ServiceLogin {
  return {
    token: access.token,
    expiresAt: access.expiresAt.getTime(),
    catalog: access.catalog,
    serviceProviders: access.serviceProviders,
    projectId: access.project?.id,
    projectName: access.project?.name,
    projectDomainName: access.project?.domain?.name,
  };
}
