/**
 * The shade-style cloud layer: one `Cloud` per cloud + region (a Session), normalized resources with `location`,
 * get → null / AMBIGUOUS, delete → false on 404, a single-flight server-list cache, the nodepool surface. `Cloud`
 * is a facade over modules of functions on one `CloudCore` (core.ts), split as openstacksdk's `_compute.py`, ...:
 *   flavors.ts, keypairs.ts, limits.ts            compute resources other than servers
 *   servers.ts, server-create.ts, server-wait.ts  servers: list cache + get + delete, create, wait for ACTIVE
 *   server-power.ts                               servers: reboot, stop, start (and wait)
 *   images.ts                                     images: list, get, create with upload, snapshot, delete
 *   volumes.ts, volume-attach.ts                  volumes, attaching them to servers
 *   networks.ts, floating-attach.ts               networks, ports, security groups, floating IPs
 *   network-manage.ts                             creating and deleting networks and subnets
 *   objects.ts                                    object store containers and objects
 */
import type { BlockStorageClient } from '../services/block-storage.ts';
import type { ComputeClient } from '../services/compute.ts';
import type { ImageClient } from '../services/image.ts';
import type { NetworkClient } from '../services/network.ts';
import type { ObjectStoreClient } from '../services/object-store.ts';
import type { Session } from '../session/types.ts';
import { CloudCore, type CloudOptions, type Ref, type Signal } from './core.ts';
import * as flavors from './flavors.ts';
import * as floatingAttach from './floating-attach.ts';
import * as images from './images.ts';
import * as keypairs from './keypairs.ts';
import * as limits from './limits.ts';
import * as networkManage from './network-manage.ts';
import * as networks from './networks.ts';
import * as objects from './objects.ts';
import * as serverCreate from './server-create.ts';
import * as serverPower from './server-power.ts';
import * as serverWait from './server-wait.ts';
import * as servers from './servers.ts';
import * as volumeAttach from './volume-attach.ts';
import type {
  ComputeLimits,
  Container,
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
  StoredObject,
  Volume,
} from './types.ts';
import * as volumes from './volumes.ts';

export type { CloudOptions, Ref } from './core.ts';
export type { CreateImageOptions } from './images.ts';
export type { CreateServerOptions } from './server-create.ts';
export type { WaitForServerOptions } from './server-wait.ts';

export class Cloud {
  readonly #core: CloudCore;

  constructor(session: Session, options: CloudOptions = {}) {
    this.#core = new CloudCore(session, options);
  }

  get session(): Session {
    return this.#core.session;
  }
  get name(): string {
    return this.#core.name;
  }
  get region(): string {
    return this.#core.region;
  }
  /** The raw service clients, for calls the cloud layer does not cover. */
  get compute(): ComputeClient {
    return this.#core.compute;
  }
  get image(): ImageClient {
    return this.#core.image;
  }
  get network(): NetworkClient {
    return this.#core.network;
  }
  get blockStorage(): BlockStorageClient {
    return this.#core.blockStorage;
  }
  get objectStore(): ObjectStoreClient {
    return this.#core.objectStore;
  }

  // ---------------------------------------------------------------- location, capabilities

  /** The location of this cloud + region + current project (zone null). */
  currentLocation(): Promise<Location> {
    return this.#core.currentLocation();
  }

  /** Whether the catalog has a network (Neutron) endpoint. */
  hasNetwork(): Promise<boolean> {
    return this.#core.hasNetwork();
  }

  /** Whether Neutron offers floating IPs (the `router` extension). Cached for the life of this object. */
  hasFloatingIps(): Promise<boolean> {
    return this.#core.hasFloatingIps();
  }

  // ---------------------------------------------------------------- flavors

