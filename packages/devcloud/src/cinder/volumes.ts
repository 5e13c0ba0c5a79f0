/** Cinder volumes: list (filters, sort, paging, summary), create, show, update, delete, metadata. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { badRequest, forbidden, notFound } from './errors.ts';
import { body, findVolume, optString, requireMv, rs, stringMap, truthy } from './http.ts';
import { paginate, queryParams } from './list.ts';
import { volumeDetail, volumeSummary } from './render.ts';
import { assertInt, type CinderState, nowIso, type VolumeRow } from './state.ts';

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

export function volumeRoutes(app: FastifyInstance, state: CinderState): void {
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
}
