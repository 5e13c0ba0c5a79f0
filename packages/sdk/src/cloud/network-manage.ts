/**
 * Creating and deleting networks and subnets (openstacksdk `cloud/_network.py` `create_network`, `delete_network`,
 * `create_subnet`, `delete_subnet`): Neutron's records as answered; names or ids resolved; every network cache
 * invalidated after a change (the address rules read them).
 */
import { collect } from '../services/common.ts';
import type { NeutronNetwork, NeutronSubnet } from '../services/network.ts';
import { type CloudCore, falseOn404, type Ref, refId, resolveId } from './core.ts';
import { single } from './filter.ts';
import { getNetwork } from './networks.ts';

type Signal = { signal?: AbortSignal | undefined };

export async function createNetwork(
  core: CloudCore,
  name: string,
  o: Signal & { shared?: boolean | undefined; external?: boolean | undefined; description?: string | undefined } = {},
): Promise<NeutronNetwork> {
  const body: Partial<NeutronNetwork> & { name: string } = { name };
  if (o.shared !== undefined) body.shared = o.shared;
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
