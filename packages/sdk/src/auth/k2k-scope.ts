import { ErrorCode } from '../errors/codes.ts';
import { isOcxError, OcxError } from '../errors/ocx-error.ts';
import { K2KStep, k2kFailure, k2kHttpFailure, k2kStep } from './k2k-steps.ts';
import { issueToken } from './keystone.ts';
import type { AccessInfo, AuthContext, AuthScope } from './types.ts';

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

export interface ProjectEntry {
  id: string;
  name?: string;
  domain_id?: string;
}

type Common = Pick<AuthContext, 'signal' | 'deadline' | 'timeoutMs'>;

/**
 * The service-provider side of K2K once the federated user holds an unscoped SP token: which projects it may
 * scope to, which one the target names, and the rescope itself.
 */
export class K2KScopeSelector {
  readonly serviceProvider: string;
  readonly target: K2KTarget;
  readonly spIdentity: string;
  readonly token: string;

  constructor(serviceProvider: string, target: K2KTarget, spIdentity: string, unscopedToken: string) {
    this.serviceProvider = serviceProvider;
    this.target = target;
    this.spIdentity = spIdentity;
    this.token = unscopedToken;
  }

  /** Steps 5–7: list the SP projects when needed, choose the scope and rescope. */
  async scopedAccess(
    ctx: AuthContext,
    common: Common,
    opCtx: (operation: string) => Record<string, string | undefined>,
  ): Promise<AccessInfo> {
    const t = this.target;
    // 5. A known project id: rescope at once (the listing is only needed to explain a refusal).
    if (t.projectId && !t.domainId && !t.domainName) {
      try {
        return await this.rescope({ kind: 'project', id: t.projectId }, ctx);
      } catch (err) {
        if (!isOcxError(err) || err.code !== ErrorCode.FEDERATION_FAILED || err.step !== K2KStep.RESCOPE) throw err;
        const projects = await this.listProjects(ctx, common, opCtx('k2k.projects'));
        await this.chooseScope(projects, undefined, ctx, common); // throws when absent
        throw err;
      }
    }
    // 5b. A project named with its domain: Keystone resolves name + domain itself at the rescope (keystoneauth's
    // Keystone2Keystone rescopes the same way), so neither the project listing nor the domain lookup is on the path.
    // A refusal is explained from the listing, as for an id.
    if (t.projectName && (t.projectDomainId || t.projectDomainName) && !t.domainId && !t.domainName) {
      const byName: AuthScope = t.projectDomainId
        ? { kind: 'project', name: t.projectName, domainId: t.projectDomainId }
        : { kind: 'project', name: t.projectName, domainName: t.projectDomainName };
      try {
        return await this.rescope(byName, ctx);
      } catch (err) {
        if (!isOcxError(err) || err.code !== ErrorCode.FEDERATION_FAILED || err.step !== K2KStep.RESCOPE) throw err;
        const projects = await this.listProjects(ctx, common, opCtx('k2k.projects'));
        await this.chooseScope(projects, undefined, ctx, common); // throws when absent or ambiguous
        throw err;
      }
    }
    // 6. What may this federated user scope to? (The domain of a project named by name is looked up meanwhile.)
    const domainLookup =
      t.projectName && !t.projectDomainId && t.projectDomainName
        ? this.domainIdByName(t.projectDomainName, ctx, common)
        : undefined;
    domainLookup?.catch(() => undefined);
    const projects = await this.listProjects(ctx, common, opCtx('k2k.projects'));
    // 7. Rescope.
    const scope = await this.chooseScope(projects, domainLookup, ctx, common);
    return this.rescope(scope, ctx);
  }

  #fail(step: K2KStep, message: string, ctx: AuthContext, extra: Record<string, unknown> = {}, cause?: unknown) {
    return k2kFailure(this.serviceProvider, step, message, ctx, extra, cause);
  }

  rescope(scope: AuthScope, ctx: AuthContext): Promise<AccessInfo> {
    return k2kStep(K2KStep.RESCOPE, async () => {
      try {
        return await issueToken(
          this.spIdentity,
          { methods: ['token'], token: { id: this.token } },
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

  async listProjects(
    ctx: AuthContext,
    common: Common,
    context: Record<string, string | undefined>,
  ): Promise<ProjectEntry[]> {
    const out: ProjectEntry[] = [];
    let url: string | undefined = `${this.spIdentity}/auth/projects`;
    for (let page = 0; url && page < 100; page++) {
      const pageUrl: string = url;
      const res = await k2kStep(K2KStep.PROJECT_LIST, () =>
        ctx.transport.request({
          method: 'GET',
          url: pageUrl,
          headers: { 'x-auth-token': this.token, accept: 'application/json' },
          context,
          ...common,
        }),
      );
      if (res.status === 404 && page === 0 && pageUrl.endsWith('/auth/projects')) {
        // Keystones before Liberty only have the federation-specific listing.
        await res.dump();
        url = `${this.spIdentity}/OS-FEDERATION/projects`;
        continue;
      }
      if (res.status !== 200)
        throw await k2kHttpFailure(this.serviceProvider, K2KStep.PROJECT_LIST, res, `GET ${pageUrl}`, ctx);
      const body = (await res.json()) as { projects?: ProjectEntry[]; links?: { next?: string | null } } | undefined;
      out.push(...(body?.projects ?? []).filter((p) => typeof p?.id === 'string'));
      url = body?.links?.next ?? undefined;
    }
    return out;
  }

  async chooseScope(
    projects: ProjectEntry[],
    domainLookup: Promise<string | undefined> | undefined,
    ctx: AuthContext,
    common: Common,
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
        const domainId = await (domainLookup ?? this.domainIdByName(t.projectDomainName, ctx, common));
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

  async domainIdByName(name: string, ctx: AuthContext, common: Common): Promise<string | undefined> {
    const res = await k2kStep(K2KStep.PROJECT_LIST, () =>
      ctx.transport.request({
        method: 'GET',
        url: `${this.spIdentity}/auth/domains`,
        headers: { 'x-auth-token': this.token, accept: 'application/json' },
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
