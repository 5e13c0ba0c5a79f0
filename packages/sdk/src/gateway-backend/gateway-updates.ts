/**
 * Updates of networks, subnets, ports and volumes through the gateway. The gateway has no PUT of its own: its
 * creates (`state: present`) update the differing fields of the project's resource of that name. So an update here
 * is that create on the resource's name, for the fields the request has: any other field of `changes` is
 * UNSUPPORTED naming it, as is a resource of another project or one whose name is not unique in the project (the
 * gateway would find another resource, or make one). The answer is checked to be the resource asked for.
 */
import type { Ref, Signal } from '../cloud/core.ts';
import type { Location, Network, Port, Subnet, Volume } from '../cloud/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { fromNetwork, fromVolume } from './convert.ts';
import { fromPort, fromSubnet } from './convert-ansible.ts';
import { refKey } from './gateway-network.ts';
import { GatewayObjects } from './gateway-objects.ts';

type Named = { id: string; name: string; location: Location };

function bool(method: string, key: string, v: unknown): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  throw new OcxError(ErrorCode.BAD_REQUEST, `${method}: ${key} must be true or false`);
}

function strings(method: string, key: string, v: unknown): string[] | undefined {
  if (v === undefined) return undefined;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw new OcxError(ErrorCode.BAD_REQUEST, `${method}: ${key} must be a list of strings`);
}

