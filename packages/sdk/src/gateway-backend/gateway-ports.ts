/**
 * Ports, security groups and their rules, and floating IPs through the gateway's Ansible network RPCs, answered as
 * the REST backend answers. Creates refuse a name the project already has (CONFLICT: the gateway's creates are
 * idempotent by name, see gateway-network.ts); what the RPCs cannot carry answers UNSUPPORTED naming the option.
 */
import type { Ref, Signal } from '../cloud/core.ts';
import { filterList, single } from '../cloud/filter.ts';
import type { CreateFloatingIpOptions } from '../cloud/floating-attach.ts';
import type { CreatePortOptions } from '../cloud/network-update.ts';
import { pickFloatingIp } from '../cloud/networks.ts';
import type { CreateRuleOptions } from '../cloud/security-groups.ts';
import type { Filters, FloatingIp, Port, SecurityGroup, SecurityGroupRule } from '../cloud/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { fromFloatingIp } from './convert.ts';
import { fromPort, fromRule, fromSecurityGroup } from './convert-ansible.ts';
import { GatewayNetwork, refKey } from './gateway-network.ts';

export abstract class GatewayPorts extends GatewayNetwork {
  // ---------------------------------------------------------------- ports

  async listPorts(filters?: Filters, o: Signal = {}): Promise<Port[]> {
    const r = await this.client.run('ListPorts', o, (c) => this.client.cloud.listPorts({ filter: this.filter() }, c));
    this.check(r.failures);
    return filterList(
      r.ports.map((p) => fromPort(p, this.name)),
      undefined,
      filters,
    );
  }

  async searchPorts(nameOrId?: string, filters?: Filters): Promise<Port[]> {
    return filterList(await this.listPorts(), nameOrId, filters);
  }

  /** A port (CreatePort; the gateway needs a name: it is how it finds the port again in its network). */
  async createPort(o: CreatePortOptions): Promise<Port> {
    const network = await this.getNetwork(o.network);
    if (!network) {
      const key = refKey(o.network);
      throw new OcxError(ErrorCode.NOT_FOUND, `network "${key}" not found`, { resourceId: key });
    }
    await this.refuseTaken('port', o.name, await this.listPorts({ network_id: network.id }, o));
    const name = o.name as string;
    try {
      const r = await this.client.run('CreatePort', o, (c) =>
        this.client.cloud.createPort(
          {
            location: this.at(),
            name,
            network: network.id,
            fixedIps: (o.fixedIps ?? []).map((f) => ({ subnetId: f.subnet_id, ipAddress: f.ip_address ?? '' })),
            securityGroups: o.securityGroups ?? [],
            noSecurityGroups: o.securityGroups !== undefined && o.securityGroups.length === 0,
            adminStateUp: o.adminStateUp,
          },
          c,
        ),
      );
      return fromPort(this.created('port', name, r, r.port), this.name);
    } finally {
      this.serverCache.invalidate();
    }
  }

  /** False when it does not exist. */
  async deletePort(id: string, o: Signal = {}): Promise<boolean> {
    try {
      const r = await this.client.run('DeletePort', o, (c) =>
        this.client.cloud.deletePort({ filter: this.filter(id) }, c),
      );
      return r.deleted;
    } finally {
      this.serverCache.invalidate();
    }
  }

  // ---------------------------------------------------------------- security groups and rules

  async listSecurityGroups(filters?: Filters, o: Signal = {}): Promise<SecurityGroup[]> {
    const all = await this.caches.securityGroups.get(async () => {
      const r = await this.client.run('ListSecurityGroups', o, (c) =>
        this.client.cloud.listSecurityGroups({ filter: this.filter() }, c),
      );
      this.check(r.failures);
      return r.securityGroups.map((g) => fromSecurityGroup(g, this.name));
    });
    return filterList(all, undefined, filters);
  }

  async searchSecurityGroups(nameOrId?: string, filters?: Filters): Promise<SecurityGroup[]> {
    return filterList(await this.listSecurityGroups(), nameOrId, filters);
  }

  async getSecurityGroup(nameOrId: Ref, filters?: Filters): Promise<SecurityGroup | null> {
    if (typeof nameOrId === 'object') return nameOrId as SecurityGroup;
    return single(await this.searchSecurityGroups(nameOrId, filters), 'security group', nameOrId);
  }

