/**
 * Attaching volumes to servers and detaching them (openstacksdk `cloud/_compute.py` `attach_volume` /
 * `detach_volume`): Nova's os-volume_attachments, then, with `wait`, Cinder's volume polled until `in-use` (attach)
 * or `available` (detach); an `error*` status ends the wait with RESOURCE_FAILED.
 */
import { type CloudCore, DEFAULT_SERVER_TIMEOUT_MS, type Ref, refId, resolveId } from './core.ts';
import { serverIdOf } from './servers.ts';
import type { Volume } from './types.ts';
import { getVolume, getVolumeById } from './volumes.ts';

export interface AttachOptions {
  /** The device name to ask for (e.g. /dev/vdb); Nova may choose another. */
  device?: string | undefined;
  wait?: boolean | undefined;
  /** Default 180000. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** What Nova answered for an attachment. */
export interface ServerVolumeAttachment {
  id: string;
  server_id: string;
  volume_id: string;
  device: string | null;
}

async function volumeIdOf(core: CloudCore, volume: Ref): Promise<string> {
  return refId(volume) ?? (await resolveId(volume, 'volume', (n) => getVolume(core, n)));
}

async function waitVolume(core: CloudCore, id: string, status: string, o: AttachOptions): Promise<Volume> {
  return core.waitForStatus('volume', id, () => getVolumeById(core, id), {
    ready: (s) => s === status,
    failed: (s) => s.startsWith('error'),
    timeoutMs: o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS,
    signal: o.signal,
    message: `timeout waiting for volume ${id} to become ${status}`,
  });
}

/** Attach `volume` to `server` (objects, ids or names); with `wait`, returns once the volume is in-use. */
export async function attachVolume(
  core: CloudCore,
  server: Ref,
  volume: Ref,
  o: AttachOptions = {},
): Promise<ServerVolumeAttachment> {
  const [serverId, volumeId] = await Promise.all([serverIdOf(core, server), volumeIdOf(core, volume)]);
  let a: Awaited<ReturnType<CloudCore['compute']['attachVolume']>>;
  try {
    a = await core.compute.attachVolume(serverId, volumeId, { device: o.device, signal: o.signal });
  } finally {
    core.listCaches.volumes.invalidate();
    core.serverCache.invalidate();
  }
  if (o.wait) await waitVolume(core, volumeId, 'in-use', o);
  return { id: a.id ?? volumeId, server_id: a.serverId, volume_id: a.volumeId, device: a.device ?? null };
}

/** Detach `volume` from `server`; with `wait`, returns once the volume is available again. */
export async function detachVolume(core: CloudCore, server: Ref, volume: Ref, o: AttachOptions = {}): Promise<void> {
  const [serverId, volumeId] = await Promise.all([serverIdOf(core, server), volumeIdOf(core, volume)]);
  try {
    await core.compute.detachVolume(serverId, volumeId, { signal: o.signal });
  } finally {
    core.listCaches.volumes.invalidate();
    core.serverCache.invalidate();
  }
  if (o.wait) await waitVolume(core, volumeId, 'available', o);
}
