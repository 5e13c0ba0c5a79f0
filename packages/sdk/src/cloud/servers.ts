/**
 * Servers (openstacksdk `cloud/_compute.py`, server part): the single-flight list cache, address resolution for a
 * whole list at once, get by name or id, delete with wait. Creating and waiting live in server-create.ts.
 */
import { collect, isNotFound } from '../services/common.ts';
import type { NovaServer } from '../services/compute.ts';
import type { NeutronFloatingIp, NeutronPort } from '../services/network.ts';
import { needsSupplement, resolveAddresses } from './addresses.ts';
import { type CloudCore, DEFAULT_SERVER_TIMEOUT_MS, nullOn404, type Ref, refId, resolveId } from './core.ts';
import { filterList, looksLikeId, single } from './filter.ts';
import { deleteFloatingIp, facts as networkFactsOf } from './networks.ts';
import { normalizeServer } from './normalize/compute.ts';
import type { LocationBase } from './normalize/location.ts';
import type { Filters, Server } from './types.ts';

export interface ListServersOptions {
  allProjects?: boolean;
  /** Normalized, but no address resolution (no Neutron calls). */
  bare?: boolean;
  filters?: Filters;
  /** Aborts the list request this call starts (callers sharing it see the abort too). */
  signal?: AbortSignal | undefined;
}

