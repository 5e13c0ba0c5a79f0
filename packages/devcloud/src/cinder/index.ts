/**
 * Cinder v3 for devcloud, mounted at /volume: version documents, microversions (3.0–3.70), volumes with timed
 * states, actions (attach/detach/reserve/extend/reset...), snapshots, attachments (3.27+), volume types, quota
 * sets with usage and enforcement, limits, volume transfers, availability zones; and InternalApis.volumes.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudContext, InternalApis, ServiceModule, TokenInfo } from '../context.ts';
import { InternalError } from '../context.ts';
import { badRequest, CinderError, faultBody, forbidden, notFound } from './errors.ts';
import { paginate, queryParams } from './list.ts';
import { MAX_MV, MIN_MV, type View, volumeDetail, volumeSummary } from './render.ts';
import { registerMoreRoutes } from './routes-more.ts';
import { assertInt, CinderState, nowIso, type VolumeRow } from './state.ts';

export interface CinderRequestState {
  tok: TokenInfo;
  view: View;
}

const reqState = new WeakMap<FastifyRequest, CinderRequestState>();

export function rs(req: FastifyRequest): CinderRequestState {
  const s = reqState.get(req);
  if (!s) throw new CinderError(401, 'The request you have made requires authentication.');
  return s;
}

const states = new WeakMap<CloudContext, CinderState>();
export function cinderState(ctx: CloudContext): CinderState {
  let s = states.get(ctx);
  if (!s) {
    s = new CinderState(ctx);
    states.set(ctx, s);
  }
  return s;
}

function versionEntry(ctx: CloudContext) {
  return {
    id: 'v3.0',
    status: 'CURRENT',
    version: `3.${MAX_MV}`,
    min_version: `3.${MIN_MV}`,
    updated: '2022-08-31T00:00:00Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${ctx.baseUrl}/volume/v3/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}

/** Parse `OpenStack-API-Version: volume 3.x`; returns the minor number. */
function parseMicroversion(req: FastifyRequest): number {
  const raw = req.headers['openstack-api-version'];
  const header = Array.isArray(raw) ? raw.join(',') : raw;
  if (!header) return MIN_MV;
  let value: string | undefined;
  for (const part of header.split(',')) {
    const [service, ver] = part.trim().split(/\s+/);
    if (service?.toLowerCase() === 'volume') value = ver;
  }
  if (value === undefined) return MIN_MV;
  if (value.toLowerCase() === 'latest') return MAX_MV;
  const m = /^(\d+)\.(\d+)$/.exec(value);
  if (!m) {
    throw new CinderError(
      400,
      `API Version String ${value} is of invalid format. Must be of format MajorNum.MinorNum.`,
    );
  }
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 3 || minor < MIN_MV || minor > MAX_MV) {
    throw Object.assign(
      new CinderError(
        406,
        `Version ${value} is not supported by the API. Minimum is 3.${MIN_MV} and maximum is 3.${MAX_MV}.`,
      ),
      { echo: value },
    );
  }
  return minor;
}

export function body<T = Record<string, unknown>>(req: FastifyRequest, key: string): T {
  const b = req.body as Record<string, unknown> | undefined;
  const inner = b?.[key];
  if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
    throw badRequest(`Missing required element '${key}' in request body.`);
  }
  return inner as T;
}

export function requireMv(req: FastifyRequest, minor: number): void {
  if (rs(req).view.mv < minor) throw notFound('The resource could not be found.');
}

/** Find a volume the token may see (own project, or any for admin). */
export function findVolume(state: CinderState, req: FastifyRequest, id: string): VolumeRow {
  const { tok } = rs(req);
  const v = state.volume(id);
  if (!v || (!tok.isAdmin && v.projectId !== tok.projectId)) throw notFound(`Volume ${id} could not be found.`);
  return v;
}

function stringMap(value: unknown, field: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw badRequest(`Invalid input for field/attribute ${field}.`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') {
      throw badRequest(
        `Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${JSON.stringify(v)} is not of type 'string'`,
      );
    }
    if (k.length > 255 || v.length > 255) throw badRequest(`Invalid input for field/attribute ${field}: too long.`);
    out[k] = v;
  }
  return out;
}