export abstract class GatewayUpdates extends GatewayObjects {
  /**
   * UNSUPPORTED for a key of `changes` the RPC cannot carry (a rename, or a field it has none for), for a resource
   * of another project, and for one whose name does not find it alone among `peers` (its own project's same kind).
   */
  async #updatable(method: string, item: Named, peers: readonly Named[], changes: object, carried: string[]) {
    const extra = Object.keys(changes).filter(
      (k) => !(carried.includes(k) || (k === 'name' && (changes as { name?: unknown }).name === item.name)),
    );
    if (extra.length > 0) throw this.unsupportedError(`${method} of ${extra.join(', ')}`);
    const project = (await this.currentLocation()).project.id;
    if (project && item.location.project.id && item.location.project.id !== project)
      throw this.unsupportedError(`${method} of another project's resource (${item.id})`);
    const own = peers.filter((p) => !project || !p.location.project.id || p.location.project.id === project);
    if (!item.name || own.filter((p) => p.name === item.name).length > 1)
      throw this.unsupportedError(`${method} of ${item.id}, whose name is not its own in the project,`);
  }

  #notFound(kind: string, key: string): OcxError {
    return new OcxError(ErrorCode.NOT_FOUND, `${kind} "${key}" not found`, { cloud: this.name, resourceId: key });
  }

  /** The answer's resource, checked to be the one updated. */
  #same<T extends { id: string }>(kind: string, id: string, got: T | undefined): T {
    if (!got || got.id !== id)
      throw new OcxError(ErrorCode.INVALID_RESPONSE, `the gateway answered another ${kind} than ${id}`, {
        cloud: this.name,
      });
    return got;
  }

  /** Neutron's PUT: shared, router:external, admin_state_up, description. */
  async updateNetwork(ref: Ref, changes: Record<string, unknown>, o: Signal = {}): Promise<Network> {
    this.caches.networks.invalidate();
    const all = await this.listNetworks(undefined, o);
    const net = await this.getNetwork(refKey(ref));
    if (!net) throw this.#notFound('network', refKey(ref));
    const m = 'updateNetwork';
    await this.#updatable(m, net, all, changes, ['shared', 'router:external', 'admin_state_up', 'description']);
    if (changes.description !== undefined && typeof changes.description !== 'string')
      throw new OcxError(ErrorCode.BAD_REQUEST, `${m}: description must be a string`);
    try {
      const r = await this.client.run('CreateNetwork', o, (c) =>
        this.client.cloud.createNetwork(
          {
            location: this.at(),
            name: net.name,
            shared: bool(m, 'shared', changes.shared),
            external: bool(m, 'router:external', changes['router:external']),
            adminStateUp: bool(m, 'admin_state_up', changes.admin_state_up),
            description: changes.description as string | undefined,
          },
          c,
        ),
      );
      return fromNetwork(this.#same('network', net.id, r.network), this.name);
    } finally {
      this.caches.networks.invalidate();
    }
  }

  /** Neutron's PUT: gateway_ip (null: none), enable_dhcp, dns_nameservers (not emptied: the RPC's [] is "unset"). */
  async updateSubnet(id: string, changes: Record<string, unknown>, o: Signal = {}): Promise<Subnet> {
    const subnet = (await this.searchSubnets()).find((s) => s.id === id);
    if (!subnet) throw this.#notFound('subnet', id);
    const m = 'updateSubnet';
    const peers = await this.searchSubnets(undefined, { network_id: subnet.network_id });
    await this.#updatable(m, subnet, peers, changes, ['gateway_ip', 'enable_dhcp', 'dns_nameservers']);
    const gateway = changes.gateway_ip;
    if (gateway !== undefined && gateway !== null && typeof gateway !== 'string')
      throw new OcxError(ErrorCode.BAD_REQUEST, `${m}: gateway_ip must be an address or null`);
    const dns = strings(m, 'dns_nameservers', changes.dns_nameservers);
    if (dns?.length === 0 && subnet.dns_nameservers.length > 0)
      throw this.unsupportedError(`${m} emptying dns_nameservers`);
    try {
      const r = await this.client.run('CreateSubnet', o, (c) =>
        this.client.cloud.createSubnet(
          {
            location: this.at(),
            name: subnet.name,
            network: subnet.network_id,
            cidr: subnet.cidr,
            gatewayIp: typeof gateway === 'string' ? gateway : undefined,
            noGateway: gateway === null,
            enableDhcp: bool(m, 'enable_dhcp', changes.enable_dhcp),
            dnsNameservers: dns ?? [],
          },
          c,
        ),
      );
      return fromSubnet(this.#same('subnet', id, r.subnet), this.name);
    } finally {
      this.caches.networks.invalidate();
    }
  }

  /** Neutron's PUT: security_groups (ids; [] for none), admin_state_up. */
  async updatePort(id: string, changes: Record<string, unknown>, o: Signal = {}): Promise<Port> {
    const port = (await this.listPorts(undefined, o)).find((p) => p.id === id);
    if (!port) throw this.#notFound('port', id);
    const m = 'updatePort';
    const peers = await this.listPorts({ network_id: port.network_id }, o);
    await this.#updatable(m, port, peers, changes, ['security_groups', 'admin_state_up']);
    const groups = strings(m, 'security_groups', changes.security_groups);
    try {
      const r = await this.client.run('CreatePort', o, (c) =>
        this.client.cloud.createPort(
          {
            location: this.at(),
            name: port.name,
            network: port.network_id,
            securityGroups: groups ?? [],
            noSecurityGroups: groups?.length === 0,
            adminStateUp: bool(m, 'admin_state_up', changes.admin_state_up),
          },
          c,
        ),
      );
      return fromPort(this.#same('port', id, r.port), this.name);
    } finally {
      this.serverCache.invalidate();
    }
  }

  /**
   * Cinder's PUT: description, metadata. The gateway adds to a volume's metadata; a `metadata` that leaves out a
   * key the volume has (which Cinder's PUT would remove) is UNSUPPORTED.
   */
  async updateVolume(
    id: string,
    changes: { name?: string; description?: string; metadata?: Record<string, string> },
    o: Signal = {},
  ): Promise<Volume> {
    this.caches.volumes.invalidate();
    const all = await this.listVolumes(o);
    const volume = all.find((v) => v.id === id);
    if (!volume) throw this.#notFound('volume', id);
    const m = 'updateVolume';
    await this.#updatable(m, volume, all, changes, ['description', 'metadata']);
    const dropped = Object.keys(volume.metadata).filter((k) => changes.metadata && !(k in changes.metadata));
    if (dropped.length > 0) throw this.unsupportedError(`${m} removing metadata ${dropped.join(', ')}`);
    try {
      const r = await this.client.run('CreateVolume', o, (c) =>
        this.client.cloud.createVolume(
          {
            location: this.at(),
            name: volume.name,
            description: changes.description,
            metadata: changes.metadata ?? {},
          },
          c,
        ),
      );
      return fromVolume(this.#same('volume', id, r.volume), this.name);
    } finally {
      this.caches.volumes.invalidate();
    }
  }
}
