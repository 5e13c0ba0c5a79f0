/**
 * Attaching a floating IP to a server and detaching it (openstacksdk `cloud/_network_common.py` `_attach_ip_to_server`,
 * `detach_ip_from_server`): the floating IP is found by address, the server's port by its fixed address (the one
 * given, else the server's private_v4), and Neutron's floating IP updated.
 */
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { collect } from '../services/common.ts';
import type { NeutronFloatingIp } from '../services/network.ts';
import { type CloudCore, type Ref, resolveId } from './core.ts';
import { facts, getNetwork } from './networks.ts';
import { normalizeFloatingIp } from './normalize/network.ts';
import { getServerById, serverIdOf } from './servers.ts';
import type { FloatingIp } from './types.ts';

async function byAddress(core: CloudCore, address: string, signal?: AbortSignal): Promise<NeutronFloatingIp> {
  const [fip] = await collect(
    core.network.listFloatingIps({ query: { floating_ip_address: address }, signal: signal }),
  );
  if (!fip)
    throw new OcxError(ErrorCode.NOT_FOUND, `No floating IP with an address of '${address}' exists.`, {
      resourceId: address,
    });
  return fip;
}

/**
 * Associate the floating IP `address` with `server`'s port holding `fixedAddress` (default: its private_v4, else
 * its only port). Returns the floating IP as Neutron answered.
 */
export async function attachFloatingIp(
  core: CloudCore,
  server: Ref,
  address: string,
  o: { fixedAddress?: string | undefined; signal?: AbortSignal | undefined } = {},
): Promise<FloatingIp> {
  const id = await serverIdOf(core, server);
  const s = await getServerById(core, id);
  if (!s) throw new OcxError(ErrorCode.NOT_FOUND, `No server with a name or ID of '${id}' exists.`, { resourceId: id });
  const fip = await byAddress(core, address, o.signal);
  const ports = await collect(core.network.listPorts({ query: { device_id: s.id }, signal: o.signal }));
  const fixed = o.fixedAddress ?? s.private_v4;
  const port = fixed
    ? ports.find((p) => p.fixed_ips.some((f) => f.ip_address === fixed))
    : ports.length === 1
      ? ports[0]
      : undefined;
  if (!port)
    throw new OcxError(
      ErrorCode.NOT_FOUND,
      fixed ? `server ${s.id} has no port with the address ${fixed}` : `server ${s.id} has no single port to attach to`,
      { resourceId: s.id },
    );
  const body: { port_id: string; fixed_ip_address?: string } = { port_id: port.id };
  if (fixed) body.fixed_ip_address = fixed;
  try {
    const updated = await core.network.updateFloatingIp(fip.id, body, { signal: o.signal });
    return normalizeFloatingIp(updated, await core.base());
  } finally {
    core.listCaches.floatingIps.invalidate();
    core.serverCache.invalidate();
  }
}

/** Disassociate the floating IP `address` from `server`; CONFLICT when it is attached elsewhere (or nowhere). */
export async function detachFloatingIp(
  core: CloudCore,
  server: Ref,
  address: string,
  o: { signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const id = await serverIdOf(core, server);
  const fip = await byAddress(core, address, o.signal);
  const ports = fip.port_id
    ? await collect(core.network.listPorts({ query: { device_id: id }, signal: o.signal }))
    : [];
  if (!ports.some((p) => p.id === fip.port_id))
    throw new OcxError(ErrorCode.CONFLICT, `floating IP ${address} is not attached to server ${id}`, {
      resourceId: fip.id,
    });
  try {
    await core.network.updateFloatingIp(fip.id, { port_id: null }, { signal: o.signal });
  } finally {
    core.listCaches.floatingIps.invalidate();
    core.serverCache.invalidate();
  }
}

export interface CreateFloatingIpOptions {
  /** The external network (name, id or object); default: the cloud's first floating-IP network. */
  network?: Ref | undefined;
  /** A specific address to allocate. */
  address?: string | undefined;
  /** Associate with this port at once. */
  portId?: string | undefined;
  fixedAddress?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** Allocate a floating IP (openstacksdk's `create_floating_ip` without a server); NOT_FOUND without a network. */
export async function createFloatingIp(core: CloudCore, o: CreateFloatingIpOptions = {}): Promise<FloatingIp> {
  let networkId: string;
  if (o.network !== undefined) networkId = await resolveId(o.network, 'network', (n) => getNetwork(core, n));
  else {
    const source = (await facts(core)).floatingSources[0];
    if (!source) throw new OcxError(ErrorCode.NOT_FOUND, `cloud ${core.name} has no external network for floating IPs`);
    networkId = source.id;
  }
  const body: { floating_network_id: string; port_id?: string; fixed_ip_address?: string; [k: string]: unknown } = {
    floating_network_id: networkId,
  };
  if (o.address) body.floating_ip_address = o.address;
  if (o.portId) body.port_id = o.portId;
  if (o.fixedAddress) body.fixed_ip_address = o.fixedAddress;
  try {
    return normalizeFloatingIp(await core.network.createFloatingIp(body, { signal: o.signal }), await core.base());
  } finally {
    core.listCaches.floatingIps.invalidate();
    core.serverCache.invalidate();
  }
}
