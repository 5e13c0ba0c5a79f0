/** Compute limits and availability zones (openstacksdk `cloud/_compute.py`, limits and zones). */
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { CloudCore } from './core.ts';
import { normalizeComputeLimits } from './normalize/compute.ts';
import type { ComputeLimits } from './types.ts';

export async function getComputeLimits(core: CloudCore): Promise<ComputeLimits> {
  return normalizeComputeLimits(await core.compute.getLimits(), await core.base());
}

/** Nova's and Cinder's absolute limits as the APIs name them (`openstack limits show --absolute`). */
export async function getAbsoluteLimits(
  core: CloudCore,
  o: { signal?: AbortSignal | undefined } = {},
): Promise<{ compute: Record<string, number>; volume: Record<string, number> }> {
  const [compute, volume] = await Promise.all([
    core.compute.getLimits({ signal: o.signal }),
    core.blockStorage.getLimits({ signal: o.signal }),
  ]);
  return { compute: compute.absolute, volume: volume.absolute };
}

/** Cinder's absolute limits as the API names them (maxTotalVolumes, totalGigabytesUsed, ...). */
export async function getVolumeLimits(
  core: CloudCore,
  o: { signal?: AbortSignal | undefined } = {},
): Promise<Record<string, number>> {
  return (await core.blockStorage.getLimits({ signal: o.signal })).absolute;
}

/** Names of availability zones (available ones unless `unavailable`); [] when the cloud forbids the call. */
export async function listAvailabilityZoneNames(
  core: CloudCore,
  opts: { unavailable?: boolean } = {},
): Promise<string[]> {
  try {
    const zones = await core.compute.listAvailabilityZones();
    return zones.filter((z) => opts.unavailable || z.zoneState?.available).map((z) => z.zoneName);
  } catch (err) {
    if (err instanceof OcxError && (err.code === ErrorCode.FORBIDDEN || err.code === ErrorCode.NOT_FOUND)) return [];
    throw err;
  }
}