/** Items by key; items without a key are left out. */
function groupBy<T>(items: readonly T[], key: (item: T) => string | null | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (!k) continue;
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

async function fetchServers(
  core: CloudCore,
  allProjects: boolean,
  bare: boolean,
  signal: AbortSignal | undefined,
): Promise<Server[]> {
  const base = await core.base();
  const query = allProjects ? { all_tenants: true } : undefined;
  const raw = await collect(core.compute.listServers({ query, signal }));
  if (bare) return raw.map((s) => normalizeServer(s, base));
  return expandServers(core, raw, base, 'list', signal);
}

/** Port and floating-IP indexes for supplementAddresses: ports by device id, floating IPs by port id. */
type Indexes = { portsByDevice: Map<string, NeutronPort[]>; fipsByPort: Map<string, NeutronFloatingIp[]> };

/**
 * Normalize and resolve addresses. `list` (every server): one port list and one floating-IP list, in parallel.
 * `one` server: its ports, then only the floating IPs on them. A `batch` of some servers: the floating IPs first,
 * and ports (by id) only for those that could belong to one of these servers (bound to a port, on a fixed address
 * one of them has) — one Neutron call when none does, which is every new server's case.
 */
async function expandServers(
  core: CloudCore,
  raw: NovaServer[],
  base: LocationBase,
  scope: 'list' | 'one' | 'batch',
  signal?: AbortSignal,
): Promise<Server[]> {
  const facts = await networkFactsOf(core);
  let indexes: Indexes | undefined;
  if (needsSupplement(raw) && (await core.hasFloatingIps().catch(() => false))) {
    try {
      if (scope === 'list') indexes = await listIndexes(core, signal);
      else if (scope === 'batch') indexes = await batchIndexes(core, raw, signal);
      else indexes = await oneIndexes(core, raw[0]!.id, signal);
    } catch {
      indexes = undefined; // extra data only: never fail a listing over it
    }
  }
  return raw.map((r) => {
    const s = normalizeServer(r, base);
    const resolved = resolveAddresses(s, facts, core.addressOptions, indexes);
    return { ...s, ...resolved };
  });
}

async function listIndexes(core: CloudCore, signal: AbortSignal | undefined): Promise<Indexes> {
  const [ports, fips] = await Promise.all([
    collect(core.network.listPorts({ signal })),
    collect(core.network.listFloatingIps({ signal })),
  ]);
  return { portsByDevice: groupBy(ports, (p) => p.device_id), fipsByPort: groupBy(fips, (f) => f.port_id) };
}

async function oneIndexes(core: CloudCore, id: string, signal: AbortSignal | undefined): Promise<Indexes> {
  const ports = await collect(core.network.listPorts({ query: { device_id: id }, signal }));
  const fips = ports.length
    ? await collect(core.network.listFloatingIps({ query: { port_id: ports.map((p) => p.id) }, signal }))
    : [];
  return { portsByDevice: groupBy(ports, (p) => p.device_id), fipsByPort: groupBy(fips, (f) => f.port_id) };
}

async function batchIndexes(core: CloudCore, raw: NovaServer[], signal: AbortSignal | undefined): Promise<Indexes> {
  const fixed = new Set<string>();
  for (const r of raw) for (const list of Object.values(r.addresses ?? {})) for (const a of list) fixed.add(a.addr);
  const fips = (await collect(core.network.listFloatingIps({ signal }))).filter(
    (f) => f.port_id && f.fixed_ip_address && fixed.has(f.fixed_ip_address),
  );
  const portIds = [...new Set(fips.map((f) => f.port_id as string))];
  const ids = new Set(raw.map((r) => r.id));
  const ports = portIds.length
    ? (await collect(core.network.listPorts({ query: { id: portIds }, signal }))).filter((p) => ids.has(p.device_id))
    : [];
  return { portsByDevice: groupBy(ports, (p) => p.device_id), fipsByPort: groupBy(fips, (f) => f.port_id) };
}

/**
 * Nova records as the cloud layer returns servers (normalized, addresses resolved), for callers that fetched
 * them themselves (a watch reusing `changes-since` results). Neutron is asked only about these servers.
 */
export async function expandNovaServers(
  core: CloudCore,
  raw: NovaServer[],
  opts: { signal?: AbortSignal | undefined } = {},
): Promise<Server[]> {
  if (raw.length === 0) return [];
  return expandServers(core, raw, await core.base(), 'batch', opts.signal);
}

/**
 * All servers, normalized, with public_v4 / private_v4 / public_v6 / interface_ip resolved. Served from the
 * single-flight list cache: concurrent callers share one request; within `serverListAgeMs` the cached list is
 * returned; while a refresh runs, other callers get the previous list.
 */
export async function listServers(core: CloudCore, opts: ListServersOptions = {}): Promise<Server[]> {
  const allProjects = opts.allProjects === true;
  const bare = opts.bare === true;
  const key = `${allProjects ? 'all' : 'own'}:${bare ? 'bare' : 'full'}`;
  const servers = await core.serverCache.get(() => fetchServers(core, allProjects, bare, opts.signal), key);
  return opts.filters ? filterList(servers, undefined, opts.filters) : servers;
}

export async function searchServers(
  core: CloudCore,
  nameOrId?: string,
  filters?: Filters,
  opts: { allProjects?: boolean; bare?: boolean } = {},
): Promise<Server[]> {
  return filterList(await listServers(core, opts), nameOrId, filters);
}

/**
 * A server by name or id (through the list cache, as shade; with `useDirectGet` and a UUID, one direct GET).
 * null when missing; AMBIGUOUS when several match. An object with an id is returned as is.
 */
export async function getServer(
  core: CloudCore,
  nameOrId: Ref,
  opts: { filters?: Filters; allProjects?: boolean; bare?: boolean } = {},
): Promise<Server | null> {
  if (typeof nameOrId === 'object') return nameOrId as Server;
  if (core.opts.useDirectGet && looksLikeId(nameOrId) && !opts.filters) return getServerById(core, nameOrId);
  return single(await searchServers(core, nameOrId, opts.filters, opts), 'server', nameOrId);
}

/** Direct `GET /servers/{id}` (bypasses the cache), addresses resolved; null on 404. */
export async function getServerById(core: CloudCore, id: string): Promise<Server | null> {
  const raw = await nullOn404(() => core.compute.getServer(id));
  if (!raw || raw.status === 'DELETED') return null;
  return (await expandServers(core, [raw], await core.base(), 'one'))[0]!;
}

/** One bare GET: true once Nova answers 404 (or DELETED). No address expansion while polling a deletion. */
async function serverGone(core: CloudCore, id: string): Promise<boolean> {
  try {
    return (await core.compute.getServer(id)).status === 'DELETED';
  } catch (err) {
    if (isNotFound(err)) return true;
    throw err;
  }
}

/**
 * Delete a server; false when it does not exist (or 404s). With `deleteIps`, its floating IPs go first; with
 * `wait`, returns once the server is gone. Invalidates the server-list cache.
 */
export async function deleteServer(
  core: CloudCore,
  nameOrId: Ref,
  o: { wait?: boolean; timeoutMs?: number; deleteIps?: boolean; signal?: AbortSignal } = {},
): Promise<boolean> {
  // By id: a direct GET (a server created moments ago is not in the cached list yet). By name: the list.
  const id = refId(nameOrId) ?? (looksLikeId(nameOrId as string) ? (nameOrId as string) : undefined);
  const server = id ? await getServerById(core, id) : await getServer(core, nameOrId);
  if (!server) return false;
  if (o.deleteIps && (await core.hasFloatingIps())) {
    const floating = Object.values(server.addresses)
      .flat()
      .filter((a) => a['OS-EXT-IPS:type'] === 'floating' && Number(a.version) === 4)
      .map((a) => a.addr);
    for (const addr of floating) {
      const fips = await collect(core.network.listFloatingIps({ query: { floating_ip_address: addr } }));
      for (const f of fips) await deleteFloatingIp(core, f.id);
    }
  }
  const sid = server.id;
  const deleted = await core.deleteResource('server', sid, () => core.compute.deleteServer(sid, { signal: o.signal }), {
    invalidate: () => core.serverCache.invalidate(),
    wait: o.wait,
    gone: () => serverGone(core, sid),
    timeoutMs: o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS,
    signal: o.signal,
  });
  // Volumes the server had attached are free now.
  if (deleted && o.wait) core.listCaches.volumes.invalidate();
  return deleted;
}

/** The id of a server given as an object, an id (taken as is) or a name (looked up). */
export async function serverIdOf(core: CloudCore, server: Ref): Promise<string> {
  return (
    refId(server) ??
    (looksLikeId(server as string) ? (server as string) : await resolveId(server, 'server', (n) => getServer(core, n)))
  );
}

export async function getServerConsole(core: CloudCore, server: Ref, length?: number): Promise<string> {
  const id = refId(server) ?? (await resolveId(server, 'server', (n) => getServer(core, n)));
  return core.compute.getServerConsoleOutput(id, length);
}
