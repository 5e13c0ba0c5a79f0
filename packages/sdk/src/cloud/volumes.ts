/** Volumes (openstacksdk `cloud/_block_storage.py`): list, get, create from an image with wait, delete with wait. */
import type { BlockStorageClient, CinderVolume } from '../services/block-storage.ts';
import { collect } from '../services/common.ts';
import { type CloudCore, DEFAULT_SERVER_TIMEOUT_MS, nullOn404, type Ref, refId, resolveId } from './core.ts';
import { filterList, looksLikeId, single } from './filter.ts';
import { getImage } from './images.ts';
import { normalizeVolume } from './normalize/volume.ts';
import type { Filters, Volume } from './types.ts';

export interface CreateVolumeOptions {
  size: number;
  name?: string;
  description?: string;
  image?: Ref;
  volumeType?: string;
  availabilityZone?: string;
  metadata?: Record<string, string>;
  wait?: boolean;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export async function listVolumes(core: CloudCore, opts: { signal?: AbortSignal | undefined } = {}): Promise<Volume[]> {
  return core.listCaches.volumes.get(async () => {
    const base = await core.base();
    return (await collect(core.blockStorage.listVolumes({ signal: opts.signal }))).map((v) => normalizeVolume(v, base));
  });
}

export async function searchVolumes(core: CloudCore, nameOrId?: string, filters?: Filters): Promise<Volume[]> {
  return filterList(await listVolumes(core), nameOrId, filters);
}

export async function getVolume(core: CloudCore, nameOrId: Ref, filters?: Filters): Promise<Volume | null> {
  if (typeof nameOrId === 'object') return nameOrId as Volume;
  return single(await searchVolumes(core, nameOrId, filters), 'volume', nameOrId);
}

export async function getVolumeById(core: CloudCore, id: string): Promise<Volume | null> {
  const raw = await nullOn404(() => core.blockStorage.getVolume(id));
  return raw && normalizeVolume(raw, await core.base());
}

/** Create a volume (optionally from an image by name or id); `wait` until available (error → RESOURCE_FAILED). */
export async function createVolume(core: CloudCore, o: CreateVolumeOptions): Promise<Volume> {
  const req: Parameters<BlockStorageClient['createVolume']>[0] = { size: o.size };
  if (o.name) req.name = o.name;
  if (o.description) req.description = o.description;
  if (o.volumeType) req.volume_type = o.volumeType;
  if (o.availabilityZone) req.availability_zone = o.availabilityZone;
  if (o.metadata) req.metadata = o.metadata;
  if (o.image) req.imageRef = await resolveId(o.image, 'image', (n) => getImage(core, n));
  const created: CinderVolume = await core.blockStorage.createVolume(req, { signal: o.signal });
  core.listCaches.volumes.invalidate();
  const base = await core.base();
  if (!o.wait) return normalizeVolume(created, base);
  const done = await core.waitForStatus('volume', created.id, () => core.blockStorage.getVolume(created.id), {
    ready: (s) => s === 'available' || s === 'in-use',
    failed: (s) => s.startsWith('error'),
    timeoutMs: o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS,
    signal: o.signal,
    message: `timeout waiting for volume ${created.id} to become available`,
  });
  core.listCaches.volumes.invalidate();
  return normalizeVolume(done, base);
}

/** False when missing or 404. `wait` until it is gone. */
export async function deleteVolume(
  core: CloudCore,
  nameOrId: Ref,
  o: { wait?: boolean; timeoutMs?: number; force?: boolean; signal?: AbortSignal } = {},
): Promise<boolean> {
  const id = refId(nameOrId);
  const vol = id
    ? await getVolumeById(core, id)
    : looksLikeId(nameOrId as string)
      ? ((await getVolumeById(core, nameOrId as string)) ?? (await getVolume(core, nameOrId)))
      : await getVolume(core, nameOrId);
  if (!vol) return false;
  const del = () => core.blockStorage.deleteVolume(vol.id, { force: o.force, signal: o.signal });
  return core.deleteResource('volume', vol.id, del, {
    invalidate: () => core.listCaches.volumes.invalidate(),
    wait: o.wait,
    gone: async () => (await getVolumeById(core, vol.id)) === null,
    timeoutMs: o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS,
    signal: o.signal,
  });
}

/** Cinder's PUT (name, description, metadata), answered normalized. */
export async function updateVolume(
  core: CloudCore,
  id: string,
  changes: { name?: string; description?: string; metadata?: Record<string, string> },
  o: { signal?: AbortSignal | undefined } = {},
): Promise<Volume> {
  try {
    return normalizeVolume(await core.blockStorage.updateVolume(id, changes, { signal: o.signal }), await core.base());
  } finally {
    core.listCaches.volumes.invalidate();
  }
}

/** Grow a volume to `size` GiB (`os-extend`); with `wait`, once Cinder shows the new size and the volume settled. */
export async function extendVolume(
  core: CloudCore,
  id: string,
  size: number,
  o: { wait?: boolean; timeoutMs?: number; signal?: AbortSignal | undefined } = {},
): Promise<Volume | null> {
  try {
    await core.blockStorage.extendVolume(id, size, { signal: o.signal });
  } finally {
    core.listCaches.volumes.invalidate();
  }
  if (!o.wait) return null;
  const done = await core.waitForStatus('volume', id, () => core.blockStorage.getVolume(id), {
    ready: (s) => s === 'available' || s === 'in-use',
    failed: (s) => s.startsWith('error'),
    timeoutMs: o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS,
    signal: o.signal,
    message: `timeout waiting for volume ${id} to be extended`,
  });
  return normalizeVolume(done, await core.base());
}
