/** Parsing and side steps of a server create: image check, block_device_mapping_v2, networks, boot volumes. */
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { type CloudContext, InternalError } from '../context.ts';
import { badRequest, conflict, mv, requiredProperty } from './http.ts';
import { type NovaModel, POWER, type ServerVolume } from './model.ts';
import { deviceName, nextDevice } from './server-common.ts';

/** Check an image for a boot (Glance through internal.images; a cloud without Glance accepts any id). */
export function checkImage(
  ctx: CloudContext,
  imageId: string,
  flavor: { disk: number; ram: number },
  bootFromVolume: boolean,
) {
  let img: ReturnType<CloudContext['internal']['images']['get']>;
  try {
    img = ctx.internal.images.get(imageId);
  } catch (e) {
    if (e instanceof InternalError && e.status === 503) return;
    throw e;
  }
  if (!img) throw badRequest('Can not find requested image');
  if (img.status !== 'active') throw badRequest(`Image ${imageId} is not active.`);
  if (img.minRam > flavor.ram) throw badRequest("Flavor's memory is too small for requested image.");
  if (!bootFromVolume && flavor.disk > 0) {
    if (img.minDisk > flavor.disk) throw badRequest("Flavor's disk is too small for requested image.");
    if (img.size !== null && img.size > flavor.disk * 1024 ** 3) {
      throw badRequest(
        `Flavor's disk is too small for requested image. Flavor disk is ${flavor.disk * 1024 ** 3} bytes, image is ${img.size} bytes.`,
      );
    }
  }
}

export interface BdmPlan {
  bootIndex: number | null;
  source: 'image' | 'volume' | 'blank' | 'snapshot';
  uuid: string | null;
  size: number | null;
  deleteOnTermination: boolean;
  tag: string | null;
}

export function parseBdms(raw: unknown): BdmPlan[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw badRequest('Block Device Mapping is Invalid: block_device_mapping_v2 must be a list.');
  const out: BdmPlan[] = [];
  for (const item of raw as Record<string, unknown>[]) {
    const source = String(item?.source_type ?? '');
    const dest = String(item?.destination_type ?? (source === 'image' ? 'local' : 'volume'));
    if (!['image', 'volume', 'blank', 'snapshot'].includes(source)) {
      throw badRequest(`Block Device Mapping is Invalid: Unrecognized source_type ${source}.`);
    }
    const bootIndexRaw = item.boot_index;
    const bootIndex =
      bootIndexRaw === undefined || bootIndexRaw === null || bootIndexRaw === 'none' || Number(bootIndexRaw) < 0
        ? null
        : Number(bootIndexRaw);
    if (dest === 'local') {
      // An image to local disk is the ordinary image boot; blanks to local disk are ephemerals (ignored here).
      if (source === 'image' && bootIndex === 0) {
        out.push({
          bootIndex,
          source,
          uuid: String(item.uuid ?? ''),
          size: null,
          deleteOnTermination: true,
          tag: null,
        });
      }
      continue;
    }
    const size = item.volume_size === undefined || item.volume_size === null ? null : Number(item.volume_size);
    if (size !== null && (!Number.isInteger(size) || size < 1)) {
      throw badRequest(`Block Device Mapping is Invalid: volume_size ${String(item.volume_size)} is invalid.`);
    }
    if ((source === 'image' || source === 'blank') && size === null) {
      throw badRequest('Block Device Mapping is Invalid: You specified more local devices than the limit allows');
    }
    if (source !== 'blank' && typeof item.uuid !== 'string') {
      throw badRequest(`Block Device Mapping is Invalid: Missing uuid for source_type ${source}.`);
    }
    out.push({
      bootIndex,
      source: source as BdmPlan['source'],
      uuid: typeof item.uuid === 'string' ? item.uuid : null,
      size,
      deleteOnTermination: Boolean(item.delete_on_termination),
      tag: typeof item.tag === 'string' ? item.tag : null,
    });
  }
  return out;
}

export type NetRequest = { networkId?: string; portId?: string; fixedIp?: string };

