/**
 * Server address resolution with openstacksdk's `meta.add_server_interfaces` rules (public_v4, private_v4,
 * public_v6, interface_ip), as pure functions over the Nova record plus list-wide network facts.
 * Differences: no TCP/22 reachability probe when several addresses qualify (the first is taken, as the SDK does
 * when none answers), and the client host is assumed to have no IPv6 unless `hasIpv6` says so.
 */
import type { NeutronFloatingIp, NeutronNetwork, NeutronPort } from '../services/network.ts';
import type { ServerAddress } from './types.ts';

/** One `networks:` entry of clouds.yaml. */
export interface NetworkConfig {
  name: string;
  routes_externally?: boolean;
  routes_ipv4_externally?: boolean;
  routes_ipv6_externally?: boolean;
  default_interface?: boolean;
  nat_destination?: boolean;
  nat_source?: boolean;
}

/** What the cloud says about its networks, computed once per network-list refresh. */
export interface NetworkFacts {
  /** Names of networks whose addresses are reachable from outside. */
  externalIpv4: string[];
  internalIpv4: string[];
  /** Network name of the `default_interface`, if configured. */
  defaultInterface?: string | undefined;
  /** Neutron networks with `router:external` (candidates for floating IPs). */
  floatingSources: NeutronNetwork[];
}

export interface AddressOptions {
  /** clouds.yaml `private: true`: the client sits inside the cloud, so private addresses are the interface. */
  private: boolean;
  /** clouds.yaml `force_ipv4`. */
  forceIpv4: boolean;
  /** The client host can reach IPv6 (openstacksdk probes this; we take it from config, default false). */
  hasIpv6: boolean;
  /**
   * When the server has no public address at all, use private_v4 as interface_ip (default true in Cloud).
   * openstacksdk leaves interface_ip '' then unless the cloud is `private: true`, which leaves nodepool with no
   * address to reach; false restores that exact behaviour.
   */
  privateFallback?: boolean | undefined;
}

export interface ResolvedAddresses {
  addresses: Record<string, ServerAddress[]>;
  public_v4: string;
  public_v6: string;
  private_v4: string;
  interface_ip: string;
}

/** Classify networks like openstacksdk's `_set_interesting_networks` (config names win over Neutron flags). */
export function networkFacts(
  networks: readonly NeutronNetwork[] | undefined,
  config: readonly NetworkConfig[],
): NetworkFacts {
  const extNames = config
    .filter((n) => n.routes_externally === true || n.routes_ipv4_externally === true)
    .map((n) => n.name);
  const intNames = config
    .filter((n) => n.routes_externally === false || n.routes_ipv4_externally === false)
    .map((n) => n.name);
  const defaultCfg = config.find((n) => n.default_interface)?.name;
  if (!networks) {
    return { externalIpv4: extNames, internalIpv4: intNames, defaultInterface: defaultCfg, floatingSources: [] };
  }
  const named = (n: NeutronNetwork, names: string[]) => names.includes(n.name) || names.includes(n.id);
  const externalIpv4: string[] = [];
  const internalIpv4: string[] = [];
  let defaultInterface: string | undefined;
  for (const n of networks) {
    const routerExternal = n['router:external'] === true;
    const physnet = !!n['provider:physical_network'];
    if (named(n, extNames) || ((routerExternal || physnet) && !named(n, intNames))) externalIpv4.push(n.name);
    if (named(n, intNames) || (!routerExternal && !physnet && !named(n, extNames))) internalIpv4.push(n.name);
    if (defaultCfg !== undefined && (n.name === defaultCfg || n.id === defaultCfg)) defaultInterface = n.name;
  }
  return {
    externalIpv4,
    internalIpv4,
    defaultInterface: defaultInterface ?? defaultCfg,
    floatingSources: networks.filter((n) => n['router:external'] === true),
  };
}

interface FindOpts {
  extTag?: string;
  network?: string;
  version?: 4 | 6;
  mac?: string | undefined;
}

