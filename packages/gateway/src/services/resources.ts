/** CloudService RPCs for flavors, images, keypairs, limits and floating IPs (nodepool's surface, shade semantics). */
import type { ServiceImpl } from '@connectrpc/connect';
import { ErrorCode, isOcxError } from '@ocx/sdk';
import type { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { attrFilters, cloudAt, findOne, type GatewayDeps, listAcross, notFound, scopeFor } from '../context.ts';
import { toComputeLimits, toFlavor, toImage, toKeypair, toLocation, toVolumeLimits } from '../convert.ts';
import { cloudFailure, invalidArgument, toConnectError } from '../errors.ts';
import { deleteOne } from './present.ts';

type Impl = Partial<ServiceImpl<typeof CloudService>>;

const nameOrUndefined = (s: string | undefined) => (s ? s : undefined);

export function resourceHandlers(deps: GatewayDeps): Impl {
  return {
    async listFlavors(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { items, failures } = await listAcross(scope, (conn) =>
        conn.cloudLayer.searchFlavors(nameOrUndefined(req.filter?.nameOrId), attrFilters(req.filter), {
          getExtra: req.getExtra,
        }),
      );
      return { flavors: items.map(toFlavor), failures: failures.map(cloudFailure) };
    },

    async listImages(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { items, failures } = await listAcross(scope, (conn) =>
        conn.cloudLayer.searchImages(nameOrUndefined(req.filter?.nameOrId), attrFilters(req.filter)),
      );
      return { images: items.map(toImage), failures: failures.map(cloudFailure) };
    },

    async getImage(req, ctx) {
      const key = req.filter?.nameOrId ?? '';
      if (!key) throw invalidArgument('filter.name_or_id is required');
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const got = await findOne(scope, 'image', key, (conn) =>
        conn.cloudLayer.searchImages(key, attrFilters(req.filter)),
      );
      if (!got.item) throw notFound('image', key, got.failures);
      return { image: toImage(got.item) };
    },

    async createImage(req, ctx) {
      if (!req.name) throw invalidArgument('name is required');
      const conn = await cloudAt(deps, ctx, req.location);
      try {
        const image = await conn.cloudLayer.createImage(req.name, {
          data: req.data,
          diskFormat: req.diskFormat || undefined,
          containerFormat: req.containerFormat || undefined,
          visibility: (req.visibility || undefined) as 'public' | 'private' | 'shared' | 'community' | undefined,
          meta: Object.keys(req.meta).length ? { ...req.meta } : undefined,
          tags: req.tags.length ? [...req.tags] : undefined,
          wait: req.wait,
          allowDuplicates: req.allowDuplicates,
          signal: ctx.signal,
        });
        return { image: toImage(image) };
      } catch (err) {
        throw toConnectError(err);
      }
    },

    deleteImage(req, ctx) {
      return deleteOne(
        deps,
        ctx,
        req.filter,
        'image',
        (conn, key, attrs) => conn.cloudLayer.searchImages(key, attrs),
        (conn, image) => conn.cloudLayer.deleteImage({ id: image.id }, { wait: req.wait, signal: ctx.signal }),
      );
    },

    async listKeypairs(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const { items, failures } = await listAcross(scope, (conn) =>
        conn.cloudLayer.searchKeypairs(nameOrUndefined(req.filter?.nameOrId), attrFilters(req.filter)),
      );
      return { keypairs: items.map(toKeypair), failures: failures.map(cloudFailure) };
    },

    async createKeypair(req, ctx) {
      if (!req.name) throw invalidArgument('name is required');
      const conn = await cloudAt(deps, ctx, req.location);
      try {
        return { keypair: toKeypair(await conn.cloudLayer.createKeypair(req.name, req.publicKey || undefined)) };
      } catch (err) {
        throw toConnectError(err);
      }
    },

    deleteKeypair(req, ctx) {
      return deleteOne(
        deps,
        ctx,
        req.filter,
        'keypair',
        (conn, key, attrs) => conn.cloudLayer.searchKeypairs(key, attrs),
        (conn, keypair) => conn.cloudLayer.deleteKeypair(keypair.name),
      );
    },

    async deleteUnattachedFloatingIps(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.location);
      const { items, failures } = await listAcross(scope, async (conn) => [
        {
          location: toLocation(await conn.cloudLayer.currentLocation()),
          count: await conn.cloudLayer.deleteUnattachedFloatingIps(),
        },
      ]);
      return { deleted: items, failures: failures.map(cloudFailure) };
    },

    async getLimits(req, ctx) {
      const scope = await scopeFor(deps, ctx, req.location);
      const { items, failures } = await listAcross(scope, async (conn, fctx) => {
        const volume = conn.cloudLayer
          .getVolumeLimits({ signal: fctx.signal })
          .then((absolute) => toVolumeLimits({ limits: { absolute } }))
          .catch((err: unknown) => {
            if (isOcxError(err, ErrorCode.ENDPOINT_NOT_FOUND)) return undefined;
            throw err;
          });
        const [location, compute, vol] = await Promise.all([
          conn.cloudLayer.currentLocation(),
          conn.cloudLayer.getComputeLimits(),
          volume,
        ]);
        return [{ location: toLocation(location), compute: toComputeLimits(compute), volume: vol }];
      });
      return { limits: items, failures: failures.map(cloudFailure) };
    },
  };
}
