/**
 * Glance v2 for devcloud, mounted at /image: version documents, images CRUD, JSON-patch updates, streaming image
 * data to and from disk (md5 + sha512 while streaming, Range on download), tags, members, sort/filter/pagination
 * with `next` links, schemas and the import/stores info documents.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudContext, ServiceModule, TokenInfo } from '../context.ts';
import { BlobStore } from '../storage/blob-store.ts';
import { parseRange } from '../storage/range.ts';
import { GlanceError, sendGlanceError } from './errors.ts';
import {
  CORE_ATTRS,
  canModify,
  canSee,
  glanceTime,
  type ImageMember,
  type ImageRow,
  isMember,
  READ_ONLY,
  renderImage,
  SORT_KEYS,
  setAttr,
  sortValue,
} from './images.ts';
import { registerImportRoutes } from './import.ts';
import { imageSchema, imagesSchema, memberSchema, membersSchema } from './schemas.ts';

export const IMAGES_TABLE = 'glance_images';
const PATCH_TYPES = ['application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch'];
const VERSIONS = [
  '2.16',
  '2.15',
  '2.14',
  '2.13',
  '2.12',
  '2.11',
  '2.10',
  '2.9',
  '2.8',
  '2.7',
  '2.6',
  '2.5',
  '2.4',
  '2.3',
  '2.2',
  '2.1',
  '2.0',
];
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 1000;
/** Name of the image every cloud starts with. */
export const SEED_IMAGE_NAME = 'cirros-0.6.2-x86_64-disk';

const tokens = new WeakMap<FastifyRequest, TokenInfo>();
function tok(req: FastifyRequest): TokenInfo {
  const t = tokens.get(req);
  if (!t)
    throw new GlanceError(
      401,
      'This server could not verify that you are authorized to access the document you requested.',
    );
  return t;
}

