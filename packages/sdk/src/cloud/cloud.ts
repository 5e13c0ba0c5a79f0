/**
 * The shade-style cloud layer: one `Cloud` per cloud + region (a Session), normalized resources with `location`,
 * get → null / AMBIGUOUS, delete → false on 404, a single-flight server-list cache, and the nodepool surface
 * (flavors, images, keypairs, servers, limits, floating IPs, networks, volumes, availability zones).
 */
import { pipeline, type Readable } from 'node:stream';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import { BlockStorageClient, type CinderVolume } from '../services/block-storage.ts';
import { collect, isNotFound } from '../services/common.ts';
import { ComputeClient, type CreateServerRequest, type NovaServer } from '../services/compute.ts';
import { type GlanceImage, ImageClient } from '../services/image.ts';
import { NetworkClient, type NeutronFloatingIp, type NeutronNetwork, type NeutronPort } from '../services/network.ts';
import type { Session } from '../session/types.ts';
import {
  type AddressOptions,
  type NetworkConfig,
  type NetworkFacts,
  needsSupplement,
  networkFacts,
  resolveAddresses,
} from './addresses.ts';
import { filterList, looksLikeId, single } from './filter.ts';
import {
  HashingStream,
  hashFile,
  IMAGE_MD5_KEY,
  IMAGE_OBJECT_KEY,
  IMAGE_SHA256_KEY,
  type ImageHashes,
  storedHashes,
  toReadable,
} from './image-hash.ts';
import { ListCache } from './list-cache.ts';
import {
  type LocationBase,
  makeLocation,
  normalizeComputeLimits,
  normalizeFlavor,
  normalizeFloatingIp,
  normalizeImage,
  normalizeKeypair,
  normalizeNetwork,
  normalizePort,
  normalizeSecurityGroup,
  normalizeServer,
  normalizeVolume,
} from './normalize.ts';
import type {
  ComputeLimits,
  Filters,
  Flavor,
  FloatingIp,
  Image,
  Keypair,
  Location,
  Network,
  Port,
  SecurityGroup,
  Server,
  Volume,
} from './types.ts';
import { mapLimit, pollUntil } from './wait.ts';

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

export interface CreateServerOptions {
  name: string;
  /** Image name, id or object. Required unless `bootVolume` is given. */
  image?: Ref | undefined;
  flavor: Ref;
  /** Network(s) by name, id or object. Ignored when `nics` is given. */
  network?: Ref | Ref[] | undefined;
  /** Nova-client style NICs: `net-id` / `net-name` / `port-id` / `fixed_ip` (`v4-fixed-ip`, `v6-fixed-ip`). */
  nics?: Record<string, string>[] | undefined;
  keyName?: string | undefined;
  /** Sent base64-encoded. */
  userdata?: string | Uint8Array | undefined;
  /** Server metadata (`meta` in shade). */
  metadata?: Record<string, string> | undefined;
  securityGroups?: string | string[] | undefined;
  availabilityZone?: string | undefined;
  configDrive?: boolean | undefined;
  adminPass?: string | undefined;
  /** Sent as `os:scheduler_hints`. */
  schedulerHints?: Record<string, unknown> | undefined;
  /** Server group (name, id or object): becomes the `group` scheduler hint. */
  group?: Ref | undefined;
  /** Create a volume from the image and boot from it. */
  bootFromVolume?: boolean | undefined;
  /** GiB of the boot volume (default 50). */
  volumeSize?: number | undefined;
  /** Boot from this existing volume (name, id or object). */
  bootVolume?: Ref | undefined;
  /** Delete the boot volume with the server. */
  terminateVolume?: boolean | undefined;
  /** Extra volumes to attach at boot. */
  volumes?: Ref[] | undefined;
  /** Wait until ACTIVE with an address (waitForServer). Default false. */
  wait?: boolean | undefined;
  timeoutMs?: number | undefined;
  autoIp?: boolean | undefined;
  reuseIps?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Compute microversion for the create call. */
  microversion?: string | undefined;
}

export interface WaitForServerOptions {
  /** Default 180000 (shade's 180 s). */
  timeoutMs?: number | undefined;
  /** Attach a floating IP when the server has only a private address and the cloud has floating IPs. Default true. */
  autoIp?: boolean | undefined;
  /** Reuse an unattached floating IP instead of creating one. Default true. */
  reuse?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

export interface CreateImageOptions {
  /** Local file to upload (streamed; hashed first). */
  filename?: string | undefined;
  /** Or a stream / bytes (hashed while uploading). */
  data?: Readable | AsyncIterable<Uint8Array> | Uint8Array | undefined;
  md5?: string | undefined;
  sha256?: string | undefined;
  /** Default: the cloud's `image_format`, else qcow2. */
  diskFormat?: string | undefined;
  /** Default 'bare'. */
  containerFormat?: string | undefined;
  /** Default false (private). */
  isPublic?: boolean | undefined;
  visibility?: 'public' | 'private' | 'shared' | 'community' | undefined;
  /** Wait until the image is active. Default false (as shade). */
  wait?: boolean | undefined;
  /** Default 3600000. */
  timeoutMs?: number | undefined;
  /** Skip the same-name-same-hash check. */
  allowDuplicates?: boolean | undefined;
  /** Extra image properties (string values). */
  meta?: Record<string, string> | undefined;
  minDisk?: number | undefined;
  minRam?: number | undefined;
  tags?: string[] | undefined;
  signal?: AbortSignal | undefined;
}

const DEFAULT_SERVER_TIMEOUT_MS = 180_000;

/** Errors that end a wait loop at once instead of being retried at the next poll. */
const FATAL_WHILE_WAITING = new Set<string>([
  ErrorCode.CANCELLED,
  ErrorCode.AUTH_FAILED,
  ErrorCode.AUTH_EXPIRED,
  ErrorCode.FORBIDDEN,
  ErrorCode.CONFIG_INVALID,
  ErrorCode.ENDPOINT_NOT_FOUND,
  ErrorCode.FEDERATION_FAILED,
]);

function refId(ref: Ref): string | undefined {
  return typeof ref === 'object' ? ref.id : undefined;
}

function boolExtra(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return ['true', 'yes', '1'].includes(v.toLowerCase());
  return undefined;
}

/** shade's `_hashes_up_to_date`: any given hash must equal the stored one, and at least one must be given. */
function hashesUpToDate(
  want: { md5?: string | undefined; sha256?: string | undefined },
  have: { md5: string; sha256: string },
): boolean {
  let ok = false;
  if (want.md5 && have.md5 === want.md5) ok = true;
  if (want.sha256 && have.sha256 === want.sha256) ok = true;
  if (want.md5 && have.md5 !== want.md5) ok = false;
  if (want.sha256 && have.sha256 !== want.sha256) ok = false;
  return ok;
}

export class Cloud {
  readonly session: Session;
  readonly name: string;
  readonly region: string;
  readonly compute: ComputeClient;
  readonly image: ImageClient;
  readonly network: NetworkClient;
  readonly blockStorage: BlockStorageClient;

