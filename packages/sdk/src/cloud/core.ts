/**
 * The shared core every capability module of the cloud layer works on (openstacksdk's `_OpenStackCloudMixin`
 * state): the session and its service clients, the options, the list caches, the location base of every
 * resource, and the cached "does this cloud have X" probes. Capability modules (flavors.ts, servers.ts, ...) are
 * functions over a `CloudCore`; `Cloud` (cloud.ts) composes them.
 */
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { BlockStorageClient } from '../services/block-storage.ts';
import { isNotFound } from '../services/common.ts';
import { ComputeClient } from '../services/compute.ts';
import { ImageClient } from '../services/image.ts';
import { NetworkClient, type NeutronNetwork } from '../services/network.ts';
import { ObjectStoreClient } from '../services/object-store.ts';
import type { Session } from '../session/types.ts';
import type { AddressOptions, NetworkConfig } from './addresses.ts';
import { ListCache } from './list-cache.ts';
import { type LocationBase, makeLocation } from './normalize/location.ts';
import type { Flavor, FloatingIp, Image, Keypair, Location, Server, Volume } from './types.ts';
import { type PollOptions, pollUntil } from './wait.ts';

export interface CloudOptions {
  /** Age of the server-list cache in ms (shade's `_SERVER_AGE`, `cache.expiration.server`). Default 5000. */
  serverListAgeMs?: number | undefined;
  /** Age of the flavor, image, keypair, volume and floating-IP list caches in ms. Default 0 (single-flight only). */
  listAgeMs?: number | undefined;
  /** How long network classification (external/internal networks) is reused, ms. Default 60000. */
  networkAgeMs?: number | undefined;
  /** Pause between polls of wait loops, ms. Default: max(serverListAgeMs, 1000), at most 5000. */
  pollIntervalMs?: number | undefined;
  /** getServer / getImage with a UUID does a direct GET instead of a list search (openstacksdk `use_direct_get`). */
  useDirectGet?: boolean | undefined;
  /** Overrides of clouds.yaml `networks`, `private`, `force_ipv4`, `image_format` (default: from the CloudConfig). */
  networks?: NetworkConfig[] | undefined;
  private?: boolean | undefined;
  forceIpv4?: boolean | undefined;
  /** The client host can reach IPv6 addresses (interface_ip may then be public_v6). Default false. */
  hasIpv6?: boolean | undefined;
  /**
   * interface_ip falls back to private_v4 when a server has no public address (default true). false gives
   * openstacksdk's exact rule (interface_ip '' unless the cloud is `private: true`).
   */
  interfaceIpFallbackToPrivate?: boolean | undefined;
  imageFormat?: string | undefined;
  /** close() also closes the session (set by connectCloud, which created it). */
  ownsSession?: boolean | undefined;
}

/** Identifies a resource: its name or id, or an object that already has an id. */
export type Ref = string | { id: string };

/** The option of calls that can be cancelled. */
export type Signal = { signal?: AbortSignal | undefined };

/** Default wait for servers and volumes (shade's 180 s). */
export const DEFAULT_SERVER_TIMEOUT_MS = 180_000;
/** Default wait for images (uploads and snapshots can be slow). */
export const DEFAULT_IMAGE_TIMEOUT_MS = 3_600_000;

/** Errors that end a wait loop at once instead of being retried at the next poll. */
export const FATAL_WHILE_WAITING = new Set<string>([
  ErrorCode.CANCELLED,
  ErrorCode.AUTH_FAILED,
  ErrorCode.AUTH_EXPIRED,
  ErrorCode.FORBIDDEN,
  ErrorCode.CONFIG_INVALID,
  ErrorCode.ENDPOINT_NOT_FOUND,
  ErrorCode.FEDERATION_FAILED,
]);

export function refId(ref: Ref): string | undefined {
  return typeof ref === 'object' ? ref.id : undefined;
}

function boolExtra(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return ['true', 'yes', '1'].includes(v.toLowerCase());
  return undefined;
}

