/**
 * Networks, subnets and routers through the gateway's Ansible network RPCs, answered as the REST backend answers:
 * createNetwork, createSubnet, getSubnet and createRouter give Neutron's record (as the REST calls do), the rest
 * normalized resources. The gateway's creates are Ansible's `state: present` (idempotent by name, updating an
 * existing resource's fields); the REST backend always makes a new one. So a create here first makes sure the
 * project has none of that name and is CONFLICT otherwise — never a silent update of something already there.
 */
import type { Ref, Signal } from '../cloud/core.ts';
import { refId } from '../cloud/core.ts';
import { filterList, single } from '../cloud/filter.ts';
import type { CreateSubnetOptions } from '../cloud/network-manage.ts';
import type { LocationBase } from '../cloud/normalize/location.ts';
import { normalizeNetwork, normalizeRouter, normalizeSubnet } from '../cloud/normalize/network.ts';
import type { Filters, Location, Network, Router, Subnet } from '../cloud/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { Subnet as PbSubnet } from '../gen/ocx/cloud/v1/resources_pb.ts';
import type { NeutronNetwork, NeutronRouter, NeutronSubnet } from '../services/network.ts';
import { fromNetwork } from './convert.ts';
import { fromRouter, fromSubnet, neutronNetwork, neutronRouter, neutronSubnet } from './convert-ansible.ts';
import { GatewayServers } from './gateway-servers.ts';

/** A name or id as the gateway's requests take it. */
export const refKey = (r: Ref): string => refId(r) ?? (r as string);

export abstract class GatewayNetwork extends GatewayServers {
  /** What makes a Location here (for records the REST backend normalizes itself: *FromRecord). */
  protected async locationBase(): Promise<LocationBase> {
    const here = await this.currentLocation();
    return { cloud: here.cloud, region: here.region, project: here.project };
  }

  /**
   * CONFLICT when the project already has a `kind` named `name` among `items` (the gateway would return or update
   * it, where the REST backend makes a second one).
   */
  protected async refuseTaken(
    kind: string,
    name: string | undefined,
    items: readonly { id: string; name?: string | null; location: Location }[],
  ): Promise<void> {
    if (!name) throw this.unsupportedError(`${kind} create without a name (the gateway creates by name)`);
    const project = (await this.currentLocation()).project.id;
    const taken = items.find(
      (i) => i.name === name && (!project || !i.location.project.id || i.location.project.id === project),
    );
    if (taken) throw this.taken(kind, name, taken.id);
  }

  protected taken(kind: string, name: string, id = ''): OcxError {
    return new OcxError(
      ErrorCode.CONFLICT,
      `the project already has a ${kind} named '${name}'${id ? ` (${id})` : ''}: the gateway creates by name (Ansible's state: present) and does not make a second one; use another name or the one there`,
      { cloud: this.name, ...(id ? { resourceId: id } : {}) },
    );
  }

  /** The created resource of a create answer, or INVALID_RESPONSE; CONFLICT when the gateway found one there. */
  protected created<T>(kind: string, name: string, r: { changed: boolean }, item: T | undefined): T {
    if (!item) throw new OcxError(ErrorCode.INVALID_RESPONSE, `the gateway sent no ${kind}`, { cloud: this.name });
    if (!r.changed) throw this.taken(kind, name);
    return item;
  }

  // ---------------------------------------------------------------- networks

  async listNetworks(filters?: Filters, opts: Signal = {}): Promise<Network[]> {
    const all = await this.caches.networks.get(async () => {
      const r = await this.client.run('ListNetworks', opts, (o) =>
        this.client.cloud.listNetworks({ filter: this.filter() }, o),
      );
      this.check(r.failures);
      return r.networks.map((n) => fromNetwork(n, this.name));
    });
    return filterList(all, undefined, filters);
  }

  async searchNetworks(nameOrId?: string, filters?: Filters): Promise<Network[]> {
    return filterList(await this.listNetworks(), nameOrId, filters);
  }

  async getNetwork(nameOrId: Ref, filters?: Filters): Promise<Network | null> {
    if (typeof nameOrId === 'object') return nameOrId as Network;
    return single(await this.searchNetworks(nameOrId, filters), 'network', nameOrId);
  }

  /** Neutron's network as created (CreateNetwork). */
  async createNetwork(
    name: string,
    o: Signal & { shared?: boolean; external?: boolean; description?: string; adminStateUp?: boolean } = {},
  ): Promise<NeutronNetwork> {
    this.caches.networks.invalidate();
    await this.refuseTaken('network', name, await this.listNetworks(undefined, o));
    try {
      const r = await this.client.run('CreateNetwork', o, (c) =>
        this.client.cloud.createNetwork(
          {
            location: this.at(),
            name,
            shared: o.shared,
            external: o.external,
            adminStateUp: o.adminStateUp,
            description: o.description,
          },
          c,
        ),
      );
      return neutronNetwork(this.created('network', name, r, r.network));
    } finally {
      this.caches.networks.invalidate();
    }
  }

