/**
 * Cinder v3 for devcloud, mounted at /volume: version documents, microversions (3.0–3.70), volumes with timed
 * states, actions (attach/detach/reserve/extend/reset...), snapshots, attachments (3.27+), volume types, quota
 * sets with usage and enforcement, limits, volume transfers, availability zones; and InternalApis.volumes.
 */
import type { FastifyInstance } from 'fastify';
import type { CloudContext, InternalApis, ServiceModule } from '../context.ts';
import { InternalError } from '../context.ts';
import { ApiFault } from '../fault.ts';
import { installHttp, versionEntry } from './http.ts';
import { registerMoreRoutes } from './routes-more.ts';
import { CinderState } from './state.ts';
import { volumeActionRoutes } from './volume-actions.ts';
import { volumeRoutes } from './volumes.ts';

const states = new WeakMap<CloudContext, CinderState>();
export function cinderState(ctx: CloudContext): CinderState {
  let s = states.get(ctx);
  if (!s) {
    s = new CinderState(ctx);
    states.set(ctx, s);
  }
  return s;
}

async function cinderPlugin(app: FastifyInstance, ctx: CloudContext): Promise<void> {
  const state = cinderState(ctx);
  app.addHook('onClose', async () => {
    state.dispose();
    states.delete(ctx);
  });
  installHttp(app, ctx);
  app.get('/', async (_req, reply) => reply.code(300).send({ versions: [versionEntry(ctx)] }));
  app.get('/v3', async () => ({ versions: [versionEntry(ctx)] }));
  volumeRoutes(app, state);
  volumeActionRoutes(app, state);
  registerMoreRoutes(app, ctx, state);
}

function internalVolumes(ctx: CloudContext): Partial<InternalApis> {
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ApiFault && !(err instanceof InternalError)) throw new InternalError(err.status, err.message);
      throw err;
    }
  };
  return {
    volumes: {
      get(volumeId) {
        const v = cinderState(ctx).volume(volumeId);
        return v ? { id: v.id, projectId: v.projectId, status: v.status, size: v.size } : undefined;
      },
      async create(args) {
        const state = cinderState(ctx);
        const v = wrap(() =>
          state.createVolume({
            projectId: args.projectId,
            userId: args.userId,
            size: args.size,
            name: args.name ?? null,
            imageId: args.imageId,
            snapshotId: args.snapshotId,
            sourceVolid: args.sourceVolumeId,
            isAdmin: true,
          }),
        );
        await new Promise((resolve) => setTimeout(resolve, state.transitionMs + 1));
        const done = state.volume(v.id);
        if (done?.status !== 'available') {
          throw new InternalError(
            500,
            `Volume ${v.id} did not become available (status: ${done?.status ?? 'deleted'}).`,
          );
        }
        return { id: v.id };
      },
      attach(volumeId, serverId, device) {
        const state = cinderState(ctx);
        const v = state.volume(volumeId);
        if (!v) throw new InternalError(404, `Volume ${volumeId} could not be found.`);
        wrap(() => state.attach(v, { instanceUuid: serverId, mountpoint: device }));
      },
      detach(volumeId, serverId) {
        const state = cinderState(ctx);
        const v = state.volume(volumeId);
        if (!v) throw new InternalError(404, `Volume ${volumeId} could not be found.`);
        const a = state.liveAttachments(v.id).find((x) => x.instanceUuid === serverId);
        if (!a)
          throw new InternalError(400, `Invalid volume: Volume ${volumeId} is not attached to server ${serverId}.`);
        state.detachAttachment(v, a);
      },
      delete(volumeId) {
        const state = cinderState(ctx);
        const v = state.volume(volumeId);
        if (!v) throw new InternalError(404, `Volume ${volumeId} could not be found.`);
        wrap(() => state.deleteVolume(v));
      },
    },
    quotas: {
      usage(projectId) {
        const u = cinderState(ctx).usage(projectId);
        return {
          volumes: u.volumes!,
          gigabytes: u.gigabytes!,
          snapshots: u.snapshots!,
          backups: u.backups!,
          backup_gigabytes: u.backup_gigabytes!,
        };
      },
    },
  };
}

export const cinderModule: ServiceModule = {
  mount: { type: 'block-storage', name: 'cinder', prefix: '/volume', catalogPath: '/volume/v3/$(project_id)s' },
  plugin: cinderPlugin,
  internal: internalVolumes,
};

/** A second catalog entry (volumev3/cinderv3) for the same API: devstack lists both. Serves no routes itself. */
export const cinderV3CatalogModule: ServiceModule = {
  mount: { type: 'volumev3', name: 'cinderv3', prefix: '/volume', catalogPath: '/volume/v3/$(project_id)s' },
  plugin: () => {},
};
