/**
 * Server power actions (openstacksdk's `reboot_server`, `stop_server`, `start_server` with `wait`): the Nova action,
 * then, when asked, polling the server by id until it settles in the action's target status with no task running.
 */
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { type CloudCore, DEFAULT_SERVER_TIMEOUT_MS, FATAL_WHILE_WAITING, type Ref } from './core.ts';
import { serverError } from './server-wait.ts';
import { getServerById, serverIdOf } from './servers.ts';
import type { Server } from './types.ts';

export type PowerAction = 'reboot' | 'hard-reboot' | 'stop' | 'start';

export interface PowerOptions {
  /** Wait until the server has settled in the action's target status (ACTIVE, or SHUTOFF after stop). */
  wait?: boolean | undefined;
  /** Default 180000 (shade's 180 s). */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Called with the server each time a poll sees it while waiting. */
  onProgress?: ((server: Server) => void) | undefined;
}

/** The status each action ends in. */
const TARGET: Record<PowerAction, string> = {
  reboot: 'ACTIVE',
  'hard-reboot': 'ACTIVE',
  stop: 'SHUTOFF',
  start: 'ACTIVE',
};

/**
 * Run `action` on `server` (an object, id or name). Without `wait`, returns null once Nova accepted it; with `wait`,
 * returns the server once it is in the target status with no task state. ERROR → RESOURCE_FAILED with Nova's fault;
 * the server gone → NOT_FOUND; timeout → TIMEOUT. Invalidates the server-list cache.
 */
export async function serverPowerAction(
  core: CloudCore,
  server: Ref,
  action: PowerAction,
  o: PowerOptions = {},
): Promise<Server | null> {
  const id = await serverIdOf(core, server);
  const call = { signal: o.signal };
  try {
    if (action === 'reboot' || action === 'hard-reboot')
      await core.compute.rebootServer(id, action === 'reboot' ? 'SOFT' : 'HARD', call);
    else if (action === 'stop') await core.compute.stopServer(id, call);
    else await core.compute.startServer(id, call);
  } finally {
    core.serverCache.invalidate();
  }
  if (!o.wait) return null;
  const target = TARGET[action];
  return core.poll(
    async () => {
      let s: Server | null;
      try {
        s = await getServerById(core, id);
      } catch (err) {
        if (err instanceof OcxError && FATAL_WHILE_WAITING.has(err.code)) throw err;
        return undefined;
      }
      if (!s) throw new OcxError(ErrorCode.NOT_FOUND, `server ${id} disappeared while waiting`, { resourceId: id });
      o.onProgress?.(s);
      if (s.status === 'ERROR') throw serverError(s);
      return s.status === target && !s.task_state ? s : undefined;
    },
    {
      timeoutMs: o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS,
      signal: o.signal,
      message: `timed out waiting for server ${id} to reach ${target}`,
      resourceId: id,
    },
  );
}