  async createSecurityGroup(name: string, o: Signal & { description?: string } = {}): Promise<SecurityGroup> {
    this.caches.securityGroups.invalidate();
    await this.refuseTaken('security group', name, await this.listSecurityGroups(undefined, o));
    try {
      const r = await this.client.run('CreateSecurityGroup', o, (c) =>
        this.client.cloud.createSecurityGroup({ location: this.at(), name, description: o.description }, c),
      );
      return fromSecurityGroup(this.created('security group', name, r, r.securityGroup), this.name);
    } finally {
      this.caches.securityGroups.invalidate();
    }
  }

  /** Its description (CreateSecurityGroup on the group's name); a new name is not something the gateway can set. */
  async updateSecurityGroup(
    id: string,
    changes: { name?: string; description?: string },
    o: Signal = {},
  ): Promise<SecurityGroup> {
    this.caches.securityGroups.invalidate();
    const all = await this.listSecurityGroups(undefined, o);
    const group = all.find((g) => g.id === id);
    if (!group) throw new OcxError(ErrorCode.NOT_FOUND, `security group "${id}" not found`, { resourceId: id });
    if (changes.name !== undefined && changes.name !== group.name)
      throw this.unsupportedError('updateSecurityGroup option name');
    if (all.filter((g) => g.name === group.name).length > 1)
      throw this.unsupportedError(`updateSecurityGroup of ${id}, whose name '${group.name}' is not unique,`);
    try {
      const r = await this.client.run('CreateSecurityGroup', o, (c) =>
        this.client.cloud.createSecurityGroup(
          { location: this.at(), name: group.name, description: changes.description },
          c,
        ),
      );
      if (!r.securityGroup)
        throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no security group', { cloud: this.name });
      return fromSecurityGroup(r.securityGroup, this.name);
    } finally {
      this.caches.securityGroups.invalidate();
    }
  }

  /** False when it does not exist. */
  async deleteSecurityGroup(ref: Ref, o: Signal = {}): Promise<boolean> {
    try {
      const r = await this.client.run('DeleteSecurityGroup', o, (c) =>
        this.client.cloud.deleteSecurityGroup({ filter: this.filter(refKey(ref)) }, c),
      );
      return r.deleted;
    } finally {
      this.caches.securityGroups.invalidate();
    }
  }

  /** A rule; the same rule twice is CONFLICT, as Neutron answers it. */
  async createSecurityGroupRule(o: CreateRuleOptions): Promise<SecurityGroupRule> {
    try {
      const r = await this.client.run('CreateSecurityGroupRule', o, (c) =>
        this.client.cloud.createSecurityGroupRule(
          {
            location: this.at(),
            rule: {
              securityGroup: refKey(o.securityGroup),
              direction: o.direction ?? '',
              ethertype: o.ethertype ?? '',
              protocol: o.protocol ?? '',
              portRangeMin: o.portRangeMin,
              portRangeMax: o.portRangeMax,
              remoteIpPrefix: o.remoteIpPrefix ?? '',
              remoteGroup: o.remoteGroup === undefined ? '' : refKey(o.remoteGroup),
            },
          },
          c,
        ),
      );
      if (!r.rule) throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no rule', { cloud: this.name });
      if (!r.changed)
        throw new OcxError(ErrorCode.CONFLICT, `security group rule already exists (${r.rule.id})`, {
          cloud: this.name,
          resourceId: r.rule.id,
        });
      return fromRule(r.rule, this.name);
    } finally {
      this.caches.securityGroups.invalidate();
    }
  }

  /** False when it does not exist. */
  async deleteSecurityGroupRule(id: string, o: Signal = {}): Promise<boolean> {
    try {
      const r = await this.client.run('DeleteSecurityGroupRule', o, (c) =>
        this.client.cloud.deleteSecurityGroupRule({ filter: this.filter(id) }, c),
      );
      return r.deleted;
    } finally {
      this.caches.securityGroups.invalidate();
    }
  }

  // ---------------------------------------------------------------- floating IPs

  async listFloatingIps(filters?: Filters, o: Signal = {}): Promise<FloatingIp[]> {
    const all = await this.caches.floatingIps.get(async () => {
      const r = await this.client.run('ListFloatingIps', o, (c) =>
        this.client.cloud.listFloatingIps({ filter: this.filter() }, c),
      );
      this.check(r.failures);
      return r.floatingIps.map((f) => fromFloatingIp(f, this.name));
    });
    return filterList(all, undefined, filters);
  }

