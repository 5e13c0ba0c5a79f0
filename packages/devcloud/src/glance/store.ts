/**
 * Glance's state for one cloud: the image table, the blob store with image data (shared by routes and
 * InternalApis), the seeded cirros image, look-ups with visibility and ownership checks, and Nova's snapshots.
 */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { CloudContext, Table } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { BlobStore } from '../storage/blob-store.ts';
import { tok } from './http.ts';
import { canModify, canSee, type ImageRow, newImageRow } from './images.ts';

export const IMAGES_TABLE = 'glance_images';
/** Name of the image every cloud starts with. */
export const SEED_IMAGE_NAME = 'cirros-0.6.2-x86_64-disk';

/** What every Glance route file works with. */
export interface GlanceDeps {
  ctx: CloudContext;
  table: Table<ImageRow>;
  blobs: BlobStore;
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

export function nowIso(): string {
  return new Date().toISOString();
}

export function findImage(ctx: CloudContext, req: FastifyRequest, id: string): ImageRow {
  const img = ctx.store.table<ImageRow>(IMAGES_TABLE).get(id);
  if (!img || !canSee(img, tok(req))) throw new ApiFault(404, `No image found with ID ${id}`);
  return img;
}

export function modifiable(ctx: CloudContext, req: FastifyRequest, id: string, action = 'modify_image'): ImageRow {
  const img = findImage(ctx, req, id);
  if (!canModify(img, tok(req))) throw new ApiFault(403, `You are not authorized to complete ${action} action.`);
  return img;
}

export function touch(img: ImageRow): void {
  img.updated_at = nowIso();
}

/** Stores per cloud context, so internal APIs and routes share one. */
export const stores = new WeakMap<CloudContext, BlobStore>();
export function blobStoreFor(ctx: CloudContext): BlobStore {
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

export async function seed(ctx: CloudContext, blobs: BlobStore): Promise<void> {
  const table = ctx.store.table<ImageRow>(IMAGES_TABLE);
  const existing = table.filter((i) => i.name === SEED_IMAGE_NAME && i.properties.devcloud_seed === 'true')[0];
  if (existing?.blob && (await blobs.exists(existing.blob))) return;
  const data = seedImageBytes();
  const blob = await blobs.writeBuffer(data);
  const row: ImageRow =
    existing ??
    newImageRow({
      name: SEED_IMAGE_NAME,
      status: 'active',
      visibility: 'public',
      container_format: 'bare',
      disk_format: 'qcow2',
      properties: { devcloud_seed: 'true', hw_rng_model: 'virtio' },
    });
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

/** `internal.images.create`: copy the source image's bytes (if any) into a new active private image. */
export async function createSnapshotImage(
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
  const row = newImageRow({
    name: args.name,
    status: 'active',
    visibility: 'private',
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
    properties: { ...inherited, ...args.properties },
    blob: stored.key,
  });
  table.put(row);
  return { id: row.id };
}