export function optString(value: unknown, field: string): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (typeof value !== 'string') {
    throw badRequest(
      `Invalid input for field/attribute ${field}. Value: ${JSON.stringify(value)}. ${JSON.stringify(value)} is not of type 'string', 'null'`,
    );
  }
  if (value.length > 255 && field === 'name') {
    throw badRequest(`Invalid input for field/attribute name. Value: ${value}. '${value}' is too long`);
  }
  return value;
}

const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);
export const truthy = (v: string | null) => v !== null && TRUE.has(v.toLowerCase());

const VOLUME_SORT_KEYS = [
  'id',
  'name',
  'status',
  'size',
  'created_at',
  'updated_at',
  'availability_zone',
  'bootable',
  'volume_type',
  'project_id',
  'user_id',
];

function volumeSortValue(state: CinderState, v: VolumeRow, key: string) {
  switch (key) {
    case 'id':
      return v.id;
    case 'name':
      return v.name;
    case 'status':
      return v.status;
    case 'size':
      return v.size;
    case 'created_at':
      return v.createdAt;
    case 'updated_at':
      return v.updatedAt;
    case 'availability_zone':
      return v.availabilityZone;
    case 'bootable':
      return v.bootable;
    case 'volume_type':
      return state.types.get(v.volumeTypeId)?.name ?? null;
    case 'project_id':
      return v.projectId;
    case 'user_id':
      return v.userId;
    default:
      return null;
  }
}

/** Volumes the request may list, with Cinder's filters applied. */
function filteredVolumes(state: CinderState, req: FastifyRequest): VolumeRow[] {
  const { tok } = rs(req);
  const q = queryParams(req);
  const allTenants = tok.isAdmin && (truthy(q.get('all_tenants')) || truthy(q.get('all_projects')));
  const projectFilter = tok.isAdmin ? q.get('project_id') : null;
  state.settle();
  let metaFilter: Record<string, string> | undefined;
  const rawMeta = q.get('metadata');
  if (rawMeta !== null) {
    try {
      metaFilter = JSON.parse(rawMeta.replaceAll("'", '"')) as Record<string, string>;
    } catch {
      throw badRequest(`Invalid input received: metadata must be a JSON object`);
    }
  }
  return state.volumes.filter((v) => {
    if (projectFilter !== null) {
      if (v.projectId !== projectFilter) return false;
    } else if (!allTenants && v.projectId !== tok.projectId) return false;
    const name = q.get('name');
    if (name !== null && v.name !== name) return false;
    const nameLike = q.get('name~');
    if (nameLike !== null && !(v.name ?? '').includes(nameLike)) return false;
    const status = q.get('status');
    if (status !== null && v.status !== status) return false;
    const bootable = q.get('bootable');
    if (bootable !== null && v.bootable !== truthy(bootable)) return false;
    const az = q.get('availability_zone');
    if (az !== null && v.availabilityZone !== az) return false;
    const vt = q.get('volume_type');
    if (vt !== null) {
      const t = state.types.get(v.volumeTypeId);
      if (!t || (t.name !== vt && t.id !== vt)) return false;
    }
    if (metaFilter) {
      for (const [k, val] of Object.entries(metaFilter)) if (v.metadata[k] !== String(val)) return false;
    }
    return true;
  });
}

