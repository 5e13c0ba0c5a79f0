/**
 * QuotaService: the caller's projects and their quota rows over every cloud the caller reaches (the SDK's
 * quotas/ layer, with its per-cloud, per-project and per-service failures), and Reassign. A kind the cloud
 * cannot move (UNSUPPORTED) is FAILED_PRECONDITION: the RPC exists and works for other kinds and clouds, so
 * UNIMPLEMENTED would wrongly tell a client the method is missing; the OCX code in the details says UNSUPPORTED.
 */
import type { ServiceImpl } from '@connectrpc/connect';
import {
  listProjects,
  listQuotas,
  type MyProject,
  type QuotaFailure,
  type QuotaRow,
  type ReassignKind,
  reassign,
} from '@ocx/sdk';
import type { QuotaService } from '@ocx/sdk/gen/ocx/cloud/v1/quota_service_pb';
import { type GatewayDeps, scopeFor, targetCloud } from '../context.ts';
import { toLocation } from '../convert.ts';
import { invalidArgument, toConnectError } from '../errors.ts';

const KINDS: readonly ReassignKind[] = ['volume', 'server', 'network', 'floatingip', 'container', 'image'];

function toProject(p: MyProject) {
  return { location: toLocation(p.location), id: p.id, name: p.name, enabled: p.enabled, current: p.current };
}

function toRow(r: QuotaRow) {
  return {
    location: toLocation(r.location),
    service: r.service,
    resource: r.resource,
    usage: r.usage === null ? undefined : BigInt(r.usage),
    limit: r.limit === null ? undefined : BigInt(r.limit),
    reserved: BigInt(r.reserved),
    unit: r.unit,
  };
}

function toFailure(f: QuotaFailure) {
  return {
    location: toLocation(f.location),
    service: f.service ?? '',
    code: f.error.code,
    message: f.error.message,
    requestId: f.error.requestId ?? '',
  };
}

/** Only the cloud/region part of the filter: a project in it would scope the caller's clouds to that project. */
const cloudsOnly = (loc: { clouds: string[]; region: string } | undefined) =>
  loc ? { $typeName: 'ocx.cloud.v1.LocationFilter' as const, clouds: loc.clouds, region: loc.region } : undefined;

export function quotaHandlers(deps: GatewayDeps): Partial<ServiceImpl<typeof QuotaService>> {
  return {
    async listProjects(req, ctx) {
      const scope = await scopeFor(deps, ctx, cloudsOnly(req.location));
      try {
        const out = await listProjects(scope.multi, {
          projects: req.projects.length ? req.projects : undefined,
          deadlineMs: scope.deadlineMs,
          signal: scope.signal,
        });
        return {
          projects: out.projects.map(toProject),
          failures: out.failures.map((f) => ({
            cloud: f.location.cloud,
            region: f.location.region ?? '',
            code: f.error.code,
            message: f.error.message,
            requestId: f.error.requestId ?? '',
          })),
        };
      } catch (err) {
        throw toConnectError(err);
      }
    },

    async listQuotas(req, ctx) {
      const scope = await scopeFor(deps, ctx, cloudsOnly(req.location));
      try {
        const prefix = req.resourcePrefix;
        const service = prefix.split('.')[0] ?? '';
        const out = await listQuotas(scope.multi, {
          projects: req.projects.length ? req.projects : undefined,
          // A prefix that names a whole service ("volume." or "volume.gigabytes") reads only that service.
          services: prefix.includes('.') && service ? [service] : undefined,
          deadlineMs: scope.deadlineMs,
          signal: scope.signal,
        });
        return {
          rows: out.rows.filter((r) => r.resource.startsWith(prefix)).map(toRow),
          failures: out.failures.map(toFailure),
        };
      } catch (err) {
        throw toConnectError(err);
      }
    },

    async reassign(req, ctx) {
      const kind = req.kind as ReassignKind;
      if (!KINDS.includes(kind)) throw invalidArgument(`kind must be one of ${KINDS.join(', ')}`);
      if (!req.id) throw invalidArgument('id is required');
      if (!req.toProject) throw invalidArgument('to_project is required');
      const scope = await scopeFor(deps, ctx, cloudsOnly({ clouds: req.cloud ? [req.cloud] : [], region: '' }));
      const conn = targetCloud(scope, req.cloud);
      try {
        const dest = await reassign(conn, kind, req.id, req.toProject, {
          from: req.fromProject || undefined,
          signal: ctx.signal,
        });
        return { project: toProject(dest) };
      } catch (err) {
        throw toConnectError(err);
      }
    },
  };
}
