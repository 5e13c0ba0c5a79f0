import { ErrorCode } from '../errors/codes.ts';
import { parseFaultMessage } from '../errors/from-response.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';
import { safeUrl } from '../transport/errors.ts';
import { registerSecret } from '../transport/redact.ts';
import type { HttpResponse } from '../transport/types.ts';
import { accessInfoFromTokenBody } from './access-info.ts';
import { cachedAccess, hashKey, type TokenStore } from './cache.ts';
import { CookieJar } from './cookies.ts';
import { issueToken } from './keystone.ts';
import type { AccessInfo, AuthContext, AuthPlugin, AuthScope } from './types.ts';

export const PAOS_CONTENT_TYPE = 'application/vnd.paos+xml';

/** The steps of the K2K flow, as named in FEDERATION_FAILED errors (`err.step`). */
export const K2KStep = {
  IDP_LOGIN: 'idp-login',
  SERVICE_PROVIDER: 'service-provider',
  ECP_ASSERTION: 'ecp-assertion',
  SP_ASSERTION: 'sp-assertion',
  FEDERATED_AUTH: 'federated-auth',
  PROJECT_LIST: 'project-list',
  PROJECT_SELECTION: 'project-selection',
  RESCOPE: 'rescope',
} as const;
export type K2KStep = (typeof K2KStep)[keyof typeof K2KStep];
const K2K_STEPS = new Set<string>(Object.values(K2KStep));
function isK2KStep(step: string | undefined): boolean {
  return step !== undefined && K2K_STEPS.has(step);
}

/** Which SP project to end up in. No target: the user's only project (an error when there are several). */
export interface K2KTarget {
  projectId?: string | undefined;
  /** By name: with projectDomainId or projectDomainName when names repeat across domains. */
  projectName?: string | undefined;
  projectDomainId?: string | undefined;
  projectDomainName?: string | undefined;
  /** Domain scope instead of a project. */
  domainId?: string | undefined;
  domainName?: string | undefined;
}

export interface Keystone2KeystoneOptions {
  /** The home (IdP) cloud's plugin; it must yield a project-scoped token (Keystone refuses to sign otherwise). */
  idp: AuthPlugin;
  /** Service provider id as registered in the IdP Keystone (`service_providers[].id`). */
  serviceProvider: string;
  target?: K2KTarget | undefined;
  /** Where the IdP token is cached (default: the process-wide cache). */
  idpTokenCache?: TokenStore | undefined;
  idpRefreshMarginMs?: number | undefined;
}

interface ProjectEntry {
  id: string;
  name?: string;
  domain_id?: string;
}

/**
 * The most of an IdP's ECP answer the client reads: a signed envelope is a few kB, and mod_auth_mellon refuses
 * bodies over 1 MiB too. An IdP that sends more (or never stops) is cut off at once instead of filling memory
 * until the deadline.
 */
export const MAX_ENVELOPE_BYTES = 1024 * 1024;