  listFlavors(opts: flavors.ListFlavorsOptions = {}): Promise<Flavor[]> {
    return flavors.listFlavors(this.#core, opts);
  }

  searchFlavors(nameOrId?: string, filters?: Filters, opts?: { getExtra?: boolean }): Promise<Flavor[]> {
    return flavors.searchFlavors(this.#core, nameOrId, filters, opts);
  }

  getFlavor(nameOrId: Ref, filters?: Filters, opts?: { getExtra?: boolean }): Promise<Flavor | null> {
    return flavors.getFlavor(this.#core, nameOrId, filters, opts);
  }

  /** The smallest flavor with at least `ram` MiB (optionally whose name contains `include`); null if none. */
  getFlavorByRam(ram: number, include?: string): Promise<Flavor | null> {
    return flavors.getFlavorByRam(this.#core, ram, include);
  }

  // ---------------------------------------------------------------- images

  listImages(opts: images.ListImagesOptions = {}): Promise<Image[]> {
    return images.listImages(this.#core, opts);
  }

  searchImages(nameOrId?: string, filters?: Filters): Promise<Image[]> {
    return images.searchImages(this.#core, nameOrId, filters);
  }

  getImage(nameOrId: Ref, filters?: Filters): Promise<Image | null> {
    return images.getImage(this.#core, nameOrId, filters);
  }

  /** Direct GET by id; null on 404. */
  getImageById(id: string): Promise<Image | null> {
    return images.getImageById(this.#core, id);
  }

  /**
   * Create an image and upload its data (streamed), idempotently: an existing image of the same name whose stored
   * `owner_specified.openstack.md5`/`.sha256` match is returned unchanged. A failed upload deletes the new image.
   */
  createImage(name: string, opts: images.CreateImageOptions = {}): Promise<Image> {
    return images.createImage(this.#core, name, opts);
  }

  /** Snapshot a server into an image (nodepool's legacy `create_image_snapshot`); `wait` until active. */
  createImageSnapshot(
    name: string,
    server: Ref,
    opts: { metadata?: Record<string, string>; wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<Image> {
    return images.createImageSnapshot(this.#core, name, server, opts);
  }

  /** False when no such image (or it vanished: 404). */
  deleteImage(
    nameOrId: Ref,
    opts: { wait?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    return images.deleteImage(this.#core, nameOrId, opts);
  }

  // ---------------------------------------------------------------- keypairs

  listKeypairs(opts: Signal = {}): Promise<Keypair[]> {
    return keypairs.listKeypairs(this.#core, opts);
  }

  searchKeypairs(nameOrId?: string, filters?: Filters): Promise<Keypair[]> {
    return keypairs.searchKeypairs(this.#core, nameOrId, filters);
  }

  getKeypair(nameOrId: string): Promise<Keypair | null> {
    return keypairs.getKeypair(this.#core, nameOrId);
  }

  /** Without `publicKey` Nova generates the pair and the result carries `private_key`. */
  createKeypair(name: string, publicKey?: string): Promise<Keypair> {
    return keypairs.createKeypair(this.#core, name, publicKey);
  }

  /** False on 404. */
  deleteKeypair(name: string): Promise<boolean> {
    return keypairs.deleteKeypair(this.#core, name);
  }

  // ---------------------------------------------------------------- networks, ports, security groups

  listNetworks(filters?: Filters, opts: Signal = {}): Promise<Network[]> {
    return networks.listNetworks(this.#core, filters, opts);
  }

  searchNetworks(nameOrId?: string, filters?: Filters): Promise<Network[]> {
    return networks.searchNetworks(this.#core, nameOrId, filters);
  }

  getNetwork(nameOrId: Ref, filters?: Filters): Promise<Network | null> {
    return networks.getNetwork(this.#core, nameOrId, filters);
  }

  listPorts(filters?: Record<string, string>): Promise<Port[]> {
    return networks.listPorts(this.#core, filters);
  }

  /** False on 404. */
  deletePort(id: string): Promise<boolean> {
    return networks.deletePort(this.#core, id);
  }

  listSecurityGroups(filters?: Filters): Promise<SecurityGroup[]> {
    return networks.listSecurityGroups(this.#core, filters);
  }

  searchSecurityGroups(nameOrId?: string, filters?: Filters): Promise<SecurityGroup[]> {
    return networks.searchSecurityGroups(this.#core, nameOrId, filters);
  }

  /** null when missing; AMBIGUOUS when several groups share the name (common: one 'default' per project as admin). */
  getSecurityGroup(nameOrId: Ref, filters?: Filters): Promise<SecurityGroup | null> {
    return networks.getSecurityGroup(this.#core, nameOrId, filters);
  }

  /** Neutron's network as created. */
  createNetwork(name: string, o: Parameters<typeof networkManage.createNetwork>[2] = {}) {
    return networkManage.createNetwork(this.#core, name, o);
  }

  /** False when it does not exist. */
  deleteNetwork(ref: Ref, o: { signal?: AbortSignal } = {}): Promise<boolean> {
    return networkManage.deleteNetwork(this.#core, ref, o);
  }

  /** Neutron's subnet as created (ip_version from the CIDR unless given). */
  createSubnet(o: networkManage.CreateSubnetOptions) {
    return networkManage.createSubnet(this.#core, o);
  }

  /** A subnet by id or name; null when none. */
  getSubnet(ref: Ref, o: { signal?: AbortSignal } = {}) {
    return networkManage.getSubnet(this.#core, ref, o);
  }

  /** False when it does not exist. */
  deleteSubnet(ref: Ref, o: { signal?: AbortSignal } = {}): Promise<boolean> {
    return networkManage.deleteSubnet(this.#core, ref, o);
  }

  /** Routers: create (optionally with an external gateway), set/clear the gateway, add a subnet, delete. */
  createRouter(name: string, o: Parameters<typeof networkManage.createRouter>[2] = {}) {
    return networkManage.createRouter(this.#core, name, o);
  }

  setRouterGateway(router: Ref, externalNetwork: Ref | null, o: { signal?: AbortSignal } = {}) {
    return networkManage.setRouterGateway(this.#core, router, externalNetwork, o);
  }

  addRouterSubnet(router: Ref, subnet: Ref, o: { signal?: AbortSignal } = {}): Promise<void> {
    return networkManage.addRouterSubnet(this.#core, router, subnet, o);
  }

  deleteRouter(ref: Ref, o: { signal?: AbortSignal } = {}): Promise<boolean> {
    return networkManage.deleteRouter(this.#core, ref, o);
  }

  // ---------------------------------------------------------------- floating IPs

  listFloatingIps(filters?: Filters): Promise<FloatingIp[]> {
    return networks.listFloatingIps(this.#core, filters);
  }

  /** Associate floating IP `address` with the server's port holding `fixedAddress` (default: its private_v4). */
  attachFloatingIp(
    server: Ref,
    address: string,
    o: { fixedAddress?: string; signal?: AbortSignal } = {},
  ): Promise<FloatingIp> {
    return floatingAttach.attachFloatingIp(this.#core, server, address, o);
  }

  /** Disassociate floating IP `address` from the server; CONFLICT when it is not attached to it. */
  detachFloatingIp(server: Ref, address: string, o: { signal?: AbortSignal } = {}): Promise<void> {
    return floatingAttach.detachFloatingIp(this.#core, server, address, o);
  }

  /** False on 404. */
  deleteFloatingIp(id: string): Promise<boolean> {
    return networks.deleteFloatingIp(this.#core, id);
  }

  /**
   * Delete every floating IP not attached to a port; returns how many were deleted. Only safe when nothing else is
   * in the middle of a create-then-attach (as shade warns).
   */
  deleteUnattachedFloatingIps(): Promise<number> {
    return networks.deleteUnattachedFloatingIps(this.#core);
  }

  // ---------------------------------------------------------------- servers

  /**
   * All servers, normalized, with public_v4 / private_v4 / public_v6 / interface_ip resolved. Served from the
   * single-flight list cache: concurrent callers share one request; within `serverListAgeMs` the cached list is
   * returned; while a refresh runs, other callers get the previous list.
   */
  listServers(opts: servers.ListServersOptions = {}): Promise<Server[]> {
    return servers.listServers(this.#core, opts);
  }

  searchServers(
    nameOrId?: string,
    filters?: Filters,
    opts: { allProjects?: boolean; bare?: boolean } = {},
  ): Promise<Server[]> {
    return servers.searchServers(this.#core, nameOrId, filters, opts);
  }

  /**
   * A server by name or id (through the list cache, as shade; with `useDirectGet` and a UUID, one direct GET).
   * null when missing; AMBIGUOUS when several match. An object with an id is returned as is.
   */
  getServer(
    nameOrId: Ref,
    opts: { filters?: Filters; allProjects?: boolean; bare?: boolean } = {},
  ): Promise<Server | null> {
    return servers.getServer(this.#core, nameOrId, opts);
  }

  /** Direct `GET /servers/{id}` (bypasses the cache), addresses resolved; null on 404. */
  getServerById(id: string): Promise<Server | null> {
    return servers.getServerById(this.#core, id);
  }

  /** shade's create_server: names/ids/objects resolved, BDM v2 for volumes, userdata base64, then wait or one GET. */
  createServer(o: serverCreate.CreateServerOptions): Promise<Server> {
    return serverCreate.createServer(this.#core, o);
  }

  /**
   * Wait until the server is ACTIVE with an address. ERROR → RESOURCE_FAILED with Nova's fault message;
   * ACTIVE without any address → the server is deleted and RESOURCE_FAILED thrown; timeout → TIMEOUT.
   * Polls through the server-list cache (so many waiters cost one list per interval).
   */
  waitForServer(server: Ref, o: serverWait.WaitForServerOptions = {}): Promise<Server> {
    return serverWait.waitForServer(this.#core, server, o);
  }

  /**
   * Delete a server; false when it does not exist (or 404s). With `deleteIps`, its floating IPs go first; with
   * `wait`, returns once the server is gone. Invalidates the server-list cache.
   */
  deleteServer(
    nameOrId: Ref,
    o: { wait?: boolean; timeoutMs?: number; deleteIps?: boolean; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    return servers.deleteServer(this.#core, nameOrId, o);
  }

  /** reboot (soft or hard) / stop / start; with `wait`, the server once settled in ACTIVE or SHUTOFF, else null. */
  serverPowerAction(
    server: Ref,
    action: serverPower.PowerAction,
    o: serverPower.PowerOptions = {},
  ): Promise<Server | null> {
    return serverPower.serverPowerAction(this.#core, server, action, o);
  }

  /** Attach a volume to a server; with `wait`, once the volume is in-use. */
  attachVolume(
    server: Ref,
    volume: Ref,
    o: volumeAttach.AttachOptions = {},
  ): Promise<volumeAttach.ServerVolumeAttachment> {
    return volumeAttach.attachVolume(this.#core, server, volume, o);
  }

  /** Detach a volume from a server; with `wait`, once the volume is available. */
  detachVolume(server: Ref, volume: Ref, o: volumeAttach.AttachOptions = {}): Promise<void> {
    return volumeAttach.detachVolume(this.#core, server, volume, o);
  }

  getServerConsole(server: Ref, length?: number): Promise<string> {
    return servers.getServerConsole(this.#core, server, length);
  }

  /** Forget cached lists (all of them), e.g. after changes made outside this object. */
  invalidateCaches(): void {
    this.#core.invalidateCaches();
  }

  // ---------------------------------------------------------------- limits, zones

  getComputeLimits(): Promise<ComputeLimits> {
    return limits.getComputeLimits(this.#core);
  }

  /** Nova's and Cinder's absolute limits with the APIs' names. */
  getAbsoluteLimits(o: { signal?: AbortSignal } = {}): ReturnType<typeof limits.getAbsoluteLimits> {
    return limits.getAbsoluteLimits(this.#core, o);
  }

  /** Names of availability zones (available ones unless `unavailable`); [] when the cloud forbids the call. */
  listAvailabilityZoneNames(opts: { unavailable?: boolean } = {}): Promise<string[]> {
    return limits.listAvailabilityZoneNames(this.#core, opts);
  }

  // ---------------------------------------------------------------- volumes

  listVolumes(opts: Signal = {}): Promise<Volume[]> {
    return volumes.listVolumes(this.#core, opts);
  }

  searchVolumes(nameOrId?: string, filters?: Filters): Promise<Volume[]> {
    return volumes.searchVolumes(this.#core, nameOrId, filters);
  }

  getVolume(nameOrId: Ref, filters?: Filters): Promise<Volume | null> {
    return volumes.getVolume(this.#core, nameOrId, filters);
  }

  getVolumeById(id: string): Promise<Volume | null> {
    return volumes.getVolumeById(this.#core, id);
  }

  /** Create a volume (optionally from an image by name or id); `wait` until available (error → RESOURCE_FAILED). */
  createVolume(o: volumes.CreateVolumeOptions): Promise<Volume> {
    return volumes.createVolume(this.#core, o);
  }

  /** False when missing or 404. `wait` until it is gone. */
  deleteVolume(
    nameOrId: Ref,
    o: { wait?: boolean; timeoutMs?: number; force?: boolean; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    return volumes.deleteVolume(this.#core, nameOrId, o);
  }

  // ---------------------------------------------------------------- object store

  listContainers(opts: Signal & { prefix?: string } = {}): Promise<Container[]> {
    return objects.listContainers(this.#core, opts);
  }

  /** null when it does not exist. */
  getContainer(name: string, opts: Signal = {}): Promise<Container | null> {
    return objects.getContainer(this.#core, name, opts);
  }

  /** The container, created when missing; an existing one is returned as it is. */
  createContainer(name: string, opts: Signal & { metadata?: Record<string, string> } = {}): Promise<Container> {
    return objects.createContainer(this.#core, name, opts);
  }

  /** False when it does not exist; CONFLICT while it holds objects. */
  deleteContainer(name: string, opts: Signal = {}): Promise<boolean> {
    return objects.deleteContainer(this.#core, name, opts);
  }

  listObjects(container: string, opts: Signal & { prefix?: string } = {}): Promise<StoredObject[]> {
    return objects.listObjects(this.#core, container, opts);
  }

  /** null when the object (or its container) does not exist. */
  getObjectMetadata(container: string, name: string, opts: Signal = {}): Promise<StoredObject | null> {
    return objects.getObjectMetadata(this.#core, container, name, opts);
  }

  /** False when it does not exist. */
  deleteObject(container: string, name: string, opts: Signal = {}): Promise<boolean> {
    return objects.deleteObject(this.#core, container, name, opts);
  }

  /** Release the session's connections when this Cloud created the session (connectCloud); otherwise a no-op. */
  async close(): Promise<void> {
    if (this.#core.opts.ownsSession) await this.session.close();
  }

  /** Counters for observability and tests: how many list fetches each cache has started. */
  cacheStats(): { servers: number } {
    return { servers: this.#core.serverCache.fetches };
  }
}
