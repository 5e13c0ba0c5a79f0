/**
 * Waiting for a server to come up (openstacksdk `cloud/_compute.py` `wait_for_server`, `_needs_floating_ip`,
 * `add_auto_ip`): ACTIVE with an address, a floating IP attached when the cloud needs one, Nova's fault on ERROR.
 */
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { collect } from '../services/common.ts';
import type { NeutronFloatingIp } from '../services/network.ts';
import { type CloudCore, DEFAULT_SERVER_TIMEOUT_MS, FATAL_WHILE_WAITING, type Ref } from './core.ts';
import { deleteFloatingIp, facts as networkFactsOf } from './networks.ts';
import { deleteServer, getServer, getServerById, serverIdOf } from './servers.ts';
import type { Server } from './types.ts';

export interface WaitForServerOptions {
  /** Default 180000 (shade's 180 s). */
  timeoutMs?: number | undefined;
  /** Attach a floating IP when the server has only a private address and the cloud has floating IPs. Default true. */
  autoIp?: boolean | undefined;
  /** Reuse an unattached floating IP instead of creating one. Default true. */
  reuse?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Called with the server each time a poll sees it (status, progress), e.g. to draw a progress line. */
  onProgress?: ((server: Server) => void) | undefined;
}

/**
 * Wait until the server is ACTIVE with an address. ERROR → RESOURCE_FAILED with Nova's fault message;
 * ACTIVE without any address → the server is deleted and RESOURCE_FAILED thrown; timeout → TIMEOUT.
 * Polls through the server-list cache (so many waiters cost one list per interval).
 */
export async function waitForServer(core: CloudCore, server: Ref, o: WaitForServerOptions = {}): Promise<Server> {
  const id = await serverIdOf(core, server);
  const timeoutMs = o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
  return core.poll(
    async (remainingMs) => {
      let s: Server | null;
      try {
        s = await getServer(core, id);
      } catch (err) {
        // Not listed yet, or a transient failure: keep waiting. Failures that waiting cannot cure end the wait.
        if (err instanceof OcxError && FATAL_WHILE_WAITING.has(err.code)) throw err;
        return undefined;
      }
      if (!s) return undefined;
      o.onProgress?.(s);
      if (s.status === 'ERROR') throw serverError(s);
      if (s.status !== 'ACTIVE') return undefined;
      if (Object.values(s.addresses).some((list) => list.length > 0)) {
        if (o.autoIp !== false && (await needsFloatingIp(core, s))) {
          return addAutoIp(core, s, o.reuse !== false, Math.max(remainingMs, 1000), o.signal);
        }
        return s;
      }
      try {
        await deleteServer(core, id, { wait: true, timeoutMs: Math.max(remainingMs, 1000), signal: o.signal });
      } catch (err) {
        throw new OcxError(
          ErrorCode.RESOURCE_FAILED,
          `server ${id} reached ACTIVE without an IP address and then could not be deleted: ${(err as Error).message}`,
          { resourceId: id },
          { cause: err },
        );
      }
      throw new OcxError(
        ErrorCode.RESOURCE_FAILED,
        `server ${id} reached ACTIVE state without being allocated an IP address (deleted)`,
        { resourceId: id },
      );
    },
    {
      timeoutMs,
      signal: o.signal,
      message: `timeout waiting for server ${id} to come up`,
      resourceId: id,
    },
  );
}

/** shade's `_needs_floating_ip` with Neutron floating IPs. */
async function needsFloatingIp(core: CloudCore, s: Server): Promise<boolean> {
  if (s.public_v4 || !s.private_v4 || core.addressOptions.private) return false;
  if (!(await core.hasFloatingIps())) return false;
  const facts = await networkFactsOf(core);
  return facts.floatingSources.length > 0;
}

/** Attach a floating IP to the port holding `private_v4` (reusing an unattached one when `reuse`). */
async function addAutoIp(
  core: CloudCore,
  s: Server,
  reuse: boolean,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Server> {
  const facts = await networkFactsOf(core);
  const ports = await collect(core.network.listPorts({ query: { device_id: s.id } }));
  const port = ports.find((p) => p.fixed_ips.some((f) => f.ip_address === s.private_v4));
  if (!port) return s;
  const floatingNet = facts.floatingSources[0]!;
  let fip: NeutronFloatingIp | undefined;
  if (reuse) {
    const free = (await collect(core.network.listFloatingIps({ query: { floating_network_id: floatingNet.id } }))).find(
      (f) => !f.port_id,
    );
    if (free) {
      fip = await core.network.updateFloatingIp(free.id, { port_id: port.id, fixed_ip_address: s.private_v4 });
    }
  }
  fip ??= await core.network.createFloatingIp({
    floating_network_id: floatingNet.id,
    port_id: port.id,
    fixed_ip_address: s.private_v4,
  });
  core.listCaches.floatingIps.invalidate();
  core.serverCache.invalidate();
  const fipId = fip.id;
  const attached = fip;
  try {
    // Wait until Nova (or Neutron, via the list-wide supplement) shows the address on the server.
    return await core.poll(
      async () => {
        const cur = await getServerById(core, s.id);
        if (!cur) throw new OcxError(ErrorCode.NOT_FOUND, `server ${s.id} disappeared`, { resourceId: s.id });
        return cur.public_v4 ? cur : undefined;
      },
      {
        timeoutMs,
        signal,
        message: `timeout waiting for floating IP ${attached.floating_ip_address} on server ${s.id}`,
        resourceId: s.id,
      },
    );
  } catch (err) {
    if (!reuse) await deleteFloatingIp(core, fipId).catch(() => false);
    throw err;
  }
}

/** RESOURCE_FAILED for a server in ERROR, with Nova's fault message when it gave one. */
export function serverError(s: Server): OcxError {
  const fault = s.fault?.message;
  return new OcxError(
    ErrorCode.RESOURCE_FAILED,
    fault
      ? `error in creating server ${s.id}: compute service reports fault: ${fault}`
      : `error in creating server ${s.id} (no further information available)`,
    { resourceId: s.id, serverMessage: fault, service: 'compute' },
  );
}
