/**
 * Server actions (openstacksdk's `reboot_server`, `stop_server`, `start_server`, and the compute proxy's
 * `pause_server`, `unpause_server`, `suspend_server`, `resume_server`, `lock_server`, `unlock_server`,
 * `rebuild_server` that Ansible's server_action calls): the Nova action, then, when asked, polling the server by id
 * until it settles in the action's target status with no task running (lock and unlock have none: Nova does not
 * report the lock in the server's status).
 */
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { type CloudCore, DEFAULT_SERVER_TIMEOUT_MS, FATAL_WHILE_WAITING, type Ref, resolveId } from './core.ts';
import { getImage } from './images.ts';
import { serverError } from './server-wait.ts';
import { getServerById, serverIdOf } from './servers.ts';
import type { Server } from './types.ts';

export type PowerAction =
  | 'reboot'
  | 'hard-reboot'
  | 'stop'
  | 'start'
  | 'pause'
  | 'unpause'
  | 'suspend'
  | 'resume'
  | 'lock'
  | 'unlock'
  | 'rebuild';

export interface PowerOptions {
  /** Wait until the server has settled in the action's target status (ACTIVE, or SHUTOFF after stop). */
  wait?: boolean | undefined;
  /** Default 180000 (shade's 180 s). */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
  /** Called with the server each time a poll sees it while waiting. */
  onProgress?: ((server: Server) => void) | undefined;
  /** rebuild: the image (name, id or object; required). */
  image?: Ref | undefined;
  /** rebuild: a new admin password. */
  adminPassword?: string | undefined;
}

/** The status each action ends in (null: the server's status does not show it). */
export const POWER_ACTION_TARGET: Readonly<Record<PowerAction, string | null>> = {
  reboot: 'ACTIVE',
  'hard-reboot': 'ACTIVE',
  stop: 'SHUTOFF',
  start: 'ACTIVE',
  pause: 'PAUSED',
  unpause: 'ACTIVE',
  suspend: 'SUSPENDED',
  resume: 'ACTIVE',
  lock: null,
  unlock: null,
  rebuild: 'ACTIVE',
};

/** Nova's action bodies of the actions without a client method of their own. */
const BODY: Partial<Record<PowerAction, Record<string, unknown>>> = {
  pause: { pause: null },
  unpause: { unpause: null },
  suspend: { suspend: null },
  resume: { resume: null },
  lock: { lock: null },
  unlock: { unlock: null },
};

async function runAction(core: CloudCore, id: string, action: PowerAction, o: PowerOptions): Promise<void> {
  const call = { signal: o.signal };
  if (action === 'reboot' || action === 'hard-reboot')
    return core.compute.rebootServer(id, action === 'reboot' ? 'SOFT' : 'HARD', call);
  if (action === 'stop') return core.compute.stopServer(id, call);
  if (action === 'start') return core.compute.startServer(id, call);
  if (action === 'rebuild') {
    if (o.image === undefined) throw new OcxError(ErrorCode.BAD_REQUEST, 'rebuild needs an image', { resourceId: id });
    const imageRef = await resolveId(o.image, 'image', (n) => getImage(core, n));
    const rebuild: Record<string, unknown> = { imageRef };
    if (o.adminPassword) rebuild.adminPass = o.adminPassword;
    await core.compute.serverAction(id, { rebuild }, call);
    return;
  }
  await core.compute.serverAction(id, BODY[action] ?? {}, call);
}

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
  try {
    await runAction(core, id, action, o);
  } finally {
    core.serverCache.invalidate();
  }
  const target = POWER_ACTION_TARGET[action];
  if (!o.wait || target === null) return null;
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
