/** Cinder v3 quota sets and limits, plus the small read-only lists: availability zones, services, extensions. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { CloudContext } from '../context.ts';
import { badRequest, forbidden } from './errors.ts';
import { body, rs, truthy } from './http.ts';
import { queryParams } from './list.ts';
import type { CinderState } from './state.ts';

const P = '/v3/:project_id';
const QUOTA_KEYS = ['volumes', 'per_volume_gigabytes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes'];

export function registerQuotaRoutes(app: FastifyInstance, ctx: CloudContext, state: CinderState): void {
  // ---- quotas and limits ------------------------------------------------------------------------------------
  function quotaLimits(projectId: string): Record<string, number> {
    const all = ctx.quotaLimits('volume', projectId);
    const out: Record<string, number> = {};
    for (const k of QUOTA_KEYS) out[k] = all[k] ?? ctx.quotaLimit('volume', projectId, k);
    for (const t of state.types.all()) {
      for (const r of ['volumes', 'gigabytes', 'snapshots']) {
        out[`${r}_${t.name}`] = ctx.quotaLimit('volume', projectId, `${r}_${t.name}`);
      }
    }
    out.groups = all.groups ?? ctx.quotaLimit('volume', projectId, 'groups');
    return out;
  }

  app.get<{ Params: { target: string } }>(`${P}/os-quota-sets/:target`, async (req) => {
    const { tok } = rs(req);
    const target = req.params.target;
    if (!tok.isAdmin && target !== tok.projectId) throw forbidden('volume_extension:quotas:show');
    const limits = quotaLimits(target);
    const q = queryParams(req);
    if (truthy(q.get('usage'))) {
      const used = state.usage(target);
      const out: Record<string, unknown> = {};
      for (const [k, limit] of Object.entries(limits)) out[k] = { limit, in_use: used[k] ?? 0, reserved: 0 };
      return { quota_set: { ...out, id: target } };
    }
    return { quota_set: { ...limits, id: target } };
  });
  app.get<{ Params: { target: string } }>(`${P}/os-quota-sets/:target/defaults`, async (req) => {
    const limits = quotaLimits(`__defaults__${randomUUID()}`);
    return { quota_set: { ...limits, id: req.params.target } };
  });
  app.put<{ Params: { target: string } }>(`${P}/os-quota-sets/:target`, async (req) => {
    const { tok } = rs(req);
    if (!tok.isAdmin) throw forbidden('volume_extension:quotas:update');
    const b = body(req, 'quota_set');
    const known = new Set(Object.keys(quotaLimits(req.params.target)));
    const updates: [string, number][] = [];
    for (const [k, v] of Object.entries(b)) {
      if (k === 'tenant_id' || k === 'id') continue;
      if (!known.has(k)) throw badRequest(`Bad key(s) in quota set: ${k}`);
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < -1) {
        throw badRequest(
          `Invalid input received: Quota limit ${String(v)} for ${k} must be an integer greater than or equal to -1.`,
        );
      }
      updates.push([k, n]);
    }
    for (const [k, n] of updates) ctx.setQuotaLimit('volume', req.params.target, k, n);
    return { quota_set: quotaLimits(req.params.target) };
  });
  app.delete<{ Params: { target: string } }>(`${P}/os-quota-sets/:target`, async (req, reply) => {
    const { tok } = rs(req);
    if (!tok.isAdmin) throw forbidden('volume_extension:quotas:delete');
    ctx.resetQuotaLimits('volume', req.params.target);
    return reply.code(200).send();
  });

  app.get(`${P}/limits`, async (req) => {
    const { tok } = rs(req);
    const pid = tok.projectId ?? '';
    const used = state.usage(pid);
    const l = (r: string) => ctx.quotaLimit('volume', pid, r);
    return {
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumes: l('volumes'),
          maxTotalSnapshots: l('snapshots'),
          maxTotalVolumeGigabytes: l('gigabytes'),
          maxTotalBackups: l('backups'),
          maxTotalBackupGigabytes: l('backup_gigabytes'),
          totalVolumesUsed: used.volumes,
          totalGigabytesUsed: used.gigabytes,
          totalSnapshotsUsed: used.snapshots,
          totalBackupsUsed: used.backups,
          totalBackupGigabytesUsed: used.backup_gigabytes,
        },
      },
    };
  });

  app.get(`${P}/os-availability-zone`, async () => ({
    availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }],
  }));

  app.get(`${P}/os-services`, async (req) => {
    if (!rs(req).tok.isAdmin) throw forbidden('volume_extension:services:index');
    const updated = `${new Date().toISOString().slice(0, 23)}000`;
    const svc = (binary: string, host: string) => ({
      binary,
      host,
      zone: 'nova',
      status: 'enabled',
      state: 'up',
      updated_at: updated,
      disabled_reason: null,
    });
    return { services: [svc('cinder-scheduler', 'devcloud'), svc('cinder-volume', 'devcloud@lvmdriver-1')] };
  });

  app.get(`${P}/extensions`, async () => ({
    extensions: [
      ['VolumeImageMetadata', 'os-vol-image-meta', 'Show image metadata associated with the volume.'],
      ['VolumeTenantAttribute', 'os-vol-tenant-attr', 'Expose the internal project_id as an attribute of a volume.'],
      ['VolumeTransfer', 'os-volume-transfer', 'Volume transfer management support.'],
      ['Quotas', 'os-quota-sets', 'Quota management support.'],
      ['AvailabilityZones', 'os-availability-zone', 'Describe Availability Zones.'],
      ['VolumeActions', 'os-volume-actions', 'Enable volume actions.'],
      ['AdminActions', 'os-admin-actions', 'Enable admin actions.'],
    ].map(([name, alias, description]) => ({
      name,
      alias,
      description,
      updated: '2012-12-07T00:00:00+00:00',
      links: [],
    })),
  }));
}
