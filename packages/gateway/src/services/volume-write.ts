/**
 * CloudService's Ansible volume and server_volume modules: a volume is present by name in the project (a larger
 * size extends it, description and metadata are updated; Cinder cannot shrink); attach and detach are unchanged
 * when the volume already is (or is not) attached to the server.
 */
import type { ServiceImpl } from '@connectrpc/connect';
import { type Connection, ErrorCode, OcxError, type Server, type Volume } from '@ocx/sdk';
import type { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { cloudAt, type GatewayDeps } from '../context.ts';
import { toAttachment } from '../convert-ansible.ts';
import { toVolume } from '../convert-more.ts';
import { invalidArgument } from '../errors.ts';
import { deleteOne, differing, guarded, ownNamed, required } from './present.ts';

const timeoutMs = (seconds: number) => (seconds > 0 ? seconds * 1000 : undefined);

async function pair(conn: Connection, server: string, volume: string): Promise<{ server: Server; volume: Volume }> {
  conn.cloudLayer.invalidateCaches();
  const [s, v] = await Promise.all([conn.cloudLayer.getServer(server), conn.cloudLayer.getVolume(volume)]);
  if (!s) throw new OcxError(ErrorCode.NOT_FOUND, `no server matches '${server}' on ${conn.name}`);
  if (!v) throw new OcxError(ErrorCode.NOT_FOUND, `no volume matches '${volume}' on ${conn.name}`);
  return { server: s, volume: v };
}

export function volumeWriteHandlers(deps: GatewayDeps): Partial<ServiceImpl<typeof CloudService>> {
  return {
    async createVolume(req, ctx) {
      const name = required(req.name, 'name');
      const conn = await cloudAt(deps, ctx, req.location);
      const cl = conn.cloudLayer;
      const wait = { wait: req.wait, timeoutMs: timeoutMs(req.timeoutSeconds), signal: ctx.signal };
      const metadata = Object.keys(req.metadata).length > 0 ? { ...req.metadata } : undefined;
      return guarded(async () => {
        cl.invalidateCaches();
        const have = await ownNamed(conn, 'volume', name, await cl.searchVolumes(name));
        if (!have) {
          if (req.size === 0) throw invalidArgument('size (GiB) is required to create a volume');
          const volume = await cl.createVolume({
            name,
            size: req.size,
            description: req.description,
            volumeType: req.volumeType || undefined,
            image: req.image || undefined,
            availabilityZone: req.availabilityZone || undefined,
            metadata,
            ...wait,
          });
          return { volume: toVolume(volume), changed: true };
        }
        if (req.size > 0 && req.size < have.size)
          throw invalidArgument(`volume '${name}' is ${have.size} GiB; Cinder cannot shrink it to ${req.size}`);
        let volume = have;
        let changed = false;
        const changes = differing({ description: have.description ?? '' }, { description: req.description });
        if (metadata && Object.entries(metadata).some(([k, v]) => have.metadata[k] !== v))
          changes.metadata = { ...have.metadata, ...metadata };
        if (Object.keys(changes).length > 0) {
          volume = await cl.updateVolume(have.id, changes, { signal: ctx.signal });
          changed = true;
        }
        if (req.size > have.size) {
          volume = (await cl.extendVolume(have.id, req.size, wait)) ?? (await cl.getVolumeById(have.id)) ?? volume;
          changed = true;
        }
        return { volume: toVolume(volume), changed };
      });
    },

    deleteVolume(req, ctx) {
      return deleteOne(
        deps,
        ctx,
        req.filter,
        'volume',
        (conn, key, attrs) => {
          conn.cloudLayer.invalidateCaches();
          return conn.cloudLayer.searchVolumes(key, attrs);
        },
        (conn, volume) =>
          conn.cloudLayer.deleteVolume(volume, {
            wait: req.wait,
            force: req.force,
            timeoutMs: timeoutMs(req.timeoutSeconds),
            signal: ctx.signal,
          }),
      );
    },

    async attachVolume(req, ctx) {
      required(req.server, 'server');
      required(req.volume, 'volume');
      const conn = await cloudAt(deps, ctx, req.location);
      return guarded(async () => {
        const { server, volume } = await pair(conn, req.server, req.volume);
        const there = volume.attachments.find((a) => a.server_id === server.id);
        if (there)
          return {
            attachment: { serverId: server.id, device: there.device ?? '', attachmentId: there.attachment_id ?? '' },
            changed: false,
            volume: toVolume(volume),
          };
        const a = await conn.cloudLayer.attachVolume(server, volume, {
          device: req.device || undefined,
          wait: req.wait,
          timeoutMs: timeoutMs(req.timeoutSeconds),
          signal: ctx.signal,
        });
        const now = (await conn.cloudLayer.getVolumeById(volume.id)) ?? volume;
        return { attachment: toAttachment(a), changed: true, volume: toVolume(now) };
      });
    },

    async detachVolume(req, ctx) {
      required(req.server, 'server');
      required(req.volume, 'volume');
      const conn = await cloudAt(deps, ctx, req.location);
      return guarded(async () => {
        const { server, volume } = await pair(conn, req.server, req.volume);
        if (!volume.attachments.some((a) => a.server_id === server.id)) return { changed: false };
        await conn.cloudLayer.detachVolume(server, volume, {
          wait: req.wait,
          timeoutMs: timeoutMs(req.timeoutSeconds),
          signal: ctx.signal,
        });
        return { changed: true };
      });
    },
  };
}
