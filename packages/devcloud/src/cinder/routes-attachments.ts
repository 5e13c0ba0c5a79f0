/** Cinder v3 attachments (3.27+): list/detail, create, show, update (connect), complete, delete. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, notFound } from './errors.ts';
import { body, findVolume, requireMv, rs, truthy } from './http.ts';
import { paginate, queryParams } from './list.ts';
import { attachmentBody } from './render.ts';
import { type AttachmentRow, type CinderState, nowIso } from './state.ts';

const P = '/v3/:project_id';

export function registerAttachmentRoutes(app: FastifyInstance, state: CinderState): void {
  // ---- attachments (3.27+) ---------------------------------------------------------------------------------
  function findAttachment(req: FastifyRequest, id: string): AttachmentRow {
    const { tok } = rs(req);
    const a = state.attachments.get(id);
    if (!a || (!tok.isAdmin && a.projectId !== tok.projectId))
      throw notFound(`VolumeAttachment ${id} could not be found.`);
    return a;
  }

  function listAttachments(req: FastifyRequest, detail: boolean) {
    requireMv(req, 27);
    const { tok, view } = rs(req);
    const q = queryParams(req);
    const all = tok.isAdmin && (truthy(q.get('all_tenants')) || truthy(q.get('all_projects')));
    const rows = state.attachments.filter((a) => {
      if (!all && a.projectId !== tok.projectId) return false;
      const vol = q.get('volume_id');
      if (vol !== null && a.volumeId !== vol) return false;
      const inst = q.get('instance_id');
      if (inst !== null && a.instanceUuid !== inst) return false;
      const st = q.get('status');
      if (st !== null && a.status !== st) return false;
      return true;
    });
    const { page, links } = paginate(
      req,
      rows,
      (a, k) => (k === 'id' ? a.id : k === 'created_at' ? a.createdAt : k === 'status' ? a.status : null),
      ['id', 'created_at', 'status'],
      `${view.apiBase}/v3/${view.urlProject}/attachments${detail ? '/detail' : ''}`,
      'VolumeAttachment',
    );
    const out: Record<string, unknown> = { attachments: page.map((a) => attachmentBody(a, detail)) };
    if (links) out.attachments_links = links;
    return out;
  }

  app.get(`${P}/attachments`, async (req) => listAttachments(req, false));
  app.get(`${P}/attachments/detail`, async (req) => listAttachments(req, true));

  app.post(`${P}/attachments`, async (req, reply) => {
    requireMv(req, 27);
    const b = body(req, 'attachment');
    if (typeof b.volume_uuid !== 'string')
      throw badRequest("Invalid input for field/attribute attachment. 'volume_uuid' is a required property");
    const v = findVolume(state, req, b.volume_uuid);
    const instance = typeof b.instance_uuid === 'string' ? b.instance_uuid : null;
    const mode = typeof b.mode === 'string' ? b.mode : null;
    if (mode !== null && mode !== 'rw' && mode !== 'ro') throw badRequest('Invalid attach mode: must be rw or ro.');
    const okStatus =
      ['available', 'reserved'].includes(v.status) || (v.multiattach && ['in-use', 'attaching'].includes(v.status));
    if (!okStatus) {
      throw badRequest(
        `Invalid volume: Volume ${v.id} status must be available or downloading to reserve, but the current status is ${v.status}.`,
      );
    }
    const connector = b.connector && typeof b.connector === 'object' ? (b.connector as Record<string, unknown>) : null;
    const a: AttachmentRow = {
      id: randomUUID(),
      volumeId: v.id,
      projectId: v.projectId,
      instanceUuid: instance,
      status: connector ? 'attaching' : 'reserved',
      mountpoint: connector && typeof connector.mountpoint === 'string' ? connector.mountpoint : null,
      hostName: connector && typeof connector.host === 'string' ? connector.host : null,
      attachMode: mode,
      connector,
      attachedAt: null,
      detachedAt: null,
      createdAt: nowIso(),
    };
    state.attachments.put(a);
    state.refreshAttachStatus(v);
    return reply.code(200).send({ attachment: attachmentBody(a, true) });
  });

  app.get<{ Params: { id: string } }>(`${P}/attachments/:id`, async (req) => {
    requireMv(req, 27);
    return { attachment: attachmentBody(findAttachment(req, req.params.id), true) };
  });

  app.put<{ Params: { id: string } }>(`${P}/attachments/:id`, async (req) => {
    requireMv(req, 27);
    const a = findAttachment(req, req.params.id);
    const b = body(req, 'attachment');
    const connector = b.connector;
    if (!connector || typeof connector !== 'object')
      throw badRequest("Invalid input for field/attribute attachment. 'connector' is a required property");
    a.connector = connector as Record<string, unknown>;
    const c = a.connector;
    if (typeof c.mountpoint === 'string') a.mountpoint = c.mountpoint;
    if (typeof c.host === 'string') a.hostName = c.host;
    a.attachMode ??= 'rw';
    state.attachments.put(a);
    const v = state.volume(a.volumeId);
    if (v && a.status !== 'attached') {
      a.status = 'attaching';
      state.attachments.put(a);
      state.refreshAttachStatus(v);
      a.status = 'reserved';
      state.attachments.put(a);
    }
    return { attachment: attachmentBody(a, true) };
  });

  app.post<{ Params: { id: string } }>(`${P}/attachments/:id/action`, async (req, reply) => {
    requireMv(req, 44);
    const a = findAttachment(req, req.params.id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (!('os-complete' in b))
      throw badRequest(
        `There is no such action: ${Object.keys(b)[0] ?? ''}. Verify the request body and Content-Type header and try again.`,
      );
    const v = state.volume(a.volumeId);
    if (!v) throw notFound(`Volume ${a.volumeId} could not be found.`);
    state.attach(v, {
      instanceUuid: a.instanceUuid ?? '',
      mountpoint: a.mountpoint,
      hostName: a.hostName,
      mode: a.attachMode ?? 'rw',
    });
    // state.attach reuses the pending attachment of this instance; make sure it is this one.
    const done = state.attachments.get(a.id);
    if (done) {
      done.status = 'attached';
      state.attachments.put(done);
    }
    return reply.code(204).send();
  });

  app.delete<{ Params: { id: string } }>(`${P}/attachments/:id`, async (req) => {
    requireMv(req, 27);
    const a = findAttachment(req, req.params.id);
    const v = state.volume(a.volumeId);
    if (v) state.detachAttachment(v, a);
    else state.attachments.delete(a.id);
    return { attachments: [] };
  });
}