async function cinderPlugin(app: FastifyInstance, ctx: CloudContext): Promise<void> {
  const state = cinderState(ctx);
  const apiBase = () => `${ctx.baseUrl}/volume`;
  app.addHook('onClose', async () => {
    state.dispose();
    states.delete(ctx);
  });

  app.setErrorHandler((err, _req, reply) => {
    let status = 500;
    let message = 'The server has either erred or is incapable of performing the requested operation.';
    if (err instanceof CinderError) {
      status = err.status;
      message = err.message;
      const echo = (err as { echo?: string }).echo;
      if (echo) reply.header('openstack-api-version', `volume ${echo}`).header('vary', 'OpenStack-API-Version');
    } else if (err instanceof InternalError) {
      status = err.status;
      message = err.message;
    } else if (
      typeof (err as { statusCode?: number }).statusCode === 'number' &&
      (err as { statusCode: number }).statusCode < 500
    ) {
      status = (err as { statusCode: number }).statusCode;
      message = status === 400 ? 'Malformed request body' : String((err as Error).message);
    } else {
      ctx.log.warn('cinder: unexpected error', { error: String(err) });
    }
    if (status === 401) {
      reply.header('www-authenticate', `Keystone uri="${ctx.baseUrl}/identity/v3"`);
      return reply
        .code(401)
        .type('application/json')
        .send({
          error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
        });
    }
    if (status === 413) reply.header('retry-after', '0');
    return reply.code(status).type('application/json').send(faultBody(status, message));
  });
  app.setNotFoundHandler((_req, reply) =>
    reply.code(404).type('application/json').send(faultBody(404, 'The resource could not be found.')),
  );

  app.addHook('onRequest', async (req, reply) => {
    let rid = reply.getHeader('x-openstack-request-id');
    if (!rid) {
      rid = `req-${randomUUID()}`;
      reply.header('x-openstack-request-id', rid);
    }
    reply.header('x-compute-request-id', rid);
    const path = req.url
      .split('?')[0]!
      .replace(/^\/volume/, '')
      .replace(/\/+$/, '');
    if (path === '') {
      reply.header('openstack-api-version', `volume 3.${MIN_MV}`).header('vary', 'OpenStack-API-Version');
      return;
    }
    const header = req.headers['x-auth-token'];
    const tok = typeof header === 'string' ? ctx.validateToken(header) : undefined;
    if (!tok) throw new CinderError(401, 'The request you have made requires authentication.');
    const mv = parseMicroversion(req);
    reply.header('openstack-api-version', `volume 3.${mv}`).header('vary', 'OpenStack-API-Version');
    const m = /^\/v3\/([^/]+)/.exec(path);
    const urlProject = m?.[1] ?? tok.projectId ?? '';
    if (m && tok.projectId !== urlProject) throw badRequest('Malformed request url');
    reqState.set(req, { tok, view: { mv, isAdmin: tok.isAdmin, apiBase: apiBase(), urlProject } });
  });

  // The real service sends plain `application/json` (no charset parameter).
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8')
      reply.header('content-type', 'application/json');
    return payload;
  });

  app.get('/', async (_req, reply) => reply.code(300).send({ versions: [versionEntry(ctx)] }));
  app.get('/v3', async () => ({ versions: [versionEntry(ctx)] }));

  // ---- volumes ---------------------------------------------------------------------------------------------
  const P = '/v3/:project_id';

  function listVolumes(req: FastifyRequest, detail: boolean) {
    const { view } = rs(req);
    const rows = filteredVolumes(state, req);
    const count = rows.length;
    const { page, links } = paginate(
      req,
      rows,
      (v, k) => volumeSortValue(state, v, k),
      VOLUME_SORT_KEYS,
      `${view.apiBase}/v3/${view.urlProject}/volumes${detail ? '/detail' : ''}`,
      'Volume',
    );
    const out: Record<string, unknown> = {
      volumes: page.map((v) => (detail ? volumeDetail(state, view, v) : volumeSummary(view, v))),
    };
    if (links) out.volumes_links = links;
    if (view.mv >= 45 && truthy(queryParams(req).get('with_count'))) out.count = count;
    return out;
  }

  app.get(`${P}/volumes`, async (req) => listVolumes(req, false));
  app.get(`${P}/volumes/detail`, async (req) => listVolumes(req, true));

  app.get(`${P}/volumes/summary`, async (req) => {
    requireMv(req, 12);
    const rows = filteredVolumes(state, req);
    const out: Record<string, unknown> = {
      total_count: rows.length,
      total_size: rows.reduce((n, v) => n + v.size, 0),
    };
    if (rs(req).view.mv >= 36) {
      const meta: Record<string, string[]> = {};
      for (const v of rows) {
        for (const [k, val] of Object.entries(v.metadata)) {
          meta[k] ??= [];
          if (!meta[k].includes(val)) meta[k].push(val);
        }
      }
      out.metadata = meta;
    }
    return { 'volume-summary': out };
  });

  app.post(`${P}/volumes`, async (req, reply) => {
    const { tok, view } = rs(req);
    const b = body(req, 'volume');
    const size = b.size === undefined || b.size === null ? undefined : assertInt(b.size, 'size', 1);
    const imageRef = (b.imageRef ?? b.image_id) as unknown;
    if (imageRef !== undefined && imageRef !== null && typeof imageRef !== 'string')
      throw badRequest('Invalid imageRef provided.');
    const v = state.createVolume({
      projectId: tok.projectId ?? '',
      userId: tok.userId,
      size,
      name: optString(b.name ?? b.display_name, 'name'),
      description: optString(b.description ?? b.display_description, 'description'),
      volumeType: (optString(b.volume_type, 'volume_type') ?? undefined) as string | undefined,
      availabilityZone: (optString(b.availability_zone, 'availability_zone') ?? undefined) as string | undefined,
      snapshotId: (optString(b.snapshot_id, 'snapshot_id') ?? undefined) as string | undefined,
      sourceVolid: (optString(b.source_volid, 'source_volid') ?? undefined) as string | undefined,
      imageId: (imageRef ?? undefined) as string | undefined,
      metadata: stringMap(b.metadata, 'metadata'),
      multiattach: b.multiattach === true,
      isAdmin: tok.isAdmin,
    });
    return reply.code(202).send({ volume: volumeDetail(state, view, v, true) });
  });

  app.get<{ Params: { id: string } }>(`${P}/volumes/:id`, async (req) => ({
    volume: volumeDetail(state, rs(req).view, findVolume(state, req, req.params.id)),
  }));

  app.put<{ Params: { id: string } }>(`${P}/volumes/:id`, async (req) => {
    const v = findVolume(state, req, req.params.id);
    const b = body(req, 'volume');
    const allowed = ['name', 'description', 'metadata', 'display_name', 'display_description'];
    const keys = Object.keys(b);
    if (keys.length === 0 || keys.some((k) => !allowed.includes(k))) {
      throw badRequest(
        `Invalid input for field/attribute volume. Value: ${JSON.stringify(b)}. Additional properties are not allowed or none given`,
      );
    }
    const name = optString(b.name ?? b.display_name, 'name');
    if (name !== undefined) v.name = name;
    const desc = optString(b.description ?? b.display_description, 'description');
    if (desc !== undefined) v.description = desc;
    if (b.metadata !== undefined) v.metadata = stringMap(b.metadata, 'metadata');
    v.updatedAt = nowIso();
    state.volumes.put(v);
    return { volume: volumeDetail(state, rs(req).view, v) };
  });

  app.delete<{ Params: { id: string } }>(`${P}/volumes/:id`, async (req, reply) => {
    const { tok } = rs(req);
    const v = findVolume(state, req, req.params.id);
    const q = queryParams(req);
    const force = truthy(q.get('force'));
    if (force && !tok.isAdmin) throw forbidden('volume:force_delete');
    state.deleteVolume(v, { cascade: truthy(q.get('cascade')), force });
    return reply.code(202).send();
  });

  // Volume metadata.
  app.get<{ Params: { id: string } }>(`${P}/volumes/:id/metadata`, async (req) => ({
    metadata: { ...findVolume(state, req, req.params.id).metadata },
  }));
  const writeMeta = (replace: boolean) => async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const v = findVolume(state, req, req.params.id);
    const meta = stringMap((req.body as { metadata?: unknown } | undefined)?.metadata, 'metadata');
    v.metadata = replace ? meta : { ...v.metadata, ...meta };
    v.updatedAt = nowIso();
    state.volumes.put(v);
    return { metadata: { ...v.metadata } };
  };
  app.post(`${P}/volumes/:id/metadata`, writeMeta(false));
  app.put(`${P}/volumes/:id/metadata`, writeMeta(true));
  app.get<{ Params: { id: string; key: string } }>(`${P}/volumes/:id/metadata/:key`, async (req) => {
    const v = findVolume(state, req, req.params.id);
    const value = v.metadata[req.params.key];
    if (value === undefined) throw notFound(`Metadata ${req.params.key} not found for volume ${v.id}.`);
    return { meta: { [req.params.key]: value } };
  });
  app.put<{ Params: { id: string; key: string } }>(`${P}/volumes/:id/metadata/:key`, async (req) => {
    const v = findVolume(state, req, req.params.id);
    const meta = stringMap((req.body as { meta?: unknown } | undefined)?.meta, 'meta');
    if (Object.keys(meta).length !== 1 || meta[req.params.key] === undefined) {
      throw badRequest('Request body and URI mismatch');
    }
    v.metadata[req.params.key] = meta[req.params.key]!;
    state.volumes.put(v);
    return { meta };
  });
  app.delete<{ Params: { id: string; key: string } }>(`${P}/volumes/:id/metadata/:key`, async (req, reply) => {
    const v = findVolume(state, req, req.params.id);
    if (v.metadata[req.params.key] === undefined)
      throw notFound(`Metadata ${req.params.key} not found for volume ${v.id}.`);
    delete v.metadata[req.params.key];
    state.volumes.put(v);
    return reply.code(200).send();
  });

  // Volume actions.
  app.post<{ Params: { id: string } }>(`${P}/volumes/:id/action`, async (req, reply) => {
    const { tok, view } = rs(req);
    const v = findVolume(state, req, req.params.id);
    const b = (req.body ?? {}) as Record<string, unknown>;
    const keys = Object.keys(b);
    if (keys.length !== 1) throw badRequest('Invalid request body: exactly one action expected.');
    const action = keys[0]!;
    const args = (b[action] ?? {}) as Record<string, unknown>;
    const setStatus = (from: string[], to: string) => {
      if (!from.includes(v.status)) {
        throw badRequest(
          `Invalid volume: Volume status must be ${from.join(' or ')}, but current status is: ${v.status}.`,
        );
      }
      v.status = to;
      v.updatedAt = nowIso();
      state.volumes.put(v);
    };
    switch (action) {
      case 'os-attach': {
        const instance = args.instance_uuid;
        const host = args.host_name;
        if (typeof instance !== 'string' && typeof host !== 'string') {
          throw badRequest('Invalid request to attach volume to an invalid target');
        }
        const mode = typeof args.mode === 'string' ? args.mode : 'rw';
        if (mode !== 'rw' && mode !== 'ro') throw badRequest('Invalid request to attach volume with an invalid mode.');
        state.attach(v, {
          instanceUuid: typeof instance === 'string' ? instance : '',
          mountpoint: typeof args.mountpoint === 'string' ? args.mountpoint : null,
          hostName: typeof host === 'string' ? host : null,
          mode,
        });
        return reply.code(202).send();
      }
      case 'os-detach': {
        const live = state.liveAttachments(v.id);
        const attId = args.attachment_id;
        const a =
          typeof attId === 'string' ? live.find((x) => x.id === attId) : live.length === 1 ? live[0] : undefined;
        if (!a) {
          // Real Cinder answers 202 and does nothing when there is nothing to detach.
          if (live.length === 0) return reply.code(202).send();
          throw badRequest('Invalid volume: Volume has multiple attachments; an attachment_id is required to detach.');
        }
        state.detachAttachment(v, a);
        return reply.code(202).send();
      }
      case 'os-reserve':
        setStatus(v.multiattach ? ['available', 'in-use'] : ['available'], 'attaching');
        return reply.code(202).send();
      case 'os-unreserve':
        if (v.status === 'attaching') state.refreshAttachStatus(v);
        return reply.code(202).send();
      case 'os-begin_detaching':
        setStatus(['in-use'], 'detaching');
        return reply.code(202).send();
      case 'os-roll_detaching':
        if (v.status === 'detaching') state.refreshAttachStatus(v);
        return reply.code(202).send();
      case 'os-initialize_connection': {
        if (typeof args.connector !== 'object' || args.connector === null) {
          throw badRequest('Must specify a connector');
        }
        return reply.code(200).send({
          connection_info: {
            driver_volume_type: 'iscsi',
            data: {
              target_discovered: false,
              target_portal: '127.0.0.1:3260',
              target_iqn: `iqn.2010-10.org.openstack:volume-${v.id}`,
              target_lun: 1,
              volume_id: v.id,
              access_mode: 'rw',
              encrypted: false,
            },
          },
        });
      }
      case 'os-terminate_connection':
        return reply.code(202).send();
      case 'os-extend': {
        const newSize = assertInt(args.new_size, 'new_size', 1);
        const allowed = view.mv >= 42 ? ['available', 'in-use'] : ['available'];
        if (!allowed.includes(v.status)) {
          throw badRequest(
            `Invalid volume: Volume status must be ${allowed.join(' or ')} to extend, but current status is: ${v.status}.`,
          );
        }
        if (newSize <= v.size) {
          throw badRequest(
            `Invalid input received: New size for extend must be greater than current size. (current: ${v.size}, extended: ${newSize}).`,
          );
        }
        state.checkQuota(v.projectId, { gigabytes: newSize - v.size, size: newSize });
        const back = v.status;
        v.size = newSize;
        v.status = 'extending';
        v.updatedAt = nowIso();
        state.schedule(state.volumes, v, back);
        return reply.code(202).send();
      }
      case 'os-reset_status': {
        if (!tok.isAdmin) throw forbidden('volume_extension:volume_admin_actions:reset_status');
        const valid = [
          'available',
          'error',
          'creating',
          'deleting',
          'in-use',
          'attaching',
          'detaching',
          'error_deleting',
          'maintenance',
          'reserved',
          'error_extending',
          'awaiting-transfer',
        ];
        if (args.status !== undefined) {
          if (typeof args.status !== 'string' || !valid.includes(args.status)) {
            throw badRequest(`Invalid input for field/attribute status. Value: ${String(args.status)}.`);
          }
          v.status = args.status;
        }
        if (typeof args.migration_status === 'string')
          v.migrationStatus = args.migration_status === 'none' ? null : args.migration_status;
        if (args.attach_status === 'detached') {
          for (const a of state.liveAttachments(v.id)) state.attachments.delete(a.id);
        }
        v.pending = null;
        v.updatedAt = nowIso();
        state.volumes.put(v);
        return reply.code(202).send();
      }
      case 'os-force_delete': {
        if (!tok.isAdmin) throw forbidden('volume_extension:volume_admin_actions:force_delete');
        for (const a of state.liveAttachments(v.id)) state.attachments.delete(a.id);
        v.status = 'deleting';
        for (const s of state.snapshots.filter((x) => x.volumeId === v.id)) state.snapshots.delete(s.id);
        state.schedule(state.volumes, v, 'deleted');
        return reply.code(202).send();
      }
      case 'os-set_bootable': {
        const val = args.bootable;
        const bool = typeof val === 'boolean' ? val : typeof val === 'string' ? truthy(val) : undefined;
        if (bool === undefined) throw badRequest('Invalid value for bootable: must be a boolean.');
        v.bootable = bool;
        v.updatedAt = nowIso();
        state.volumes.put(v);
        return reply.code(200).send();
      }
      case 'os-update_readonly_flag': {
        const val = args.readonly;
        if (typeof val !== 'boolean') throw badRequest('Invalid value for readonly: must be a boolean.');
        v.metadata.readonly = val ? 'True' : 'False';
        state.volumes.put(v);
        return reply.code(202).send();
      }
      case 'os-retype': {
        const t = typeof args.new_type === 'string' ? state.type(args.new_type) : undefined;
        if (!t) throw notFound(`Volume type with name ${String(args.new_type)} could not be found.`);
        if (!['available', 'in-use'].includes(v.status)) {
          throw badRequest(
            `Invalid volume: Volume status must be available or in-use, but current status is: ${v.status}.`,
          );
        }
        v.volumeTypeId = t.id;
        v.updatedAt = nowIso();
        state.volumes.put(v);
        return reply.code(202).send();
      }
      case 'revert': {
        requireMv(req, 40);
        const snap = typeof args.snapshot_id === 'string' ? state.snapshots.get(args.snapshot_id) : undefined;
        if (!snap || snap.volumeId !== v.id)
          throw badRequest('Invalid snapshot: the snapshot does not belong to this volume.');
        const latest = state.snapshots
          .filter((s) => s.volumeId === v.id)
          .sort((a, b2) => (a.createdAt < b2.createdAt ? 1 : -1))[0];
        if (latest?.id !== snap.id) throw badRequest('Invalid snapshot: Only the latest snapshot can be reverted to.');
        if (v.status !== 'available')
          throw badRequest(`Invalid volume: Volume status must be available, but current status is: ${v.status}.`);
        v.status = 'reverting';
        state.schedule(state.volumes, v, 'available');
        return reply.code(202).send();
      }
      default:
        throw badRequest(
          `There is no such action: ${action}. Verify the request body and Content-Type header and try again.`,
        );
    }
  });

  registerMoreRoutes(app, ctx, state);
}

