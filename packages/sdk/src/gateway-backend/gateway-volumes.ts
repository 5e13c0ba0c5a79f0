/**
 * Volumes through the gateway: the list cache and lookups, create (waited for by the gateway), delete, extend,
 * attach to and detach from servers (the gateway's CreateVolume, DeleteVolume, AttachVolume, DetachVolume),
 * answered as the REST backend answers. A create refuses a name the project already has (CONFLICT: the gateway's
 * CreateVolume is idempotent by name, see gateway-network.ts).
 */
import type { Ref, Signal } from '../cloud/core.ts';
import { DEFAULT_SERVER_TIMEOUT_MS } from '../cloud/core.ts';
import { filterList, single } from '../cloud/filter.ts';
import type { Filters, Volume } from '../cloud/types.ts';
import type { AttachOptions, ServerVolumeAttachment } from '../cloud/volume-attach.ts';
import type { CreateVolumeOptions } from '../cloud/volumes.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { fromVolume } from './convert.ts';
import { refKey } from './gateway-network.ts';
import { GatewayPorts } from './gateway-ports.ts';
import { ANSWER_MARGIN_MS, seconds } from './gateway-servers.ts';

/** A wait's budget: the gateway's timeout (s) and this call's deadline a margin beyond it. */
function waitBounds(o: { timeoutMs?: number | undefined; signal?: AbortSignal | undefined }) {
  const timeoutMs = o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
  return { timeoutSeconds: seconds(timeoutMs), bounds: { signal: o.signal, timeoutMs: timeoutMs + ANSWER_MARGIN_MS } };
}

export abstract class GatewayVolumes extends GatewayPorts {
  listVolumes(opts: Signal = {}): Promise<Volume[]> {
    return this.caches.volumes.get(async () => {
      const r = await this.client.run('ListVolumes', opts, (o) =>
        this.client.cloud.listVolumes({ filter: this.filter() }, o),
      );
      this.check(r.failures);
      return r.volumes.map((v) => fromVolume(v, this.name));
    });
  }

  async searchVolumes(nameOrId?: string, filters?: Filters): Promise<Volume[]> {
    return filterList(await this.listVolumes(), nameOrId, filters);
  }

  async getVolume(nameOrId: Ref, filters?: Filters): Promise<Volume | null> {
    if (typeof nameOrId === 'object') return nameOrId as Volume;
    return single(await this.searchVolumes(nameOrId, filters), 'volume', nameOrId);
  }

  async getVolumeById(id: string): Promise<Volume | null> {
    this.caches.volumes.invalidate();
    return (await this.listVolumes()).find((v) => v.id === id) ?? null;
  }

  /** Create a volume (from an image by name or id); `wait` until available (error → RESOURCE_FAILED). */
  async createVolume(o: CreateVolumeOptions): Promise<Volume> {
    this.caches.volumes.invalidate();
    await this.refuseTaken('volume', o.name, await this.listVolumes(o));
    const name = o.name as string;
    const { timeoutSeconds, bounds } = waitBounds(o);
    try {
      const r = await this.client.run('CreateVolume', o.wait ? bounds : { signal: o.signal }, (c) =>
        this.client.cloud.createVolume(
          {
            location: this.at(),
            name,
            size: o.size,
            description: o.description,
            volumeType: o.volumeType ?? '',
            image: o.image === undefined ? '' : refKey(o.image),
            availabilityZone: o.availabilityZone ?? '',
            metadata: o.metadata ?? {},
            wait: !!o.wait,
            timeoutSeconds,
          },
          c,
        ),
      );
      return fromVolume(this.created('volume', name, r, r.volume), this.name);
    } finally {
      this.caches.volumes.invalidate();
    }
  }

