/**
 * Images (openstacksdk `cloud/_image.py`): list, get, idempotent create with streamed upload and stored hashes,
 * server snapshots, delete.
 */
import type { Readable } from 'node:stream';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { collect } from '../services/common.ts';
import type { GlanceImage, ImageClient } from '../services/image.ts';
import { type CloudCore, DEFAULT_IMAGE_TIMEOUT_MS, nullOn404, type Ref } from './core.ts';
import { filterList, looksLikeId, single } from './filter.ts';
import {
  HashingStream,
  hashedOnTheWay,
  hashFile,
  IMAGE_MD5_KEY,
  IMAGE_OBJECT_KEY,
  IMAGE_SHA256_KEY,
  storedHashes,
} from './image-hash.ts';
import { normalizeImage } from './normalize/image.ts';
import { serverIdOf } from './servers.ts';
import type { Filters, Image } from './types.ts';

export interface CreateImageOptions {
  /** Local file to upload (streamed; hashed first). */
  filename?: string | undefined;
  /** Or a stream / bytes (hashed while uploading). */
  data?: Readable | AsyncIterable<Uint8Array> | Uint8Array | undefined;
  md5?: string | undefined;
  sha256?: string | undefined;
  /** Default: the cloud's `image_format`, else qcow2. */
  diskFormat?: string | undefined;
  /** Default 'bare'. */
  containerFormat?: string | undefined;
  /** Default false (private). */
  isPublic?: boolean | undefined;
  visibility?: 'public' | 'private' | 'shared' | 'community' | undefined;
  /** Wait until the image is active. Default false (as shade). */
  wait?: boolean | undefined;
  /** Default 3600000. */
  timeoutMs?: number | undefined;
  /** Skip the same-name-same-hash check. */
  allowDuplicates?: boolean | undefined;
  /** Extra image properties (string values). */
  meta?: Record<string, string> | undefined;
  minDisk?: number | undefined;
  minRam?: number | undefined;
  tags?: string[] | undefined;
  signal?: AbortSignal | undefined;
}

/** Poll an image (or snapshot) named `name` until active; killed or deleted → RESOURCE_FAILED. */
function waitForActive<T extends { status: string }>(
  core: CloudCore,
  kind: string,
  id: string,
  name: string,
  get: () => Promise<T | null>,
  opts: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined },
): Promise<T> {
  return core.waitForStatus(kind, id, get, {
    ready: (s) => s === 'active',
    failed: (s) => s === 'killed' || s === 'deleted',
    timeoutMs: opts.timeoutMs ?? DEFAULT_IMAGE_TIMEOUT_MS,
    signal: opts.signal,
    message: `timeout waiting for ${kind} ${name} to become active`,
  });
}

/** shade's `_hashes_up_to_date`: any given hash must equal the stored one, and at least one must be given. */
function hashesUpToDate(
  want: { md5?: string | undefined; sha256?: string | undefined },
  have: { md5: string; sha256: string },
): boolean {
  let ok = false;
  if (want.md5 && have.md5 === want.md5) ok = true;
  if (want.sha256 && have.sha256 === want.sha256) ok = true;
  if (want.md5 && have.md5 !== want.md5) ok = false;
  if (want.sha256 && have.sha256 !== want.sha256) ok = false;
  return ok;
}