  /** A floating IP by id or address; null when none, AMBIGUOUS when several match. */
  async getFloatingIp(ref: Ref, filters?: Filters): Promise<FloatingIp | null> {
    if (typeof ref === 'object') return ref as FloatingIp;
    return pickFloatingIp(await this.listFloatingIps(filters), ref);
  }

  /** The project's floating IP of `address`, fresh; NOT_FOUND (as the REST backend says it) when none. */
  async #byAddress(address: string, o: Signal): Promise<FloatingIp> {
    this.caches.floatingIps.invalidate();
    const fip = (await this.listFloatingIps(undefined, o)).find((f) => f.floating_ip_address === address);
    if (!fip)
      throw new OcxError(ErrorCode.NOT_FOUND, `No floating IP with an address of '${address}' exists.`, {
        cloud: this.name,
        resourceId: address,
      });
    return fip;
  }

  #changedFloatingIps(): void {
    this.caches.floatingIps.invalidate();
    this.serverCache.invalidate();
  }

  /**
   * Allocate one (CreateFloatingIp without a server), onto `portId` at once when given; an address the project
   * already holds is CONFLICT. `fixedAddress` goes with a port only (the RPC has no other use for it).
   */
  async createFloatingIp(o: CreateFloatingIpOptions = {}): Promise<FloatingIp> {
    if (o.fixedAddress !== undefined && o.portId === undefined)
      throw this.unsupportedError('createFloatingIp option fixedAddress without portId');
    try {
      const r = await this.client.run('CreateFloatingIp', o, (c) =>
        this.client.cloud.createFloatingIp(
          {
            location: this.at(),
            network: o.network === undefined ? '' : refKey(o.network),
            floatingIpAddress: o.address ?? '',
            port: o.portId ?? '',
            fixedAddress: o.fixedAddress ?? '',
          },
          c,
        ),
      );
      return fromFloatingIp(this.created('floating IP', o.address ?? '', r, r.floatingIp), this.name);
    } finally {
      this.#changedFloatingIps();
    }
  }

  /** Associate the project's floating IP `address` with the server's port holding `fixedAddress`. */
  async attachFloatingIp(
    server: Ref,
    address: string,
    o: { fixedAddress?: string; signal?: AbortSignal } = {},
  ): Promise<FloatingIp> {
    await this.#byAddress(address, o);
    try {
      const r = await this.client.run('CreateFloatingIp', o, (c) =>
        this.client.cloud.createFloatingIp(
          {
            location: this.at(),
            server: refKey(server),
            floatingIpAddress: address,
            fixedAddress: o.fixedAddress ?? '',
          },
          c,
        ),
      );
      if (!r.floatingIp)
        throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no floating IP', { cloud: this.name });
      return fromFloatingIp(r.floatingIp, this.name);
    } finally {
      this.#changedFloatingIps();
    }
  }

  /** Disassociate `address` from the server; CONFLICT when it is not attached to it (as the REST backend). */
  async detachFloatingIp(server: Ref, address: string, o: Signal = {}): Promise<void> {
    const fip = await this.#byAddress(address, o);
    try {
      const r = await this.client.run('DetachFloatingIp', o, (c) =>
        this.client.cloud.detachFloatingIp(
          { location: this.at(), server: refKey(server), floatingIpAddress: address },
          c,
        ),
      );
      if (!r.changed)
        throw new OcxError(ErrorCode.CONFLICT, `floating IP ${address} is not attached to server ${refKey(server)}`, {
          cloud: this.name,
          resourceId: fip.id,
        });
    } finally {
      this.#changedFloatingIps();
    }
  }

  /** False when it does not exist. */
  async deleteFloatingIp(id: string, o: Signal = {}): Promise<boolean> {
    try {
      const r = await this.client.run('DeleteFloatingIp', o, (c) =>
        this.client.cloud.deleteFloatingIp({ filter: this.filter(id) }, c),
      );
      return r.deleted;
    } finally {
      this.#changedFloatingIps();
    }
  }

  /** Delete every floating IP not attached to a port (the gateway does it in the cloud); how many were deleted. */
  async deleteUnattachedFloatingIps(): Promise<number> {
    try {
      const r = await this.client.run('DeleteUnattachedFloatingIps', {}, (o) =>
        this.client.cloud.deleteUnattachedFloatingIps({ location: this.where() }, o),
      );
      this.check(r.failures);
      return r.deleted.reduce((sum, d) => sum + d.count, 0);
    } finally {
      this.caches.floatingIps.invalidate();
    }
  }
}
