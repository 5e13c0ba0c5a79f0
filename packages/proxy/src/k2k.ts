/**
 * Remote tokens for a user at a service provider. `RemoteTokenSource` is the seam: the default implementation
 * runs Keystone-to-Keystone (SAML2 ECP) with the user's own home token, exactly as keystoneauth's
 * Keystone2Keystone does: ECP assertion from the home Keystone → POST to the SP's `sp_url` without following
 * redirects → cookie carried to `auth_url` → unscoped token → /v3/auth/projects → rescope to one project.
 *
 * The remote project is chosen deterministically: an explicit id (MM-PROJECT-ID or a configured mapping), else
 * the project with the same name as the local one (same domain name preferred), else none — never "the first".
 */
import { ErrorCode, errorFromStatus, OcxError } from '@ocx/sdk';
import type { Dispatcher } from 'undici';
import { call, headerValue, parseJson } from './http.ts';
import type { CatalogEntryLike, ServiceProviderRef } from './keystone.ts';
import { rootsFromCatalog } from './keystone.ts';

export interface RemoteTokenRequest {
  /** The user's token at the home Keystone (project-scoped). Never logged. */
  localToken: string;
  /** The local token's project (the IdP token must stay scoped to it). */
  localProjectId?: string | undefined;
  localProjectName: string | undefined;
  localProjectDomainName: string | undefined;
  sp: ServiceProviderRef;
  /** Use exactly this remote project (MM-PROJECT-ID header or configured mapping). */
  remoteProjectId?: string | undefined;
  /**
   * Only the SP's catalog is wanted (the proxy's own service-root discovery, never a user's requests): when no
   * project has the local project's name, the federated user's only project will do.
   */
  catalogOnly?: boolean | undefined;
  deadline: number;
  signal?: AbortSignal | undefined;
}

export interface RemoteToken {
  token: string;
  expiresAt: Date;
  projectId: string;
  projectName: string | undefined;
  /** serviceType → service root at the SP (from the scoped token's catalog). */
  endpoints: Record<string, string>;
}

export interface RemoteTokenSource {
  obtain(req: RemoteTokenRequest): Promise<RemoteToken>;
}

interface Project {
  id: string;
  name?: string;
  domain_id?: string;
  domain?: { id?: string; name?: string };
}

export class K2KTokenSource implements RemoteTokenSource {
  private readonly identityUrl: string;
  private readonly dispatcher: Dispatcher;
  /** SP domain id → name lookups are not available to a federated user; we compare by the SP's own domain names. */
  constructor(opts: { identityUrl: string; dispatcher: Dispatcher }) {
    this.identityUrl = opts.identityUrl;
    this.dispatcher = opts.dispatcher;
  }