function findInterfaces(addresses: Record<string, ServerAddress[]>, o: FindOpts): ServerAddress[] {
  const out: ServerAddress[] = [];
  for (const [net, list] of Object.entries(addresses)) {
    if (o.network !== undefined && net !== o.network) continue;
    for (const a of list) {
      if (o.extTag !== undefined && a['OS-EXT-IPS:type'] !== o.extTag) continue;
      if (o.mac !== undefined && a['OS-EXT-IPS-MAC:mac_addr'] !== o.mac) continue;
      if (Number(a.version) === (o.version ?? 4)) out.push(a);
    }
  }
  return out;
}

/** Floating addresses first, then fixed; the first one wins. */
function findAddress(addresses: Record<string, ServerAddress[]>, o: FindOpts): string | undefined {
  const found = findInterfaces(addresses, o);
  const floating = found.filter((a) => a['OS-EXT-IPS:type'] === 'floating').map((a) => a.addr);
  const fixed = found.filter((a) => a['OS-EXT-IPS:type'] !== 'floating').map((a) => a.addr);
  return [...floating, ...fixed][0];
}

const PRIVATE_V4: [number, number][] = [
  [0x00000000, 8], // 0.0.0.0/8
  [0x0a000000, 8], // 10/8
  [0x7f000000, 8], // 127/8
  [0xa9fe0000, 16], // 169.254/16
  [0xac100000, 12], // 172.16/12
  [0xc0000000, 29], // 192.0.0.0/29
  [0xc00000aa, 31], // 192.0.0.170/31
  [0xc0000200, 24], // 192.0.2.0/24
  [0xc0a80000, 16], // 192.168/16
  [0xc6120000, 15], // 198.18/15
  [0xc6336400, 24], // 198.51.100/24
  [0xcb007100, 24], // 203.0.113/24
  [0xf0000000, 4], // 240/4
  [0xffffffff, 32],
];

/** Python's `ipaddress.IPv4Address.is_private` (IANA special-purpose, non-global ranges). */
export function isPrivateV4(addr: string): boolean | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(addr);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  const n = ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
  return PRIVATE_V4.some(([base, bits]) => (bits === 0 ? true : n >>> (32 - bits) === base >>> (32 - bits)));
}

export function externalIpv4(
  server: { accessIPv4?: string | undefined; addresses: Record<string, ServerAddress[]> },
  facts: NetworkFacts,
): string {
  if (server.accessIPv4) return server.accessIPv4;
  for (const net of facts.externalIpv4) {
    const ip = findAddress(server.addresses, { network: net });
    if (ip) return ip;
  }
  const floating = findAddress(server.addresses, { extTag: 'floating' });
  if (floating) return floating;
  const pub = findAddress(server.addresses, { network: 'public' });
  if (pub) return pub;
  for (const list of Object.values(server.addresses)) {
    for (const a of list) if (isPrivateV4(a.addr) === false) return a.addr;
  }
  return '';
}

export function privateIpv4(server: { addresses: Record<string, ServerAddress[]> }, facts: NetworkFacts): string {
  const fipMac = findInterfaces(server.addresses, { extTag: 'floating' })[0]?.['OS-EXT-IPS-MAC:mac_addr'];
  for (const net of facts.internalIpv4) {
    const ip = findAddress(server.addresses, { network: net, extTag: 'fixed', mac: fipMac });
    if (ip) return ip;
  }
  // Old nova-network records carry no fixed/floating tag.
  for (const net of facts.internalIpv4) {
    const ip = findAddress(server.addresses, { network: net, mac: fipMac });
    if (ip) return ip;
  }
  return (
    findAddress(server.addresses, { network: 'private', extTag: 'fixed', mac: fipMac }) ??
    findAddress(server.addresses, { network: 'private' }) ??
    ''
  );
}

