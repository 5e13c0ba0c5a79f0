/** Glance image data: `PUT /v2/images/{id}/file` streamed to disk (md5 + sha512 as it goes), `GET` with Range. */
import type { FastifyInstance } from 'fastify';
import { ApiFault } from '../fault.ts';
import type { StoredBlob } from '../storage/blob-store.ts';
import { parseRange } from '../storage/range.ts';
import { tok } from './http.ts';
import { activateWithData } from './images.ts';
import { findImage, type GlanceDeps, modifiable, touch } from './store.ts';

export function imageDataRoutes(app: FastifyInstance, g: GlanceDeps): void {
  const { ctx, table, blobs } = g;
  app.put<{ Params: { id: string } }>('/v2/images/:id/file', async (req, reply) => {
    const img = modifiable(ctx, req, req.params.id, 'upload_image');
    const ctype = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    if (ctype !== 'application/octet-stream') {
      throw new ApiFault(415, `The request media type ${ctype || 'None'} is not supported by this server.`);
    }
    if (img.status !== 'queued') {
      throw new ApiFault(409, `Image status transition from ${img.status} to saving is not allowed`);
    }
    if (!img.disk_format || !img.container_format) {
      throw new ApiFault(400, 'Properties disk_format, container_format must be set prior to saving data.');
    }
    img.status = 'saving';
    touch(img);
    table.put(img);
    let stored: StoredBlob;
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
      throw new ApiFault(410, 'Image was deleted during upload.');
    }
    activateWithData(cur, stored);
    table.put(cur);
    return reply.code(204).send();
  });

  app.get<{ Params: { id: string } }>('/v2/images/:id/file', async (req, reply) => {
    const img = findImage(ctx, req, req.params.id);
    if (img.status === 'deactivated' && !tok(req).isAdmin) {
      throw new ApiFault(403, 'The requested image has been deactivated. Image data download is forbidden.');
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
      throw new ApiFault(
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
}
