/**
 * The proxy's view of its home Keystone: its own service token (password or application credential from the
 * home cloud's clouds.yaml entry), validation of incoming user tokens, and the home catalog.
 */
import type { CloudConfig } from '@ocx/sdk';
import { ErrorCode, errorFromStatus, OcxError } from '@ocx/sdk';
import type { Dispatcher } from 'undici';
import { call, headerValue, parseJson } from './http.ts';

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

/** What the proxy needs to know about a validated user token. */
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

interface RawToken {
  token?: {
    expires_at?: string;
    user?: { id?: string; name?: string };
    project?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
    roles?: { name?: string }[];
    catalog?: CatalogEntryLike[];
    service_providers?: ServiceProviderRef[];
  };
}

export function identityBase(authUrl: string): string {
  const u = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(u) ? u : `${u}/v3`;
}

/** Canonical service types the proxy serves, with the catalog aliases that mean the same thing. */
export const SERVICE_ALIASES: Record<string, string[]> = {
  compute: ['compute'],
  'block-storage': ['block-storage', 'volumev3', 'volumev2', 'volume'],
  image: ['image'],
  network: ['network'],
  'object-store': ['object-store'],
  /** A federation proxy in front of this cloud's services (where token injection is delivered). */
  'federation-proxy': ['federation-proxy'],
};

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
  for (const [canonical, aliases] of Object.entries(SERVICE_ALIASES)) {
    for (const alias of aliases) {
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
  roots?: Record<string, string>;
  /** The service account's own project (K2K needs a project-scoped IdP token). */
  projectId: string | undefined;
  projectName: string | undefined;
  projectDomainName: string | undefined;
}

export interface HomeKeystoneOptions {
  cloud: CloudConfig;
  dispatcher: Dispatcher;
  timeoutMs: number;
}

export class HomeKeystone {
  readonly identityUrl: string;
  private readonly cloud: CloudConfig;
  private readonly dispatcher: Dispatcher;
  private readonly timeoutMs: number;
  private service: ServiceLogin | undefined;
  private pending: Promise<ServiceLogin> | undefined;

  constructor(opts: HomeKeystoneOptions) {
    this.cloud = opts.cloud;
    this.dispatcher = opts.dispatcher;
    this.timeoutMs = opts.timeoutMs;
    const authUrl = opts.cloud.auth.auth_url;
    if (!authUrl) {
      throw new OcxError(ErrorCode.CONFIG_INVALID, `cloud ${opts.cloud.name} has no auth.auth_url`, {
        cloud: opts.cloud.name,
        key: 'auth.auth_url',
      });
    }
    this.identityUrl = identityBase(authUrl);
  }

  get cloudName(): string {
    return this.cloud.name;
  }

  private authBody(): unknown {
    const a = this.cloud.auth;
    if (a.application_credential_id || a.application_credential_name) {
      return {
        auth: {
          identity: {
            methods: ['application_credential'],
            application_credential: a.application_credential_id
              ? { id: a.application_credential_id, secret: a.application_credential_secret }
              : {
                  name: a.application_credential_name,
                  secret: a.application_credential_secret,
                  user: { name: a.username, domain: domainRef(a.user_domain_id, a.user_domain_name) },
                },
          },
        },
      };
    }
    const user = a.user_id
      ? { id: a.user_id, password: a.password }
      : { name: a.username, password: a.password, domain: domainRef(a.user_domain_id, a.user_domain_name) };
    const project = a.project_id
      ? { id: a.project_id }
      : a.project_name
        ? { name: a.project_name, domain: domainRef(a.project_domain_id, a.project_domain_name) }
        : undefined;
    return {
      auth: {
        identity: { methods: ['password'], password: { user } },
        ...(project ? { scope: { project } } : {}),
      },
    };
  }

  /** The proxy's own token (cached, renewed five minutes before expiry). */
  async serviceToken(force = false): Promise<ServiceLogin> {
    const now = Date.now();
    if (!force && this.service && this.service.expiresAt - 300_000 > now) return this.service;
    if (!this.pending) {
      this.pending = this.login().finally(() => {
        this.pending = undefined;
      });
    }
    this.service = await this.pending;
    return this.service;
  }

  private async login(): Promise<ServiceLogin> {
    const url = `${this.identityUrl}/auth/tokens`;
    const res = await call(this.dispatcher, url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(this.authBody()),
      deadline: Date.now() + this.timeoutMs,
      what: 'home keystone service login',
    });
    if (res.status !== 201 && res.status !== 200) {
      const err = errorFromStatus(res.status, res.body.toString('utf8'), {
        cloud: this.cloud.name,
        service: 'identity',
        method: 'POST',
        url,
      });
      throw res.status === 401 ? new OcxError(ErrorCode.AUTH_FAILED, err.message, err.context()) : err;
    }
    const token = headerValue(res.headers, 'x-subject-token');
    if (!token) throw new OcxError(ErrorCode.INVALID_RESPONSE, 'keystone gave no X-Subject-Token', { url });
    const body = parseJson(res.body) as RawToken;
    const expiresAt = Date.parse(body.token?.expires_at ?? '') || Date.now() + 3_600_000;
    return {
      token,
      expiresAt,
      catalog: body.token?.catalog ?? [],
      serviceProviders: body.token?.service_providers ?? [],
      projectId: body.token?.project?.id,
      projectName: body.token?.project?.name,
      projectDomainName: body.token?.project?.domain?.name,
    };
  }

  /** Home service roots from the proxy's own catalog. */
  async homeRoots(): Promise<Record<string, string>> {
    const login = await this.serviceToken();
    login.roots ??= rootsFromCatalog(login.catalog, this.cloud.regionName || undefined);
    return login.roots;
  }

  /**
   * Validate a user token. Resolves undefined when Keystone says it is not valid (unknown, expired, revoked).
   * Rejects with OcxError when Keystone cannot be asked.
   */
  async validate(userToken: string, signal?: AbortSignal): Promise<ValidatedToken | undefined> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const { token } = await this.serviceToken(attempt > 0);
      const url = `${this.identityUrl}/auth/tokens?nocatalog=1`;
      const res = await call(this.dispatcher, url, {
        headers: { 'x-auth-token': token, 'x-subject-token': userToken, accept: 'application/json' },
        deadline: Date.now() + this.timeoutMs,
        ...(signal ? { signal } : {}),
        what: 'home keystone token validation',
      });
      if (res.status === 200) {
        const v = toValidated(parseJson(res.body) as RawToken);
        // Keystone lists the enabled service providers in every token; fall back to the proxy's own list.
        if (v.serviceProviders.length === 0) v.serviceProviders = this.service?.serviceProviders ?? [];
        return v;
      }
      if (res.status === 404) return undefined;
      // 401 here means our own service token went stale: log in again once.
      if (res.status === 401 && attempt === 0) continue;
      throw errorFromStatus(res.status, res.body.toString('utf8'), {
        cloud: this.cloud.name,
        service: 'identity',
        method: 'GET',
        url: `${this.identityUrl}/auth/tokens`,
      });
    }
    return undefined;
  }
}

function domainRef(id: string | undefined, name: string | undefined): { id: string } | { name: string } {
  if (id) return { id };
  return { name: name ?? 'Default' };
}

function toValidated(raw: RawToken): ValidatedToken {
  const t = raw.token ?? {};
  return {
    userId: t.user?.id ?? '',
    userName: t.user?.name ?? '',
    projectId: t.project?.id,
    projectName: t.project?.name,
    projectDomainId: t.project?.domain?.id,
    projectDomainName: t.project?.domain?.name,
    roles: (t.roles ?? []).map((r) => r.name ?? '').filter(Boolean),
    expiresAt: new Date(Date.parse(t.expires_at ?? '') || Date.now() + 3_600_000),
    serviceProviders: t.service_providers ?? [],
  };
}