  /** False when it does not exist. */
  async deleteNetwork(ref: Ref, o: Signal = {}): Promise<boolean> {
    try {
      const r = await this.client.run('DeleteNetwork', o, (c) =>
        this.client.cloud.deleteNetwork({ filter: this.filter(refKey(ref)) }, c),
      );
      return r.deleted;
    } finally {
      this.caches.networks.invalidate();
    }
  }

  async networkFromRecord(raw: NeutronNetwork): Promise<Network> {
    return normalizeNetwork(raw, await this.locationBase());
  }

  // ---------------------------------------------------------------- subnets

  /** The subnets as the gateway sends them (getSubnet answers Neutron's record, searchSubnets normalized ones). */
  async #subnets(o: Signal = {}): Promise<PbSubnet[]> {
    const r = await this.client.run('ListSubnets', o, (c) =>
      this.client.cloud.listSubnets({ filter: this.filter() }, c),
    );
    this.check(r.failures);
    return r.subnets;
  }

  async searchSubnets(nameOrId?: string, filters?: Filters, o: Signal = {}): Promise<Subnet[]> {
    return filterList(
      (await this.#subnets(o)).map((s) => fromSubnet(s, this.name)),
      nameOrId,
      filters,
    );
  }

  /** A subnet by id or name as Neutron's record (null when none; AMBIGUOUS when several share the name). */
  async getSubnet(ref: Ref, o: Signal = {}): Promise<NeutronSubnet | null> {
    const all = await this.#subnets(o);
    const id = refId(ref);
    const one = id
      ? (all.find((s) => s.id === id) ?? null)
      : single(
          all.filter((s) => s.id === ref || s.name === ref),
          'subnet',
          String(ref),
        );
    return one && neutronSubnet(one);
  }

  /** Neutron's subnet as created (CreateSubnet; the gateway needs a name: it is how it finds the subnet again). */
  async createSubnet(o: CreateSubnetOptions): Promise<NeutronSubnet> {
    const network = refKey(o.network);
    const netId = refId(o.network) ?? (await this.getNetwork(network))?.id ?? network;
    await this.refuseTaken('subnet', o.name, await this.searchSubnets(undefined, { network_id: netId }));
    const name = o.name as string;
    try {
      const r = await this.client.run('CreateSubnet', o, (c) =>
        this.client.cloud.createSubnet(
          {
            location: this.at(),
            name,
            network: netId,
            cidr: o.cidr,
            ipVersion: o.ipVersion ?? 0,
            gatewayIp: o.gatewayIp ?? undefined,
            noGateway: o.gatewayIp === null,
            enableDhcp: o.enableDhcp,
            dnsNameservers: o.dnsNameservers ?? [],
          },
          c,
        ),
      );
      return neutronSubnet(this.created('subnet', name, r, r.subnet));
    } finally {
      this.caches.networks.invalidate();
    }
  }

  /** False when it does not exist. */
  async deleteSubnet(ref: Ref, o: Signal = {}): Promise<boolean> {
    try {
      const r = await this.client.run('DeleteSubnet', o, (c) =>
        this.client.cloud.deleteSubnet({ filter: this.filter(refKey(ref)) }, c),
      );
      return r.deleted;
    } finally {
      this.caches.networks.invalidate();
    }
  }

  async subnetFromRecord(raw: NeutronSubnet): Promise<Subnet> {
    return normalizeSubnet(raw, await this.locationBase());
  }

  // ---------------------------------------------------------------- routers

  async #routers(o: Signal = {}): Promise<Router[]> {
    const r = await this.client.run('ListRouters', o, (c) =>
      this.client.cloud.listRouters({ filter: this.filter() }, c),
    );
    this.check(r.failures);
    return r.routers.map((x) => fromRouter(x, this.name));
  }

  /** Routers with the subnets attached as interfaces. */
  async searchRouters(nameOrId?: string, filters?: Filters, o: Signal = {}): Promise<Router[]> {
    return filterList(await this.#routers(o), nameOrId, filters);
  }

  async routerFromRecord(raw: NeutronRouter, o: Signal = {}): Promise<Router> {
    const there = (await this.#routers(o)).find((r) => r.id === raw.id);
    return normalizeRouter(raw, await this.locationBase(), there?.interface_subnets ?? []);
  }

  /** The router a ref names (an id as is, a name or id matched; AMBIGUOUS for a name several have), and all. */
  async #findRouter(ref: Ref, o: Signal): Promise<{ key: string; all: Router[]; found: Router | null | undefined }> {
    const key = refKey(ref);
    const all = await this.#routers(o);
    const found = refId(ref)
      ? all.find((r) => r.id === key)
      : single(
          all.filter((r) => r.id === key || r.name === key),
          'router',
          key,
        );
    return { key, all, found };
  }

  /** The router a ref names, NOT_FOUND when none (the gateway changes a router by its name). */
  async #router(ref: Ref, o: Signal): Promise<Router> {
    const { key, all, found } = await this.#findRouter(ref, o);
    if (!found) throw new OcxError(ErrorCode.NOT_FOUND, `router "${key}" not found`, { resourceId: key });
    if (all.filter((r) => r.name === found.name).length > 1)
      throw this.unsupportedError(`changing router ${found.id}, whose name '${found.name}' is not unique,`);
    return found;
  }

  /** CreateRouter on an existing router (by its name): the gateway's way to change one. */
  async #changeRouter(
    router: Router,
    change: { externalNetwork?: string; interfaces?: string[]; purgeInterfaces?: boolean },
    o: Signal,
  ): Promise<NeutronRouter> {
    const r = await this.client.run('CreateRouter', o, (c) =>
      this.client.cloud.createRouter(
        {
          location: this.at(),
          name: router.name,
          externalNetwork: change.externalNetwork,
          interfaces: change.interfaces ?? [],
          purgeInterfaces: !!change.purgeInterfaces,
        },
        c,
      ),
    );
    if (!r.router) throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no router', { cloud: this.name });
    return neutronRouter(r.router);
  }

  /** A router (Neutron's record); with `externalNetwork` (name or id), its gateway set to that network. */
  async createRouter(name: string, o: Signal & { externalNetwork?: Ref } = {}): Promise<NeutronRouter> {
    await this.refuseTaken('router', name, await this.#routers(o));
    const r = await this.client.run('CreateRouter', o, (c) =>
      this.client.cloud.createRouter(
        {
          location: this.at(),
          name,
          externalNetwork: o.externalNetwork === undefined ? undefined : refKey(o.externalNetwork),
        },
        c,
      ),
    );
    return neutronRouter(this.created('router', name, r, r.router));
  }

  /** Set (or with null, clear) the router's external gateway. */
  async setRouterGateway(router: Ref, externalNetwork: Ref | null, o: Signal = {}): Promise<NeutronRouter> {
    const found = await this.#router(router, o);
    return this.#changeRouter(found, { externalNetwork: externalNetwork === null ? '' : refKey(externalNetwork) }, o);
  }

  /** Attach a subnet (name or id) to the router; one it already has is BAD_REQUEST, as Neutron answers. */
  async addRouterSubnet(router: Ref, subnet: Ref, o: Signal = {}): Promise<void> {
    const found = await this.#router(router, o);
    const id = refId(subnet) ?? (await this.getSubnet(subnet, o))?.id;
    if (id && found.interface_subnets.includes(id))
      throw new OcxError(ErrorCode.BAD_REQUEST, `Bad router request: Router already has a port on subnet ${id}.`, {
        cloud: this.name,
        resourceId: found.id,
      });
    try {
      await this.#changeRouter(found, { interfaces: [refKey(subnet)] }, o);
    } finally {
      this.caches.networks.invalidate();
    }
  }

  /** Detach a subnet (name or id) from the router (NOT_FOUND when it is no interface of it, as Neutron answers). */
  async removeRouterSubnet(router: Ref, subnet: Ref, o: Signal = {}): Promise<void> {
    const found = await this.#router(router, o);
    const key = refKey(subnet);
    const id = refId(subnet) ?? (await this.getSubnet(key, o))?.id;
    if (!id || !found.interface_subnets.includes(id))
      throw new OcxError(ErrorCode.NOT_FOUND, `router ${found.id} has no interface on subnet ${key}`, {
        resourceId: found.id,
      });
    try {
      const keep = found.interface_subnets.filter((s) => s !== id);
      await this.#changeRouter(found, { interfaces: keep, purgeInterfaces: true }, o);
    } finally {
      this.caches.networks.invalidate();
    }
  }

  /**
   * False when it does not exist. A router with interfaces is CONFLICT, as Neutron answers (the gateway's
   * DeleteRouter would detach them first, Ansible's way: a REST program does not expect that).
   */
  async deleteRouter(ref: Ref, o: Signal = {}): Promise<boolean> {
    const { found } = await this.#findRouter(ref, o);
    if (!found) return false;
    if (found.interface_subnets.length > 0)
      throw new OcxError(ErrorCode.CONFLICT, `Router ${found.id} still has ports`, {
        cloud: this.name,
        resourceId: found.id,
      });
    const r = await this.client.run('DeleteRouter', o, (c) =>
      this.client.cloud.deleteRouter({ filter: this.filter(found.id) }, c),
    );
    return r.deleted;
  }
}
