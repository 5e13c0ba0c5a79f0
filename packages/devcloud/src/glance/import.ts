/**
 * Glance's interoperable image import: `PUT /v2/images/{id}/stage` (data to staging, status uploading) then
 * `POST /v2/images/{id}/import` with glance-direct, or web-download from a URL; the image goes importing →
 * active after the cloud's transition delay. copy-image is accepted as a no-op (one store).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CloudContext, Table } from '../context.ts';
import { ApiFault } from '../fault.ts';
import type { BlobStore, StoredBlob } from '../storage/blob-store.ts';
import { activateWithData, type ImageRow } from './images.ts';

export interface ImportDeps {
  table: Table<ImageRow>;
  blobs: BlobStore;
  /** The image if the caller may modify it (404/403 otherwise). */
  modifiable(req: FastifyRequest, id: string, action: string): ImageRow;
}

const WEB_DOWNLOAD_TIMEOUT_MS = 120_000;

function activate(deps: ImportDeps, id: string, stored: StoredBlob): void {
  const cur = deps.table.get(id);
  if (!cur) {
    void deps.blobs.remove(stored.key);
    return;
  }
  activateWithData(cur, stored);
  delete cur.properties.os_glance_importing_to_stores;
  cur.properties.os_glance_failed_import = '';
  deps.table.put(cur);
}

function fail(deps: ImportDeps, id: string, ctx: CloudContext, why: string): void {
  const cur = deps.table.get(id);
  if (!cur) return;
  cur.status = 'queued';
  cur.properties.os_glance_failed_import = 'fs';
  delete cur.properties.os_glance_importing_to_stores;
  cur.updated_at = new Date().toISOString();
  deps.table.put(cur);
  ctx.log.warn('glance: image import failed', { image: id, reason: why });
}

export function registerImportRoutes(app: FastifyInstance, ctx: CloudContext, deps: ImportDeps): void {
  const timers = new Set<NodeJS.Timeout>();
  app.addHook('onClose', async () => {
    for (const t of timers) clearTimeout(t);
  });
  /** Staged data per image id (blob keys), until imported. */
  const staged = ctx.store.table<{ id: string; key: string; size: number; md5: string; sha512: string }>(
    'glance_staging',
  );

  app.put<{ Params: { id: string } }>('/v2/images/:id/stage', async (req, reply) => {
    const img = deps.modifiable(req, req.params.id, 'modify_image');
    const ctype = String(req.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    if (ctype !== 'application/octet-stream') {
      throw new ApiFault(415, `The request media type ${ctype || 'None'} is not supported by this server.`);
    }
    if (img.status !== 'queued') {
      throw new ApiFault(409, `Image status transition from ${img.status} to uploading is not allowed`);
    }
    img.status = 'uploading';
    deps.table.put(img);
    try {
      const stored = await deps.blobs.write(req.raw);
      staged.put({ id: img.id, ...stored });
    } catch (err) {
      const cur = deps.table.get(img.id);
      if (cur?.status === 'uploading') {
        cur.status = 'queued';
        deps.table.put(cur);
      }
      throw err;
    }
    return reply.code(204).send();
  });

  app.post<{ Params: { id: string } }>('/v2/images/:id/import', async (req, reply) => {
    const img = deps.modifiable(req, req.params.id, 'modify_image');
    const method = (req.body as { method?: { name?: unknown; uri?: unknown } } | undefined)?.method;
    const name = method?.name;
    if (!img.disk_format || !img.container_format) {
      throw new ApiFault(400, "'disk_format' needs to be set before import");
    }
    if (name === 'glance-direct') {
      const stage = staged.get(img.id);
      if (img.status !== 'uploading' || !stage) {
        throw new ApiFault(409, "Image needs to be staged before 'glance-direct' method can be used");
      }
      img.status = 'importing';
      img.properties.os_glance_importing_to_stores = 'fs';
      deps.table.put(img);
      staged.delete(img.id);
      const timer = setTimeout(() => {
        timers.delete(timer);
        try {
          activate(deps, img.id, stage);
        } catch (err) {
          ctx.log.warn('glance: finishing an import failed', { image: img.id, error: String(err) });
        }
      }, ctx.transitionMs);
      timer.unref();
      timers.add(timer);
      return reply.code(202).send();
    }
    if (name === 'web-download') {
      const uri = method?.uri;
      if (typeof uri !== 'string' || !/^https?:\/\//.test(uri)) {
        throw new ApiFault(400, 'URI for web-download does not pass filtering: only http and https URLs are allowed');
      }
      if (img.status !== 'queued') {
        throw new ApiFault(409, `Image status transition from ${img.status} to importing is not allowed`);
      }
      img.status = 'importing';
      img.properties.os_glance_importing_to_stores = 'fs';
      deps.table.put(img);
      const id = img.id;
      void (async () => {
        try {
          const res = await fetch(uri, { signal: AbortSignal.timeout(WEB_DOWNLOAD_TIMEOUT_MS) });
          if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
          const stored = await deps.blobs.write(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream));
          activate(deps, id, stored);
        } catch (err) {
          try {
            fail(deps, id, ctx, String(err));
          } catch (inner) {
            ctx.log.warn('glance: recording a failed import failed', { image: id, error: String(inner) });
          }
        }
      })();
      return reply.code(202).send();
    }
    if (name === 'copy-image') {
      if (img.status !== 'active') throw new ApiFault(409, 'Image must be active to be copied to other stores');
      return reply.code(202).send();
    }
    throw new ApiFault(
      400,
      `Import method ${String(name)} is not valid: must be one of glance-direct, web-download, copy-image`,
    );
  });
}
