/** Neutron quotas: show, defaults, details (used/limit/reserved), admin update and reset. */
import type { FastifyInstance } from 'fastify';
import type { TokenInfo } from '../context.ts';
import { badRequest, policyDenied, tokenOf } from './http.ts';
import { type NeutronModel, QUOTA_RESOURCES } from './model.ts';

function canRead(token: TokenInfo, projectId: string): boolean {
  return token.isAdmin || token.projectId === projectId;
}

export function quotaRoutes(app: FastifyInstance, m: NeutronModel): void {
  const limits = (projectId: string) => {
    const out: Record<string, number> = {};
    for (const r of QUOTA_RESOURCES) out[r] = m.quotaLimit(projectId, r);
    return out;
  };
  const defaults = () => {
    const out: Record<string, number> = {};
    for (const r of QUOTA_RESOURCES) {
      // Defaults ignore per-project overrides: ask with an id no project has.
      out[r] = m.quotaLimit('\u0000default', r);
    }
    return out;
  };

  app.get('/v2.0/quotas', async (req) => {
    const token = tokenOf(req);
    if (!token.isAdmin) throw policyDenied('get_quota');
    return { quotas: m.quotaOverrides.all().map((o) => ({ ...limits(o.id), project_id: o.id, tenant_id: o.id })) };
  });

  app.get<{ Params: { project: string } }>('/v2.0/quotas/:project', async (req) => {
    const token = tokenOf(req);
    if (req.params.project === 'tenant') {
      // GET /quotas/tenant: the caller's own project id.
      return { tenant: { tenant_id: token.projectId ?? '' } };
    }
    if (!canRead(token, req.params.project)) throw policyDenied('get_quota');
    return { quota: limits(req.params.project) };
  });

  app.get<{ Params: { project: string } }>('/v2.0/quotas/:project/default', async (req) => {
    const token = tokenOf(req);
    if (!canRead(token, req.params.project)) throw policyDenied('get_quota');
    return { quota: defaults() };
  });

  app.get<{ Params: { project: string } }>('/v2.0/quotas/:project/details', async (req) => {
    const token = tokenOf(req);
    if (!canRead(token, req.params.project)) throw policyDenied('get_quota');
    const used = m.usage(req.params.project);
    const lim = limits(req.params.project);
    const quota: Record<string, { limit: number; used: number; reserved: number }> = {};
    for (const r of QUOTA_RESOURCES) quota[r] = { limit: lim[r] ?? -1, used: used[r] ?? 0, reserved: 0 };
    return { quota };
  });

  app.put<{ Params: { project: string } }>('/v2.0/quotas/:project', async (req) => {
    const token = tokenOf(req);
    if (!token.isAdmin) throw policyDenied('update_quota');
    const body = (req.body ?? {}) as { quota?: Record<string, unknown> };
    if (!body.quota || typeof body.quota !== 'object') throw badRequest('Resource body required');
    for (const [k, v] of Object.entries(body.quota)) {
      if (k === 'check_limit' || k === 'force') continue;
      if (!(QUOTA_RESOURCES as readonly string[]).includes(k)) throw badRequest(`Unrecognized attribute(s) '${k}'`);
      const n = Number(v);
      if (!Number.isInteger(n) || n < -1) {
        throw badRequest(`Invalid input for ${k}. Reason: '${String(v)}' is not an integer or is smaller than -1.`);
      }
      m.ctx.setQuotaLimit('network', req.params.project, k, n);
    }
    m.quotaOverrides.put({ id: req.params.project });
    return { quota: limits(req.params.project) };
  });

  app.delete<{ Params: { project: string } }>('/v2.0/quotas/:project', async (req, reply) => {
    const token = tokenOf(req);
    if (!token.isAdmin) throw policyDenied('delete_quota');
    m.ctx.resetQuotaLimits('network', req.params.project);
    m.quotaOverrides.delete(req.params.project);
    return reply.code(204).send();
  });
}
