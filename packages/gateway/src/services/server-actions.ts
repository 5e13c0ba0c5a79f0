/**
 * CloudService's Ansible server_action module: the server resolved exactly once over the selected clouds; an
 * action whose target status the server is already in is not run (changed false), reboot, lock, unlock and rebuild
 * always are; with `wait`, the answer is the server once settled (lock and unlock have no status to wait for).
 * Also the server's console log (GetServerConsole) and a snapshot of it (CreateImageSnapshot), the server resolved
 * the same way.
 */
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { POWER_ACTION_TARGET, type PowerAction } from '@ocx/sdk';
import { ServerActionType } from '@ocx/sdk/gen/ocx/cloud/v1/ansible_storage_pb';
import type { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import type { Filter } from '@ocx/sdk/gen/ocx/cloud/v1/common_pb';
import { attrFilters, findOne, type GatewayDeps, notFound, scopeFor } from '../context.ts';
import { toImage, toServer } from '../convert.ts';
import { invalidArgument } from '../errors.ts';
import { guarded, required } from './present.ts';

const ACTIONS: Partial<Record<ServerActionType, PowerAction>> = {
  [ServerActionType.REBOOT]: 'reboot',
  [ServerActionType.HARD_REBOOT]: 'hard-reboot',
  [ServerActionType.STOP]: 'stop',
  [ServerActionType.START]: 'start',
  [ServerActionType.PAUSE]: 'pause',
  [ServerActionType.UNPAUSE]: 'unpause',
  [ServerActionType.SUSPEND]: 'suspend',
  [ServerActionType.RESUME]: 'resume',
  [ServerActionType.LOCK]: 'lock',
  [ServerActionType.UNLOCK]: 'unlock',
  [ServerActionType.REBUILD]: 'rebuild',
};

/** Actions that run whatever the server's status (Nova does not show a lock; a reboot or rebuild is asked for). */
const ALWAYS = new Set<PowerAction>(['reboot', 'hard-reboot', 'lock', 'unlock', 'rebuild']);

/** The one server a request's filter names over the selected clouds, with its cloud; NOT_FOUND when none. */
async function oneServer(deps: GatewayDeps, ctx: HandlerContext, filter: Filter | undefined) {
  const key = required(filter?.nameOrId ?? '', 'filter.name_or_id');
  const scope = await scopeFor(deps, ctx, filter?.location);
  const got = await findOne(scope, 'server', key, (conn) => conn.cloudLayer.searchServers(key, attrFilters(filter)));
  if (got.item === null) throw notFound('server', key, got.failures);
  return { item: got.item, conn: got.conn };
}

export function serverActionHandlers(deps: GatewayDeps): Partial<ServiceImpl<typeof CloudService>> {
  return {
    async createImageSnapshot(req, ctx) {
      const name = required(req.name, 'name');
      const { item, conn } = await oneServer(deps, ctx, req.filter);
      return guarded(async () => ({
        image: toImage(
          await conn.cloudLayer.createImageSnapshot(name, item, {
            metadata: { ...req.metadata },
            wait: req.wait,
            timeoutMs: req.timeoutSeconds > 0 ? req.timeoutSeconds * 1000 : undefined,
            signal: ctx.signal,
          }),
        ),
      }));
    },

    async getServerConsole(req, ctx) {
      const { item, conn } = await oneServer(deps, ctx, req.filter);
      return guarded(async () => ({
        output: await conn.cloudLayer.getServerConsole(item, req.length > 0 ? req.length : undefined),
      }));
    },

    async serverAction(req, ctx) {
      const action = ACTIONS[req.action];
      if (!action) throw invalidArgument('action is required');
      if (action === 'rebuild') required(req.image, 'image (rebuild)');
      const { item: found, conn } = await oneServer(deps, ctx, req.filter);
      return guarded(async () => {
        // The status the decision rests on is read now, not taken from a list that may be seconds old.
        const server = (await conn.cloudLayer.getServerById(found.id)) ?? found;
        if (!ALWAYS.has(action) && server.status === POWER_ACTION_TARGET[action])
          return { server: toServer(server), changed: false };
        const settled = await conn.cloudLayer.serverPowerAction(server, action, {
          wait: req.wait,
          timeoutMs: req.timeoutSeconds > 0 ? req.timeoutSeconds * 1000 : undefined,
          signal: ctx.signal,
          image: req.image || undefined,
          adminPassword: req.adminPassword || undefined,
        });
        return {
          server: toServer(settled ?? (await conn.cloudLayer.getServerById(server.id)) ?? server),
          changed: true,
        };
      });
    },
  };
}
