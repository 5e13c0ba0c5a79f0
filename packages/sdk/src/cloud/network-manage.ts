/**
 * Creating and deleting networks and subnets (openstacksdk `cloud/_network.py` `create_network`, `delete_network`,
 * `create_subnet`, `delete_subnet`): Neutron's records as answered; names or ids resolved; every network cache
 * invalidated after a change (the address rules read them).
 */
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { collect } from '../services/common.ts';
import type { NeutronNetwork, NeutronRouter, NeutronSubnet } from '../services/network.ts';
import { type CloudCore, falseOn404, type Ref, refId, resolveId } from './core.ts';
import { single } from './filter.ts';
import { getNetwork } from './networks.ts';

type Signal = { signal?: AbortSignal | undefined };

export async function createNetwork(
  core: CloudCore,
  name: string,
  o: Signal & {
    shared?: boolean | undefined;
    external?: boolean | undefined;
    description?: string | undefined;
    adminStateUp?: boolean | undefined;
  } = {},
): Promise<NeutronNetwork> {
  const body: Partial<NeutronNetwork> & { name: string } = { name };
  if (o.shared !== undefined) body.shared = o.shared;
  if (o.adminStateUp !== undefined) body.admin_state_up = o.adminStateUp;
  if (o.external !== undefined) body['router:external'] = o.external;
  if (o.description !== undefined) body.description = o.description;
  try {
    return await core.network.createNetwork(body, { signal: o.signal });
  } finally {
    core.invalidateCaches();
  }
}

/** False when it does not exist. */
export async function deleteNetwork(core: CloudCore, ref: Ref, o: Signal = {}): Promise<boolean> {
  const net = await getNetwork(core, ref);
  if (!net) return false;
  try {
    return await falseOn404(() => core.network.deleteNetwork(net.id, { signal: o.signal }));
  } finally {
    core.invalidateCaches();
  }
}

export interface CreateSubnetOptions extends Signal {
  name?: string | undefined;
  /** The network (name or id). */
  network: Ref;
  cidr: string;
  ipVersion?: 4 | 6 | undefined;
  /** An address, or null for no gateway; default: Neutron's (the first address). */
  gatewayIp?: string | null | undefined;
  enableDhcp?: boolean | undefined;
  dnsNameservers?: string[] | undefined;
}

export async function createSubnet(core: CloudCore, o: CreateSubnetOptions): Promise<NeutronSubnet> {
  const networkId = await resolveId(o.network, 'network', (n) => getNetwork(core, n));
  const body: Parameters<CloudCore['network']['createSubnet']>[0] = {
    network_id: networkId,
    cidr: o.cidr,
    ip_version: o.ipVersion ?? (o.cidr.includes(':') ? 6 : 4),
  };
  if (o.name !== undefined) body.name = o.name;
  if (o.gatewayIp !== undefined) body.gateway_ip = o.gatewayIp;
  if (o.enableDhcp !== undefined) body.enable_dhcp = o.enableDhcp;
  if (o.dnsNameservers) body.dns_nameservers = o.dnsNameservers;
  try {
    return await core.network.createSubnet(body, { signal: o.signal });
  } finally {
    core.invalidateCaches();
  }
}

/** A subnet by id or name (null when none; AMBIGUOUS when several share the name). */
export async function getSubnet(core: CloudCore, ref: Ref, o: Signal = {}): Promise<NeutronSubnet | null> {
  const id = refId(ref);
  const all = await collect(core.network.listSubnets({ signal: o.signal }));
  return id
    ? (all.find((s) => s.id === id) ?? null)
    : single(
        all.filter((s) => s.id === ref || s.name === ref),
        'subnet',
        String(ref),
      );
}

/** False when it does not exist. */
export async function deleteSubnet(core: CloudCore, ref: Ref, o: Signal = {}): Promise<boolean> {
  const subnet = await getSubnet(core, ref, o);
  if (!subnet) return false;
  try {
    return await falseOn404(() => core.network.deleteSubnet(subnet.id, { signal: o.signal }));
  } finally {
    core.invalidateCaches();
  }
}

