/**
 * Compute through the gateway: flavors, keypairs, servers (the single-flight list cache, get, create — waited for
 * by the gateway's CreateServerStream push —, WaitForServer, delete), limits and availability zones. Searches run
 * the SDK's own filterList over the cached list, so names, globs and filters match exactly as on the REST backend.
 */
import type { Ref, Signal } from '../cloud/core.ts';
import { DEFAULT_SERVER_TIMEOUT_MS, refId } from '../cloud/core.ts';
import { filterList, looksLikeId, single } from '../cloud/filter.ts';
import type { ListFlavorsOptions } from '../cloud/flavors.ts';
import type { CreateServerOptions } from '../cloud/server-create.ts';
import type { WaitForServerOptions } from '../cloud/server-wait.ts';
import type { ListServersOptions } from '../cloud/servers.ts';
import type { ComputeLimits, Filters, Flavor, Keypair, Server } from '../cloud/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { WatchServersResponse_EventType as EventType } from '../gen/ocx/cloud/v1/cloud_service_pb.ts';
import { isNotFound } from '../services/common.ts';
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

/** Create options the gateway's ServerSpec has no field for: refused rather than silently dropped. */
const NOT_IN_SPEC = [
  'nics',
  'adminPass',
  'schedulerHints',
  'group',
  'bootFromVolume',
  'volumeSize',
  'bootVolume',
  'terminateVolume',
  'volumes',
  'reuseIps',
  'microversion',
] as const;

const refName = (r: Ref): string => (typeof r === 'object' ? r.id : r);
const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
/** Time a wait on the gateway gets beyond its own timeout to answer (ms). */
const ANSWER_MARGIN_MS = 15_000;