  private readonly opts: Required<
    Pick<CloudOptions, 'serverListAgeMs' | 'listAgeMs' | 'networkAgeMs' | 'pollIntervalMs'>
  > &
    CloudOptions;
  private readonly addressOptions: AddressOptions;
  private readonly networkConfig: NetworkConfig[];
  private readonly serverCache: ListCache<Server[]>;
  private readonly listCaches: {
    flavors: ListCache<Flavor[]>;
    images: ListCache<Image[]>;
    keypairs: ListCache<Keypair[]>;
    volumes: ListCache<Volume[]>;
    floatingIps: ListCache<FloatingIp[]>;
    networks: ListCache<NeutronNetwork[]>;
  };
  private locationBase: Promise<LocationBase> | undefined;
  private hasNetworkService: Promise<boolean> | undefined;
  private hasFloatingIpService: Promise<boolean> | undefined;

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

  // ---------------------------------------------------------------- location

  /** Cloud, region and the token's project: the base of every resource's `location`. */
  private base(): Promise<LocationBase> {
    this.locationBase ??= (async () => {
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
      this.locationBase = undefined;
      throw err;
    });
    return this.locationBase;
  }

  /** The location of this cloud + region + current project (zone null). */
  async currentLocation(): Promise<Location> {
    return makeLocation(await this.base());
  }

  /** Whether the catalog has a network (Neutron) endpoint. */
  hasNetwork(): Promise<boolean> {
    this.hasNetworkService ??= this.session.endpointFor('network').then(
      () => true,
      (err: unknown) => {
        if (err instanceof OcxError && err.code === ErrorCode.ENDPOINT_NOT_FOUND) return false;
        this.hasNetworkService = undefined;
        throw err;
      },
    );
    return this.hasNetworkService;
  }

  /**
   * Whether Neutron offers floating IPs (the `router` extension). A Neutron without the extension API is assumed
   * to have them. Cached for the life of this object.
   */
  hasFloatingIps(): Promise<boolean> {
    this.hasFloatingIpService ??= (async () => {
      if (!(await this.hasNetwork())) return false;
      try {
        const exts = await this.network.listExtensions();
        return exts.some((e) => e.alias === 'router');
      } catch (err) {
        if (isNotFound(err)) return true;
        throw err;
      }
    })().catch((err: unknown) => {
      this.hasFloatingIpService = undefined;
      throw err;
    });
    return this.hasFloatingIpService;
  }

  // ---------------------------------------------------------------- flavors

  async listFlavors(opts: { getExtra?: boolean } = {}): Promise<Flavor[]> {
    const flavors = await this.listCaches.flavors.get(async () => {
      const base = await this.base();
      const raw = await collect(this.compute.listFlavors({ query: { is_public: 'None' } }));
      return raw.map((f) => normalizeFlavor(f, base));
    });
    if (!opts.getExtra) return flavors;
    return mapLimit(flavors, 8, async (f) => {
      try {
        return { ...f, extra_specs: await this.compute.getFlavorExtraSpecs(f.id) };
      } catch (err) {
        if (isNotFound(err)) return f;
        throw err;
      }
    });
  }

  async searchFlavors(nameOrId?: string, filters?: Filters, opts?: { getExtra?: boolean }): Promise<Flavor[]> {
    return filterList(await this.listFlavors(opts), nameOrId, filters);
  }

  async getFlavor(nameOrId: Ref, filters?: Filters, opts?: { getExtra?: boolean }): Promise<Flavor | null> {
    if (typeof nameOrId === 'object') return nameOrId as Flavor;
    return single(await this.searchFlavors(nameOrId, filters, opts), 'flavor', nameOrId);
  }

  /** The smallest flavor with at least `ram` MiB (optionally whose name contains `include`); null if none. */
  async getFlavorByRam(ram: number, include?: string): Promise<Flavor | null> {
    const flavors = (await this.listFlavors()).filter((f) => !f.is_disabled).sort((a, b) => a.ram - b.ram);
    return flavors.find((f) => f.ram >= ram && (!include || f.name.includes(include))) ?? null;
  }

  // ---------------------------------------------------------------- images

  async listImages(opts: { filterDeleted?: boolean; showAll?: boolean } = {}): Promise<Image[]> {
    const key = opts.showAll ? 'all' : '';
    const images = await this.listCaches.images.get(async () => {
      const base = await this.base();
      const query = opts.showAll ? { member_status: 'all' } : undefined;
      const raw = await collect(this.image.listImages({ query }));
      return raw.map((i) => normalizeImage(i, base));
    }, key);
    // shade does not cache a list while an image is still being created.
    if (images.some((i) => ['queued', 'saving', 'importing', 'uploading'].includes(i.status))) {
      this.listCaches.images.invalidate(key);
    }
    return opts.filterDeleted === false ? images : images.filter((i) => i.status !== 'deleted');
  }

