/**
 * Cinder volume backups: create (creating → available), list/detail/show, delete, restore to a new or an
 * existing volume, admin reset-status/force-delete; counted in and limited by the backups quotas.
 * devcloud runs a backup service (as devstack with a backup driver does), so backups complete.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden, notFound } from './errors.ts';
import { body, findVolume, optString, requireMv, rs, truthy } from './http.ts';
import { paginate, queryParams } from './list.ts';
import { links, type View } from './render.ts';
import { type BackupRow, type CinderState, cinderTime, nowIso, type VolumeRow } from './state.ts';

const P = '/v3/:project_id';
const SORT_KEYS = ['id', 'name', 'status', 'size', 'created_at', 'updated_at', 'volume_id'];

function backupBody(view: View, b: BackupRow, detail: boolean): Record<string, unknown> {
  const l = links(view, 'backups', b.id);
  if (!detail) return { id: b.id, name: b.name, links: l };
  const out: Record<string, unknown> = {
    id: b.id,
    status: b.status,
    size: b.size,
    object_count: b.status === 'available' ? 1 : 0,
    availability_zone: 'nova',
    container: 'volumebackups',
    created_at: cinderTime(b.createdAt),
    updated_at: cinderTime(b.updatedAt),
    name: b.name,
    description: b.description,
    fail_reason: null,
    volume_id: b.volumeId,
    links: l,
    is_incremental: b.incremental,
    has_dependent_backups: false,
    snapshot_id: b.snapshotId,
    data_timestamp: cinderTime(b.dataTimestamp),
  };
  if (view.mv >= 43) out.metadata = { ...b.metadata };
  if (view.mv >= 18 && view.isAdmin) out['os-backup-project-attr:project_id'] = b.projectId;
  if (view.mv >= 56 && view.isAdmin) out.user_id = b.userId;
  return out;
}

export function registerBackupRoutes(app: FastifyInstance, state: CinderState): void {
  function findBackup(req: FastifyRequest, id: string): BackupRow {
    const { tok } = rs(req);
    state.settle();
    const b = state.backups.get(id);
    if (!b || (!tok.isAdmin && b.projectId !== tok.projectId)) throw notFound(`Backup ${id} could not be found.`);
    return b;
  }

  const list = (detail: boolean) => async (req: FastifyRequest) => {
    const { tok, view } = rs(req);
    const q = queryParams(req);
    const all = tok.isAdmin && (truthy(q.get('all_tenants')) || truthy(q.get('all_projects')));
    state.settle();
    const rows = state.backups.filter((b) => {
      if (!all && b.projectId !== tok.projectId) return false;
      for (const key of ['name', 'status', 'volume_id'] as const) {
        const want = q.get(key);
        const have = key === 'volume_id' ? b.volumeId : b[key];
        if (want !== null && have !== want) return false;
      }
      return true;
    });
    const { page, links: next } = paginate(
      req,
      rows,
      (b, k) => {
        switch (k) {
          case 'id':
            return b.id;
          case 'name':
            return b.name;
          case 'status':
            return b.status;
          case 'size':
            return b.size;
          case 'created_at':
            return b.createdAt;
          case 'updated_at':
            return b.updatedAt;
          case 'volume_id':
            return b.volumeId;
          default:
            return null;
        }
      },
      SORT_KEYS,
      `${view.apiBase}/v3/${view.urlProject}/backups${detail ? '/detail' : ''}`,
      'Backup',
    );
    const out: Record<string, unknown> = { backups: page.map((b) => backupBody(view, b, detail)) };
    if (next) out.backups_links = next;
    return out;
  };
  app.get(`${P}/backups`, list(false));
  app.get(`${P}/backups/detail`, list(true));

  app.post(`${P}/backups`, async (req, reply) => {
    const { tok, view } = rs(req);
    const b = body(req, 'backup');
    if (typeof b.volume_id !== 'string') {
      throw badRequest("Invalid input for field/attribute backup. 'volume_id' is a required property");
    }
    const v = findVolume(state, req, b.volume_id);
    const force = b.force === true || (typeof b.force === 'string' && truthy(b.force));
    if (!(v.status === 'available' || (v.status === 'in-use' && force))) {
      throw badRequest(
        v.status === 'in-use'
          ? `Invalid volume: Volume to be backed up must be available but the current status is "in-use".`
          : `Invalid volume: Volume to be backed up must be available or in-use, but the current status is "${v.status}".`,
      );
    }
    let snapshotId: string | null = null;
    if (typeof b.snapshot_id === 'string') {
      const snap = state.snapshots.get(b.snapshot_id);
      if (!snap || snap.volumeId !== v.id) throw notFound(`Snapshot ${b.snapshot_id} could not be found.`);
      snapshotId = snap.id;
    }
    state.checkQuota(v.projectId, { backups: 1, backupGigabytes: v.size });
    if (b.metadata !== undefined && view.mv < 43) throw badRequest('Backup metadata needs microversion 3.43.');
    const meta = (b.metadata ?? {}) as Record<string, unknown>;
    const now = nowIso();
    const row: BackupRow = {
      id: randomUUID(),
      projectId: v.projectId,
      userId: tok.userId,
      volumeId: v.id,
      snapshotId,
      name: optString(b.name, 'name') ?? null,
      description: optString(b.description, 'description') ?? null,
      size: v.size,
      status: 'creating',
      incremental: b.incremental === true,
      metadata: Object.fromEntries(Object.entries(meta).map(([k, val]) => [k, String(val)])),
      createdAt: now,
      updatedAt: now,
      dataTimestamp: now,
      pending: null,
    };
    const back = v.status;
    v.status = 'backing-up';
    v.updatedAt = now;
    state.schedule(state.volumes, v, back);
    state.schedule(state.backups, row, 'available');
    return reply.code(202).send({ backup: backupBody(view, row, false) });
  });

  app.get<{ Params: { id: string } }>(`${P}/backups/:id`, async (req) => ({
    backup: backupBody(rs(req).view, findBackup(req, req.params.id), true),
  }));

  app.put<{ Params: { id: string } }>(`${P}/backups/:id`, async (req) => {
    requireMv(req, 9);
    const bk = findBackup(req, req.params.id);
    const b = body(req, 'backup');
    const name = optString(b.name, 'name');
    if (name !== undefined) bk.name = name;
    const desc = optString(b.description, 'description');
    if (desc !== undefined) bk.description = desc;
    if (b.metadata !== undefined) {
      requireMv(req, 43);
      bk.metadata = Object.fromEntries(
        Object.entries(b.metadata as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      );
    }
    bk.updatedAt = nowIso();
    state.backups.put(bk);
    return { backup: backupBody(rs(req).view, bk, true) };
  });

  app.delete<{ Params: { id: string } }>(`${P}/backups/:id`, async (req, reply) => {
    const bk = findBackup(req, req.params.id);
    if (!['available', 'error'].includes(bk.status)) {
      throw badRequest(
        `Invalid backup: Backup status must be available or error, but current status is: ${bk.status}.`,
      );
    }
    bk.status = 'deleting';
    state.schedule(state.backups, bk, 'deleted');
    return reply.code(202).send();
  });

  app.post<{ Params: { id: string } }>(`${P}/backups/:id/restore`, async (req, reply) => {
    const { tok } = rs(req);
    const bk = findBackup(req, req.params.id);
    if (bk.status !== 'available') {
      throw badRequest(`Invalid backup: Backup status must be available, but current status is: ${bk.status}.`);
    }
    const b = (req.body as { restore?: Record<string, unknown> } | undefined)?.restore ?? {};
    let target: VolumeRow;
    if (typeof b.volume_id === 'string') {
      target = findVolume(state, req, b.volume_id);
      if (target.status !== 'available') {
        throw badRequest(
          `Invalid volume: Volume to be restored to must be available, but the current status is "${target.status}".`,
        );
      }
      if (target.size < bk.size) {
        throw badRequest(
          `Invalid volume: volume size ${target.size} is too small to restore backup of size ${bk.size}.`,
        );
      }
    } else {
      target = state.createVolume({
        projectId: tok.projectId ?? '',
        userId: tok.userId,
        size: bk.size,
        name: optString(b.name, 'name') ?? `restore_backup_${bk.id}`,
        isAdmin: tok.isAdmin,
      });
    }
    target.status = 'restoring-backup';
    target.updatedAt = nowIso();
    state.schedule(state.volumes, target, 'available');
    bk.status = 'restoring';
    state.schedule(state.backups, bk, 'available');
    return reply.code(202).send({ restore: { backup_id: bk.id, volume_id: target.id, volume_name: target.name } });
  });

  app.post<{ Params: { id: string } }>(`${P}/backups/:id/action`, async (req, reply) => {
    const { tok } = rs(req);
    const bk = findBackup(req, req.params.id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    if ('os-reset_status' in b) {
      if (!tok.isAdmin) throw forbidden('volume_extension:backup_admin_actions:reset_status');
      const st = (b['os-reset_status'] as { status?: unknown } | null)?.status;
      if (st !== 'available' && st !== 'error') throw badRequest('Backup status must be available or error.');
      bk.status = st;
      bk.pending = null;
      state.backups.put(bk);
      return reply.code(202).send();
    }
    if ('os-force_delete' in b) {
      if (!tok.isAdmin) throw forbidden('volume_extension:backup_admin_actions:force_delete');
      bk.status = 'deleting';
      state.schedule(state.backups, bk, 'deleted');
      return reply.code(202).send();
    }
    throw badRequest(
      `There is no such action: ${Object.keys(b)[0] ?? ''}. Verify the request body and Content-Type header and try again.`,
    );
  });
}
