// Storage part of the `Cloud` facade: images, volumes (and attaching them to servers), object store containers and
// objects; one-line delegations to images.ts, volumes.ts, volume-attach.ts and objects.ts.
import { NetworkFacade } from './cloud-network.ts';
import type { Ref, Signal } from './core.ts';
import * as images from './images.ts';
import * as objects from './objects.ts';
import type { Container, Filters, Image, ObjectFolder, StoredObject, Volume } from './types.ts';
import * as volumeAttach from './volume-attach.ts';
import * as volumes from './volumes.ts';

export class StorageFacade extends NetworkFacade {
  // ---------------------------------------------------------------- images

  listImages(opts: images.ListImagesOptions = {}): Promise<Image[]> {
    return images.listImages(this.core, opts);
  }

  searchImages(nameOrId?: string, filters?: Filters): Promise<Image[]> {
    return images.searchImages(this.core, nameOrId, filters);
  }

  getImage(nameOrId: Ref, filters?: Filters): Promise<Image | null> {
    return images.getImage(this.core, nameOrId, filters);
  }

  /** Direct GET by id; null on 404. */
  getImageById(id: string): Promise<Image | null> {
    return images.getImageById(this.core, id);
  }

  /**
   * Create an image and upload its data (streamed), idempotently: an existing image of the same name whose stored
   * `owner_specified.openstack.md5`/`.sha256` match is returned unchanged. A failed upload deletes the new image.
   */
  createImage(name: string, opts: images.CreateImageOptions = {}): Promise<Image> {
    return images.createImage(this.core, name, opts);
  }

  /** Snapshot a server into an image (nodepool's legacy `create_image_snapshot`); `wait` until active. */
  createImageSnapshot(
    name: string,
    server: Ref,
    opts: { metadata?: Record<string, string>; wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Image> {
    return images.createImageSnapshot(this.core, name, server, opts);
  }

  /** False when no such image (or it vanished: 404). */
  deleteImage(
    nameOrId: Ref,
    opts: { wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    return images.deleteImage(this.core, nameOrId, opts);
  }

  // ---------------------------------------------------------------- volumes

  listVolumes(opts: Signal = {}): Promise<Volume[]> {
    return volumes.listVolumes(this.core, opts);
  }

  searchVolumes(nameOrId?: string, filters?: Filters): Promise<Volume[]> {
    return volumes.searchVolumes(this.core, nameOrId, filters);
  }

  getVolume(nameOrId: Ref, filters?: Filters): Promise<Volume | null> {
    return volumes.getVolume(this.core, nameOrId, filters);
  }

  getVolumeById(id: string): Promise<Volume | null> {
    return volumes.getVolumeById(this.core, id);
  }

  /** Create a volume (optionally from an image by name or id); `wait` until available (error → RESOURCE_FAILED). */
  createVolume(o: volumes.CreateVolumeOptions): Promise<Volume> {
    return volumes.createVolume(this.core, o);
  }

  /** False when missing or 404. `wait` until it is gone. */
  deleteVolume(
    nameOrId: Ref,
    o: { wait?: boolean; timeoutMs?: number; force?: boolean; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    return volumes.deleteVolume(this.core, nameOrId, o);
  }

  /** Cinder's PUT (name, description, metadata). */
  updateVolume(
    id: string,
    changes: { name?: string; description?: string; metadata?: Record<string, string> },
    o: Signal = {},
  ): Promise<Volume> {
    return volumes.updateVolume(this.core, id, changes, o);
  }

  /** Grow to `size` GiB; with `wait`, the volume once settled, else null. */
  extendVolume(
    id: string,
    size: number,
    o: { wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Volume | null> {
    return volumes.extendVolume(this.core, id, size, o);
  }

  // ---------------------------------------------------------------- attaching volumes to servers

  /** Attach a volume to a server; with `wait`, once the volume is in-use. */
  attachVolume(
    server: Ref,
    volume: Ref,
    o: volumeAttach.AttachOptions = {},
  ): Promise<volumeAttach.ServerVolumeAttachment> {
    return volumeAttach.attachVolume(this.core, server, volume, o);
  }

  /** Detach a volume from a server; with `wait`, once the volume is available. */
  detachVolume(server: Ref, volume: Ref, o: volumeAttach.AttachOptions = {}): Promise<void> {
    return volumeAttach.detachVolume(this.core, server, volume, o);
  }

  // ---------------------------------------------------------------- object store

  listContainers(opts: Signal & { prefix?: string } = {}): Promise<Container[]> {
    return objects.listContainers(this.core, opts);
  }

  /** null when it does not exist. */
  getContainer(name: string, opts: Signal = {}): Promise<Container | null> {
    return objects.getContainer(this.core, name, opts);
  }

  /** The container, created when missing; an existing one is returned as it is. */
  createContainer(name: string, opts: Signal & { metadata?: Record<string, string> } = {}): Promise<Container> {
    return objects.createContainer(this.core, name, opts);
  }

  /** False when it does not exist; CONFLICT while it holds objects. */
  deleteContainer(name: string, opts: Signal = {}): Promise<boolean> {
    return objects.deleteContainer(this.core, name, opts);
  }

  listObjects(container: string, opts: Signal & { prefix?: string } = {}): Promise<StoredObject[]> {
    return objects.listObjects(this.core, container, opts);
  }

  /** The objects and, with `delimiter`, the pseudo-folders (`{ subdir }`) they roll up into, in name order. */
  listObjectEntries(
    container: string,
    opts: objects.ListObjectEntriesOptions = {},
  ): Promise<(StoredObject | ObjectFolder)[]> {
    return objects.listObjectEntries(this.core, container, opts);
  }

  /** null when the object (or its container) does not exist. */
  getObjectMetadata(container: string, name: string, opts: Signal = {}): Promise<StoredObject | null> {
    return objects.getObjectMetadata(this.core, container, name, opts);
  }

  /** One page of containers (prefix, marker, limit); `nextMarker` when there are more. */
  listContainersPage(o: objects.PageOptions = {}): Promise<{ items: Container[]; nextMarker: string | null }> {
    return objects.listContainersPage(this.core, o);
  }

  /** One page of a container's objects; NOT_FOUND when the container does not exist. */
  listObjectsPage(
    container: string,
    o: objects.PageOptions = {},
  ): Promise<{ items: StoredObject[]; nextMarker: string | null }> {
    return objects.listObjectsPage(this.core, container, o);
  }

  /** Set `X-Container-Meta-*` (other metadata kept). */
  setContainerMetadata(name: string, metadata: Record<string, string>, o: Signal = {}): Promise<void> {
    return objects.setContainerMetadata(this.core, name, metadata, o);
  }

  /** False when it does not exist. */
  deleteObject(container: string, name: string, opts: Signal = {}): Promise<boolean> {
    return objects.deleteObject(this.core, container, name, opts);
  }
}
