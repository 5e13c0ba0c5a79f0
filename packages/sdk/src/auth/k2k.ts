import { ErrorCode } from '../errors/codes.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';
import { safeUrl } from '../transport/errors.ts';
import { registerSecret } from '../transport/redact.ts';
import type { HttpResponse } from '../transport/types.ts';
import { accessInfoFromTokenBody } from './access-info.ts';
import { cachedAccess, hashKey, type TokenStore } from './cache.ts';
import { CookieJar } from './cookies.ts';
import { K2KScopeSelector, type K2KTarget, remoteIdentityUrl } from './k2k-scope.ts';
import { K2KStep, k2kFailure, k2kHttpFailure, k2kStep } from './k2k-steps.ts';
import type { AccessInfo, AuthContext, AuthPlugin, ServiceProviderInfo } from './types.ts';

export { type K2KTarget, remoteIdentityUrl } from './k2k-scope.ts';
// The scope selection and the step errors live in k2k-scope.ts and k2k-steps.ts; this module stays the public entry.
export { K2KStep } from './k2k-steps.ts';

export const PAOS_CONTENT_TYPE = 'application/vnd.paos+xml';

export interface Keystone2KeystoneOptions {
  /** The home (IdP) cloud's plugin; it must yield a project-scoped token (Keystone refuses to sign otherwise). */
  idp: AuthPlugin;
  /** Service provider id as registered in the IdP Keystone (`service_providers[].id`). */
  serviceProvider: string;
  target?: K2KTarget | undefined;
  /** Where the IdP token is cached (default: the process-wide cache). */
  idpTokenCache?: TokenStore | undefined;
  idpRefreshMarginMs?: number | undefined;
  /**
   * An ECP envelope already asked for (requestEcpAssertion) with the very token the IdP plugin yields and for this
   * service provider — e.g. started beside the validation of that token. Used once; when it resolves undefined
   * (or fails) the plugin asks the IdP itself.
   */
  ecpAssertion?: Promise<string | undefined> | undefined;
}

/**
 * POST {identityUrl}/auth/OS-FEDERATION/saml2/ecp with `token` for `serviceProvider`: the ECP envelope, or
 * undefined when the IdP refuses or cannot be asked (a caller that needs the reason runs the plugin's own step).
 */
export async function requestEcpAssertion(
  ctx: AuthContext,
  identityUrl: string,
  token: string,
  serviceProvider: string,
): Promise<string | undefined> {
  try {
    const res = await ctx.transport.request({
      method: 'POST',
      url: `${identityUrl.replace(/\/+$/, '')}/auth/OS-FEDERATION/saml2/ecp`,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: ecpBody(token, serviceProvider),
      idempotent: true,
      context: { cloud: ctx.cloud, region: ctx.region, service: 'identity', operation: 'k2k.ecp' },
      signal: ctx.signal,
      deadline: ctx.deadline,
      timeoutMs: ctx.timeoutMs,
    });
    if (res.status < 200 || res.status >= 300) {
      await res.dump();
      return undefined;
    }
    const text = await readCapped(res, MAX_ENVELOPE_BYTES);
    return text?.trim() ? text : undefined;
  } catch {
    return undefined;
  }
}