/** The id a Ref stands for: an object's id as is, a name or id looked up with `find` (NOT_FOUND when missing). */
export async function resolveId(
  ref: Ref,
  kind: string,
  find: (nameOrId: string) => Promise<{ id: string } | null>,
): Promise<string> {
  const id = refId(ref);
  if (id) return id;
  const found = await find(ref as string);
  if (!found)
    throw new OcxError(ErrorCode.NOT_FOUND, `${kind} "${ref as string}" not found`, { resourceId: ref as string });
  return found.id;
}

/** `fn(id)` with a 404 turned into null (the cloud layer's get-by-id rule). */
export async function nullOn404<T>(fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    if (isNotFound(err)) return null;
    throw err;
  }
}

/** `fn()` that reports whether it deleted something: false on 404 (the cloud layer's delete rule). */
export async function falseOn404(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

type ResolvedOptions = Required<
  Pick<CloudOptions, 'serverListAgeMs' | 'listAgeMs' | 'networkAgeMs' | 'pollIntervalMs'>
> &
  CloudOptions;

export class CloudCore {
  readonly session: Session;
  readonly name: string;
  readonly region: string;
  readonly compute: ComputeClient;
  readonly image: ImageClient;
  readonly network: NetworkClient;
  readonly blockStorage: BlockStorageClient;
  readonly opts: ResolvedOptions;
  readonly addressOptions: AddressOptions;
  readonly networkConfig: NetworkConfig[];
  readonly serverCache: ListCache<Server[]>;
  readonly listCaches: {
    flavors: ListCache<Flavor[]>;
    images: ListCache<Image[]>;
    keypairs: ListCache<Keypair[]>;
    volumes: ListCache<Volume[]>;
    floatingIps: ListCache<FloatingIp[]>;
    networks: ListCache<NeutronNetwork[]>;
  };
  #objectStore: ObjectStoreClient | undefined;
  #locationBase: Promise<LocationBase> | undefined;
  #hasNetwork: Promise<boolean> | undefined;
  #hasFloatingIps: Promise<boolean> | undefined;

  constructor(session: Session, options: CloudOptions = {}) {
    this.session = session;
    this.name = session.cloudName;
    this.region = session.regionName;
    const extra = session.cloud?.extra ?? {};
    const serverListAgeMs = options.serverListAgeMs ?? 5000;
    this.opts = {
      ...options,
      serverListAgeMs,
      listAgeMs: options.listAgeMs ?? 0,
      networkAgeMs: options.networkAgeMs ?? 60_000,
      pollIntervalMs: options.pollIntervalMs ?? Math.min(5000, Math.max(serverListAgeMs, 1000)),
    };
    this.networkConfig = options.networks ?? (Array.isArray(extra.networks) ? (extra.networks as NetworkConfig[]) : []);
    this.addressOptions = {
      private: options.private ?? boolExtra(extra.private) ?? false,
      forceIpv4: options.forceIpv4 ?? boolExtra(extra.force_ipv4) ?? false,
      hasIpv6: options.hasIpv6 ?? false,
      privateFallback: options.interfaceIpFallbackToPrivate ?? true,
    };
    if (options.imageFormat === undefined && typeof extra.image_format === 'string') {
      this.opts.imageFormat = extra.image_format;
    }
    this.compute = new ComputeClient(session.client('compute'));
    this.image = new ImageClient(session.client('image'));
    this.network = new NetworkClient(session.client('network'));
    this.blockStorage = new BlockStorageClient(session.client('block-storage'));
    this.serverCache = new ListCache({ maxAgeMs: serverListAgeMs });
    const age = this.opts.listAgeMs;
    this.listCaches = {
      flavors: new ListCache({ maxAgeMs: age }),
      images: new ListCache({ maxAgeMs: age }),
      keypairs: new ListCache({ maxAgeMs: age }),
      volumes: new ListCache({ maxAgeMs: age }),
      floatingIps: new ListCache({ maxAgeMs: age }),
      networks: new ListCache({ maxAgeMs: this.opts.networkAgeMs }),
    };
  }

  /** Swift, made on first use (most callers never touch it). */
  get objectStore(): ObjectStoreClient {
    this.#objectStore ??= new ObjectStoreClient(this.session.client('object-store'));
    return this.#objectStore;
  }

  /** Cloud, region and the token's project: the base of every resource's `location`. */
  base(): Promise<LocationBase> {
    this.#locationBase ??= (async () => {
      const access = await this.session.getAccess();
      const p = access.project;
      return {
        cloud: this.name,
        region: this.region || null,
        project: {
          id: p?.id ?? null,
          name: p?.name ?? null,
          domain_id: p?.domain?.id ?? null,
          domain_name: p?.domain?.name ?? null,
        },
      };
    })().catch((err: unknown) => {
      this.#locationBase = undefined;
      throw err;
    });
    return this.#locationBase;
  }

  /** The location of this cloud + region + current project (zone null). */
  async currentLocation(): Promise<Location> {
    return makeLocation(await this.base());
  }

  /** Whether the catalog has a network (Neutron) endpoint. */
  hasNetwork(): Promise<boolean> {
    this.#hasNetwork ??= this.session.endpointFor('network').then(
      () => true,
      (err: unknown) => {
        if (err instanceof OcxError && err.code === ErrorCode.ENDPOINT_NOT_FOUND) return false;
        this.#hasNetwork = undefined;
        throw err;
      },
    );
    return this.#hasNetwork;
  }

  /**
   * Whether Neutron offers floating IPs (the `router` extension). A Neutron without the extension API is assumed
   * to have them. Cached for the life of this object.
   */
  hasFloatingIps(): Promise<boolean> {
    this.#hasFloatingIps ??= (async () => {
      if (!(await this.hasNetwork())) return false;
      try {
        const exts = await this.network.listExtensions();
        return exts.some((e) => e.alias === 'router');
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    })().catch((err: unknown) => {
      this.#hasFloatingIps = undefined;
      throw err;
    });
    return this.#hasFloatingIps;
  }

  /** pollUntil at this cloud's poll interval. */
  poll<T>(attempt: (remainingMs: number) => Promise<T | undefined>, o: Omit<PollOptions, 'intervalMs'>): Promise<T> {
    return pollUntil(attempt, { ...o, intervalMs: this.opts.pollIntervalMs });
  }

  /**
   * The cloud layer's delete of `kind` `id`: `del()`, false on 404, `invalidate()` (the lists that held it) whatever
   * happens; with `wait`, then poll `gone` until it has disappeared (TIMEOUT after `timeoutMs`) and invalidate again.
   */
  async deleteResource(
    kind: string,
    id: string,
    del: () => Promise<unknown>,
    o: {
      invalidate: () => void;
      wait?: boolean | undefined;
      gone: () => Promise<boolean>;
      timeoutMs: number;
      signal?: AbortSignal | undefined;
    },
  ): Promise<boolean> {
    try {
      if (!(await falseOn404(del))) return false;
    } finally {
      o.invalidate();
    }
    if (o.wait) {
      await this.poll(async () => ((await o.gone()) ? true : undefined), {
        timeoutMs: o.timeoutMs,
        signal: o.signal,
        message: `timeout waiting for ${kind} ${id} to be deleted`,
        resourceId: id,
      });
      o.invalidate();
    }
    return true;
  }

  /**
   * Poll `get` until the `kind` `id` reaches a `ready` status (returned), or a `failed` one (RESOURCE_FAILED
   * `<kind> <id> went to status <status>`); TIMEOUT after `timeoutMs` with `message`.
   */
  waitForStatus<T extends { status: string }>(
    kind: string,
    id: string,
    get: () => Promise<T | null>,
    o: {
      ready: (status: string) => boolean;
      failed: (status: string) => boolean;
      timeoutMs: number;
      signal?: AbortSignal | undefined;
      message: string;
    },
  ): Promise<T> {
    return this.poll(
      async () => {
        const cur = await get();
        if (cur && o.ready(cur.status)) return cur;
        if (cur && o.failed(cur.status)) {
          throw new OcxError(ErrorCode.RESOURCE_FAILED, `${kind} ${id} went to status ${cur.status}`, {
            resourceId: id,
          });
        }
        return undefined;
      },
      { timeoutMs: o.timeoutMs, signal: o.signal, message: o.message, resourceId: id },
    );
  }

  /** Forget cached lists (all of them). */
  invalidateCaches(): void {
    this.serverCache.invalidate();
    for (const c of Object.values(this.listCaches)) c.invalidate();
  }
}
