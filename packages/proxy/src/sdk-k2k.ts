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
  TokenAuth,
  type Transport,
} from '@ocx/sdk';
import type { RemoteToken, RemoteTokenRequest, RemoteTokenSource } from './k2k.ts';
import { rootsFromCatalog } from './keystone.ts';
import type { ProxyMetrics } from './metrics.ts';

export class SdkK2KTokenSource implements RemoteTokenSource {
  private readonly identityUrl: string;
  private readonly transport: Transport;

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
    const k2k = new Keystone2Keystone({ idp, serviceProvider: req.sp.id, target, idpTokenCache });
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
