/** Cinder v3 routes beyond volumes: snapshots, attachments, types, quota sets, limits, zones, transfers. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CloudContext } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { badRequest, forbidden, notFound } from './errors.ts';
import { body, findVolume, optString, requireMv, rs, truthy } from './http.ts';
import { paginate, queryParams } from './list.ts';
import { attachmentBody, snapshotBody, transferBody, typeBody } from './render.ts';
import { registerBackupRoutes } from './routes-backups.ts';
import { type AttachmentRow, type CinderState, nowIso, type SnapshotRow, type TransferRow } from './state.ts';

const P = '/v3/:project_id';
const SNAPSHOT_SORT_KEYS = ['id', 'name', 'status', 'size', 'created_at', 'updated_at', 'volume_id'];
const QUOTA_KEYS = ['volumes', 'per_volume_gigabytes', 'snapshots', 'gigabytes', 'backups', 'backup_gigabytes'];

export function registerMoreRoutes(app: FastifyInstance, ctx: CloudContext, state: CinderState): void {
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

  registerBackupRoutes(app, state);

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

  // ---- volume types ----------------------------------------------------------------------------------------
  app.get(`${P}/types`, async (req) => {
    const { view } = rs(req);
    const q = queryParams(req);
    const pub = q.get('is_public');
    const rows = state.types.filter((t) => {
      if (!view.isAdmin && !t.isPublic) return false;
      if (pub !== null && pub !== 'None' && t.isPublic !== truthy(pub)) return false;
      return true;
    });
    return { volume_types: rows.map((t) => typeBody(t, view)) };
  });
  app.get(`${P}/types/default`, async (req) => {
    requireMv(req, 62);
    const { view } = rs(req);
    const t = state.defaultType();
    const out = typeBody(t, view);
    delete out['os-volume-type-access:is_public'];
    delete out.qos_specs_id;
    return { volume_type: out };
  });
  app.get<{ Params: { id: string } }>(`${P}/types/:id`, async (req) => {
    const { view } = rs(req);
    const t = req.params.id === 'default' ? state.defaultType() : state.types.get(req.params.id);
    if (!t || (!view.isAdmin && !t.isPublic)) throw notFound(`Volume type ${req.params.id} could not be found.`);
    return { volume_type: typeBody(t, view) };
  });
  app.get<{ Params: { id: string } }>(`${P}/types/:id/extra_specs`, async (req) => {
    const { view } = rs(req);
    const t = state.types.get(req.params.id);
    if (!t) throw notFound(`Volume type ${req.params.id} could not be found.`);
    if (!view.isAdmin) throw forbidden('volume_extension:types_extra_specs:index');
    return { extra_specs: { ...t.extraSpecs } };
  });
  app.post(`${P}/types`, async (req) => {
    const { view } = rs(req);
    if (!view.isAdmin) throw forbidden('volume_extension:types_manage');
    const b = body(req, 'volume_type');
    if (typeof b.name !== 'string' || b.name.trim() === '') throw badRequest('Volume type name can not be empty.');
    if (state.types.filter((t) => t.name === b.name).length > 0) {
      throw new ApiFault(409, `Volume Type ${b.name} already exists.`);
    }
    const isPublic = b['os-volume-type-access:is_public'] ?? b.is_public ?? true;
    const t = {
      id: randomUUID(),
      name: b.name,
      description: typeof b.description === 'string' ? b.description : null,
      isPublic: isPublic === true || isPublic === 'true',
      extraSpecs: Object.fromEntries(
        Object.entries((b.extra_specs ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      ),
      isDefault: false,
    };
    state.types.put(t);
    return { volume_type: typeBody(t, view) };
  });
  app.delete<{ Params: { id: string } }>(`${P}/types/:id`, async (req, reply) => {
    const { view } = rs(req);
    if (!view.isAdmin) throw forbidden('volume_extension:types_manage');
    const t = state.types.get(req.params.id);
    if (!t) throw notFound(`Volume type ${req.params.id} could not be found.`);
    if (t.isDefault) throw badRequest('Invalid volume type: Default volume type can not be deleted.');
    if (state.volumes.filter((v) => v.volumeTypeId === t.id).length > 0) {
      throw badRequest(
        `Target volume type is still in use. Volume Type ${t.id} deletion is not allowed with volumes present with the type.`,
      );
    }
    state.types.delete(t.id);
    return reply.code(202).send();
  });

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

  // ---- transfers (os-volume-transfer, and volume-transfers from 3.55) -----------------------------------------
  function findTransfer(req: FastifyRequest, id: string, forAccept: boolean): TransferRow {
    const { tok } = rs(req);
    const t = state.transfers.get(id);
    if (!t || (!forAccept && !tok.isAdmin && t.sourceProjectId !== tok.projectId)) {
      throw notFound(`Transfer ${id} could not be found.`);
    }
    return t;
  }

  for (const base of ['os-volume-transfer', 'volume-transfers']) {
    const gate = (req: FastifyRequest) => {
      if (base === 'volume-transfers') requireMv(req, 55);
    };
    const list = (detail: boolean) => async (req: FastifyRequest) => {
      gate(req);
      const { tok, view } = rs(req);
      const q = queryParams(req);
      const all = tok.isAdmin && (truthy(q.get('all_tenants')) || truthy(q.get('all_projects')));
      const rows = state.transfers.filter((t) => all || t.sourceProjectId === tok.projectId);
      const { page, links } = paginate(
        req,
        rows,
        (t, k) => (k === 'id' ? t.id : k === 'created_at' ? t.createdAt : k === 'name' ? t.name : null),
        ['id', 'created_at', 'name'],
        `${view.apiBase}/v3/${view.urlProject}/${base}${detail ? '/detail' : ''}`,
        'Transfer',
      );
      const out: Record<string, unknown> = {
        transfers: page.map((t) => transferBody(view, t, detail ? 'detail' : 'summary')),
      };
      if (links) out.transfers_links = links;
      return out;
    };
    app.get(`${P}/${base}`, list(false));
    app.get(`${P}/${base}/detail`, list(true));
    app.post(`${P}/${base}`, async (req, reply) => {
      gate(req);
      const { view } = rs(req);
      const b = body(req, 'transfer');
      if (typeof b.volume_id !== 'string')
        throw badRequest("Invalid input for field/attribute transfer. 'volume_id' is a required property");
      const v = findVolume(state, req, b.volume_id);
      const t = state.newTransfer(v, optString(b.name, 'name') ?? null, b.no_snapshots === true);
      return reply.code(202).send({ transfer: transferBody(view, t, 'created') });
    });
    app.get<{ Params: { id: string } }>(`${P}/${base}/:id`, async (req) => {
      gate(req);
      return { transfer: transferBody(rs(req).view, findTransfer(req, req.params.id, false), 'detail') };
    });
    app.delete<{ Params: { id: string } }>(`${P}/${base}/:id`, async (req, reply: FastifyReply) => {
      gate(req);
      state.cancelTransfer(findTransfer(req, req.params.id, false));
      return reply.code(202).send();
    });
    app.post<{ Params: { id: string } }>(`${P}/${base}/:id/accept`, async (req, reply) => {
      gate(req);
      const { tok, view } = rs(req);
      const t = findTransfer(req, req.params.id, true);
      const b = body(req, 'accept');
      state.acceptTransfer(t, b.auth_key, tok.projectId ?? '', tok.userId);
      t.accepted = true;
      t.destinationProjectId = tok.projectId ?? null;
      return reply.code(202).send({ transfer: transferBody(view, t, 'accepted') });
    });
  }
}