/** A router by id or name (null when none; AMBIGUOUS when several share the name). */
export async function getRouter(core: CloudCore, ref: Ref, o: Signal = {}): Promise<NeutronRouter | null> {
  const key = refId(ref) ?? String(ref);
  const all = await collect(core.network.listRouters({ signal: o.signal }));
  return single(
    all.filter((r) => r.id === key || (!refId(ref) && r.name === key)),
    'router',
    key,
  );
}

async function mustRouter(core: CloudCore, ref: Ref, o: Signal): Promise<NeutronRouter> {
  return mustGet(ref, 'router', (r) => getRouter(core, r, o));
}

/** An object's id as it is (Neutron answers 404 for a stale one); a name or id looked up (NOT_FOUND). */
async function routerIdOf(core: CloudCore, ref: Ref, o: Signal): Promise<string> {
  return refId(ref) ?? (await mustRouter(core, ref, o)).id;
}

async function subnetIdOf(core: CloudCore, ref: Ref, o: Signal): Promise<string> {
  return refId(ref) ?? (await mustGet(ref, 'subnet', (x) => getSubnet(core, x, o))).id;
}

/** `get(ref)`, NOT_FOUND when it finds nothing. */
async function mustGet<T>(ref: Ref, kind: string, get: (r: Ref) => Promise<T | null>): Promise<T> {
  const found = await get(ref);
  if (found) return found;
  const key = refId(ref) ?? String(ref);
  throw new OcxError(ErrorCode.NOT_FOUND, `${kind} "${key}" not found`, { resourceId: key });
}

/** A router; with `externalNetwork` (name or id), its gateway set to that network. */
export async function createRouter(
  core: CloudCore,
  name: string,
  o: Signal & { externalNetwork?: Ref | undefined } = {},
): Promise<NeutronRouter> {
  const body: { name: string; external_gateway_info?: { network_id: string } } = { name };
  if (o.externalNetwork !== undefined)
    body.external_gateway_info = {
      network_id: await resolveId(o.externalNetwork, 'network', (n) => getNetwork(core, n)),
    };
  return core.network.createRouter(body, { signal: o.signal });
}

/** Set (or with null, clear) the router's external gateway. */
export async function setRouterGateway(
  core: CloudCore,
  router: Ref,
  externalNetwork: Ref | null,
  o: Signal = {},
): Promise<NeutronRouter> {
  const r = await routerIdOf(core, router, o);
  const info =
    externalNetwork === null
      ? null
      : { network_id: await resolveId(externalNetwork, 'network', (n) => getNetwork(core, n)) };
  return core.network.updateRouter(r, { external_gateway_info: info }, { signal: o.signal });
}

/** Attach a subnet (name or id) to the router. */
export async function addRouterSubnet(core: CloudCore, router: Ref, subnet: Ref, o: Signal = {}): Promise<void> {
  const [r, s] = await Promise.all([routerIdOf(core, router, o), subnetIdOf(core, subnet, o)]);
  try {
    await core.network.addRouterInterface(r, s, { signal: o.signal });
  } finally {
    core.invalidateCaches();
  }
}

/** Detach a subnet (name or id) from the router. */
export async function removeRouterSubnet(core: CloudCore, router: Ref, subnet: Ref, o: Signal = {}): Promise<void> {
  const [r, s] = await Promise.all([routerIdOf(core, router, o), subnetIdOf(core, subnet, o)]);
  try {
    await core.network.removeRouterInterface(r, s, { signal: o.signal });
  } finally {
    core.invalidateCaches();
  }
}

/** False when it does not exist. */
export async function deleteRouter(core: CloudCore, ref: Ref, o: Signal = {}): Promise<boolean> {
  const r = await getRouter(core, ref, o);
  if (!r) return false;
  return falseOn404(() => core.network.deleteRouter(r.id, { signal: o.signal }));
}
