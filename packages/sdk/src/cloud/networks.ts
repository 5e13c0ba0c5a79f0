/**
 * Networks, ports, security groups and floating IPs (openstacksdk `cloud/_network.py`,
 * `_network_common.py`, `_floating_ip.py`, `_security_group.py`).
 */
import { collect } from '../services/common.ts';
import type { NeutronNetwork } from '../services/network.ts';
import { type NetworkFacts, networkFacts } from './addresses.ts';
import { type CloudCore, falseOn404, type Ref } from './core.ts';
import { filterList, single } from './filter.ts';
import { normalizeFloatingIp, normalizeNetwork, normalizePort, normalizeSecurityGroup } from './normalize/network.ts';
import type { Filters, FloatingIp, Network, Port, SecurityGroup } from './types.ts';
import { mapLimit } from './wait.ts';

/** Raw networks for address classification, reused for `networkAgeMs`. */
export async function rawNetworks(core: CloudCore): Promise<NeutronNetwork[]> {
  return core.listCaches.networks.get(() => collect(core.network.listNetworks()));
}

/** Which networks are external / internal / floating-IP sources (a broken Neutron gives none). */
export async function facts(core: CloudCore): Promise<NetworkFacts> {
  let networks: NeutronNetwork[] | undefined;
  if (await core.hasNetwork()) {
    try {
      networks = await rawNetworks(core);
    } catch {
      networks = undefined; // as openstacksdk: a broken Neutron must not break server listing
    }
  }
  return networkFacts(networks, core.networkConfig);
}

export async function listNetworks(
  core: CloudCore,
  filters?: Filters,
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<Network[]> {
  const base = await core.base();
  const nets = (await collect(core.network.listNetworks({ signal: opts.signal }))).map((n) =>
    normalizeNetwork(n, base),
  );
  return filterList(nets, undefined, filters);
}

export async function searchNetworks(core: CloudCore, nameOrId?: string, filters?: Filters): Promise<Network[]> {
  return filterList(await listNetworks(core), nameOrId, filters);
}

export async function getNetwork(core: CloudCore, nameOrId: Ref, filters?: Filters): Promise<Network | null> {
  if (typeof nameOrId === 'object') return nameOrId as Network;
  return single(await searchNetworks(core, nameOrId, filters), 'network', nameOrId);
}

export async function listPorts(core: CloudCore, filters?: Record<string, string>): Promise<Port[]> {
  const base = await core.base();
  return (await collect(core.network.listPorts({ query: filters }))).map((p) => normalizePort(p, base));
}

/** False on 404. */
export function deletePort(core: CloudCore, id: string): Promise<boolean> {
  return falseOn404(() => core.network.deletePort(id));
}

// ---------------------------------------------------------------- security groups

export async function listSecurityGroups(core: CloudCore, filters?: Filters): Promise<SecurityGroup[]> {
  const base = await core.base();
  const groups = (await collect(core.network.listSecurityGroups())).map((g) => normalizeSecurityGroup(g, base));
  return filterList(groups, undefined, filters);
}

export async function searchSecurityGroups(
  core: CloudCore,
  nameOrId?: string,
  filters?: Filters,
): Promise<SecurityGroup[]> {
  return filterList(await listSecurityGroups(core), nameOrId, filters);
}

/** null when missing; AMBIGUOUS when several groups share the name (common: one 'default' per project as admin). */
export async function getSecurityGroup(
  core: CloudCore,
  nameOrId: Ref,
  filters?: Filters,
): Promise<SecurityGroup | null> {
  if (typeof nameOrId === 'object') return nameOrId as SecurityGroup;
  return single(await searchSecurityGroups(core, nameOrId, filters), 'security group', nameOrId);
}

// ---------------------------------------------------------------- floating IPs

export async function listFloatingIps(core: CloudCore, filters?: Filters): Promise<FloatingIp[]> {
  if (!(await core.hasFloatingIps())) return [];
  const fips = await core.listCaches.floatingIps.get(async () => {
    const base = await core.base();
    return (await collect(core.network.listFloatingIps())).map((f) => normalizeFloatingIp(f, base));
  });
  return filterList(fips, undefined, filters);
}

/** The one of `all` whose id or address is `ref`: null for none, AMBIGUOUS for several (both backends use it). */
export function pickFloatingIp(all: readonly FloatingIp[], ref: string): FloatingIp | null {
  return single(
    all.filter((f) => f.id === ref || f.floating_ip_address === ref),
    'floating IP',
    ref,
  );
}

/** A floating IP by id or address (`floating_ip_address`); null when none, AMBIGUOUS when several match. */
export async function getFloatingIp(core: CloudCore, ref: Ref, filters?: Filters): Promise<FloatingIp | null> {
  if (typeof ref === 'object') return ref as FloatingIp;
  return pickFloatingIp(await listFloatingIps(core, filters), ref);
}

/** False on 404. */
export async function deleteFloatingIp(core: CloudCore, id: string): Promise<boolean> {
  try {
    return await falseOn404(() => core.network.deleteFloatingIp(id));
  } finally {
    core.listCaches.floatingIps.invalidate();
  }
}

/**
 * Delete every floating IP not attached to a port; returns how many were deleted. Only safe when nothing else is
 * in the middle of a create-then-attach (as shade warns).
 */
export async function deleteUnattachedFloatingIps(core: CloudCore): Promise<number> {
  if (!(await core.hasFloatingIps())) return 0;
  core.listCaches.floatingIps.invalidate();
  const unattached = (await listFloatingIps(core)).filter((f) => !f.attached);
  const results = await mapLimit(unattached, 4, (f) => deleteFloatingIp(core, f.id));
  return results.filter(Boolean).length;
}