/** The body as text, or undefined (and the body discarded) once it is longer than `max` bytes. */
async function readCapped(res: HttpResponse, max: number): Promise<string | undefined> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > max) {
    res.body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > max) {
      res.body.destroy();
      return undefined;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** readCapped, with a failed read (reset, deadline) reported as the transport reports it. */
async function readEnvelope(res: HttpResponse, max: number): Promise<string | undefined> {
  try {
    return await readCapped(res, max);
  } catch (err) {
    if (isOcxError(err)) throw err;
    // A raw stream error (the deadline's TimeoutError, a reset): the response's text() maps body failures to
    // TIMEOUT/CANCELLED/UNREACHABLE, and reading the errored stream again fails the same way, so ask it to.
    throw await res.text().then(
      () => err,
      (mapped: unknown) => mapped,
    );
  }
}

/**
 * Keystone-to-Keystone federation (SAML2 ECP), the same exchange keystoneauth's Keystone2Keystone plugin makes:
 * IdP token → POST {idp}/v3/auth/OS-FEDERATION/saml2/ecp → POST envelope to sp_url (PAOS, redirects not followed)
 * → cookie → GET auth_url → unscoped SP token → GET {sp}/v3/auth/projects → rescope → scoped SP token with the SP catalog.
 */
export class Keystone2Keystone implements AuthPlugin {
  readonly kind = 'k2k';
  readonly idp: AuthPlugin;
  readonly serviceProvider: string;
  readonly target: K2KTarget;
  readonly #idpCache: TokenStore | undefined;
  readonly #idpMargin: number | undefined;

  constructor(opts: Keystone2KeystoneOptions) {
    if (!opts.serviceProvider)
      throw new OcxError(ErrorCode.CONFIG_INVALID, 'K2K needs a service provider id', { key: 'service_provider' });
    this.idp = opts.idp;
    this.serviceProvider = opts.serviceProvider;
    this.target = opts.target ?? {};
    this.#idpCache = opts.idpTokenCache;
    this.#idpMargin = opts.idpRefreshMarginMs;
  }

  #cacheKey: string | undefined;
  /** Computed once (asked on every authenticated request; the IdP plugin and target are fixed). */
  cacheKey(): string {
    this.#cacheKey ??= hashKey(['k2k', this.idp.cacheKey(), this.serviceProvider, this.target]);
    return this.#cacheKey;
  }

  #fail(
    step: K2KStep,
    message: string,
    ctx: AuthContext,
    extra: Record<string, unknown> = {},
    cause?: unknown,
  ): OcxError {
    return new OcxError(
      ErrorCode.FEDERATION_FAILED,
      `K2K to service provider ${this.serviceProvider} failed at step ${step}: ${message}`,
      { cloud: ctx.cloud, region: ctx.region, service: 'identity', step, ...extra },
      cause === undefined ? {} : { cause },
    );
  }

  /** Run a step; transport errors (UNREACHABLE/TIMEOUT/CANCELLED) keep their code and gain the step name. */
  async #step<T>(step: K2KStep, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // A step named by a K2K step inside (the IdP login's own) stays; the transport's generic one (its operation,
      // 'request') gives way to the K2K step, which tells the user more.
      if (isOcxError(err)) throw isK2KStep(err.step) ? err : err.withContext({ step });
      throw err;
    }
  }

  async #httpFailure(step: K2KStep, res: HttpResponse, what: string, ctx: AuthContext, hint = ''): Promise<OcxError> {
    const text = await res.text().catch(() => '');
    const serverMessage = parseFaultMessage(text);
    return this.#fail(
      step,
      `${what} answered HTTP ${res.status}${serverMessage ? ` (${serverMessage})` : ''}${hint}`,
      ctx,
      { status: res.status, requestId: res.requestId, url: res.url, method: res.method, serverMessage },
    );
  }

  async authenticate(ctx: AuthContext): Promise<AccessInfo> {
    const opCtx = (operation: string) => ({ cloud: ctx.cloud, region: ctx.region, service: 'identity', operation });
    const common = { signal: ctx.signal, deadline: ctx.deadline, timeoutMs: ctx.timeoutMs };

    // 1. IdP token (cached), project scoped.
    let idpAccess = await this.#step(K2KStep.IDP_LOGIN, () =>
      cachedAccess(this.idp, ctx, { cache: this.#idpCache, marginMs: this.#idpMargin }),
    );
    if (!idpAccess.project) {
      throw this.#fail(
        K2KStep.IDP_LOGIN,
        'the IdP token must be project scoped (Keystone only issues SAML assertions for project-scoped tokens)',
        ctx,
      );
    }
    const sp = idpAccess.serviceProviders.find((p) => p.id === this.serviceProvider);
    if (!sp) {
      const known = idpAccess.serviceProviders.map((p) => p.id);
      throw this.#fail(
        K2KStep.SERVICE_PROVIDER,
        `not among the IdP token's enabled service providers (${known.length ? known.join(', ') : 'none'})`,
        ctx,
      );
    }

    // 2. ECP-wrapped SAML assertion from the IdP. A stale IdP token (401/404) gets one fresh login.
    const ecpUrl = `${idpAccess.identityUrl}/auth/OS-FEDERATION/saml2/ecp`;
    let envelope: string | undefined;
    for (let round = 0; envelope === undefined; round++) {
      const body = {
        auth: {
          identity: { methods: ['token'], token: { id: idpAccess.token } },
          scope: { service_provider: { id: sp.id } },
        },
      };
      const res = await this.#step(K2KStep.ECP_ASSERTION, () =>
        ctx.transport.request({
          method: 'POST',
          url: ecpUrl,
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(body),
          idempotent: true, // a new assertion each time, no state on the IdP
          context: opCtx('k2k.ecp'),
          ...common,
        }),
      );
      if ((res.status === 401 || res.status === 404) && round === 0) {
        await res.dump();
        idpAccess = await this.#step(K2KStep.IDP_LOGIN, () =>
          cachedAccess(this.idp, ctx, { cache: this.#idpCache, marginMs: this.#idpMargin, force: true }),
        );
        continue;
      }
      if (res.status < 200 || res.status >= 300)
        throw await this.#httpFailure(K2KStep.ECP_ASSERTION, res, 'the IdP assertion endpoint', ctx);
      const text = await this.#step(K2KStep.ECP_ASSERTION, () => readEnvelope(res, MAX_ENVELOPE_BYTES));
      if (text === undefined) {
        throw this.#fail(
          K2KStep.ECP_ASSERTION,
          `the IdP's assertion is more than ${MAX_ENVELOPE_BYTES} bytes (a signed ECP envelope is a few kB)`,
          ctx,
        );
      }
      if (!text.trim()) throw this.#fail(K2KStep.ECP_ASSERTION, 'the IdP returned an empty assertion', ctx);
      envelope = text;
    }

    // 3. Present the envelope to the SP's ECP endpoint. Do not follow the redirect: a 302/303 means the SAML session is set.
    const jar = new CookieJar();
    const spRes = await this.#step(K2KStep.SP_ASSERTION, () =>
      ctx.transport.request({
        method: 'POST',
        url: sp.sp_url,
        headers: { 'content-type': PAOS_CONTENT_TYPE },
        body: envelope,
        context: opCtx('k2k.sp'),
        ...common,
      }),
    );
    jar.store(sp.sp_url, spRes.headers.getSetCookie());
    let unscopedRes: HttpResponse;
    if (spRes.status === 302 || spRes.status === 303) {
      await spRes.dump();
      if (jar.size === 0)
        throw this.#fail(
          K2KStep.SP_ASSERTION,
          `the SP accepted the assertion (HTTP ${spRes.status}) but set no session cookie`,
          ctx,
        );
      // 4. With the session cookie, the SP Keystone's federated auth endpoint issues an unscoped token.
      const cookie = jar.header(sp.auth_url);
      unscopedRes = await this.#step(K2KStep.FEDERATED_AUTH, () =>
        ctx.transport.request({
          method: 'GET',
          url: sp.auth_url,
          headers: { 'content-type': PAOS_CONTENT_TYPE, accept: 'application/json', ...(cookie ? { cookie } : {}) },
          context: opCtx('k2k.federated-auth'),
          ...common,
        }),
      );
    } else if (spRes.status >= 200 && spRes.status < 300 && spRes.headers.get('x-subject-token')) {
      unscopedRes = spRes; // an SP that answers the ECP POST with the token directly
    } else {
      const hint =
        spRes.status === 400
          ? ' — mod_auth_mellon rejects Keystone\'s default [saml] relay_state_prefix "ss:mem:"; set it to a relative URL on the IdP'
          : '';
      throw await this.#httpFailure(
        K2KStep.SP_ASSERTION,
        spRes,
        `the SP's ECP endpoint ${safeUrl(sp.sp_url)}`,
        ctx,
        hint,
      );
    }
    if (unscopedRes.status !== 201 && unscopedRes.status !== 200) {
      throw await this.#httpFailure(
        K2KStep.FEDERATED_AUTH,
        unscopedRes,
        'the SP federated auth endpoint',
        ctx,
        unscopedRes.status === 401 ? ' — check the SP mapping and that the session cookie is accepted' : '',
      );
    }
    const unscopedToken = unscopedRes.headers.get('x-subject-token');
    if (!unscopedToken) {
      await unscopedRes.dump();
      throw this.#fail(K2KStep.FEDERATED_AUTH, 'the SP answered without an X-Subject-Token header', ctx, {
        status: unscopedRes.status,
      });
    }
    registerSecret(unscopedToken);
    const spIdentity = remoteIdentityUrl(sp.auth_url);
    const unscoped = accessInfoFromTokenBody(await unscopedRes.json(), unscopedToken, spIdentity);

    const t = this.target;
    // 5. A known project id: rescope at once (the listing is only needed to explain a refusal).
    if (t.projectId && !t.domainId && !t.domainName) {
      try {
        return await this.#rescope(spIdentity, unscoped.token, { kind: 'project', id: t.projectId }, ctx);
      } catch (err) {
        if (!isOcxError(err) || err.code !== ErrorCode.FEDERATION_FAILED || err.step !== K2KStep.RESCOPE) throw err;
        const projects = await this.#listProjects(spIdentity, unscoped.token, ctx, common, opCtx('k2k.projects'));
        await this.#chooseScope(projects, undefined, spIdentity, unscoped.token, ctx, common); // throws when absent
        throw err;
      }
    }
    // 6. What may this federated user scope to? (The domain of a project named by name is looked up meanwhile.)
    const domainLookup =
      t.projectName && !t.projectDomainId && t.projectDomainName
        ? this.#domainIdByName(spIdentity, unscoped.token, t.projectDomainName, ctx, common)
        : undefined;
    domainLookup?.catch(() => undefined);
    const projects = await this.#listProjects(spIdentity, unscoped.token, ctx, common, opCtx('k2k.projects'));
    // 7. Rescope.
    const scope = await this.#chooseScope(projects, domainLookup, spIdentity, unscoped.token, ctx, common);
    return this.#rescope(spIdentity, unscoped.token, scope, ctx);
  }

  #rescope(spIdentity: string, unscopedToken: string, scope: AuthScope, ctx: AuthContext): Promise<AccessInfo> {
    return this.#step(K2KStep.RESCOPE, async () => {
      try {
        return await issueToken(
          spIdentity,
          { methods: ['token'], token: { id: unscopedToken } },
          scope,
          ctx,
          'k2k.rescope',
        );
      } catch (err) {
        if (
          isOcxError(err) &&
          (err.code === ErrorCode.AUTH_FAILED || err.code === ErrorCode.FORBIDDEN || err.code === ErrorCode.NOT_FOUND)
        )
          throw this.#fail(K2KStep.RESCOPE, err.message, ctx, { status: err.status, requestId: err.requestId }, err);
        throw err;
      }
    });
  }

  async #listProjects(
    spIdentity: string,
    token: string,
    ctx: AuthContext,
    common: Pick<AuthContext, 'signal' | 'deadline' | 'timeoutMs'>,
    context: Record<string, string | undefined>,
  ): Promise<ProjectEntry[]> {
    const out: ProjectEntry[] = [];
    let url: string | undefined = `${spIdentity}/auth/projects`;
    for (let page = 0; url && page < 100; page++) {
      const pageUrl: string = url;
      const res = await this.#step(K2KStep.PROJECT_LIST, () =>
        ctx.transport.request({
          method: 'GET',
          url: pageUrl,
          headers: { 'x-auth-token': token, accept: 'application/json' },
          context,
          ...common,
        }),
      );
      if (res.status === 404 && page === 0 && pageUrl.endsWith('/auth/projects')) {
        // Keystones before Liberty only have the federation-specific listing.
        await res.dump();
        url = `${spIdentity}/OS-FEDERATION/projects`;
        continue;
      }
      if (res.status !== 200) throw await this.#httpFailure(K2KStep.PROJECT_LIST, res, `GET ${pageUrl}`, ctx);
      const body = (await res.json()) as { projects?: ProjectEntry[]; links?: { next?: string | null } } | undefined;
      out.push(...(body?.projects ?? []).filter((p) => typeof p?.id === 'string'));
      url = body?.links?.next ?? undefined;
    }
    return out;
  }

  async #chooseScope(
    projects: ProjectEntry[],
    domainLookup: Promise<string | undefined> | undefined,
    spIdentity: string,
    token: string,
    ctx: AuthContext,
    common: Pick<AuthContext, 'signal' | 'deadline' | 'timeoutMs'>,
  ): Promise<AuthScope> {
    const t = this.target;
    const names = () =>
      projects.map((p) => `${p.name ?? '?'} (${p.id}, domain ${p.domain_id ?? '?'})`).join(', ') || 'none';
    if (t.domainId) return { kind: 'domain', id: t.domainId };
    if (t.domainName) return { kind: 'domain', name: t.domainName };
    if (t.projectId) {
      if (!projects.some((p) => p.id === t.projectId))
        throw this.#fail(
          K2KStep.PROJECT_SELECTION,
          `project id ${t.projectId} is not available; available: ${names()}`,
          ctx,
        );
      return { kind: 'project', id: t.projectId };
    }
    if (t.projectName) {
      let candidates = projects.filter((p) => p.name === t.projectName);
      if (t.projectDomainId) candidates = candidates.filter((p) => p.domain_id === t.projectDomainId);
      else if (t.projectDomainName && candidates.length > 0) {
        const domainId = await (domainLookup ??
          this.#domainIdByName(spIdentity, token, t.projectDomainName, ctx, common));
        if (domainId !== undefined) candidates = candidates.filter((p) => p.domain_id === domainId);
        else if (candidates.length === 1) {
          // The federated user cannot list domains: let Keystone check name + domain name during the rescope.
          return { kind: 'project', name: t.projectName, domainName: t.projectDomainName };
        }
      }
      const inDomain = t.projectDomainId ?? t.projectDomainName;
      if (candidates.length === 0)
        throw this.#fail(
          K2KStep.PROJECT_SELECTION,
          `no project named ${t.projectName}${inDomain ? ` in domain ${inDomain}` : ''}; available: ${names()}`,
          ctx,
        );
      if (candidates.length > 1)
        throw new OcxError(
          ErrorCode.AMBIGUOUS,
          `K2K to ${this.serviceProvider}: ${candidates.length} projects are named ${t.projectName}; give a project domain or id`,
          { cloud: ctx.cloud, service: 'identity', step: K2KStep.PROJECT_SELECTION },
        );
      return { kind: 'project', id: candidates[0]!.id };
    }
    if (projects.length === 1) return { kind: 'project', id: projects[0]!.id };
    throw this.#fail(
      K2KStep.PROJECT_SELECTION,
      projects.length === 0
        ? 'the federated user has no project on the service provider'
        : `no target project given and the federated user has ${projects.length}: ${names()}`,
      ctx,
    );
  }

  async #domainIdByName(
    spIdentity: string,
    token: string,
    name: string,
    ctx: AuthContext,
    common: Pick<AuthContext, 'signal' | 'deadline' | 'timeoutMs'>,
  ): Promise<string | undefined> {
    const res = await this.#step(K2KStep.PROJECT_LIST, () =>
      ctx.transport.request({
        method: 'GET',
        url: `${spIdentity}/auth/domains`,
        headers: { 'x-auth-token': token, accept: 'application/json' },
        context: { cloud: ctx.cloud, region: ctx.region, service: 'identity', operation: 'k2k.domains' },
        ...common,
      }),
    );
    if (res.status !== 200) {
      await res.dump();
      return undefined;
    }
    const body = (await res.json()) as { domains?: Array<{ id: string; name?: string }> } | undefined;
    return body?.domains?.find((d) => d.name === name)?.id;
  }
}

/** The SP Keystone's base URL: its federated auth_url cut at `/OS-FEDERATION/` (keystoneauth does the same). */
export function remoteIdentityUrl(spAuthUrl: string): string {
  const i = spAuthUrl.indexOf('/OS-FEDERATION/');
  return (i >= 0 ? spAuthUrl.slice(0, i) : spAuthUrl).replace(/\/+$/, '');
}