  async obtain(req: RemoteTokenRequest): Promise<RemoteToken> {
    const fail = (step: string, detail: string, cause?: unknown) =>
      new OcxError(
        ErrorCode.FEDERATION_FAILED,
        `K2K to ${req.sp.id} failed at ${step}: ${detail}`,
        { cloud: req.sp.id, service: 'identity' },
        cause === undefined ? {} : { cause },
      );
    const base = { deadline: req.deadline, ...(req.signal ? { signal: req.signal } : {}) };

    // 1. ECP assertion from the home IdP, asked with the user's own token.
    const ecpUrl = `${this.identityUrl}/auth/OS-FEDERATION/saml2/ecp`;
    const ecp = await call(this.dispatcher, ecpUrl, {
      ...base,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-auth-token': req.localToken },
      body: JSON.stringify({
        auth: {
          identity: { methods: ['token'], token: { id: req.localToken } },
          scope: { service_provider: { id: req.sp.id } },
        },
      }),
      what: `K2K assertion for ${req.sp.id}`,
    });
    if (ecp.status !== 200 && ecp.status !== 201) {
      throw fail('assertion', `home keystone answered ${ecp.status}`, errorFromStatus(ecp.status, ecp.body.toString()));
    }
    if (ecp.body.length === 0) throw fail('assertion', 'empty ECP envelope');

    // 2. Present the envelope to the SP's ECP consumer; do not follow its redirect.
    const sp = await call(this.dispatcher, req.sp.sp_url, {
      ...base,
      method: 'POST',
      headers: { 'content-type': 'application/vnd.paos+xml' },
      body: ecp.body,
      what: `K2K SAML exchange with ${req.sp.id}`,
    });
    const cookies = collectCookies(sp.headers['set-cookie']);
    let unscoped: string | undefined;
    if (sp.status === 302 || sp.status === 303 || sp.status === 200 || sp.status === 201) {
      unscoped = sp.status === 201 ? headerValue(sp.headers, 'x-subject-token') : undefined;
    } else {
      throw fail('SP exchange', `${req.sp.sp_url} answered ${sp.status}`);
    }

    // 3. The federated auth URL with the session cookie → unscoped token.
    if (!unscoped) {
      const fed = await call(this.dispatcher, req.sp.auth_url, {
        ...base,
        headers: { 'content-type': 'application/vnd.paos+xml', accept: 'application/json', cookie: cookies },
        what: `K2K federated login at ${req.sp.id}`,
      });
      if (fed.status !== 201 && fed.status !== 200) throw fail('federated login', `auth_url answered ${fed.status}`);
      unscoped = headerValue(fed.headers, 'x-subject-token');
      if (!unscoped) throw fail('federated login', 'no X-Subject-Token');
    }

    // 4. Which projects may this user scope to at the SP?
    const spBase = spIdentityBase(req.sp.auth_url);
    const projRes = await call(this.dispatcher, `${spBase}/auth/projects`, {
      ...base,
      headers: { 'x-auth-token': unscoped, accept: 'application/json' },
      what: `K2K project list at ${req.sp.id}`,
    });
    if (projRes.status !== 200) throw fail('project list', `answered ${projRes.status}`);
    const projects = ((parseJson(projRes.body) as { projects?: Project[] })?.projects ?? []).filter((p) => p.id);
    const project =
      chooseProject(projects, req) ?? (req.catalogOnly && projects.length === 1 ? projects[0] : undefined);
    if (!project) {
      throw new OcxError(
        ErrorCode.FORBIDDEN,
        req.remoteProjectId
          ? `project ${req.remoteProjectId} is not available to this user at ${req.sp.id}`
          : `no project named ${req.localProjectName ?? '(none)'} at ${req.sp.id} for this user and no project mapping`,
        { cloud: req.sp.id, service: 'identity' },
      );
    }

    // 5. Rescope.
    const scoped = await call(this.dispatcher, `${spBase}/auth/tokens`, {
      ...base,
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        auth: { identity: { methods: ['token'], token: { id: unscoped } }, scope: { project: { id: project.id } } },
      }),
      what: `K2K rescope at ${req.sp.id}`,
    });
    if (scoped.status !== 201 && scoped.status !== 200) throw fail('rescope', `answered ${scoped.status}`);
    const token = headerValue(scoped.headers, 'x-subject-token');
    if (!token) throw fail('rescope', 'no X-Subject-Token');
    const body = parseJson(scoped.body) as { token?: { expires_at?: string; catalog?: CatalogEntryLike[] } };
    return {
      token,
      expiresAt: new Date(Date.parse(body?.token?.expires_at ?? '') || Date.now() + 3_600_000),
      projectId: project.id,
      projectName: project.name,
      endpoints: rootsFromCatalog(body?.token?.catalog),
    };
  }
}

/** keystoneauth's rule: the SP's Keystone base is its auth_url cut at /OS-FEDERATION/. */
export function spIdentityBase(authUrl: string): string {
  const i = authUrl.indexOf('/OS-FEDERATION/');
  const base = i >= 0 ? authUrl.slice(0, i) : authUrl;
  return base.replace(/\/+$/, '');
}

export function chooseProject(
  projects: Project[],
  req: Pick<RemoteTokenRequest, 'remoteProjectId' | 'localProjectName' | 'localProjectDomainName'>,
): Project | undefined {
  if (req.remoteProjectId) return projects.find((p) => p.id === req.remoteProjectId);
  if (!req.localProjectName) return undefined;
  const named = projects.filter((p) => p.name === req.localProjectName);
  if (named.length <= 1) return named[0];
  // Same name in several domains: only the one in the domain of the same name qualifies.
  const sameDomain = named.filter(
    (p) => p.domain?.name === req.localProjectDomainName || p.domain_id === req.localProjectDomainName,
  );
  return sameDomain.length === 1 ? sameDomain[0] : undefined;
}

function collectCookies(setCookie: string | string[] | undefined): string {
  const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  return list
    .map((c) => c.split(';')[0]?.trim() ?? '')
    .filter(Boolean)
    .join('; ');
}
