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
import { EarlyK2K, remoteTokenOf } from './k2k-early.ts';
import { rootsFromCatalog, type ServiceProviderRef } from './keystone.ts';
import type { ProxyMetrics } from './metrics.ts';

export class SdkK2KTokenSource implements RemoteTokenSource {
  private readonly identityUrl: string;
  private readonly transport: Transport;
  private readonly early: EarlyK2K;

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
    this.early = new EarlyK2K(this.identityUrl, this.transport);
  }

  /** Start K2K for `localToken` to `sps` beside its validation (k2k-early.ts); obtain() takes what fits. */
  prefetch(localToken: string, sps: ServiceProviderRef[], deadline: number): void {
    this.early.start(localToken, sps, deadline);
  }

  async obtain(req: RemoteTokenRequest): Promise<RemoteToken> {
    // The exchange started beside this token's validation, when it ended where this one would.
    const early = await this.early.take(req.localToken, req.sp.id);
    if (early?.remote && early.asserted) {
      const fits = req.remoteProjectId
        ? early.remote.projectId === req.remoteProjectId
        : early.asserted.project === req.localProjectName && early.asserted.domain === req.localProjectDomainName;
      if (fits) return early.remote;
    }
    const envelope = early?.envelope;
    if (req.catalogOnly && !req.remoteProjectId) {
      // Catalog discovery: the federated user's only project (one exchange in the usual case), else the project
      // named like the local one.
      try {
        return await this.exchange(req, {}, envelope);
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
      envelope,
    );
  }

  private async exchange(req: RemoteTokenRequest, target: K2KTarget, envelope?: string): Promise<RemoteToken> {
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
    // An early assertion was made with the user's token itself: only usable when that is the IdP token.
    const ecpAssertion = envelope && req.localProjectId && req.localExpiresAt ? Promise.resolve(envelope) : undefined;
    const k2k = new Keystone2Keystone({ idp, serviceProvider: req.sp.id, target, idpTokenCache, ecpAssertion });
    const access: AccessInfo = await k2k.authenticate({
      transport: this.transport,
      deadline: req.deadline,
      ...(req.signal ? { signal: req.signal } : {}),
      cloud: req.sp.id,
    });
    const remote = remoteTokenOf(access);
    if (!remote) {
      throw new OcxError(ErrorCode.FEDERATION_FAILED, `K2K to ${req.sp.id} gave no project-scoped token`, {
        cloud: req.sp.id,
      });
    }
    return remote;
  }
}
