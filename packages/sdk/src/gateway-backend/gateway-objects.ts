/**
 * Object-store containers and objects through the gateway (ListContainers, CreateContainer, DeleteContainer,
 * ListObjects, DeleteObject, and GetContainer / GetObjectMetadata for Swift's HEADs, with their metadata), answered
 * as the REST backend answers: get → null and delete → false when missing, createContainer returns an existing
 * container unchanged.
 */
import type { Signal } from '../cloud/core.ts';
import { type ListObjectEntriesOptions, type PageOptions, rollUp } from '../cloud/objects.ts';
import type { Container, ObjectFolder, StoredObject } from '../cloud/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { isNotFound } from '../services/common.ts';
import { fromContainer, fromStoredObject } from './convert-ansible.ts';
import { GatewayVolumes } from './gateway-volumes.ts';

type Page<T> = { items: T[]; nextMarker: string | null };

export abstract class GatewayObjects extends GatewayVolumes {
  /** One page of containers (limit 0: every one). */
  async listContainersPage(o: PageOptions = {}): Promise<Page<Container>> {
    const r = await this.client.run('ListContainers', o, (c) =>
      this.client.cloud.listContainers(
        { location: this.where(), prefix: o.prefix ?? '', marker: o.marker ?? '', limit: o.limit ?? 0 },
        c,
      ),
    );
    this.check(r.failures);
    return { items: r.containers.map((x) => fromContainer(x, this.name)), nextMarker: r.next[0]?.marker || null };
  }

  async listContainers(o: Signal & { prefix?: string } = {}): Promise<Container[]> {
    return (await this.listContainersPage({ prefix: o.prefix, signal: o.signal })).items;
  }

  /** HEAD of the container (GetContainer): with its metadata; null when it does not exist. */
  async getContainer(name: string, o: Signal = {}): Promise<Container | null> {
    try {
      const r = await this.client.run('GetContainer', o, (c) =>
        this.client.cloud.getContainer({ location: this.at(), name }, c),
      );
      return r.container ? fromContainer(r.container, this.name) : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async #putContainer(name: string, metadata: Record<string, string>, o: Signal) {
    const r = await this.client.run('CreateContainer', o, (c) =>
      this.client.cloud.createContainer({ location: this.at(), name, metadata }, c),
    );
    if (!r.container)
      throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no container', { cloud: this.name });
    return { changed: r.changed, container: fromContainer(r.container, this.name) };
  }

  /**
   * The container, created when missing; an existing one is returned as it is (its metadata untouched: the
   * gateway is asked without metadata first, and only a container it just made gets `metadata`).
   */
  async createContainer(name: string, o: Signal & { metadata?: Record<string, string> } = {}): Promise<Container> {
    const first = await this.#putContainer(name, {}, o);
    if (!first.changed || !o.metadata || Object.keys(o.metadata).length === 0) return first.container;
    return (await this.#putContainer(name, o.metadata, o)).container;
  }

  /** False when it does not exist; CONFLICT while it holds objects. */
  async deleteContainer(name: string, o: Signal = {}): Promise<boolean> {
    const r = await this.client.run('DeleteContainer', o, (c) =>
      this.client.cloud.deleteContainer({ location: this.at(), name, deleteObjects: false }, c),
    );
    return r.deleted;
  }

  /** Set `X-Container-Meta-*` (others kept); NOT_FOUND when the container does not exist, as Swift answers. */
  async setContainerMetadata(name: string, metadata: Record<string, string>, o: Signal = {}): Promise<void> {
    if (!(await this.getContainer(name, o)))
      throw new OcxError(ErrorCode.NOT_FOUND, `container "${name}" not found`, { cloud: this.name, resourceId: name });
    await this.#putContainer(name, metadata, o);
  }

  /** One page of a container's objects; NOT_FOUND when the container does not exist. */
  async listObjectsPage(container: string, o: PageOptions = {}): Promise<Page<StoredObject>> {
    const r = await this.client.run('ListObjects', o, (c) =>
      this.client.cloud.listObjects(
        { location: this.at(), container, prefix: o.prefix ?? '', marker: o.marker ?? '', limit: o.limit ?? 0 },
        c,
      ),
    );
    return { items: r.objects.map((x) => fromStoredObject(x, this.name)), nextMarker: r.nextMarker || null };
  }

  async listObjects(container: string, o: Signal & { prefix?: string } = {}): Promise<StoredObject[]> {
    return (await this.listObjectsPage(container, { prefix: o.prefix, signal: o.signal })).items;
  }

  /** ListObjects has no delimiter: the pseudo-folders are rolled up here from the listing under `prefix`. */
  async listObjectEntries(
    container: string,
    o: ListObjectEntriesOptions = {},
  ): Promise<(StoredObject | ObjectFolder)[]> {
    const objects = await this.listObjects(container, { prefix: o.prefix, signal: o.signal });
    return o.delimiter ? rollUp(objects, o.prefix ?? '', o.delimiter) : objects;
  }

  /** HEAD of the object (GetObjectMetadata), with its metadata; null when it (or its container) does not exist. */
  async getObjectMetadata(container: string, name: string, o: Signal = {}): Promise<StoredObject | null> {
    try {
      const r = await this.client.run('GetObjectMetadata', o, (c) =>
        this.client.cloud.getObjectMetadata({ location: this.at(), container, name }, c),
      );
      return r.object ? fromStoredObject(r.object, this.name) : null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** False when it does not exist. */
  async deleteObject(container: string, name: string, o: Signal = {}): Promise<boolean> {
    const r = await this.client.run('DeleteObject', o, (c) =>
      this.client.cloud.deleteObject({ location: this.at(), container, name }, c),
    );
    return r.deleted;
  }
}