export function externalIpv6(server: {
  accessIPv6?: string | undefined;
  addresses: Record<string, ServerAddress[]>;
}): string {
  if (server.accessIPv6) return server.accessIPv6;
  return findAddress(server.addresses, { version: 6 }) ?? '';
}

/**
 * Add floating IPs Neutron knows but Nova has not reported yet (ACTIVE servers only), from list-wide port and
 * floating-IP indexes: ports by device id, floating IPs by port id.
 */
export function supplementAddresses(
  server: { id: string; status: string; addresses: Record<string, ServerAddress[]> },
  portsByDevice: ReadonlyMap<string, NeutronPort[]> | undefined,
  fipsByPort: ReadonlyMap<string, NeutronFloatingIp[]> | undefined,
): Record<string, ServerAddress[]> {
  if (!portsByDevice || !fipsByPort || server.status !== 'ACTIVE') return server.addresses;
  const fixedToNet = new Map<string, string>();
  for (const [net, list] of Object.entries(server.addresses)) {
    for (const a of list) {
      if (Number(a.version) === 6) continue;
      if (a['OS-EXT-IPS:type'] === 'floating') return server.addresses;
      fixedToNet.set(a.addr, net);
    }
  }
  let out: Record<string, ServerAddress[]> | undefined;
  for (const port of portsByDevice.get(server.id) ?? []) {
    for (const fip of fipsByPort.get(port.id) ?? []) {
      const net = fip.fixed_ip_address ? fixedToNet.get(fip.fixed_ip_address) : undefined;
      if (net === undefined) continue;
      out ??= Object.fromEntries(Object.entries(server.addresses).map(([k, v]) => [k, [...v]]));
      out[net]!.push({
        version: 4,
        addr: fip.floating_ip_address,
        'OS-EXT-IPS:type': 'floating',
        'OS-EXT-IPS-MAC:mac_addr': port.mac_address,
      });
    }
  }
  return out ?? server.addresses;
}

/** All of add_server_interfaces: supplemented addresses plus the four resolved fields. */
export function resolveAddresses(
  server: {
    id: string;
    status: string;
    accessIPv4?: string | undefined;
    accessIPv6?: string | undefined;
    addresses: Record<string, ServerAddress[]>;
  },
  facts: NetworkFacts,
  opts: AddressOptions,
  indexes?: { portsByDevice: ReadonlyMap<string, NeutronPort[]>; fipsByPort: ReadonlyMap<string, NeutronFloatingIp[]> },
): ResolvedAddresses {
  const addresses = supplementAddresses(server, indexes?.portsByDevice, indexes?.fipsByPort);
  const s = { ...server, addresses };
  const public_v4 = externalIpv4(s, facts);
  const public_v6 = opts.forceIpv4 ? '' : externalIpv6(s);
  const private_v4 = privateIpv4(s, facts);
  let interface_ip = '';
  if (facts.defaultInterface) {
    const versions: (4 | 6)[] = opts.hasIpv6 && !opts.forceIpv4 ? [6, 4] : [4];
    for (const version of versions) {
      interface_ip = findAddress(addresses, { network: facts.defaultInterface, version }) ?? '';
      if (interface_ip) break;
    }
  }
  if (!interface_ip) {
    if (opts.private && private_v4) interface_ip = private_v4;
    else if (public_v6 && opts.hasIpv6 && !opts.forceIpv4) interface_ip = public_v6;
    else interface_ip = public_v4;
  }
  if (!interface_ip && opts.privateFallback && private_v4) interface_ip = private_v4;
  return { addresses, public_v4, public_v6, private_v4, interface_ip };
}

/** True when at least one ACTIVE server lacks a floating address Nova knows of (then Neutron may add one). */
export function needsSupplement(
  servers: readonly { status: string; addresses?: Record<string, ServerAddress[]> }[],
): boolean {
  return servers.some(
    (s) =>
      s.status === 'ACTIVE' &&
      !Object.values(s.addresses ?? {}).some((list) => list.some((a) => a['OS-EXT-IPS:type'] === 'floating')),
  );
}