function ecpBody(token: string, serviceProvider: string): string {
  return JSON.stringify({
    auth: {
      identity: { methods: ['token'], token: { id: token } },
      scope: { service_provider: { id: serviceProvider } },
    },
  });
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
  #ecpAssertion: Promise<string | undefined> | undefined;

  constructor(opts: Keystone2KeystoneOptions) {
    if (!opts.serviceProvider)
      throw new OcxError(ErrorCode.CONFIG_INVALID, 'K2K needs a service provider id', { key: 'service_provider' });
    this.idp = opts.idp;
    this.serviceProvider = opts.serviceProvider;
    this.target = opts.target ?? {};
    this.#idpCache = opts.idpTokenCache;
    this.#idpMargin = opts.idpRefreshMarginMs;
    this.#ecpAssertion = opts.ecpAssertion;
  }

  #cacheKey: string | undefined;
  /** Computed once (asked on every authenticated request; the IdP plugin and target are fixed). */
  cacheKey(): string {
    this.#cacheKey ??= hashKey(['k2k', this.idp.cacheKey(), this.serviceProvider, this.target]);
    return this.#cacheKey;
  }

  #fail(step: K2KStep, message: string, ctx: AuthContext, extra?: Record<string, unknown>): OcxError {
    return k2kFailure(this.serviceProvider, step, message, ctx, extra);
  }

  #step<T>(step: K2KStep, fn: () => Promise<T>): Promise<T> {
    return k2kStep(step, fn);
  }

  #httpFailure(step: K2KStep, res: HttpResponse, what: string, ctx: AuthContext, hint = ''): Promise<OcxError> {
    return k2kHttpFailure(this.serviceProvider, step, res, what, ctx, hint);
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
    // A prefetched envelope is one assertion: used by this exchange only.
    const prefetched = this.#ecpAssertion;
    this.#ecpAssertion = undefined;
    let envelope: string | undefined = prefetched ? await prefetched.catch(() => undefined) : undefined;
    for (let round = 0; envelope === undefined; round++) {
      const res = await this.#step(K2KStep.ECP_ASSERTION, () =>
        ctx.transport.request({
          method: 'POST',
          url: ecpUrl,
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: ecpBody(idpAccess.token, sp.id),
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

    // 3.–7. At the SP: the envelope for a session, the unscoped token, the scoped one.
    return k2kAtServiceProvider(sp, envelope, this.target, ctx);
  }
}

/**
 * Steps 3–7 of K2K at the service provider, given the IdP's ECP envelope for it: the envelope to the SP's ECP
 * endpoint (redirects not followed), the session cookie to the federated auth endpoint (an unscoped token), then
 * the scope choice and the rescope (the scoped token carries the SP catalog). Exported for a caller that asked for
 * the envelope itself (requestEcpAssertion); an envelope is one assertion, good for one exchange.
 */
export async function k2kAtServiceProvider(
  sp: ServiceProviderInfo,
  envelope: string,
  target: K2KTarget,
  ctx: AuthContext,
): Promise<AccessInfo> {
  const opCtx = (operation: string) => ({ cloud: ctx.cloud, region: ctx.region, service: 'identity', operation });
  const common = { signal: ctx.signal, deadline: ctx.deadline, timeoutMs: ctx.timeoutMs };
  // 3. Present the envelope to the SP's ECP endpoint. Do not follow the redirect: a 302/303 means the SAML session is set.
  const jar = new CookieJar();
  const spRes = await k2kStep(K2KStep.SP_ASSERTION, () =>
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
      throw k2kFailure(
        sp.id,
        K2KStep.SP_ASSERTION,
        `the SP accepted the assertion (HTTP ${spRes.status}) but set no session cookie`,
        ctx,
      );
    // 4. With the session cookie, the SP Keystone's federated auth endpoint issues an unscoped token.
    const cookie = jar.header(sp.auth_url);
    unscopedRes = await k2kStep(K2KStep.FEDERATED_AUTH, () =>
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
    throw await k2kHttpFailure(
      sp.id,
      K2KStep.SP_ASSERTION,
      spRes,
      `the SP's ECP endpoint ${safeUrl(sp.sp_url)}`,
      ctx,
      hint,
    );
  }
  if (unscopedRes.status !== 201 && unscopedRes.status !== 200) {
    throw await k2kHttpFailure(
      sp.id,
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
    throw k2kFailure(sp.id, K2KStep.FEDERATED_AUTH, 'the SP answered without an X-Subject-Token header', ctx, {
      status: unscopedRes.status,
    });
  }
  registerSecret(unscopedToken);
  const spIdentity = remoteIdentityUrl(sp.auth_url);
  const unscoped = accessInfoFromTokenBody(await unscopedRes.json(), unscopedToken, spIdentity);

  // 5.–7. Project listing, scope choice and rescope on the SP.
  return new K2KScopeSelector(sp.id, target, spIdentity, unscoped.token).scopedAccess(ctx, common, opCtx);
}