/** Deterministic bytes for the seed image: a qcow2-like header then a hash chain (the same in every cloud). */
export function seedImageBytes(size = 16384): Buffer {
  const out = Buffer.alloc(size);
  out.write('QFI\xfb', 0, 'latin1');
  out.writeUInt32BE(3, 4);
  let block = createHash('sha256').update('devcloud-cirros').digest();
  for (let off = 72; off < size; off += block.length) {
    block.copy(out, off);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

function versionsDoc(ctx: CloudContext) {
  return {
    versions: VERSIONS.map((v, i) => ({
      id: `v${v}`,
      status: i === 0 ? 'CURRENT' : 'SUPPORTED',
      links: [{ rel: 'self', href: `${ctx.baseUrl}/image/v2/` }],
    })),
  };
}

function nowIso(): string {
  return new Date().toISOString();
}

function findImage(ctx: CloudContext, req: FastifyRequest, id: string): ImageRow {
  const img = ctx.store.table<ImageRow>(IMAGES_TABLE).get(id);
  if (!img || !canSee(img, tok(req))) throw new GlanceError(404, `No image found with ID ${id}`);
  return img;
}

function modifiable(ctx: CloudContext, req: FastifyRequest, id: string, action = 'modify_image'): ImageRow {
  const img = findImage(ctx, req, id);
  if (!canModify(img, tok(req))) throw new GlanceError(403, `You are not authorized to complete ${action} action.`);
  return img;
}

function touch(img: ImageRow): void {
  img.updated_at = nowIso();
}

function parseInOperator(v: string): string[] | undefined {
  if (!v.startsWith('in:')) return undefined;
  return v
    .slice(3)
    .split(',')
    .map((s) => s.trim().replace(/^"|"$/g, ''));
}

function matchValue(actual: string | null, wanted: string): boolean {
  const list = parseInOperator(wanted);
  if (list) return actual !== null && list.includes(actual);
  return actual === wanted;
}

/** Glance's time filters: `gt:`, `gte:`, `lt:`, `lte:`, `eq:`, `neq:` followed by an ISO 8601 time. */
function matchTime(actualIso: string, filter: string): boolean {
  const m = /^(gt|gte|lt|lte|eq|neq):(.+)$/.exec(filter);
  const op = m ? m[1] : 'eq';
  const when = Date.parse(m ? m[2]! : filter);
  if (Number.isNaN(when)) throw new GlanceError(400, `Unable to filter on a datetime: invalid time ${filter}`);
  // Glance stores times to the second.
  const actual = Math.floor(Date.parse(actualIso) / 1000) * 1000;
  switch (op) {
    case 'gt':
      return actual > when;
    case 'gte':
      return actual >= when;
    case 'lt':
      return actual < when;
    case 'lte':
      return actual <= when;
    case 'neq':
      return actual !== when;
    default:
      return actual === when;
  }
}

interface ListQuery {
  params: URLSearchParams;
}

function parseSort(q: URLSearchParams): { key: string; dir: 'asc' | 'desc' }[] {
  const sort = q.getAll('sort');
  const keys = q.getAll('sort_key');
  const dirs = q.getAll('sort_dir');
  const out: { key: string; dir: 'asc' | 'desc' }[] = [];
  if (sort.length > 0 && (keys.length > 0 || dirs.length > 0)) {
    throw new GlanceError(400, 'The sort param is not compatible with sort_key and sort_dir params.');
  }
  const check = (key: string, dir: string) => {
    if (!SORT_KEYS.has(key))
      throw new GlanceError(
        400,
        `Invalid sort key: ${key}. It must be one of the following: ${[...SORT_KEYS].join(', ')}.`,
      );
    if (dir !== 'asc' && dir !== 'desc')
      throw new GlanceError(400, `Invalid sort direction: ${dir}. It must be one of the following: asc, desc.`);
    out.push({ key, dir });
  };
  if (sort.length > 0) {
    for (const part of sort.join(',').split(',')) {
      if (part.trim() === '') continue;
      const [k, d] = part.split(':').map((s) => s.trim());
      check(k!, d ?? 'desc');
    }
  } else {
    if (dirs.length > 1 && dirs.length !== keys.length)
      throw new GlanceError(400, 'Number of sort dirs does not match the number of sort keys');
    keys.forEach((k, i) => {
      check(k, dirs.length === 0 ? 'desc' : (dirs[dirs.length === 1 ? 0 : i] ?? 'desc'));
    });
  }
  if (out.length === 0) out.push({ key: 'created_at', dir: 'desc' });
  const last = out[out.length - 1]!.dir;
  if (!out.some((s) => s.key === 'created_at')) out.push({ key: 'created_at', dir: last });
  if (!out.some((s) => s.key === 'id')) out.push({ key: 'id', dir: last });
  return out;
}

function compare(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

const FILTER_SKIP = new Set([
  'limit',
  'marker',
  'sort',
  'sort_key',
  'sort_dir',
  'visibility',
  'member_status',
  'os_hidden',
]);

function listImages(ctx: CloudContext, req: FastifyRequest, { params }: ListQuery) {
  const t = tok(req);
  const visibility = params.get('visibility');
  if (visibility && !['public', 'private', 'shared', 'community', 'all'].includes(visibility)) {
    throw new GlanceError(400, `Invalid visibility value: ${visibility}`);
  }
  const memberStatus = params.get('member_status') ?? 'accepted';
  if (!['pending', 'accepted', 'rejected', 'all'].includes(memberStatus)) {
    throw new GlanceError(400, `Invalid status value: ${memberStatus}`);
  }
  const hidden = params.get('os_hidden');
  const limitRaw = params.get('limit');
  let limit = DEFAULT_LIMIT;
  if (limitRaw !== null) {
    limit = Number(limitRaw);
    if (!Number.isInteger(limit)) throw new GlanceError(400, 'limit param must be an integer');
    if (limit < 0) throw new GlanceError(400, 'limit param must be positive');
    limit = Math.min(limit, MAX_LIMIT);
  }
  const sortKeys = parseSort(params);
  const sizeMin = params.get('size_min');
  const sizeMax = params.get('size_max');
  const memberOk = (img: ImageRow) => {
    const m = isMember(img, t.projectId);
    return !!m && (memberStatus === 'all' || m.status === memberStatus);
  };
  const own = (img: ImageRow) => img.owner !== null && img.owner === t.projectId;
  const rows = ctx.store.table<ImageRow>(IMAGES_TABLE).filter((img) => {
    // Visibility: what this token may list.
    if (!t.isAdmin || visibility) {
      switch (visibility) {
        case null:
          if (
            !(
              img.visibility === 'public' ||
              own(img) ||
              (img.visibility === 'shared' && memberOk(img)) ||
              (t.isAdmin && img.visibility !== 'community')
            )
          )
            return false;
          break;
        case 'all':
          if (
            !(t.isAdmin || img.visibility === 'public' || img.visibility === 'community' || own(img) || memberOk(img))
          )
            return false;
          break;
        case 'public':
        case 'community':
          if (img.visibility !== visibility) return false;
          break;
        case 'private':
          if (img.visibility !== 'private' || !(t.isAdmin || own(img))) return false;
          break;
        case 'shared':
          if (img.visibility !== 'shared' || !(t.isAdmin || own(img) || memberOk(img))) return false;
          break;
      }
    }
    if (hidden === null || hidden === 'false') {
      if (img.os_hidden) return false;
    } else if (hidden === 'true' && !img.os_hidden) return false;
    for (const [key, value] of params) {
      if (FILTER_SKIP.has(key)) continue;
      switch (key) {
        case 'name':
        case 'status':
        case 'container_format':
        case 'disk_format':
        case 'id':
        case 'owner':
          if (!matchValue(img[key], value)) return false;
          break;
        case 'tag':
          if (!img.tags.includes(value)) return false;
          break;
        case 'protected':
          if (String(img.protected) !== value) return false;
          break;
        case 'size_min':
        case 'size_max':
          break;
        case 'created_at':
        case 'updated_at':
          if (!matchTime(img[key], value)) return false;
          break;
        default:
          if (img.properties[key] === undefined || !matchValue(img.properties[key]!, value)) return false;
      }
    }
    if (sizeMin !== null && (img.size === null || img.size < Number(sizeMin))) return false;
    if (sizeMax !== null && (img.size === null || img.size > Number(sizeMax))) return false;
    return true;
  });
  rows.sort((a, b) => {
    for (const { key, dir } of sortKeys) {
      const c = compare(sortValue(a, key), sortValue(b, key));
      if (c !== 0) return dir === 'asc' ? c : -c;
    }
    return 0;
  });
  let start = 0;
  const marker = params.get('marker');
  if (marker !== null) {
    const idx = rows.findIndex((r) => r.id === marker);
    if (idx < 0) throw new GlanceError(400, `Invalid marker. Image ${marker} could not be found.`);
    start = idx + 1;
  }
  const page = rows.slice(start, start + limit);
  const rest = new URLSearchParams([...params].filter(([k]) => k !== 'marker'));
  const firstQs = rest.toString();
  const body: Record<string, unknown> = {
    images: page.map(renderImage),
    first: `/v2/images${firstQs ? `?${firstQs}` : ''}`,
    schema: '/v2/schemas/images',
  };
  if (limit > 0 && page.length === limit) {
    const next = new URLSearchParams(rest);
    next.append('marker', page[page.length - 1]!.id);
    body.next = `/v2/images?${next.toString()}`;
  }
  return body;
}

function renderMember(img: ImageRow, m: ImageMember) {
  return {
    created_at: glanceTime(m.createdAt),
    image_id: img.id,
    member_id: m.memberId,
    schema: '/v2/schemas/member',
    status: m.status,
    updated_at: glanceTime(m.updatedAt),
  };
}

/** Stores per cloud context, so internal APIs and routes share one. */
const stores = new WeakMap<CloudContext, BlobStore>();
function blobStoreFor(ctx: CloudContext): BlobStore {
  let s = stores.get(ctx);
  if (!s) {
    s = BlobStore.forService(ctx, 'glance');
    stores.set(ctx, s);
  }
  return s;
}

/** Directory holding this cloud's image data files. */
export function glanceBlobDir(ctx: CloudContext): string {
  return blobStoreFor(ctx).dir;
}

async function seed(ctx: CloudContext, blobs: BlobStore): Promise<void> {
  const table = ctx.store.table<ImageRow>(IMAGES_TABLE);
  const existing = table.filter((i) => i.name === SEED_IMAGE_NAME && i.properties.devcloud_seed === 'true')[0];
  if (existing?.blob && (await blobs.exists(existing.blob))) return;
  const data = seedImageBytes();
  const blob = await blobs.writeBuffer(data);
  const now = nowIso();
  const row: ImageRow = existing ?? {
    id: randomUUID(),
    name: SEED_IMAGE_NAME,
    status: 'active',
    visibility: 'public',
    protected: false,
    os_hidden: false,
    owner: null,
    min_disk: 0,
    min_ram: 0,
    size: null,
    virtual_size: null,
    checksum: null,
    os_hash_algo: null,
    os_hash_value: null,
    container_format: 'bare',
    disk_format: 'qcow2',
    created_at: now,
    updated_at: now,
    tags: [],
    properties: { devcloud_seed: 'true', hw_rng_model: 'virtio' },
    members: [],
    blob: null,
  };
  Object.assign(row, {
    status: 'active',
    size: blob.size,
    virtual_size: 117440512,
    checksum: blob.md5,
    os_hash_algo: 'sha512',
    os_hash_value: blob.sha512,
    blob: blob.key,
  });
  table.put(row);
}

async function glancePlugin(app: FastifyInstance, ctx: CloudContext): Promise<void> {
  const table = ctx.store.table<ImageRow>(IMAGES_TABLE);
  const blobs = blobStoreFor(ctx);
  await seed(ctx, blobs);
  app.addHook('onClose', async () => {
    stores.delete(ctx);
    blobs.close();
  });

  // Image data arrives as a raw stream; JSON-patch documents are JSON.
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));
  app.addContentTypeParser(PATCH_TYPES, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(String(body)));
    } catch {
      done(new GlanceError(400, 'Malformed JSON in request body.'), undefined);
    }
  });

  app.setErrorHandler((err, req, reply) => {
    if (err instanceof GlanceError) {
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      if (err.status === 401) reply.header('www-authenticate', `Keystone uri="${ctx.baseUrl}/identity/v3"`);
      return sendGlanceError(req, reply, err.status, err.message);
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status && status >= 400 && status < 500) {
      return sendGlanceError(
        req,
        reply,
        status,
        status === 400 ? 'Malformed JSON in request body.' : String((err as Error).message),
      );
    }
    ctx.log.warn('glance: unexpected error', { error: String(err) });
    return sendGlanceError(
      req,
      reply,
      500,
      'The server has either erred or is incapable of performing the requested operation.',
    );
  });
  app.setNotFoundHandler((req, reply) => sendGlanceError(req, reply, 404, 'The resource could not be found.'));

  app.addHook('onRequest', async (req) => {
    const path = req.url
      .split('?')[0]!
      .replace(/^\/image/, '')
      .replace(/\/+$/, '');
    if (path === '' || path === '/versions') return;
    const header = req.headers['x-auth-token'];
    const info = typeof header === 'string' ? ctx.validateToken(header) : undefined;
    if (!info) {
      throw new GlanceError(
        401,
        'This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.',
      );
    }
    tokens.set(req, info);
  });

  // The real service sends plain `application/json` (no charset parameter).
  app.addHook('onSend', async (_req, reply, payload) => {
    if (reply.getHeader('content-type') === 'application/json; charset=utf-8')
      reply.header('content-type', 'application/json');
    return payload;
  });

  app.get('/', async (_req, reply) => reply.code(300).send(versionsDoc(ctx)));
  app.get('/versions', async () => versionsDoc(ctx));

  app.get('/v2/schemas/image', async () => imageSchema());
  app.get('/v2/schemas/images', async () => imagesSchema());
  app.get('/v2/schemas/member', async () => memberSchema());
  app.get('/v2/schemas/members', async () => membersSchema());
  app.get('/v2/info/import', async () => ({
    'import-methods': {
      description: 'Import methods available.',
      type: 'array',
      value: ['glance-direct', 'web-download', 'copy-image'],
    },
  }));
  app.get('/v2/info/stores', async () => ({ stores: [{ id: 'fs', default: 'true' }] }));

  app.get('/v2/images', async (req) => {
    const qs = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
    return listImages(ctx, req, { params: new URLSearchParams(qs) });
  });

  app.post('/v2/images', async (req, reply) => {
    const t = tok(req);
    const body = req.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new GlanceError(400, 'Malformed JSON in request body.');
    }
    const input = body as Record<string, unknown>;
    const now = nowIso();
    const img: ImageRow = {
      id: randomUUID(),
      name: null,
      status: 'queued',
      visibility: 'shared',
      protected: false,
      os_hidden: false,
      owner: t.projectId ?? null,
      min_disk: 0,
      min_ram: 0,
      size: null,
      virtual_size: null,
      checksum: null,
      os_hash_algo: null,
      os_hash_value: null,
      container_format: null,
      disk_format: null,
      created_at: now,
      updated_at: now,
      tags: [],
      properties: {},
      members: [],
      blob: null,
    };
    for (const [key, value] of Object.entries(input)) {
      if (READ_ONLY.has(key) || key === 'locations') throw new GlanceError(403, `Attribute '${key}' is read-only.`);
      if (key === 'id') {
        setAttrId(img, value);
        continue;
      }
      if (key === 'owner' && !t.isAdmin && value !== t.projectId) {
        throw new GlanceError(403, 'You are not permitted to create images owned by another project.');
      }
      setAttr(img, key, value);
    }
    if (img.visibility === 'public' && !t.isAdmin) {
      throw new GlanceError(403, 'You are not authorized to complete publicize_image action.');
    }
    if (img.visibility === 'community' && !t.projectId) {
      throw new GlanceError(403, 'You are not authorized to complete communitize_image action.');
    }
    if (table.get(img.id)) throw new GlanceError(409, `Image with identifier ${img.id} already exists!`);
    table.put(img);
    reply
      .code(201)
      .header('location', `${ctx.baseUrl}/image/v2/images/${img.id}`)
      .header('openstack-image-import-methods', 'glance-direct,web-download,copy-image')
      .header('openstack-image-store-ids', 'fs');
    return renderImage(img);
  });

  function setAttrId(img: ImageRow, value: unknown): void {
    setAttr(img, 'id', value);
    img.id = value as string;
    delete img.properties.id;
  }

  app.get<{ Params: { id: string } }>('/v2/images/:id', async (req) => renderImage(findImage(ctx, req, req.params.id)));

  app.patch<{ Params: { id: string } }>('/v2/images/:id', async (req, reply) => {
    const ctype = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    if (!PATCH_TYPES.includes(ctype)) {
      reply.header('accept-patch', PATCH_TYPES.slice().reverse().join(', '));
      throw new GlanceError(415, `The request media type ${ctype || 'None'} is not supported by this server.\n`);
    }
    const img = modifiable(ctx, req, req.params.id);
    const ops = req.body;
    if (!Array.isArray(ops)) throw new GlanceError(400, 'Request body must be a JSON array of operation objects.');
    const draft: ImageRow = structuredClone(img);
    for (const op of ops as Record<string, unknown>[]) {
      applyPatchOp(draft, op, tok(req));
    }
    if (draft.visibility === 'public' && img.visibility !== 'public' && !tok(req).isAdmin) {
      throw new GlanceError(403, 'You are not authorized to complete publicize_image action.');
    }
    if (draft.visibility !== 'shared') draft.members = draft.visibility === img.visibility ? draft.members : [];
    touch(draft);
    Object.assign(img, draft);
    table.put(img);
    return renderImage(img);
  });

  function applyPatchOp(img: ImageRow, op: Record<string, unknown>, t: TokenInfo): void {
    const kind = op.op;
    const rawPath = op.path;
    if (typeof kind !== 'string' || !['add', 'replace', 'remove'].includes(kind)) {
      throw new GlanceError(
        400,
        `Operation objects must contain exactly one member named "add", "remove", or "replace".`,
      );
    }
    if (typeof rawPath !== 'string' || !rawPath.startsWith('/') || rawPath.length < 2) {
      throw new GlanceError(400, `Unable to find '/' in JSON Schema change`);
    }
    const key = rawPath.slice(1).replaceAll('~1', '/').replaceAll('~0', '~');
    if (key.includes('/')) throw new GlanceError(400, `Invalid JSON pointer for this resource: '${rawPath}'`);
    if (READ_ONLY.has(key) || key === 'id') throw new GlanceError(403, `Attribute '${key}' is read-only.`);
    if (key === 'locations')
      throw new GlanceError(403, 'It is not allowed to update locations if locations are invisible.');
    if ((key === 'disk_format' || key === 'container_format') && img.status !== 'queued') {
      throw new GlanceError(403, `Attribute ${key} can be only replaced for a queued image.`);
    }
    if (key === 'owner' && !t.isAdmin) throw new GlanceError(403, "Attribute 'owner' can be only set by admin.");
    const core = CORE_ATTRS.has(key);
    if (kind === 'remove') {
      if (core) throw new GlanceError(403, `Properties ${key} cannot be removed.`);
      if (img.properties[key] === undefined) throw new GlanceError(409, `Property ${key} does not exist.`);
      delete img.properties[key];
      return;
    }
    if (!('value' in op)) throw new GlanceError(400, 'Operation objects must contain a "value" member.');
    if (kind === 'replace' && !core && img.properties[key] === undefined) {
      throw new GlanceError(409, `Property ${key} does not exist.`);
    }
    setAttr(img, key, op.value);
  }

  app.delete<{ Params: { id: string } }>('/v2/images/:id', async (req, reply) => {
    const img = modifiable(ctx, req, req.params.id, 'delete_image');
    if (img.protected) throw new GlanceError(403, `Image ${img.id} is protected and cannot be deleted.`);
    table.delete(img.id);
    await blobs.remove(img.blob);
    const stagedRow = ctx.store.table<{ id: string; key: string }>('glance_staging').get(img.id);
    if (stagedRow) {
      ctx.store.table('glance_staging').delete(img.id);
      await blobs.remove(stagedRow.key);
    }
    return reply.code(204).send();
  });

  app.put<{ Params: { id: string } }>('/v2/images/:id/file', async (req, reply) => {
    const img = modifiable(ctx, req, req.params.id, 'upload_image');
    const ctype = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    if (ctype !== 'application/octet-stream') {
      throw new GlanceError(415, `The request media type ${ctype || 'None'} is not supported by this server.`);
    }
    if (img.status !== 'queued') {
      throw new GlanceError(409, `Image status transition from ${img.status} to saving is not allowed`);
    }
    if (!img.disk_format || !img.container_format) {
      throw new GlanceError(400, 'Properties disk_format, container_format must be set prior to saving data.');
    }
    img.status = 'saving';
    touch(img);
    table.put(img);
    let stored: Awaited<ReturnType<BlobStore['write']>>;
    try {
      stored = await blobs.write(req.raw);
    } catch (err) {
      const cur = table.get(img.id);
      if (cur && cur.status === 'saving') {
        cur.status = 'queued';
        table.put(cur);
      }
      throw err;
    }
    const cur = table.get(img.id);
    if (!cur) {
      // Deleted while uploading.
      await blobs.remove(stored.key);
      throw new GlanceError(410, 'Image was deleted during upload.');
    }
    Object.assign(cur, {
      status: 'active',
      size: stored.size,
      virtual_size: stored.size,
      checksum: stored.md5,
      os_hash_algo: 'sha512',
      os_hash_value: stored.sha512,
      blob: stored.key,
    });
    touch(cur);
    table.put(cur);
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/v2/images/:id/file', async (req, reply) => {
    const img = findImage(ctx, req, req.params.id);
    if (img.status === 'deactivated' && !tok(req).isAdmin) {
      throw new GlanceError(403, 'The requested image has been deactivated. Image data download is forbidden.');
    }
    if (!img.blob || img.size === null || (img.status !== 'active' && img.status !== 'deactivated')) {
      return reply.code(204).send();
    }
    // Data gone from the store (e.g. a state file kept but its blob directory removed): Glance answers 204.
    if (!(await blobs.exists(img.blob))) return reply.code(204).send();
    const size = img.size;
    const ranges = parseRange(req.headers.range, size);
    reply.header('content-type', 'application/octet-stream');
    if (img.checksum) reply.header('content-md5', img.checksum);
    if (ranges === 'unsatisfiable') {
      throw new GlanceError(
        416,
        `The Range requested is not available.<br /><br />\nInvalid start position in Range header. Start position MUST be in the inclusive range [0, ${size - 1}].`,
      );
    }
    if (ranges) {
      const r = ranges[0]!;
      reply.code(206).header('content-range', `bytes ${r.start}-${r.end}/${size}`);
      reply.header('content-length', r.end - r.start + 1);
      return reply.send(blobs.read(img.blob, r));
    }
    reply.header('content-length', size);
    return reply.send(blobs.read(img.blob));
  });

  registerImportRoutes(app, ctx, {
    table,
    blobs,
    modifiable: (req, id, action) => modifiable(ctx, req, id, action),
  });

  app.put<{ Params: { id: string; tag: string } }>('/v2/images/:id/tags/:tag', async (req, reply) => {
    const img = modifiable(ctx, req, req.params.id);
    const tag = req.params.tag;
    if (tag.length > 255) throw new GlanceError(400, `Provided object does not match schema 'image': tag is too long`);
    if (!img.tags.includes(tag)) {
      if (img.tags.length >= 128) throw new GlanceError(413, 'Maximum number of tags exceeded (128).');
      img.tags.push(tag);
      touch(img);
      table.put(img);
    }
    return reply.code(204).send();
  });

  app.delete<{ Params: { id: string; tag: string } }>('/v2/images/:id/tags/:tag', async (req, reply) => {
    const img = modifiable(ctx, req, req.params.id);
    const idx = img.tags.indexOf(req.params.tag);
    if (idx < 0) throw new GlanceError(404, 'The resource could not be found.');
    img.tags.splice(idx, 1);
    touch(img);
    table.put(img);
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string; action: string } }>('/v2/images/:id/actions/:action', async (req, reply) => {
    const { action } = req.params;
    if (action !== 'deactivate' && action !== 'reactivate')
      throw new GlanceError(404, 'The resource could not be found.');
    const img = modifiable(ctx, req, req.params.id, `${action}`);
    if (action === 'deactivate') {
      if (img.status !== 'active' && img.status !== 'deactivated') {
        throw new GlanceError(403, `Not allowed to deactivate image in status '${img.status}'`);
      }
      img.status = 'deactivated';
    } else {
      if (img.status !== 'active' && img.status !== 'deactivated') {
        throw new GlanceError(403, `Not allowed to reactivate image in status '${img.status}'`);
      }
      img.status = 'active';
    }
    touch(img);
    table.put(img);
    return reply.code(204).send();
  });

  // Members (sharing an image with other projects).
  app.get<{ Params: { id: string } }>('/v2/images/:id/members', async (req) => {
    const img = findImage(ctx, req, req.params.id);
    const t = tok(req);
    if (img.visibility !== 'shared') throw new GlanceError(403, 'Only shared images have members.');
    const members = canModify(img, t) ? img.members : img.members.filter((m) => m.memberId === t.projectId);
    return { members: members.map((m) => renderMember(img, m)), schema: '/v2/schemas/members' };
  });

  app.post<{ Params: { id: string } }>('/v2/images/:id/members', async (req) => {
    const img = modifiable(ctx, req, req.params.id, 'add_member');
    if (img.visibility !== 'shared') throw new GlanceError(403, 'Only shared images have members.');
    const member = (req.body as { member?: unknown } | undefined)?.member;
    if (typeof member !== 'string' || member === '') throw new GlanceError(400, 'Member to be added not specified');
    if (img.members.some((m) => m.memberId === member)) {
      throw new GlanceError(409, `Member ${member} already associated with image ${img.id}.`);
    }
    const now = nowIso();
    const m: ImageMember = { memberId: member, status: 'pending', createdAt: now, updatedAt: now };
    img.members.push(m);
    table.put(img);
    return renderMember(img, m);
  });

  app.get<{ Params: { id: string; member: string } }>('/v2/images/:id/members/:member', async (req) => {
    const img = findImage(ctx, req, req.params.id);
    const t = tok(req);
    const m = img.members.find((x) => x.memberId === req.params.member);
    if (!m || (!canModify(img, t) && m.memberId !== t.projectId)) {
      throw new GlanceError(404, `${req.params.member} is not a member of image ${img.id}`);
    }
    return renderMember(img, m);
  });

  app.put<{ Params: { id: string; member: string } }>('/v2/images/:id/members/:member', async (req) => {
    const img = findImage(ctx, req, req.params.id);
    const t = tok(req);
    const m = img.members.find((x) => x.memberId === req.params.member);
    if (!m) throw new GlanceError(404, `${req.params.member} is not a member of image ${img.id}`);
    if (m.memberId !== t.projectId && !t.isAdmin) {
      throw new GlanceError(403, 'You are not authorized to complete modify_member action.');
    }
    const status = (req.body as { status?: unknown } | undefined)?.status;
    if (status !== 'pending' && status !== 'accepted' && status !== 'rejected') {
      throw new GlanceError(
        400,
        `Provided object does not match schema 'member': ${JSON.stringify(status)} is not one of ['pending', 'accepted', 'rejected']`,
      );
    }
    m.status = status;
    m.updatedAt = nowIso();
    table.put(img);
    return renderMember(img, m);
  });

  app.delete<{ Params: { id: string; member: string } }>('/v2/images/:id/members/:member', async (req, reply) => {
    const img = modifiable(ctx, req, req.params.id, 'delete_member');
    const idx = img.members.findIndex((x) => x.memberId === req.params.member);
    if (idx < 0) throw new GlanceError(404, `${req.params.member} is not a member of image ${img.id}`);
    img.members.splice(idx, 1);
    table.put(img);
    return reply.code(204).send();
  });
}

