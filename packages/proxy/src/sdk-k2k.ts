/**
 * RemoteTokenSource on the SDK's Keystone2Keystone plugin (the team's one K2K implementation): the user's home
 * token is the IdP credential (TokenAuth, project scope), the target is the explicit remote project id or the
 * local project's name + domain name (never "the only/first one"). The SDK transport carries the deadline.
 */
import {
  type AccessInfo,
  createTransport,
  ErrorCode,
  K2KStep,
  type K2KTarget,
  Keystone2Keystone,
  MemoryTokenCache,
  OcxError,
  requestEcpAssertion,
  TokenAuth,
  type Transport,
} from '@ocx/sdk';
import type { RemoteToken, RemoteTokenRequest, RemoteTokenSource } from './k2k.ts';
import { rootsFromCatalog, type ServiceProviderRef } from './keystone.ts';
import type { ProxyMetrics } from './metrics.ts';

/** A prefetched assertion older than this is not used (Keystone's assertions live minutes; SPs check the age). */
const ECP_TTL_MS = 30_000;
const MAX_PREFETCH = 256;

export class SdkK2KTokenSource implements RemoteTokenSource {
  private readonly identityUrl: string;
  private readonly transport: Transport;
  /**
   * ECP assertions asked for beside a new token's validation, by SP id and the token itself (memory only, like the
   * validation cache): only an exchange made with that same token takes one, once. Unused ones go after ECP_TTL_MS.
   */
  private readonly assertions = new Map<string, { p: Promise<string | undefined>; at: number }>();

  constructor(opts: { identityUrl: string; transport?: Transport; metrics?: ProxyMetrics }) {
    this.identityUrl = opts.identityUrl;
    const metrics = opts.metrics;
    // No retries: the proxy's caller decides; the deadline comes with each exchange. Each call's time goes to the
    // proxy's metrics by K2K step (the transport's operation name: k2k.ecp, k2k.sp, k2k.projects, ...).
    this.transport =
      opts.transport ??
      createTransport({
        retry: false,
        timeoutMs: 60_000,
        ...(metrics
          ? {
              metrics: {
                onRequest: (m) => metrics.tokenStep(m.cloud ?? '', m.operation ?? 'request', m.durationMs / 1000),
              },
            }
          : {}),
      });
  }

  /**
   * Ask the IdP for the ECP assertions of `localToken` towards `sps` now (the assertion needs nothing but the token:
   * the IdP checks it itself), so that a K2K made after the token's validation starts at the SP. At most
   * MAX_PREFETCH assertions wait at once: a flood of unknown tokens costs the IdP no more than that.
   */
  prefetch(localToken: string, sps: ServiceProviderRef[], deadline: number): void {
    const now = Date.now();
    for (const [k, v] of this.assertions) if (now - v.at > ECP_TTL_MS) this.assertions.delete(k);
    for (const sp of sps) {
      const key = `${sp.id}|${localToken}`;
      if (this.assertions.has(key) || this.assertions.size >= MAX_PREFETCH) continue;
      const p = requestEcpAssertion(
        { transport: this.transport, deadline, cloud: sp.id },
        this.identityUrl,
        localToken,
        sp.id,
      );
      this.assertions.set(key, { p, at: now });
    }
  }

  private takeAssertion(localToken: string, spId: string): Promise<string | undefined> | undefined {
    const key = `${spId}|${localToken}`;
    const e = this.assertions.get(key);
    if (!e) return undefined;
    this.assertions.delete(key);
    return Date.now() - e.at > ECP_TTL_MS ? undefined : e.p;
  }

  async obtain(req: RemoteTokenRequest): Promise<RemoteToken> {
    if (req.catalogOnly && !req.remoteProjectId) {
      // Catalog discovery: the federated user's only project (one exchange in the usual case), else the project
      // named like the local one.
      try {
        return await this.exchange(req, {});
      } catch (err) {
        const several =
          err instanceof OcxError &&
          err.code === ErrorCode.FEDERATION_FAILED &&
          err.context().step === K2KStep.PROJECT_SELECTION &&
          !!req.localProjectName;
        if (!several) throw err;
      }
    }
    if (!req.remoteProjectId && !req.localProjectName) {
      throw new OcxError(ErrorCode.FORBIDDEN, `no remote project can be chosen at ${req.sp.id} for an unscoped token`, {
        cloud: req.sp.id,
      });
    }
    return this.exchange(
      req,
      req.remoteProjectId
        ? { projectId: req.remoteProjectId }
        : { projectName: req.localProjectName, projectDomainName: req.localProjectDomainName },
    );
  }

  private async exchange(req: RemoteTokenRequest, target: K2KTarget): Promise<RemoteToken> {
    const idp = new TokenAuth({
      authUrl: this.identityUrl,
      token: req.localToken,
      ...(req.localProjectId ? { scope: { kind: 'project' as const, id: req.localProjectId } } : {}),
    });
    // One exchange, one IdP token: nothing to share with other users.
    const idpTokenCache = new MemoryTokenCache();
    if (req.localProjectId && req.localExpiresAt) {
      // The user's token is already validated and scoped to this project: it is the IdP token itself, so the
      // exchange starts at the ECP assertion instead of asking the IdP for a copy of it first (one call less per SP).
      // Should the IdP refuse it, the plugin's one forced login (a real token-for-token exchange) still runs.
      idpTokenCache.set(idp.cacheKey(), {
        token: req.localToken,
        expiresAt: req.localExpiresAt,
        methods: ['token'],
        user: { id: req.localUserId ?? '' },
        project: { id: req.localProjectId },
        roles: [],
        catalog: [],
        serviceProviders: [req.sp],
        identityUrl: this.identityUrl,
        unscoped: false,
      });
    }
    // A prefetched assertion was made with the user's token itself: only usable when that is the IdP token.
    const ecpAssertion = req.localProjectId && req.localExpiresAt ? this.takeAssertion(req.localToken, req.sp.id) : undefined;
    const k2k = new Keystone2Keystone({ idp, serviceProvider: req.sp.id, target, idpTokenCache, ecpAssertion });
    const access: AccessInfo = await k2k.authenticate({
      transport: this.transport,
      deadline: req.deadline,
      ...(req.signal ? { signal: req.signal } : {}),
      cloud: req.sp.id,
    });
    if (!access.project) {
      throw new OcxError(ErrorCode.FEDERATION_FAILED, `K2K to ${req.sp.id} gave no project-scoped token`, {
        cloud: req.sp.id,
      });
    }
    return {
      token: access.token,
      expiresAt: access.expiresAt,
      projectId: access.project.id,
      projectName: access.project.name,
      endpoints: rootsFromCatalog(access.catalog),
    };
  }
}
