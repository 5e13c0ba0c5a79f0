/**
 * Subnets, routers and ports as normalized resources, and updating networks, subnets and ports (openstacksdk
 * `cloud/_network.py` `list_subnets`, `list_routers`, `update_network`, `update_subnet`, `create_port`,
 * `update_port`). Every network cache is invalidated after a change (the address rules read them).
 */
import { collect } from '../services/common.ts';
import type { NeutronNetwork, NeutronRouter, NeutronSubnet } from '../services/network.ts';
import { type CloudCore, type Ref, refId, resolveId } from './core.ts';
import { filterList } from './filter.ts';
import { getNetwork } from './networks.ts';
import { normalizeNetwork, normalizePort, normalizeRouter, normalizeSubnet } from './normalize/network.ts';
import type { Filters, Network, Port, Router, Subnet } from './types.ts';

type Signal = { signal?: AbortSignal | undefined };

export async function networkFromRecord(core: CloudCore, raw: NeutronNetwork): Promise<Network> {
  return normalizeNetwork(raw, await core.base());
}

export async function subnetFromRecord(core: CloudCore, raw: NeutronSubnet): Promise<Subnet> {
  return normalizeSubnet(raw, await core.base());
}

export async function listSubnets(core: CloudCore, filters?: Filters, o: Signal = {}): Promise<Subnet[]> {
  const base = await core.base();
  const all = (await collect(core.network.listSubnets({ signal: o.signal }))).map((s) => normalizeSubnet(s, base));
  return filterList(all, undefined, filters);
}

/** shade's `search_*`: a list's items matching `nameOrId` (and a glob of it) and `filters`; `o` aborts the list. */
function searchOf<T extends { id: string; name?: string | null }>(
  list: (core: CloudCore, filters: undefined, o: Signal) => Promise<T[]>,
) {
  return async (core: CloudCore, nameOrId?: string, filters?: Filters, o: Signal = {}): Promise<T[]> =>
    filterList(await list(core, undefined, o), nameOrId, filters);
}

export const searchSubnets = searchOf(listSubnets);

/**
 * Whether a port is a router's interface on a subnet: `network:router_interface`, its DVR form
 * `network:router_interface_distributed`, and an HA router's `network:ha_router_replicated_interface` (the owners
 * openstacksdk's `list_router_interfaces` counts).
 */
function isRouterInterface(deviceOwner: string | undefined): boolean {
  return (
    !!deviceOwner?.startsWith('network:router_interface') || deviceOwner === 'network:ha_router_replicated_interface'
  );
}

/** The subnet ids attached to each router, from the interface ports (one port list for all routers). */
async function interfacesByRouter(core: CloudCore, o: Signal): Promise<Map<string, string[]>> {
  const ports = await collect(core.network.listPorts({ signal: o.signal }));
  const out = new Map<string, string[]>();
  for (const p of ports) {
    if (!isRouterInterface(p.device_owner)) continue;
    const list = out.get(p.device_id) ?? [];
    for (const f of p.fixed_ips ?? []) if (!list.includes(f.subnet_id)) list.push(f.subnet_id);
    out.set(p.device_id, list);
  }
  return out;
}

export async function listRouters(core: CloudCore, filters?: Filters, o: Signal = {}): Promise<Router[]> {
  const base = await core.base();
  const [routers, ifaces] = await Promise.all([
    collect(core.network.listRouters({ signal: o.signal })),
    interfacesByRouter(core, o),
  ]);
  return filterList(
    routers.map((r) => normalizeRouter(r, base, ifaces.get(r.id) ?? [])),
    undefined,
    filters,
  );
}

export const searchRouters = searchOf(listRouters);

/** One router as normalized, its interfaces read from its ports. */
export async function routerFromRecord(core: CloudCore, raw: NeutronRouter, o: Signal = {}): Promise<Router> {
  const ports = await collect(core.network.listPorts({ query: { device_id: raw.id }, signal: o.signal }));
  const subnets = ports
    .filter((p) => isRouterInterface(p.device_owner))
    .flatMap((p) => (p.fixed_ips ?? []).map((f) => f.subnet_id));
  return normalizeRouter(raw, await core.base(), [...new Set(subnets)]);
}

/** Neutron's PUT with `changes` (API field names: admin_state_up, shared, router:external, description, ...). */
export async function updateNetwork(
  core: CloudCore,
  ref: Ref,
  changes: Record<string, unknown>,
  o: Signal = {},
): Promise<Network> {
  const id = await resolveId(ref, 'network', (n) => getNetwork(core, n));
  try {
    return await networkFromRecord(core, await core.network.updateNetwork(id, changes, { signal: o.signal }));
  } finally {
    core.invalidateCaches();
  }
}

/** Neutron's PUT with `changes` (gateway_ip, enable_dhcp, dns_nameservers, name, ...); `subnet` is an id. */
export async function updateSubnet(
  core: CloudCore,
  id: string,
  changes: Record<string, unknown>,
  o: Signal = {},
): Promise<Subnet> {
  try {
    return await subnetFromRecord(core, await core.network.updateSubnet(id, changes, { signal: o.signal }));
  } finally {
    core.invalidateCaches();
  }
}

export async function listPorts(core: CloudCore, filters?: Filters, o: Signal = {}): Promise<Port[]> {
  const base = await core.base();
  const all = (await collect(core.network.listPorts({ signal: o.signal }))).map((p) => normalizePort(p, base));
  return filterList(all, undefined, filters);
}

export const searchPorts = searchOf(listPorts);

export interface CreatePortOptions extends Signal {
  name?: string | undefined;
  /** The network (name or id). */
  network: Ref;
  /** Subnets by id (`subnet_id`), with an address or without (Neutron picks one). */
  fixedIps?: { subnet_id: string; ip_address?: string | undefined }[] | undefined;
  /** Security group ids. */
  securityGroups?: string[] | undefined;
  adminStateUp?: boolean | undefined;
}

export async function createPort(core: CloudCore, o: CreatePortOptions): Promise<Port> {
  const body: { network_id: string; [k: string]: unknown } = {
    network_id: refId(o.network) ?? (await resolveId(o.network, 'network', (n) => getNetwork(core, n))),
  };
  if (o.name !== undefined) body.name = o.name;
  if (o.fixedIps) body.fixed_ips = o.fixedIps.map((f) => (f.ip_address ? f : { subnet_id: f.subnet_id }));
  if (o.securityGroups) body.security_groups = o.securityGroups;
  if (o.adminStateUp !== undefined) body.admin_state_up = o.adminStateUp;
  try {
    return normalizePort(await core.network.createPort(body, { signal: o.signal }), await core.base());
  } finally {
    core.invalidateCaches();
  }
}

/** Neutron's PUT with `changes` (security_groups, admin_state_up, name, ...). */
export async function updatePort(
  core: CloudCore,
  id: string,
  changes: Record<string, unknown>,
  o: Signal = {},
): Promise<Port> {
  try {
    return normalizePort(await core.network.updatePort(id, changes, { signal: o.signal }), await core.base());
  } finally {
    core.invalidateCaches();
  }
}