  /** False when missing. `wait` until it is gone (the gateway waits); `force`: Cinder's os-force_delete. */
  async deleteVolume(
    nameOrId: Ref,
    o: { wait?: boolean; timeoutMs?: number; force?: boolean; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const { timeoutSeconds, bounds } = waitBounds(o);
    try {
      const r = await this.client.run('DeleteVolume', o.wait ? bounds : { signal: o.signal }, (c) =>
        this.client.cloud.deleteVolume(
          { filter: this.filter(refKey(nameOrId)), wait: !!o.wait, timeoutSeconds, force: !!o.force },
          c,
        ),
      );
      return r.deleted;
    } finally {
      this.caches.volumes.invalidate();
    }
  }

  /** Grow to `size` GiB (CreateVolume on the volume's name: a larger size extends it); with `wait`, once settled. */
  async extendVolume(
    id: string,
    size: number,
    o: { wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Volume | null> {
    this.caches.volumes.invalidate();
    const all = await this.listVolumes(o);
    const volume = all.find((v) => v.id === id);
    if (!volume) throw new OcxError(ErrorCode.NOT_FOUND, `volume "${id}" not found`, { resourceId: id });
    if (!volume.name || all.filter((v) => v.name === volume.name).length > 1)
      throw this.unsupportedError(`extendVolume of ${id}, which has no name of its own,`);
    if (size <= volume.size)
      throw new OcxError(ErrorCode.BAD_REQUEST, `volume ${id} is ${volume.size} GiB; it can only grow`, {
        cloud: this.name,
        resourceId: id,
      });
    const { timeoutSeconds, bounds } = waitBounds(o);
    try {
      const r = await this.client.run('CreateVolume', o.wait ? bounds : { signal: o.signal }, (c) =>
        this.client.cloud.createVolume(
          { location: this.at(), name: volume.name, size, wait: !!o.wait, timeoutSeconds },
          c,
        ),
      );
      return o.wait && r.volume ? fromVolume(r.volume, this.name) : null;
    } finally {
      this.caches.volumes.invalidate();
    }
  }

  #attachmentsChanged(): void {
    this.caches.volumes.invalidate();
    this.serverCache.invalidate();
  }

  /** Attach a volume to a server; with `wait`, once in-use. Already attached there: BAD_REQUEST, as Nova answers. */
  async attachVolume(server: Ref, volume: Ref, o: AttachOptions = {}): Promise<ServerVolumeAttachment> {
    const { timeoutSeconds, bounds } = waitBounds(o);
    try {
      const r = await this.client.run('AttachVolume', o.wait ? bounds : { signal: o.signal }, (c) =>
        this.client.cloud.attachVolume(
          {
            location: this.at(),
            server: refKey(server),
            volume: refKey(volume),
            device: o.device ?? '',
            wait: !!o.wait,
            timeoutSeconds,
          },
          c,
        ),
      );
      const volumeId = r.volume?.id ?? refKey(volume);
      if (!r.changed)
        throw new OcxError(ErrorCode.BAD_REQUEST, `Invalid volume: volume ${volumeId} already attached`, {
          cloud: this.name,
          resourceId: volumeId,
        });
      const a = r.attachment;
      return {
        id: a?.attachmentId || volumeId,
        server_id: a?.serverId ?? '',
        volume_id: volumeId,
        device: a?.device || null,
      };
    } finally {
      this.#attachmentsChanged();
    }
  }

  /** Detach a volume from a server; with `wait`, once available. Not attached there: NOT_FOUND, as Nova answers. */
  async detachVolume(server: Ref, volume: Ref, o: AttachOptions = {}): Promise<void> {
    const { timeoutSeconds, bounds } = waitBounds(o);
    try {
      const r = await this.client.run('DetachVolume', o.wait ? bounds : { signal: o.signal }, (c) =>
        this.client.cloud.detachVolume(
          { location: this.at(), server: refKey(server), volume: refKey(volume), wait: !!o.wait, timeoutSeconds },
          c,
        ),
      );
      if (!r.changed)
        throw new OcxError(
          ErrorCode.NOT_FOUND,
          `volume ${refKey(volume)} is not attached to server ${refKey(server)}`,
          { cloud: this.name, resourceId: refKey(volume) },
        );
    } finally {
      this.#attachmentsChanged();
    }
  }
}
