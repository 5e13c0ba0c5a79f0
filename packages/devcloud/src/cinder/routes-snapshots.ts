/** Cinder v3 snapshots: list/detail, create, show, update, delete, snapshot actions. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden, notFound } from './errors.ts';
import { body, findVolume, optString, rs, truthy } from './http.ts';
import { paginate, queryParams } from './list.ts';
import { snapshotBody } from './render.ts';
import { type CinderState, nowIso, type SnapshotRow } from './state.ts';

const P = '/v3/:project_id';
const SNAPSHOT_SORT_KEYS = ['id', 'name', 'status', 'size', 'created_at', 'updated_at', 'volume_id'];

export function registerSnapshotRoutes(app: FastifyInstance, state: CinderState): void {
  // ---- snapshots -------------------------------------------------------------------------------------------
  function findSnapshot(req: FastifyRequest, id: string): SnapshotRow {
    const { tok } = rs(req);
    state.settle();
    const s = state.snapshots.get(id);
    if (!s || (!tok.isAdmin && s.projectId !== tok.projectId)) throw notFound(`Snapshot ${id} could not be found.`);
    return s;
  }

  function listSnapshots(req: FastifyRequest, detail: boolean) {
    const { tok, view } = rs(req);
    const q = queryParams(req);
    const all = tok.isAdmin && (truthy(q.get('all_tenants')) || truthy(q.get('all_projects')));
    state.settle();
    const rows = state.snapshots.filter((s) => {
      if (!all && s.projectId !== tok.projectId) return false;
      for (const key of ['name', 'status', 'volume_id'] as const) {
        const want = q.get(key);
        const have = key === 'volume_id' ? s.volumeId : s[key];
        if (want !== null && have !== want) return false;
      }
      return true;
    });
    const { page, links } = paginate(
      req,
      rows,
      (s, k) => {
        switch (k) {
          case 'id':
            return s.id;
          case 'name':
            return s.name;
          case 'status':
            return s.status;
          case 'size':
            return s.size;
          case 'created_at':
            return s.createdAt;
          case 'updated_at':
            return s.updatedAt;
          case 'volume_id':
            return s.volumeId;
          default:
            return null;
        }
      },
      SNAPSHOT_SORT_KEYS,
      `${view.apiBase}/v3/${view.urlProject}/snapshots${detail ? '/detail' : ''}`,
      'Snapshot',
    );
    const out: Record<string, unknown> = { snapshots: page.map((s) => snapshotBody(view, s, detail)) };
    if (links) out.snapshots_links = links;
    return out;
  }

  app.get(`${P}/snapshots`, async (req) => listSnapshots(req, false));
  app.get(`${P}/snapshots/detail`, async (req) => listSnapshots(req, true));

  app.post(`${P}/snapshots`, async (req, reply) => {
    const { tok, view } = rs(req);
    const b = body(req, 'snapshot');
    if (typeof b.volume_id !== 'string')
      throw badRequest("Invalid input for field/attribute snapshot. 'volume_id' is a required property");
    const v = findVolume(state, req, b.volume_id);
    const force = b.force === true || (typeof b.force === 'string' && truthy(b.force));
    const okStatus = v.status === 'available' || (force && v.status === 'in-use');
    if (!okStatus) {
      throw badRequest(`Invalid volume: Volume ${v.id} status must be available, but current status is: ${v.status}.`);
    }
    state.checkQuota(v.projectId, { snapshots: 1, gigabytes: v.size });
    const meta = (b.metadata ?? {}) as Record<string, unknown>;
    const row: SnapshotRow = {
      id: randomUUID(),
      projectId: v.projectId,
      userId: tok.userId,
      volumeId: v.id,
      name: optString(b.name ?? b.display_name, 'name') ?? null,
      description: optString(b.description ?? b.display_description, 'description') ?? null,
      size: v.size,
      status: 'creating',
      metadata: Object.fromEntries(Object.entries(meta).map(([k, val]) => [k, String(val)])),
      createdAt: nowIso(),
      updatedAt: null,
      pending: null,
    };
    state.schedule(state.snapshots, row, 'available');
    return reply.code(202).send({ snapshot: snapshotBody(view, row, false) });
  });

  app.get<{ Params: { id: string } }>(`${P}/snapshots/:id`, async (req) => ({
    snapshot: snapshotBody(rs(req).view, findSnapshot(req, req.params.id), true),
  }));

  app.put<{ Params: { id: string } }>(`${P}/snapshots/:id`, async (req) => {
    const s = findSnapshot(req, req.params.id);
    const b = body(req, 'snapshot');
    const name = optString(b.name ?? b.display_name, 'name');
    if (name !== undefined) s.name = name;
    const desc = optString(b.description ?? b.display_description, 'description');
    if (desc !== undefined) s.description = desc;
    s.updatedAt = nowIso();
    state.snapshots.put(s);
    return { snapshot: snapshotBody(rs(req).view, s, true) };
  });

  app.delete<{ Params: { id: string } }>(`${P}/snapshots/:id`, async (req, reply) => {
    const s = findSnapshot(req, req.params.id);
    if (!['available', 'error', 'error_deleting'].includes(s.status)) {
      throw badRequest(
        `Invalid snapshot: Volume Snapshot status must be available or error or error_deleting, but current status is: ${s.status}.`,
      );
    }
    s.status = 'deleting';
    state.schedule(state.snapshots, s, 'deleted');
    return reply.code(202).send();
  });

  app.post<{ Params: { id: string } }>(`${P}/snapshots/:id/action`, async (req, reply) => {
    const { tok } = rs(req);
    const s = findSnapshot(req, req.params.id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    if ('os-reset_status' in b) {
      if (!tok.isAdmin) throw forbidden('volume_extension:snapshot_admin_actions:reset_status');
      const st = (b['os-reset_status'] as { status?: unknown } | null)?.status;
      if (typeof st !== 'string') throw badRequest('Must specify a status');
      s.status = st;
      s.pending = null;
      state.snapshots.put(s);
      return reply.code(202).send();
    }
    if ('os-force_delete' in b) {
      if (!tok.isAdmin) throw forbidden('volume_extension:snapshot_admin_actions:force_delete');
      s.status = 'deleting';
      state.schedule(state.snapshots, s, 'deleted');
      return reply.code(202).send();
    }
    throw badRequest(
      `There is no such action: ${Object.keys(b)[0] ?? ''}. Verify the request body and Content-Type header and try again.`,
    );
  });
}