export function parseNetworks(req: FastifyRequest, body: Record<string, unknown>): NetRequest[] | 'auto' | 'none' {
  const raw = body.networks;
  const v = mv(req);
  if (raw === undefined) {
    if (v >= 37) throw requiredProperty('server', body, 'networks');
    return 'auto';
  }
  if (raw === 'auto' || raw === 'none') {
    if (v < 37)
      throw badRequest(`Invalid input for field/attribute networks. Value: ${raw}. '${raw}' is not of type 'array'`);
    return raw;
  }
  if (!Array.isArray(raw))
    throw badRequest(`Invalid input for field/attribute networks. Value: ${JSON.stringify(raw)}.`);
  return (raw as Record<string, unknown>[]).map((n) => {
    const r: NetRequest = {};
    if (typeof n?.port === 'string' && n.port) r.portId = n.port;
    else if (typeof n?.uuid === 'string' && n.uuid) r.networkId = n.uuid;
    else throw badRequest('Bad networks format: network uuid is not in proper format');
    if (typeof n.fixed_ip === 'string') r.fixedIp = n.fixed_ip;
    return r;
  });
}

/** Networks Nova would choose on its own: the project's (and shared) networks when exactly one is usable. */
export function autoNetworks(ctx: CloudContext, projectId: string, explicitAuto: boolean): NetRequest[] {
  const nets = ctx.store
    .table<{ id: string; project_id: string; shared: boolean; 'router:external': boolean; status: string }>(
      'neutron_networks',
    )
    .filter((n) => (n.project_id === projectId || n.shared) && !n['router:external']);
  if (nets.length === 0) {
    if (explicitAuto) {
      throw badRequest(`Unable to automatically allocate a network for project ${projectId}`);
    }
    return [];
  }
  if (nets.length > 1) {
    throw conflict('Multiple possible networks found, use a Network ID to be more specific.');
  }
  return [{ networkId: nets[0]!.id }];
}

/** Boot from volume: create the volumes Cinder should make, attach them, then let the build settle. */
export async function buildVolumes(
  ctx: CloudContext,
  m: NovaModel,
  serverId: string,
  projectId: string,
  userId: string,
  bdms: BdmPlan[],
): Promise<void> {
  const ordered = [...bdms].sort((a, b) => (a.bootIndex ?? 99) - (b.bootIndex ?? 99));
  const made: ServerVolume[] = [];
  let failure: string | undefined;
  for (const d of ordered) {
    if (d.source === 'image' && d.size === null) continue;
    try {
      let volumeId: string;
      if (d.source === 'volume') volumeId = d.uuid!;
      else {
        const vol = await ctx.internal.volumes.create({
          projectId,
          userId,
          size: d.size ?? 1,
          ...(d.source === 'image' && d.uuid ? { imageId: d.uuid } : {}),
          ...(d.source === 'snapshot' && d.uuid ? { snapshotId: d.uuid } : {}),
        });
        volumeId = vol.id;
      }
      const s = m.servers.get(serverId);
      if (!s || s.deleted) {
        if (d.source !== 'volume' && d.deleteOnTermination) ctx.internal.volumes.delete(volumeId);
        continue;
      }
      const device = d.bootIndex === 0 ? deviceName(0) : nextDevice({ ...s, volumes: [...s.volumes, ...made] });
      ctx.internal.volumes.attach(volumeId, serverId, device);
      const entry: ServerVolume = {
        id: volumeId,
        device,
        delete_on_termination: d.deleteOnTermination,
        boot_index: d.bootIndex,
        attachment_id: randomUUID(),
        tag: d.tag,
      };
      made.push(entry);
      s.volumes.push(entry);
      m.servers.put(s);
    } catch (e) {
      failure = `Build of instance ${serverId} aborted: ${e instanceof Error ? e.message : String(e)}`;
      break;
    }
  }
  const s = m.servers.get(serverId);
  if (!s || s.deleted || !s.pending) return;
  if (s.pending.kind === 'delete') {
    // Deleted while its volumes were being made: the delete settles on its own schedule and releases them.
    return;
  }
  const until = Date.now() + ctx.transitionMs;
  s.pending = failure
    ? {
        kind: 'build',
        until,
        vm_state: 'error',
        power_state: POWER.NOSTATE,
        fault: { code: 500, message: failure, details: failure, created: until },
      }
    : { ...s.pending, until };
  m.servers.put(s);
  m.schedule(s.id, until);
}