async function nullIfMissing<T>(p: Promise<T>): Promise<T | null> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

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

  // ---------------------------------------------------------------- servers

  /** All servers, addresses resolved by the gateway; one ListServers RPC per cache age however many callers. */
  listServers(opts: ListServersOptions = {}): Promise<Server[]> {
    const allProjects = !!opts.allProjects;
    return this.serverCache.get(
      async () => {
        const r = await this.client.run('ListServers', { signal: opts.signal }, (o) =>
          this.client.cloud.listServers({ filter: this.filter(), allProjects }, o),
        );
        this.check(r.failures);
        return r.servers.map((s) => fromServer(s, this.name));
      },
      allProjects ? 'all' : '',
    );
  }

  async searchServers(
    nameOrId?: string,
    filters?: Filters,
    opts: { allProjects?: boolean; bare?: boolean } = {},
  ): Promise<Server[]> {
    return filterList(await this.listServers({ allProjects: opts.allProjects }), nameOrId, filters);
  }

  async getServer(
    nameOrId: Ref,
    opts: { filters?: Filters; allProjects?: boolean; bare?: boolean } = {},
  ): Promise<Server | null> {
    if (typeof nameOrId === 'object') return nameOrId as Server;
    if (this.opts.useDirectGet && looksLikeId(nameOrId) && !opts.filters) return this.getServerById(nameOrId);
    return single(await this.searchServers(nameOrId, opts.filters, opts), 'server', nameOrId);
  }

  /** One GetServer by id (the gateway asks Nova directly); null when there is none. */
  async getServerById(id: string): Promise<Server | null> {
    const r = await nullIfMissing(
      this.client.run('GetServer', {}, (o) => this.client.cloud.getServer({ filter: this.filter(id) }, o)),
    );
    return r?.server ? fromServer(r.server, this.name) : null;
  }

  /**
   * shade's create_server through the gateway. With `wait`, CreateServerStream: the gateway pushes the server as
   * it changes until ACTIVE (`onProgress` sees each state), from its one shared poll of the project — no polling
   * from here. Options the gateway's ServerSpec cannot carry are refused (UNSUPPORTED), never dropped.
   */
  async createServer(o: CreateServerOptions): Promise<Server> {
    const given = NOT_IN_SPEC.filter((k) => o[k] !== undefined && o[k] !== false);
    if (given.length > 0) throw this.unsupportedError(`createServer option ${given.join(', ')}`);
    if (o.userdata instanceof Uint8Array) throw this.unsupportedError('createServer with binary userdata');
    if (o.image === undefined) throw new OcxError(ErrorCode.BAD_REQUEST, 'createServer: image is required');
    const networks = o.network === undefined ? [] : (Array.isArray(o.network) ? o.network : [o.network]).map(refName);
    const groups =
      o.securityGroups === undefined ? [] : Array.isArray(o.securityGroups) ? o.securityGroups : [o.securityGroups];
    const timeoutMs = o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
    const spec = {
      location: this.at(),
      name: o.name,
      image: refName(o.image),
      flavor: refName(o.flavor),
      networks,
      keyName: o.keyName ?? '',
      metadata: o.metadata ?? {},
      userdata: o.userdata ?? '',
      securityGroups: groups,
      availabilityZone: o.availabilityZone ?? '',
      configDrive: !!o.configDrive,
      wait: false,
      timeoutSeconds: seconds(timeoutMs),
      autoIp: o.autoIp !== false,
    };
    try {
      if (!o.wait) {
        const r = await this.client.run('CreateServer', { signal: o.signal }, (c) =>
          this.client.cloud.createServer({ spec }, c),
        );
        if (!r.server)
          throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no server', { cloud: this.name });
        return fromServer(r.server, this.name);
      }
      return await this.client.run(
        'CreateServerStream',
        { signal: o.signal, timeoutMs: timeoutMs + ANSWER_MARGIN_MS },
        async (c) => {
          let adminPassword: string | undefined;
          for await (const m of this.client.cloud.createServerStream({ spec }, c)) {
            if (!m.server) continue;
            const server = fromServer(m.server, this.name);
            adminPassword ??= server.admin_password;
            if (!m.done) {
              o.onProgress?.(server);
              continue;
            }
            if (adminPassword) server.admin_password = adminPassword;
            return server;
          }
          throw new OcxError(
            ErrorCode.INVALID_RESPONSE,
            'the gateway ended the create stream before the server was ready',
            {
              cloud: this.name,
            },
          );
        },
      );
    } finally {
      this.serverCache.invalidate();
    }
  }

  /**
   * Wait until the server is ACTIVE with an address: the gateway's WaitForServer, answered from its shared watch of
   * the project (ERROR → RESOURCE_FAILED with Nova's fault; timeout → TIMEOUT). With `onProgress`, the server's
   * states come from the gateway's WatchServers (pushed, not polled) while the wait runs.
   */
  async waitForServer(server: Ref, o: WaitForServerOptions = {}): Promise<Server> {
    const id = refId(server) ?? (await this.getServer(server))?.id;
    if (!id)
      throw new OcxError(ErrorCode.NOT_FOUND, `server "${String(server)}" not found`, { resourceId: String(server) });
    const timeoutMs = o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
    const watching = new AbortController();
    const onAbort = () => watching.abort();
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const progress = o.onProgress ? this.#progressOf(id, o.onProgress, watching.signal) : undefined;
    try {
      const r = await this.client.run(
        'WaitForServer',
        { signal: o.signal, timeoutMs: timeoutMs + ANSWER_MARGIN_MS },
        (c) =>
          this.client.cloud.waitForServer(
            { filter: this.filter(id), timeoutSeconds: seconds(timeoutMs), autoIp: o.autoIp !== false },
            c,
          ),
      );
      if (!r.server) throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no server', { cloud: this.name });
      const ready = fromServer(r.server, this.name);
      o.onProgress?.(ready);
      return ready;
    } finally {
      watching.abort();
      o.signal?.removeEventListener('abort', onAbort);
      await progress;
      this.serverCache.invalidate();
    }
  }

  /** Call `onProgress` with the server each time the gateway's watch reports a change of it (until `signal`). */
  async #progressOf(id: string, onProgress: (s: Server) => void, signal: AbortSignal): Promise<void> {
    try {
      for await (const ev of this.watchServers({ signal })) {
        if ((ev.type === 'ADDED' || ev.type === 'MODIFIED') && ev.server.id === id) onProgress(ev.server);
      }
    } catch {
      // Progress is a courtesy: the wait itself reports what went wrong.
    }
  }

  /** Delete a server; false when it does not exist. `deleteIps` and `wait` are done by the gateway. */
  async deleteServer(
    nameOrId: Ref,
    o: { wait?: boolean; timeoutMs?: number; deleteIps?: boolean; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const id = refId(nameOrId) ?? (await this.getServer(nameOrId))?.id;
    if (!id) return false;
    const timeoutMs = o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
    try {
      const r = await this.client.run(
        'DeleteServer',
        { signal: o.signal, timeoutMs: timeoutMs + ANSWER_MARGIN_MS },
        (c) =>
          this.client.cloud.deleteServer(
            { filter: this.filter(id), wait: !!o.wait, deleteIps: !!o.deleteIps, timeoutSeconds: seconds(timeoutMs) },
            c,
          ),
      );
      return r.deleted;
    } finally {
      this.serverCache.invalidate();
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