/** `internal.images.create`: copy the source image's bytes (if any) into a new active private image. */
async function createSnapshotImage(
  ctx: CloudContext,
  args: { projectId: string; name: string; sourceImageId?: string; properties: Record<string, string> },
): Promise<{ id: string }> {
  const table = ctx.store.table<ImageRow>(IMAGES_TABLE);
  const blobs = blobStoreFor(ctx);
  const src = args.sourceImageId ? table.get(args.sourceImageId) : undefined;
  const hasData = Boolean(src?.blob && (await blobs.exists(src.blob)));
  const stored =
    src?.blob && hasData ? await blobs.write(blobs.read(src.blob)) : await blobs.writeBuffer(Buffer.alloc(0));
  const { devcloud_seed: _seed, ...inherited } = src?.properties ?? {};
  const now = nowIso();
  const row: ImageRow = {
    id: randomUUID(),
    name: args.name,
    status: 'active',
    visibility: 'private',
    protected: false,
    os_hidden: false,
    owner: args.projectId,
    min_disk: src?.min_disk ?? 0,
    min_ram: src?.min_ram ?? 0,
    size: stored.size,
    virtual_size: src?.virtual_size ?? null,
    checksum: stored.md5,
    os_hash_algo: 'sha512',
    os_hash_value: stored.sha512,
    container_format: src?.container_format ?? 'bare',
    disk_format: src?.disk_format ?? 'qcow2',
    created_at: now,
    updated_at: now,
    tags: [],
    properties: { ...inherited, ...args.properties },
    members: [],
    blob: stored.key,
  };
  table.put(row);
  return { id: row.id };
}

export const glanceModule: ServiceModule = {
  mount: { type: 'image', name: 'glance', prefix: '/image', catalogPath: '/image' },
  plugin: glancePlugin,
  internal: (ctx) => ({
    images: {
      get(imageId: string) {
        const img = ctx.store.table<ImageRow>(IMAGES_TABLE).get(imageId);
        if (!img) return undefined;
        return { id: img.id, status: img.status, minDisk: img.min_disk, minRam: img.min_ram, size: img.size };
      },
      create: (args) => createSnapshotImage(ctx, args),
    },
  }),
};