function internalVolumes(ctx: CloudContext): Partial<InternalApis> {
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof CinderError) throw new InternalError(err.status, err.message);
      throw err;
    }
  };
  return {
    volumes: {
      get(volumeId) {
        const v = cinderState(ctx).volume(volumeId);
        return v ? { id: v.id, projectId: v.projectId, status: v.status, size: v.size } : undefined;
      },
      async create(args) {
        const state = cinderState(ctx);
        const v = wrap(() =>
          state.createVolume({
            projectId: args.projectId,
            userId: args.userId,
            size: args.size,
            name: args.name ?? null,
            imageId: args.imageId,
            snapshotId: args.snapshotId,
            sourceVolid: args.sourceVolumeId,
            isAdmin: true,
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, state.transitionMs + 1));
        const done = state.volume(v.id);
        if (done?.status !== 'available') {
          throw new InternalError(
            500,
            `Volume ${v.id} did not become available (status: ${done?.status ?? 'deleted'}).`,
          );
        }
        return { id: v.id };
      },
      attach(volumeId, serverId, device) {
        const state = cinderState(ctx);
        const v = state.volume(volumeId);
        if (!v) throw new InternalError(404, `Volume ${volumeId} could not be found.`);
        wrap(() => state.attach(v, { instanceUuid: serverId, mountpoint: device }));
      },
      detach(volumeId, serverId) {
        const state = cinderState(ctx);
        const v = state.volume(volumeId);
        if (!v) throw new InternalError(404, `Volume ${volumeId} could not be found.`);
        const a = state.liveAttachments(v.id).find((x) => x.instanceUuid === serverId);
        if (!a)
          throw new InternalError(400, `Invalid volume: Volume ${volumeId} is not attached to server ${serverId}.`);
        state.detachAttachment(v, a);
      },
      delete(volumeId) {
        const state = cinderState(ctx);
        const v = state.volume(volumeId);
        if (!v) throw new InternalError(404, `Volume ${volumeId} could not be found.`);
        wrap(() => state.deleteVolume(v));
      },
    },
    quotas: {
      usage(projectId) {
        const u = cinderState(ctx).usage(projectId);
        return {
          volumes: u.volumes!,
          gigabytes: u.gigabytes!,
          snapshots: u.snapshots!,
          backups: u.backups!,
          backup_gigabytes: u.backup_gigabytes!,
        };
      },
    },
  };
}

export const cinderModule: ServiceModule = {
  mount: { type: 'block-storage', name: 'cinder', prefix: '/volume', catalogPath: '/volume/v3/$(project_id)s' },
  plugin: cinderPlugin,
  internal: internalVolumes,
};

/** A second catalog entry (volumev3/cinderv3) for the same API: devstack lists both. Serves no routes itself. */
export const cinderV3CatalogModule: ServiceModule = {
  mount: { type: 'volumev3', name: 'cinderv3', prefix: '/volume', catalogPath: '/volume/v3/$(project_id)s' },
  plugin: () => {},
};
