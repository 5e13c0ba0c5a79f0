import type { FastifyInstance } from 'fastify';
import type { CloudContext, TokenInfo } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { PATCH_TYPES, tok } from './http.ts';
import { CORE_ATTRS, type ImageRow, newImageRow, READ_ONLY, renderImage, setAttr } from './images.ts';
import { listImages } from './list.ts';
import { imageSchema, imagesSchema, memberSchema, membersSchema } from './schemas.ts';
import { findImage, type GlanceDeps, modifiable, touch } from './store.ts';

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

function versionsDoc(ctx: CloudContext) {
  return {
    versions: VERSIONS.map((v, i) => ({
      id: `v${v}`,
      status: i === 0 ? 'CURRENT' : 'SUPPORTED',
      links: [{ rel: 'self', href: `${ctx.baseUrl}/image/v2/` }],
    })),
  };
}

export function imageRoutes(app: FastifyInstance, g: GlanceDeps): void {
  const { ctx, table, blobs } = g;
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
      throw new ApiFault(400, 'Malformed JSON in request body.');
    }
    const input = body as Record<string, unknown>;
    const img = newImageRow({ owner: t.projectId ?? null });
    for (const [key, value] of Object.entries(input)) {
      if (READ_ONLY.has(key) || key === 'locations') throw new ApiFault(403, `Attribute '${key}' is read-only.`);
      if (key === 'id') {
        setAttrId(img, value);
        continue;
      }
      if (key === 'owner' && !t.isAdmin && value !== t.projectId) {
        throw new ApiFault(403, 'You are not permitted to create images owned by another project.');
      }
      setAttr(img, key, value);
    }
    if (img.visibility === 'public' && !t.isAdmin) {
      throw new ApiFault(403, 'You are not authorized to complete publicize_image action.');
    }
    if (img.visibility === 'community' && !t.projectId) {
      throw new ApiFault(403, 'You are not authorized to complete communitize_image action.');
    }
    if (table.get(img.id)) throw new ApiFault(409, `Image with identifier ${img.id} already exists!`);
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
      throw new ApiFault(415, `The request media type ${ctype || 'None'} is not supported by this server.\n`);
    }
    const img = modifiable(ctx, req, req.params.id);
    const ops = req.body;
    if (!Array.isArray(ops)) throw new ApiFault(400, 'Request body must be a JSON array of operation objects.');
    const draft: ImageRow = structuredClone(img);
    for (const op of ops as Record<string, unknown>[]) {
      applyPatchOp(draft, op, tok(req));
    }
    if (draft.visibility === 'public' && img.visibility !== 'public' && !tok(req).isAdmin) {
      throw new ApiFault(403, 'You are not authorized to complete publicize_image action.');
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
      throw new ApiFault(400, `Operation objects must contain exactly one member named "add", "remove", or "replace".`);
    }
    if (typeof rawPath !== 'string' || !rawPath.startsWith('/') || rawPath.length < 2) {
      throw new ApiFault(400, `Unable to find '/' in JSON Schema change`);
    }
    const key = rawPath.slice(1).replaceAll('~1', '/').replaceAll('~0', '~');
    if (key.includes('/')) throw new ApiFault(400, `Invalid JSON pointer for this resource: '${rawPath}'`);
    if (READ_ONLY.has(key) || key === 'id') throw new ApiFault(403, `Attribute '${key}' is read-only.`);
    if (key === 'locations')
      throw new ApiFault(403, 'It is not allowed to update locations if locations are invisible.');
    if ((key === 'disk_format' || key === 'container_format') && img.status !== 'queued') {
      throw new ApiFault(403, `Attribute ${key} can be only replaced for a queued image.`);
    }
    if (key === 'owner' && !t.isAdmin) throw new ApiFault(403, "Attribute 'owner' can be only set by admin.");
    const core = CORE_ATTRS.has(key);
    if (kind === 'remove') {
      if (core) throw new ApiFault(403, `Properties ${key} cannot be removed.`);
      if (img.properties[key] === undefined) throw new ApiFault(409, `Property ${key} does not exist.`);
      delete img.properties[key];
      return;
    }
    if (!('value' in op)) throw new ApiFault(400, 'Operation objects must contain a "value" member.');
    if (kind === 'replace' && !core && img.properties[key] === undefined) {
      throw new ApiFault(409, `Property ${key} does not exist.`);
    }
    setAttr(img, key, op.value);
  }

  app.delete<{ Params: { id: string } }>('/v2/images/:id', async (req, reply) => {
    const img = modifiable(ctx, req, req.params.id, 'delete_image');
    if (img.protected) throw new ApiFault(403, `Image ${img.id} is protected and cannot be deleted.`);
    table.delete(img.id);
    await blobs.remove(img.blob);
    const stagedRow = ctx.store.table<{ id: string; key: string }>('glance_staging').get(img.id);
    if (stagedRow) {
      ctx.store.table('glance_staging').delete(img.id);
      await blobs.remove(stagedRow.key);
    }
    return reply.code(204).send();
  });
}
