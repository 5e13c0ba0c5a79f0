/**
 * Compute through the gateway other than the server calls (gateway-servers.ts): flavors, keypairs, the server
 * watch (WatchServers), limits and availability zones. Searches run the SDK's own filterList over the cached list,
 * so names, globs and filters match exactly as on the REST backend.
 */
import type { Ref, Signal } from '../cloud/core.ts';
import { filterList, single } from '../cloud/filter.ts';
import type { ListFlavorsOptions } from '../cloud/flavors.ts';
import type { ComputeLimits, Filters, Flavor, Keypair, Server } from '../cloud/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { WatchServersResponse_EventType as EventType } from '../gen/ocx/cloud/v1/cloud_service_pb.ts';
import {
  computeAbsolute,
  fromComputeLimits,
  fromFlavor,
  fromKeypair,
  fromLocation,
  fromServer,
  volumeAbsolute,
} from './convert.ts';
import { GatewayCore } from './gateway-core.ts';

/** One event of a gateway's WatchServers stream, as the cloud layer's model. */
export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; server: Server }
  | { type: 'SYNCED' }
  | { type: 'FAILED'; error: OcxError };

const KNOWN = new Set<string>(Object.values(ErrorCode));

export abstract class GatewayCompute extends GatewayCore {
  // ---------------------------------------------------------------- flavors

  async listFlavors(opts: ListFlavorsOptions = {}): Promise<Flavor[]> {
    const getExtra = !!opts.getExtra;
    const all = await this.caches.flavors.get(
      async () => {
        const r = await this.client.run('ListFlavors', opts, (o) =>
          this.client.cloud.listFlavors({ filter: this.filter(), getExtra }, o),
        );
        this.check(r.failures);
        return r.flavors.map((f) => fromFlavor(f, this.name));
      },
      getExtra ? 'extra' : '',
    );
    return opts.isPublic === undefined ? all : all.filter((f) => f.is_public === opts.isPublic);
  }

  async searchFlavors(nameOrId?: string, filters?: Filters, opts?: { getExtra?: boolean }): Promise<Flavor[]> {
    return filterList(await this.listFlavors(opts), nameOrId, filters);
  }

  async getFlavor(nameOrId: Ref, filters?: Filters, opts?: { getExtra?: boolean }): Promise<Flavor | null> {
    if (typeof nameOrId === 'object') return nameOrId as Flavor;
    return single(await this.searchFlavors(nameOrId, filters, opts), 'flavor', nameOrId);
  }

  async getFlavorByRam(ram: number, include?: string): Promise<Flavor | null> {
    const flavors = (await this.listFlavors()).filter((f) => !f.is_disabled).sort((a, b) => a.ram - b.ram);
    return flavors.find((f) => f.ram >= ram && (!include || f.name.includes(include))) ?? null;
  }

  // ---------------------------------------------------------------- keypairs

  listKeypairs(opts: Signal = {}): Promise<Keypair[]> {
    return this.caches.keypairs.get(async () => {
      const r = await this.client.run('ListKeypairs', opts, (o) =>
        this.client.cloud.listKeypairs({ filter: this.filter() }, o),
      );
      this.check(r.failures);
      return r.keypairs.map((k) => fromKeypair(k, this.name));
    });
  }

  async searchKeypairs(nameOrId?: string, filters?: Filters): Promise<Keypair[]> {
    return filterList(await this.listKeypairs(), nameOrId, filters);
  }

  async getKeypair(nameOrId: string): Promise<Keypair | null> {
    return single(await this.searchKeypairs(nameOrId), 'keypair', nameOrId);
  }

  async createKeypair(name: string, publicKey?: string): Promise<Keypair> {
    try {
      const r = await this.client.run('CreateKeypair', {}, (o) =>
        this.client.cloud.createKeypair({ location: this.at(), name, publicKey: publicKey ?? '' }, o),
      );
      if (!r.keypair)
        throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no keypair', { cloud: this.name });
      return fromKeypair(r.keypair, this.name);
    } finally {
      this.caches.keypairs.invalidate();
    }
  }

  async deleteKeypair(name: string): Promise<boolean> {
    try {
      const r = await this.client.run('DeleteKeypair', {}, (o) =>
        this.client.cloud.deleteKeypair({ filter: this.filter(name) }, o),
      );
      return r.deleted;
    } finally {
      this.caches.keypairs.invalidate();
    }
  }

  /**
   * The gateway's WatchServers for this cloud: the current servers as ADDED, then SYNCED, then ADDED / MODIFIED /
   * DELETED as the gateway's shared poll of the project sees them (a gateway reaching this cloud through this
   * one keeps its watchers on this stream: push end to end). FAILED carries the cloud's error; the stream goes on.
   */
  async *watchServers(opts: Signal = {}): AsyncGenerator<WatchEvent> {
    const events = this.client.stream('WatchServers', opts.signal, (o) =>
      this.client.cloud.watchServers({ filter: this.filter() }, o),
    );
    const kinds = new Map<number, 'ADDED' | 'MODIFIED' | 'DELETED'>([
      [EventType.ADDED, 'ADDED'],
      [EventType.MODIFIED, 'MODIFIED'],
      [EventType.DELETED, 'DELETED'],
    ]);
    for await (const m of events) {
      const kind = kinds.get(m.type);
      if (kind && m.server) yield { type: kind, server: fromServer(m.server, this.name) };
      else if (m.type === EventType.SYNCED) yield { type: 'SYNCED' };
      else if (m.type === EventType.FAILED) {
        const f = m.failure;
        const code = f && KNOWN.has(f.code) ? (f.code as ErrorCode) : ErrorCode.SERVICE_ERROR;
        yield {
          type: 'FAILED',
          error: new OcxError(code, f?.message ?? 'the gateway reported a failure', {
            cloud: this.name,
            requestId: f?.requestId || undefined,
          }),
        };
      }
    }
  }

  // ---------------------------------------------------------------- limits, zones

  async getComputeLimits(): Promise<ComputeLimits> {
    const l = await this.limits();
    return fromComputeLimits(l.compute, { ...fromLocation(l.location, this.name), zone: null });
  }

  /** Nova's and Cinder's absolute limits with the APIs' names. */
  async getAbsoluteLimits(
    o: { signal?: AbortSignal } = {},
  ): Promise<{ compute: Record<string, number>; volume: Record<string, number> }> {
    const l = await this.limits(o);
    return { compute: computeAbsolute(l.compute), volume: volumeAbsolute(l.volume) };
  }

  /** Cinder's absolute limits; ENDPOINT_NOT_FOUND when the cloud has no block storage (as on the REST backend). */
  async getVolumeLimits(o: { signal?: AbortSignal } = {}): Promise<Record<string, number>> {
    const l = await this.limits(o);
    if (!l.volume) {
      throw new OcxError(ErrorCode.ENDPOINT_NOT_FOUND, `cloud '${this.name}' has no block-storage service`, {
        cloud: this.name,
      });
    }
    return volumeAbsolute(l.volume);
  }

  /** Available zones, from the gateway's capabilities of the cloud. */
  async listAvailabilityZoneNames(opts: { unavailable?: boolean } = {}): Promise<string[]> {
    if (opts.unavailable) throw this.unsupportedError('listAvailabilityZoneNames({ unavailable: true })');
    return [...(await this.capabilities()).availabilityZones];
  }
}