export interface ListImagesOptions {
  /** Keep images in status `deleted` (default false: they are left out). */
  filterDeleted?: boolean | undefined;
  /** Also images shared with the project but not accepted (`member_status=all`). */
  showAll?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export async function listImages(core: CloudCore, opts: ListImagesOptions = {}): Promise<Image[]> {
  const key = opts.showAll ? 'all' : '';
  const images = await core.listCaches.images.get(async () => {
    const base = await core.base();
    const query = opts.showAll ? { member_status: 'all' } : undefined;
    const raw = await collect(core.image.listImages({ query, signal: opts.signal }));
    return raw.map((i) => normalizeImage(i, base));
  }, key);
  // shade does not cache a list while an image is still being created.
  if (images.some((i) => ['queued', 'saving', 'importing', 'uploading'].includes(i.status))) {
    core.listCaches.images.invalidate(key);
  }
  return opts.filterDeleted === false ? images : images.filter((i) => i.status !== 'deleted');
}

export async function searchImages(core: CloudCore, nameOrId?: string, filters?: Filters): Promise<Image[]> {
  return filterList(await listImages(core), nameOrId, filters);
}

export async function getImage(core: CloudCore, nameOrId: Ref, filters?: Filters): Promise<Image | null> {
  if (typeof nameOrId === 'object') return nameOrId as Image;
  if (core.opts.useDirectGet && looksLikeId(nameOrId) && !filters) return getImageById(core, nameOrId);
  return single(await searchImages(core, nameOrId, filters), 'image', nameOrId);
}

/** Direct GET by id; null on 404. */
export async function getImageById(core: CloudCore, id: string): Promise<Image | null> {
  const raw = await nullOn404(() => core.image.getImage(id));
  return raw && normalizeImage(raw, await core.base());
}

/**
 * Create an image and upload its data (streamed), idempotently: an existing image of the same name whose stored
 * `owner_specified.openstack.md5`/`.sha256` match is returned unchanged. A failed upload deletes the new image.
 */
export async function createImage(core: CloudCore, name: string, opts: CreateImageOptions = {}): Promise<Image> {
  if (opts.filename && opts.data) {
    throw new OcxError(ErrorCode.BAD_REQUEST, 'createImage: filename and data are mutually exclusive');
  }
  let md5 = opts.md5;
  let sha256 = opts.sha256;
  let size: number | undefined;
  if (opts.filename && !(md5 && sha256)) {
    const h = await hashFile(opts.filename, opts.signal);
    md5 ??= h.md5;
    sha256 ??= h.sha256;
    size = h.size;
  } else if (opts.data instanceof Uint8Array) {
    const h = new HashingStream();
    h.end(opts.data);
    const d = h.digests();
    md5 ??= d.md5;
    sha256 ??= d.sha256;
    size = opts.data.byteLength;
  }
  if (!opts.allowDuplicates) {
    const current = await getImage(core, name);
    if (current && hashesUpToDate({ md5, sha256 }, storedHashes(current.properties))) return current;
  }
  const properties: Record<string, unknown> = {
    ...(opts.meta ?? {}),
    [IMAGE_MD5_KEY]: md5 ?? '',
    [IMAGE_SHA256_KEY]: sha256 ?? '',
    [IMAGE_OBJECT_KEY]: `images/${name}`,
  };
  const created = await core.image.createImage({
    ...properties,
    name,
    disk_format: opts.diskFormat ?? core.opts.imageFormat ?? 'qcow2',
    container_format: opts.containerFormat ?? 'bare',
    visibility: opts.visibility ?? (opts.isPublic ? 'public' : 'private'),
    ...(opts.minDisk !== undefined ? { min_disk: opts.minDisk } : {}),
    ...(opts.minRam !== undefined ? { min_ram: opts.minRam } : {}),
    ...(opts.tags ? { tags: opts.tags } : {}),
  });
  core.listCaches.images.invalidate();
  const cleanup = async () => {
    try {
      await core.image.deleteImage(created.id);
    } catch {
      // best effort: the original failure is what the caller needs to see
    }
  };
  try {
    if (opts.filename || opts.data) {
      const source = opts.filename ? { path: opts.filename } : opts.data!;
      let body: Parameters<ImageClient['uploadImageData']>[1] = source;
      let digests: ReturnType<typeof hashedOnTheWay>['digests'] | undefined;
      if (!opts.filename && !(opts.data instanceof Uint8Array) && !(opts.md5 && opts.sha256)) {
        // Only the sha256, and only when the caller did not give it; a failing source fails the upload body with it.
        // The md5 is not hashed here: Glance computes it over the bytes it stored (`checksum`), read back below —
        // hashing it on the way cost 1.3 CPU s per GiB (BENCHMARKS.md, gateway transfers).
        const hashed = hashedOnTheWay(opts.data!, { md5: false, sha256: !opts.sha256 });
        body = hashed.body;
        digests = hashed.digests;
      }
      await core.image.uploadImageData(created.id, body, { signal: opts.signal, size });
      if (digests) {
        const d = digests();
        const after = await core.image.getImage(created.id);
        // Glance's `checksum` is the md5 (Synnefo's Plankton puts a sha256 there: no md5 then, as for a FIPS Glance).
        const glanceMd5 = /^[0-9a-f]{32}$/.test(String(after.checksum ?? '')) ? String(after.checksum) : undefined;
        await core.image.setImageProperties(
          created.id,
          { [IMAGE_MD5_KEY]: opts.md5 ?? glanceMd5 ?? '', [IMAGE_SHA256_KEY]: opts.sha256 ?? d.sha256 ?? '' },
          after,
        );
      }
    }
    let image: GlanceImage = await core.image.getImage(created.id);
    if (opts.wait) {
      image = await waitForActive(core, 'image', created.id, name, () => core.image.getImage(created.id), opts);
    }
    core.listCaches.images.invalidate();
    return normalizeImage(image, await core.base());
  } catch (err) {
    await cleanup();
    core.listCaches.images.invalidate();
    throw err;
  }
}

/** Snapshot a server into an image (nodepool's legacy `create_image_snapshot`); `wait` until active. */
export async function createImageSnapshot(
  core: CloudCore,
  name: string,
  server: Ref,
  opts: { metadata?: Record<string, string>; wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<Image> {
  const serverId = await serverIdOf(core, server);
  const imageId = await core.compute.createServerImage(serverId, name, {
    metadata: opts.metadata,
    signal: opts.signal,
  });
  core.listCaches.images.invalidate();
  const base = await core.base();
  if (!opts.wait) {
    return (await getImageById(core, imageId)) ?? normalizeImage({ id: imageId, name, status: 'queued' }, base);
  }
  const img = await waitForActive(core, 'snapshot', imageId, name, () => getImageById(core, imageId), opts);
  core.listCaches.images.invalidate();
  return img;
}

/** False when no such image (or it vanished: 404). */
export async function deleteImage(
  core: CloudCore,
  nameOrId: Ref,
  opts: { wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<boolean> {
  const image = await getImage(core, nameOrId);
  if (!image) return false;
  return core.deleteResource('image', image.id, () => core.image.deleteImage(image.id, { signal: opts.signal }), {
    invalidate: () => core.listCaches.images.invalidate(),
    wait: opts.wait,
    gone: async () => (await getImageById(core, image.id)) === null,
    timeoutMs: opts.timeoutMs ?? DEFAULT_IMAGE_TIMEOUT_MS,
    signal: opts.signal,
  });
}