  async searchImages(nameOrId?: string, filters?: Filters): Promise<Image[]> {
    return filterList(await this.listImages(), nameOrId, filters);
  }

  async getImage(nameOrId: Ref, filters?: Filters): Promise<Image | null> {
    if (typeof nameOrId === 'object') return nameOrId as Image;
    if (this.opts.useDirectGet && looksLikeId(nameOrId) && !filters) return this.getImageById(nameOrId);
    return single(await this.searchImages(nameOrId, filters), 'image', nameOrId);
  }

  /** Direct GET by id; null on 404. */
  async getImageById(id: string): Promise<Image | null> {
    try {
      return normalizeImage(await this.image.getImage(id), await this.base());
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /**
   * Create an image and upload its data (streamed), idempotently: an existing image of the same name whose stored
   * `owner_specified.openstack.md5`/`.sha256` match is returned unchanged. A failed upload deletes the new image.
   */
  async createImage(name: string, opts: CreateImageOptions = {}): Promise<Image> {
    if (opts.filename && opts.data) {
      throw new OcxError(ErrorCode.BAD_REQUEST, 'createImage: filename and data are mutually exclusive');
    }
    let md5 = opts.md5;
    let sha256 = opts.sha256;
    let size: number | undefined;
    if (opts.filename && !(md5 && sha256)) {
      const h = await hashFile(opts.filename, opts.signal);
      md5 ??= h.md5;
      sha256 ??= h.sha256;
      size = h.size;
    } else if (opts.data instanceof Uint8Array) {
      const h = new HashingStream();
      h.end(opts.data);
      const d = h.digests();
      md5 ??= d.md5;
      sha256 ??= d.sha256;
      size = opts.data.byteLength;
    }
    if (!opts.allowDuplicates) {
      const current = await this.getImage(name);
      if (current && hashesUpToDate({ md5, sha256 }, storedHashes(current.properties))) return current;
    }
    const properties: Record<string, unknown> = {
      ...(opts.meta ?? {}),
      [IMAGE_MD5_KEY]: md5 ?? '',
      [IMAGE_SHA256_KEY]: sha256 ?? '',
      [IMAGE_OBJECT_KEY]: `images/${name}`,
    };
    const created = await this.image.createImage({
      ...properties,
      name,
      disk_format: opts.diskFormat ?? this.opts.imageFormat ?? 'qcow2',
      container_format: opts.containerFormat ?? 'bare',
      visibility: opts.visibility ?? (opts.isPublic ? 'public' : 'private'),
      ...(opts.minDisk !== undefined ? { min_disk: opts.minDisk } : {}),
      ...(opts.minRam !== undefined ? { min_ram: opts.minRam } : {}),
      ...(opts.tags ? { tags: opts.tags } : {}),
    });
    this.listCaches.images.invalidate();
    const cleanup = async () => {
      try {
        await this.image.deleteImage(created.id);
      } catch {
        // best effort: the original failure is what the caller needs to see
      }
    };
    try {
      if (opts.filename || opts.data) {
        const source = opts.filename ? { path: opts.filename } : opts.data!;
        let hasher: HashingStream | undefined;
        let body: Parameters<ImageClient['uploadImageData']>[1] = source;
        if (!opts.filename && !(opts.data instanceof Uint8Array)) {
          hasher = new HashingStream();
          // pipeline (not pipe) so a failing source destroys the hasher and with it the upload body.
          pipeline(toReadable(opts.data!), hasher, () => {});
          body = hasher;
        }
        await this.image.uploadImageData(created.id, body, { signal: opts.signal, size });
        if (hasher && !(opts.md5 && opts.sha256)) {
          const d: ImageHashes = hasher.digests();
          const after = await this.image.getImage(created.id);
          await this.image.setImageProperties(
            created.id,
            { [IMAGE_MD5_KEY]: opts.md5 ?? d.md5, [IMAGE_SHA256_KEY]: opts.sha256 ?? d.sha256 },
            after,
          );
        }
      }
      let image: GlanceImage = await this.image.getImage(created.id);
      if (opts.wait) {
        image = await pollUntil(
          async () => {
            const img = await this.image.getImage(created.id);
            if (img.status === 'active') return img;
            if (img.status === 'killed' || img.status === 'deleted') {
              throw new OcxError(ErrorCode.RESOURCE_FAILED, `image ${created.id} went to status ${img.status}`, {
                resourceId: created.id,
              });
            }
            return undefined;
          },
          {
            timeoutMs: opts.timeoutMs ?? 3_600_000,
            intervalMs: this.opts.pollIntervalMs,
            signal: opts.signal,
            message: `timeout waiting for image ${name} to become active`,
            resourceId: created.id,
          },
        );
      }
      this.listCaches.images.invalidate();
      return normalizeImage(image, await this.base());
    } catch (err) {
      await cleanup();
      this.listCaches.images.invalidate();
      throw err;
    }
  }

  /** Snapshot a server into an image (nodepool's legacy `create_image_snapshot`); `wait` until active. */
  async createImageSnapshot(
    name: string,
    server: Ref,
    opts: { metadata?: Record<string, string>; wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Image> {
    const serverId =
      refId(server) ??
      (looksLikeId(server as string)
        ? (server as string)
        : await this.resolveId(server, 'server', (n) => this.getServer(n)));
    const imageId = await this.compute.createServerImage(serverId, name, {
      metadata: opts.metadata,
      signal: opts.signal,
    });
    this.listCaches.images.invalidate();
    const base = await this.base();
    if (!opts.wait) {
      return (await this.getImageById(imageId)) ?? normalizeImage({ id: imageId, name, status: 'queued' }, base);
    }
    const img = await pollUntil(
      async () => {
        const cur = await this.getImageById(imageId);
        if (cur?.status === 'active') return cur;
        if (cur && (cur.status === 'killed' || cur.status === 'deleted')) {
          throw new OcxError(ErrorCode.RESOURCE_FAILED, `snapshot ${imageId} went to status ${cur.status}`, {
            resourceId: imageId,
          });
        }
        return undefined;
      },
      {
        timeoutMs: opts.timeoutMs ?? 3_600_000,
        intervalMs: this.opts.pollIntervalMs,
        signal: opts.signal,
        message: `timeout waiting for snapshot ${name} to become active`,
        resourceId: imageId,
      },
    );
    this.listCaches.images.invalidate();
    return img;
  }

  /** False when no such image (or it vanished: 404). */
  async deleteImage(
    nameOrId: Ref,
    opts: { wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const image = await this.getImage(nameOrId);
    if (!image) return false;
    try {
      await this.image.deleteImage(image.id, { signal: opts.signal });
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    } finally {
      this.listCaches.images.invalidate();
    }
    if (opts.wait) {
      await pollUntil(async () => ((await this.getImageById(image.id)) === null ? true : undefined), {
        timeoutMs: opts.timeoutMs ?? 3_600_000,
        intervalMs: this.opts.pollIntervalMs,
        signal: opts.signal,
        message: `timeout waiting for image ${image.id} to be deleted`,
        resourceId: image.id,
      });
    }
    return true;
  }

  // ---------------------------------------------------------------- keypairs

  async listKeypairs(): Promise<Keypair[]> {
    return this.listCaches.keypairs.get(async () => {
      const base = await this.base();
      return (await collect(this.compute.listKeypairs())).map((k) => normalizeKeypair(k, base));
    });
  }

  async searchKeypairs(nameOrId?: string, filters?: Filters): Promise<Keypair[]> {
    return filterList(await this.listKeypairs(), nameOrId, filters);
  }

  async getKeypair(nameOrId: string): Promise<Keypair | null> {
    return single(await this.searchKeypairs(nameOrId), 'keypair', nameOrId);
  }

  /** Without `publicKey` Nova generates the pair and the result carries `private_key`. */
  async createKeypair(name: string, publicKey?: string): Promise<Keypair> {
    const raw = await this.compute.createKeypair(publicKey ? { name, public_key: publicKey } : { name });
    this.listCaches.keypairs.invalidate();
    return normalizeKeypair(raw, await this.base());
  }

  /** False on 404. */
  async deleteKeypair(name: string): Promise<boolean> {
    try {
      await this.compute.deleteKeypair(name);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    } finally {
      this.listCaches.keypairs.invalidate();
    }
  }

  // ---------------------------------------------------------------- networks

  private async rawNetworks(): Promise<NeutronNetwork[]> {
    return this.listCaches.networks.get(() => collect(this.network.listNetworks()));
  }

  private async facts(): Promise<NetworkFacts> {
    let networks: NeutronNetwork[] | undefined;
    if (await this.hasNetwork()) {
      try {
        networks = await this.rawNetworks();
      } catch {
        networks = undefined; // as openstacksdk: a broken Neutron must not break server listing
      }
    }
    return networkFacts(networks, this.networkConfig);
  }

  async listNetworks(filters?: Filters): Promise<Network[]> {
    const base = await this.base();
    const nets = (await collect(this.network.listNetworks())).map((n) => normalizeNetwork(n, base));
    return filterList(nets, undefined, filters);
  }

  async searchNetworks(nameOrId?: string, filters?: Filters): Promise<Network[]> {
    return filterList(await this.listNetworks(), nameOrId, filters);
  }

  async getNetwork(nameOrId: Ref, filters?: Filters): Promise<Network | null> {
    if (typeof nameOrId === 'object') return nameOrId as Network;
    return single(await this.searchNetworks(nameOrId, filters), 'network', nameOrId);
  }

  async listPorts(filters?: Record<string, string>): Promise<Port[]> {
    const base = await this.base();
    return (await collect(this.network.listPorts({ query: filters }))).map((p) => normalizePort(p, base));
  }

  /** False on 404. */
  async deletePort(id: string): Promise<boolean> {
    try {
      await this.network.deletePort(id);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  // ---------------------------------------------------------------- security groups

  async listSecurityGroups(filters?: Filters): Promise<SecurityGroup[]> {
    const base = await this.base();
    const groups = (await collect(this.network.listSecurityGroups())).map((g) => normalizeSecurityGroup(g, base));
    return filterList(groups, undefined, filters);
  }

  async searchSecurityGroups(nameOrId?: string, filters?: Filters): Promise<SecurityGroup[]> {
    return filterList(await this.listSecurityGroups(), nameOrId, filters);
  }

  /** null when missing; AMBIGUOUS when several groups share the name (common: one 'default' per project as admin). */
  async getSecurityGroup(nameOrId: Ref, filters?: Filters): Promise<SecurityGroup | null> {
    if (typeof nameOrId === 'object') return nameOrId as SecurityGroup;
    return single(await this.searchSecurityGroups(nameOrId, filters), 'security group', nameOrId);
  }

  // ---------------------------------------------------------------- floating IPs

  async listFloatingIps(filters?: Filters): Promise<FloatingIp[]> {
    if (!(await this.hasFloatingIps())) return [];
    const fips = await this.listCaches.floatingIps.get(async () => {
      const base = await this.base();
      return (await collect(this.network.listFloatingIps())).map((f) => normalizeFloatingIp(f, base));
    });
    return filterList(fips, undefined, filters);
  }

  /** False on 404. */
  async deleteFloatingIp(id: string): Promise<boolean> {
    try {
      await this.network.deleteFloatingIp(id);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    } finally {
      this.listCaches.floatingIps.invalidate();
    }
  }

  /**
   * Delete every floating IP not attached to a port; returns how many were deleted. Only safe when nothing else is
   * in the middle of a create-then-attach (as shade warns).
   */
  async deleteUnattachedFloatingIps(): Promise<number> {
    if (!(await this.hasFloatingIps())) return 0;
    this.listCaches.floatingIps.invalidate();
    const unattached = (await this.listFloatingIps()).filter((f) => !f.attached);
    const results = await mapLimit(unattached, 4, (f) => this.deleteFloatingIp(f.id));
    return results.filter(Boolean).length;
  }

  // ---------------------------------------------------------------- servers

  private async fetchServers(allProjects: boolean, bare: boolean): Promise<Server[]> {
    const base = await this.base();
    const query = allProjects ? { all_tenants: true } : undefined;
    const raw = await collect(this.compute.listServers({ query }));
    if (bare) return raw.map((s) => normalizeServer(s, base));
    return this.expandServers(raw, base);
  }

  /** Normalize and resolve addresses with one port list and one floating-IP list for the whole batch. */
  private async expandServers(raw: NovaServer[], base: LocationBase, scope?: { deviceId: string }): Promise<Server[]> {
    const facts = await this.facts();
    let indexes:
      | { portsByDevice: Map<string, NeutronPort[]>; fipsByPort: Map<string, NeutronFloatingIp[]> }
      | undefined;
    if (needsSupplement(raw) && (await this.hasFloatingIps().catch(() => false))) {
      try {
        const portQuery = scope ? { device_id: scope.deviceId } : undefined;
        // A whole list: every port and every floating IP, once, in parallel. One server: its ports, then only
        // the floating IPs on them (Neutron takes repeated port_id filters).
        let ports: NeutronPort[];
        let fips: NeutronFloatingIp[];
        if (scope) {
          ports = await collect(this.network.listPorts({ query: portQuery }));
          fips = ports.length
            ? await collect(this.network.listFloatingIps({ query: { port_id: ports.map((p) => p.id) } }))
            : [];
        } else {
          [ports, fips] = await Promise.all([
            collect(this.network.listPorts()),
            collect(this.network.listFloatingIps()),
          ]);
        }
        const portsByDevice = new Map<string, NeutronPort[]>();
        for (const p of ports) {
          if (!p.device_id) continue;
          const list = portsByDevice.get(p.device_id) ?? [];
          list.push(p);
          portsByDevice.set(p.device_id, list);
        }
        const fipsByPort = new Map<string, NeutronFloatingIp[]>();
        for (const f of fips) {
          if (!f.port_id) continue;
          const list = fipsByPort.get(f.port_id) ?? [];
          list.push(f);
          fipsByPort.set(f.port_id, list);
        }
        indexes = { portsByDevice, fipsByPort };
      } catch {
        indexes = undefined; // extra data only: never fail a listing over it
      }
    }
    return raw.map((r) => {
      const s = normalizeServer(r, base);
      const resolved = resolveAddresses(s, facts, this.addressOptions, indexes);
      return { ...s, ...resolved };
    });
  }

  /**
   * All servers, normalized, with public_v4 / private_v4 / public_v6 / interface_ip resolved. Served from the
   * single-flight list cache: concurrent callers share one request; within `serverListAgeMs` the cached list is
   * returned; while a refresh runs, other callers get the previous list.
   */
  async listServers(opts: { allProjects?: boolean; bare?: boolean; filters?: Filters } = {}): Promise<Server[]> {
    const allProjects = opts.allProjects === true;
    const bare = opts.bare === true;
    const key = `${allProjects ? 'all' : 'own'}:${bare ? 'bare' : 'full'}`;
    const servers = await this.serverCache.get(() => this.fetchServers(allProjects, bare), key);
    return opts.filters ? filterList(servers, undefined, opts.filters) : servers;
  }

  async searchServers(
    nameOrId?: string,
    filters?: Filters,
    opts: { allProjects?: boolean; bare?: boolean } = {},
  ): Promise<Server[]> {
    return filterList(await this.listServers(opts), nameOrId, filters);
  }

  /**
   * A server by name or id (through the list cache, as shade; with `useDirectGet` and a UUID, one direct GET).
   * null when missing; AMBIGUOUS when several match. An object with an id is returned as is.
   */
  async getServer(
    nameOrId: Ref,
    opts: { filters?: Filters; allProjects?: boolean; bare?: boolean } = {},
  ): Promise<Server | null> {
    if (typeof nameOrId === 'object') return nameOrId as Server;
    if (this.opts.useDirectGet && looksLikeId(nameOrId) && !opts.filters) return this.getServerById(nameOrId);
    return single(await this.searchServers(nameOrId, opts.filters, opts), 'server', nameOrId);
  }

  /** Direct `GET /servers/{id}` (bypasses the cache), addresses resolved; null on 404. */
  async getServerById(id: string): Promise<Server | null> {
    let raw: NovaServer;
    try {
      raw = await this.compute.getServer(id);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    if (raw.status === 'DELETED') return null;
    return (await this.expandServers([raw], await this.base(), { deviceId: raw.id }))[0]!;
  }

  /** One bare GET: true once Nova answers 404 (or DELETED). No address expansion while polling a deletion. */
  private async serverGone(id: string): Promise<boolean> {
    try {
      return (await this.compute.getServer(id)).status === 'DELETED';
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  }

  private async resolveId(
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

  /** shade's create_server: names/ids/objects resolved, BDM v2 for volumes, userdata base64, then wait or one GET. */
  async createServer(o: CreateServerOptions): Promise<Server> {
    if (!o.image && !o.bootVolume) {
      throw new OcxError(ErrorCode.BAD_REQUEST, 'createServer needs an image or a bootVolume');
    }
    const body: CreateServerRequest = {
      name: o.name,
      flavorRef: await this.resolveId(o.flavor, 'flavor', (n) => this.getFlavor(n)),
      min_count: 1,
      max_count: 1,
    };
    const imageId = o.image ? await this.resolveId(o.image, 'image', (n) => this.getImage(n)) : undefined;
    if (imageId) body.imageRef = imageId;

    const sgs =
      o.securityGroups === undefined ? [] : Array.isArray(o.securityGroups) ? o.securityGroups : [o.securityGroups];
    if (sgs.length) body.security_groups = sgs.map((name) => ({ name }));
    if (o.userdata !== undefined && o.userdata !== '') {
      body.user_data = Buffer.from(
        typeof o.userdata === 'string' ? Buffer.from(o.userdata, 'utf8') : o.userdata,
      ).toString('base64');
    }
    if (o.keyName) body.key_name = o.keyName;
    if (o.metadata && Object.keys(o.metadata).length) body.metadata = o.metadata;
    if (o.availabilityZone) body.availability_zone = o.availabilityZone;
    if (o.configDrive) body.config_drive = true;
    if (o.adminPass) body.adminPass = o.adminPass;

    // networks
    const networks: { uuid?: string; port?: string; fixed_ip?: string }[] = [];
    if (o.nics?.length) {
      for (const nic of o.nics) {
        const net: { uuid?: string; port?: string; fixed_ip?: string } = {};
        const rest = { ...nic };
        if (rest['net-id']) net.uuid = rest['net-id'];
        else if (rest['net-name'])
          net.uuid = await this.resolveId(rest['net-name'], 'network', (n) => this.getNetwork(n));
        delete rest['net-id'];
        delete rest['net-name'];
        for (const k of ['v4-fixed-ip', 'v6-fixed-ip', 'fixed_ip']) {
          if (rest[k]) {
            if (net.fixed_ip) {
              throw new OcxError(
                ErrorCode.BAD_REQUEST,
                'only one of v4-fixed-ip, v6-fixed-ip or fixed_ip may be given',
              );
            }
            net.fixed_ip = rest[k];
          }
          delete rest[k];
        }
        for (const k of ['port', 'port-id']) {
          if (rest[k]) net.port = rest[k];
          delete rest[k];
        }
        if (Object.keys(rest).length) {
          throw new OcxError(ErrorCode.BAD_REQUEST, `unsupported nic keys: ${Object.keys(rest).join(', ')}`);
        }
        networks.push(net);
      }
    } else if (o.network !== undefined) {
      for (const n of Array.isArray(o.network) ? o.network : [o.network]) {
        networks.push({ uuid: await this.resolveId(n, 'network', (x) => this.getNetwork(x)) });
      }
    } else {
      const dflt = this.networkConfig.find((n) => n.default_interface)?.name;
      if (dflt) networks.push({ uuid: await this.resolveId(dflt, 'network', (x) => this.getNetwork(x)) });
    }
    if (networks.length) body.networks = networks;

    // block devices (boot from volume, extra volumes)
    const bdm: Record<string, unknown>[] = [];
    if (o.bootVolume) {
      const volumeId = await this.resolveId(o.bootVolume, 'volume', (n) => this.getVolume(n));
      bdm.push({
        boot_index: '0',
        delete_on_termination: o.terminateVolume === true,
        destination_type: 'volume',
        uuid: volumeId,
        source_type: 'volume',
      });
      body.imageRef = '';
    } else if (o.bootFromVolume) {
      bdm.push({
        boot_index: '0',
        delete_on_termination: o.terminateVolume === true,
        destination_type: 'volume',
        uuid: imageId,
        source_type: 'image',
        volume_size: String(o.volumeSize ?? 50),
      });
      body.imageRef = '';
    }
    if (o.volumes?.length && body.imageRef) {
      bdm.push({
        boot_index: 0,
        delete_on_termination: true,
        destination_type: 'local',
        source_type: 'image',
        uuid: body.imageRef,
      });
    }
    for (const v of o.volumes ?? []) {
      bdm.push({
        boot_index: '-1',
        delete_on_termination: false,
        destination_type: 'volume',
        uuid: await this.resolveId(v, 'volume', (n) => this.getVolume(n)),
        source_type: 'volume',
      });
    }
    if (bdm.length) body.block_device_mapping_v2 = bdm;

    const hints: Record<string, unknown> = { ...(o.schedulerHints ?? {}) };
    if (o.group) {
      hints.group = await this.resolveId(o.group, 'server group', async (n) =>
        single(filterList(await collect(this.compute.listServerGroups()), n), 'server group', n),
      );
    }
    const created = await this.compute.createServer(body, {
      signal: o.signal,
      microversion: o.microversion,
      schedulerHints: hints,
    });
    const adminPass = created.adminPass ?? o.adminPass;
    let server: Server;
    if (o.wait) {
      server = await this.waitForServer(
        { id: created.id },
        { timeoutMs: o.timeoutMs, autoIp: o.autoIp, reuse: o.reuseIps, signal: o.signal },
      );
    } else {
      const got = await this.getServerById(created.id);
      if (!got) {
        throw new OcxError(ErrorCode.RESOURCE_FAILED, `server ${created.id} vanished right after creation`, {
          resourceId: created.id,
        });
      }
      if (got.status === 'ERROR') throw serverError(got);
      server = got;
    }
    return adminPass ? { ...server, admin_password: adminPass } : server;
  }

  /**
   * Wait until the server is ACTIVE with an address. ERROR → RESOURCE_FAILED with Nova's fault message;
   * ACTIVE without any address → the server is deleted and RESOURCE_FAILED thrown; timeout → TIMEOUT.
   * Polls through the server-list cache (so many waiters cost one list per interval).
   */
  async waitForServer(server: Ref, o: WaitForServerOptions = {}): Promise<Server> {
    const id =
      refId(server) ??
      (looksLikeId(server as string)
        ? (server as string)
        : await this.resolveId(server, 'server', (n) => this.getServer(n)));
    const timeoutMs = o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS;
    return pollUntil(
      async (remainingMs) => {
        let s: Server | null;
        try {
          s = await this.getServer(id);
        } catch (err) {
          // Not listed yet, or a transient failure: keep waiting. Failures that waiting cannot cure end the wait.
          if (err instanceof OcxError && FATAL_WHILE_WAITING.has(err.code)) throw err;
          return undefined;
        }
        if (!s) return undefined;
        if (s.status === 'ERROR') throw serverError(s);
        if (s.status !== 'ACTIVE') return undefined;
        if (Object.values(s.addresses).some((list) => list.length > 0)) {
          if (o.autoIp !== false && (await this.needsFloatingIp(s))) {
            return this.addAutoIp(s, o.reuse !== false, Math.max(remainingMs, 1000), o.signal);
          }
          return s;
        }
        try {
          await this.deleteServer(id, { wait: true, timeoutMs: Math.max(remainingMs, 1000), signal: o.signal });
        } catch (err) {
          throw new OcxError(
            ErrorCode.RESOURCE_FAILED,
            `server ${id} reached ACTIVE without an IP address and then could not be deleted: ${(err as Error).message}`,
            { resourceId: id },
            { cause: err },
          );
        }
        throw new OcxError(
          ErrorCode.RESOURCE_FAILED,
          `server ${id} reached ACTIVE state without being allocated an IP address (deleted)`,
          { resourceId: id },
        );
      },
      {
        timeoutMs,
        intervalMs: this.opts.pollIntervalMs,
        signal: o.signal,
        message: `timeout waiting for server ${id} to come up`,
        resourceId: id,
      },
    );
  }

  /** shade's `_needs_floating_ip` with Neutron floating IPs. */
  private async needsFloatingIp(s: Server): Promise<boolean> {
    if (s.public_v4 || !s.private_v4 || this.addressOptions.private) return false;
    if (!(await this.hasFloatingIps())) return false;
    const facts = await this.facts();
    return facts.floatingSources.length > 0;
  }

  /** Attach a floating IP to the port holding `private_v4` (reusing an unattached one when `reuse`). */
  private async addAutoIp(s: Server, reuse: boolean, timeoutMs: number, signal?: AbortSignal): Promise<Server> {
    const facts = await this.facts();
    const ports = await collect(this.network.listPorts({ query: { device_id: s.id } }));
    const port = ports.find((p) => p.fixed_ips.some((f) => f.ip_address === s.private_v4));
    if (!port) return s;
    const floatingNet = facts.floatingSources[0]!;
    let fip: NeutronFloatingIp | undefined;
    if (reuse) {
      const free = (
        await collect(this.network.listFloatingIps({ query: { floating_network_id: floatingNet.id } }))
      ).find((f) => !f.port_id);
      if (free) {
        fip = await this.network.updateFloatingIp(free.id, { port_id: port.id, fixed_ip_address: s.private_v4 });
      }
    }
    fip ??= await this.network.createFloatingIp({
      floating_network_id: floatingNet.id,
      port_id: port.id,
      fixed_ip_address: s.private_v4,
    });
    this.listCaches.floatingIps.invalidate();
    this.serverCache.invalidate();
    const fipId = fip.id;
    const attached = fip;
    try {
      // Wait until Nova (or Neutron, via the list-wide supplement) shows the address on the server.
      return await pollUntil(
        async () => {
          const cur = await this.getServerById(s.id);
          if (!cur) throw new OcxError(ErrorCode.NOT_FOUND, `server ${s.id} disappeared`, { resourceId: s.id });
          return cur.public_v4 ? cur : undefined;
        },
        {
          timeoutMs,
          intervalMs: this.opts.pollIntervalMs,
          signal,
          message: `timeout waiting for floating IP ${attached.floating_ip_address} on server ${s.id}`,
          resourceId: s.id,
        },
      );
    } catch (err) {
      if (!reuse) await this.deleteFloatingIp(fipId).catch(() => false);
      throw err;
    }
  }

  /**
   * Delete a server; false when it does not exist (or 404s). With `deleteIps`, its floating IPs go first; with
   * `wait`, returns once the server is gone. Invalidates the server-list cache.
   */
  async deleteServer(
    nameOrId: Ref,
    o: { wait?: boolean; timeoutMs?: number; deleteIps?: boolean; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    // By id: a direct GET (a server created moments ago is not in the cached list yet). By name: the list.
    const id = refId(nameOrId) ?? (looksLikeId(nameOrId as string) ? (nameOrId as string) : undefined);
    const server = id ? await this.getServerById(id) : await this.getServer(nameOrId);
    if (!server) return false;
    if (o.deleteIps && (await this.hasFloatingIps())) {
      const floating = Object.values(server.addresses)
        .flat()
        .filter((a) => a['OS-EXT-IPS:type'] === 'floating' && Number(a.version) === 4)
        .map((a) => a.addr);
      for (const addr of floating) {
        const fips = await collect(this.network.listFloatingIps({ query: { floating_ip_address: addr } }));
        for (const f of fips) await this.deleteFloatingIp(f.id);
      }
    }
    try {
      await this.compute.deleteServer(server.id, { signal: o.signal });
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    } finally {
      this.serverCache.invalidate();
    }
    if (o.wait) {
      const sid = server.id;
      await pollUntil(async () => ((await this.serverGone(sid)) ? true : undefined), {
        timeoutMs: o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS,
        intervalMs: this.opts.pollIntervalMs,
        signal: o.signal,
        message: `timeout waiting for server ${sid} to be deleted`,
        resourceId: sid,
      });
      this.serverCache.invalidate();
      this.listCaches.volumes.invalidate();
    }
    return true;
  }

  async getServerConsole(server: Ref, length?: number): Promise<string> {
    const id = refId(server) ?? (await this.resolveId(server, 'server', (n) => this.getServer(n)));
    return this.compute.getServerConsoleOutput(id, length);
  }

  /** Forget cached lists (all of them), e.g. after changes made outside this object. */
  invalidateCaches(): void {
    this.serverCache.invalidate();
    for (const c of Object.values(this.listCaches)) c.invalidate();
  }

  // ---------------------------------------------------------------- limits, zones

  async getComputeLimits(): Promise<ComputeLimits> {
    return normalizeComputeLimits(await this.compute.getLimits(), await this.base());
  }

  /** Names of availability zones (available ones unless `unavailable`); [] when the cloud forbids the call. */
  async listAvailabilityZoneNames(opts: { unavailable?: boolean } = {}): Promise<string[]> {
    try {
      const zones = await this.compute.listAvailabilityZones();
      return zones.filter((z) => opts.unavailable || z.zoneState?.available).map((z) => z.zoneName);
    } catch (err) {
      if (err instanceof OcxError && (err.code === ErrorCode.FORBIDDEN || err.code === ErrorCode.NOT_FOUND)) return [];
      throw err;
    }
  }

  // ---------------------------------------------------------------- volumes

  async listVolumes(): Promise<Volume[]> {
    return this.listCaches.volumes.get(async () => {
      const base = await this.base();
      return (await collect(this.blockStorage.listVolumes())).map((v) => normalizeVolume(v, base));
    });
  }

  async searchVolumes(nameOrId?: string, filters?: Filters): Promise<Volume[]> {
    return filterList(await this.listVolumes(), nameOrId, filters);
  }

  async getVolume(nameOrId: Ref, filters?: Filters): Promise<Volume | null> {
    if (typeof nameOrId === 'object') return nameOrId as Volume;
    return single(await this.searchVolumes(nameOrId, filters), 'volume', nameOrId);
  }

  async getVolumeById(id: string): Promise<Volume | null> {
    try {
      return normalizeVolume(await this.blockStorage.getVolume(id), await this.base());
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  /** Create a volume (optionally from an image by name or id); `wait` until available (error → RESOURCE_FAILED). */
  async createVolume(o: {
    size: number;
    name?: string;
    description?: string;
    image?: Ref;
    volumeType?: string;
    availabilityZone?: string;
    metadata?: Record<string, string>;
    wait?: boolean;
    timeoutMs?: number;
    signal?: AbortSignal;
  }): Promise<Volume> {
    const req: Parameters<BlockStorageClient['createVolume']>[0] = { size: o.size };
    if (o.name) req.name = o.name;
    if (o.description) req.description = o.description;
    if (o.volumeType) req.volume_type = o.volumeType;
    if (o.availabilityZone) req.availability_zone = o.availabilityZone;
    if (o.metadata) req.metadata = o.metadata;
    if (o.image) req.imageRef = await this.resolveId(o.image, 'image', (n) => this.getImage(n));
    const created: CinderVolume = await this.blockStorage.createVolume(req, { signal: o.signal });
    this.listCaches.volumes.invalidate();
    const base = await this.base();
    if (!o.wait) return normalizeVolume(created, base);
    const done = await pollUntil(
      async () => {
        const v = await this.blockStorage.getVolume(created.id);
        if (v.status === 'available' || v.status === 'in-use') return v;
        if (v.status.startsWith('error')) {
          throw new OcxError(ErrorCode.RESOURCE_FAILED, `volume ${created.id} went to status ${v.status}`, {
            resourceId: created.id,
          });
        }
        return undefined;
      },
      {
        timeoutMs: o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS,
        intervalMs: this.opts.pollIntervalMs,
        signal: o.signal,
        message: `timeout waiting for volume ${created.id} to become available`,
        resourceId: created.id,
      },
    );
    this.listCaches.volumes.invalidate();
    return normalizeVolume(done, base);
  }

  /** False when missing or 404. `wait` until it is gone. */
  async deleteVolume(
    nameOrId: Ref,
    o: { wait?: boolean; timeoutMs?: number; force?: boolean; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    const id = refId(nameOrId);
    const vol = id
      ? await this.getVolumeById(id)
      : looksLikeId(nameOrId as string)
        ? ((await this.getVolumeById(nameOrId as string)) ?? (await this.getVolume(nameOrId)))
        : await this.getVolume(nameOrId);
    if (!vol) return false;
    try {
      await this.blockStorage.deleteVolume(vol.id, { force: o.force, signal: o.signal });
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    } finally {
      this.listCaches.volumes.invalidate();
    }
    if (o.wait) {
      await pollUntil(async () => ((await this.getVolumeById(vol.id)) === null ? true : undefined), {
        timeoutMs: o.timeoutMs ?? DEFAULT_SERVER_TIMEOUT_MS,
        intervalMs: this.opts.pollIntervalMs,
        signal: o.signal,
        message: `timeout waiting for volume ${vol.id} to be deleted`,
        resourceId: vol.id,
      });
      this.listCaches.volumes.invalidate();
    }
    return true;
  }

  /** Release the session's connections when this Cloud created the session (connectCloud); otherwise a no-op. */
  async close(): Promise<void> {
    if (this.opts.ownsSession) await this.session.close();
  }

  /** Counters for observability and tests: how many list fetches each cache has started. */
  cacheStats(): { servers: number } {
    return { servers: this.serverCache.fetches };
  }
}

function serverError(s: Server): OcxError {
  const fault = s.fault?.message;
  return new OcxError(
    ErrorCode.RESOURCE_FAILED,
    fault
      ? `error in creating server ${s.id}: compute service reports fault: ${fault}`
      : `error in creating server ${s.id} (no further information available)`,
    { resourceId: s.id, serverMessage: fault, service: 'compute' },
  );
}
