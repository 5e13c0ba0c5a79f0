/**
 * CloudService's Ansible object_container and object modules (the listing and delete side; the bytes go through
 * TransferService): containers per cloud a page at a time (Swift's prefix, marker, limit), a container present by
 * name (metadata set when it differs), deleted (with its objects on request), one page of objects, object delete.
 */
import type { ServiceImpl } from '@connectrpc/connect';
import { ErrorCode, OcxError } from '@ocx/sdk';
import type { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { cloudAt, type GatewayDeps, listAcross, scopeFor } from '../context.ts';
import { toLocation } from '../convert.ts';
import { toContainer, toStoredObject } from '../convert-ansible.ts';
import { cloudFailure } from '../errors.ts';
import { guarded, required } from './present.ts';

/** Objects deleted at once when a container is emptied. */
const DELETE_CONCURRENCY = 8;

export function containerHandlers(deps: GatewayDeps): Partial<ServiceImpl<typeof CloudService>> {
  return {
    async listContainers(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.location);
      const { items, failures } = await listAcross(scope, async (conn, fctx) => {
        const page = await conn.cloudLayer.listContainersPage({
          prefix: req.prefix || undefined,
          marker: req.marker || undefined,
          limit: req.limit || undefined,
          signal: fctx.signal,
        });
        const location = toLocation(await conn.cloudLayer.currentLocation());
        return [{ items: page.items, next: page.nextMarker ? { location, marker: page.nextMarker } : undefined }];
      });
      return {
        containers: items.flatMap((p) => p.items.map(toContainer)),
        failures: failures.map(cloudFailure),
        next: items.flatMap((p) => (p.next ? [p.next] : [])),
      };
    },

    async createContainer(req, ctx) {
      const name = required(req.name, 'name');
      const conn = await cloudAt(deps, ctx, req.location);
      const cl = conn.cloudLayer;
      const o = { signal: ctx.signal };
      const metadata = { ...req.metadata };
      return guarded(async () => {
        const have = await cl.getContainer(name, o);
        if (!have) return { container: toContainer(await cl.createContainer(name, { metadata, ...o })), changed: true };
        const lower = Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.toLowerCase(), v]));
        if (!Object.entries(lower).some(([k, v]) => have.metadata[k] !== v))
          return { container: toContainer(have), changed: false };
        await cl.setContainerMetadata(name, lower, o);
        return { container: toContainer((await cl.getContainer(name, o)) ?? have), changed: true };
      });
    },

    async deleteContainer(req, ctx) {
      const name = required(req.name, 'name');
      const conn = await cloudAt(deps, ctx, req.location);
      const cl = conn.cloudLayer;
      const o = { signal: ctx.signal };
      return guarded(async () => {
        if (!(await cl.getContainer(name, o))) return { deleted: false };
        if (req.deleteObjects) {
          const objects = await cl.listObjects(name, o);
          for (let i = 0; i < objects.length; i += DELETE_CONCURRENCY)
            await Promise.all(objects.slice(i, i + DELETE_CONCURRENCY).map((x) => cl.deleteObject(name, x.name, o)));
        }
        return { deleted: await cl.deleteContainer(name, o) };
      });
    },

    async listObjects(req, ctx) {
      const container = required(req.container, 'container');
      const conn = await cloudAt(deps, ctx, req.location);
      return guarded(async () => {
        const page = await conn.cloudLayer.listObjectsPage(container, {
          prefix: req.prefix || undefined,
          marker: req.marker || undefined,
          limit: req.limit || undefined,
          signal: ctx.signal,
        });
        return { objects: page.items.map(toStoredObject), nextMarker: page.nextMarker ?? '' };
      });
    },

    async getContainer(req, ctx) {
      const name = required(req.name, 'name');
      const conn = await cloudAt(deps, ctx, req.location);
      return guarded(async () => {
        const c = await conn.cloudLayer.getContainer(name, { signal: ctx.signal });
        if (!c) throw new OcxError(ErrorCode.NOT_FOUND, `no container '${name}' on ${conn.name}`);
        return { container: toContainer(c) };
      });
    },

    async getObjectMetadata(req, ctx) {
      const container = required(req.container, 'container');
      const name = required(req.name, 'name');
      const conn = await cloudAt(deps, ctx, req.location);
      return guarded(async () => {
        const x = await conn.cloudLayer.getObjectMetadata(container, name, { signal: ctx.signal });
        if (!x)
          throw new OcxError(ErrorCode.NOT_FOUND, `no object '${name}' in container '${container}' on ${conn.name}`);
        return { object: toStoredObject(x) };
      });
    },

    async deleteObject(req, ctx) {
      const container = required(req.container, 'container');
      const name = required(req.name, 'name');
      const conn = await cloudAt(deps, ctx, req.location);
      return guarded(async () => ({
        deleted: await conn.cloudLayer.deleteObject(container, name, { signal: ctx.signal }),
      }));
    },
  };
}
