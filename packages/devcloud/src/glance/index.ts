/**
 * Glance v2 for devcloud, mounted at /image: version documents, images CRUD, JSON-patch updates, streaming image
 * data to and from disk (md5 + sha512 while streaming, Range on download), tags, members, sort/filter/pagination
 * with `next` links, schemas and the import/stores info documents.
 */
import type { FastifyInstance } from 'fastify';
import type { CloudContext, ServiceModule } from '../context.ts';
import { installHttp } from './http.ts';
import type { ImageRow } from './images.ts';
import { registerImportRoutes } from './import.ts';
import { imageDataRoutes } from './routes-data.ts';
import { imageRoutes } from './routes-images.ts';
import { sharingRoutes } from './routes-sharing.ts';
import { blobStoreFor, createSnapshotImage, IMAGES_TABLE, modifiable, seed, stores } from './store.ts';

export { glanceBlobDir, IMAGES_TABLE, SEED_IMAGE_NAME, seedImageBytes } from './store.ts';

async function glancePlugin(app: FastifyInstance, ctx: CloudContext): Promise<void> {
  const table = ctx.store.table<ImageRow>(IMAGES_TABLE);
  const blobs = blobStoreFor(ctx);
  await seed(ctx, blobs);
  app.addHook('onClose', async () => {
    stores.delete(ctx);
    blobs.close();
  });
  installHttp(app, ctx);
  const g = { ctx, table, blobs };
  imageRoutes(app, g);
  imageDataRoutes(app, g);
  registerImportRoutes(app, ctx, {
    table,
    blobs,
    modifiable: (req, id, action) => modifiable(ctx, req, id, action),
  });
  sharingRoutes(app, g);
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
