// Compute part of the `Cloud` facade: flavors, keypairs, servers (list cache, create, wait, power, delete, console),
// compute limits and availability zones; one-line delegations to the capability modules.
import type { NovaServer } from '../services/compute.ts';
import { CloudBase } from './cloud-base.ts';
import type { Ref, Signal } from './core.ts';
import * as flavors from './flavors.ts';
import * as keypairs from './keypairs.ts';
import * as limits from './limits.ts';
import * as serverCreate from './server-create.ts';
import * as serverPower from './server-power.ts';
import * as serverWait from './server-wait.ts';
import * as servers from './servers.ts';
import type { ComputeLimits, Filters, Flavor, Keypair, Server } from './types.ts';

export class ComputeFacade extends CloudBase {
  // ---------------------------------------------------------------- flavors

  listFlavors(opts: flavors.ListFlavorsOptions = {}): Promise<Flavor[]> {
    return flavors.listFlavors(this.core, opts);
  }

  searchFlavors(nameOrId?: string, filters?: Filters, opts?: { getExtra?: boolean }): Promise<Flavor[]> {
    return flavors.searchFlavors(this.core, nameOrId, filters, opts);
  }

  getFlavor(nameOrId: Ref, filters?: Filters, opts?: { getExtra?: boolean }): Promise<Flavor | null> {
    return flavors.getFlavor(this.core, nameOrId, filters, opts);
  }

  /** The smallest flavor with at least `ram` MiB (optionally whose name contains `include`); null if none. */
  getFlavorByRam(ram: number, include?: string): Promise<Flavor | null> {
    return flavors.getFlavorByRam(this.core, ram, include);
  }

  // ---------------------------------------------------------------- keypairs

  listKeypairs(opts: Signal = {}): Promise<Keypair[]> {
    return keypairs.listKeypairs(this.core, opts);
  }

  searchKeypairs(nameOrId?: string, filters?: Filters): Promise<Keypair[]> {
    return keypairs.searchKeypairs(this.core, nameOrId, filters);
  }

  getKeypair(nameOrId: string): Promise<Keypair | null> {
    return keypairs.getKeypair(this.core, nameOrId);
  }

  /** Without `publicKey` Nova generates the pair and the result carries `private_key`. */
  createKeypair(name: string, publicKey?: string): Promise<Keypair> {
    return keypairs.createKeypair(this.core, name, publicKey);
  }

  /** False on 404. */
  deleteKeypair(name: string): Promise<boolean> {
    return keypairs.deleteKeypair(this.core, name);
  }

  // ---------------------------------------------------------------- servers

  /**
   * All servers, normalized, with public_v4 / private_v4 / public_v6 / interface_ip resolved. Served from the
   * single-flight list cache: concurrent callers share one request; within `serverListAgeMs` the cached list is
   * returned; while a refresh runs, other callers get the previous list.
   */
  listServers(opts: servers.ListServersOptions = {}): Promise<Server[]> {
    return servers.listServers(this.core, opts);
  }

  /**
   * Nova records fetched by the caller (e.g. a `changes-since` poll) as listServers returns them: normalized,
   * addresses resolved, Neutron asked only about these servers (one floating-IP list when none has one).
   */
  expandServers(raw: NovaServer[], opts: Signal = {}): Promise<Server[]> {
    return servers.expandNovaServers(this.core, raw, opts);
  }

  searchServers(
    nameOrId?: string,
    filters?: Filters,
    opts: { allProjects?: boolean; bare?: boolean } = {},
  ): Promise<Server[]> {
    return servers.searchServers(this.core, nameOrId, filters, opts);
  }

  /**
   * A server by name or id (through the list cache, as shade; with `useDirectGet` and a UUID, one direct GET).
   * null when missing; AMBIGUOUS when several match. An object with an id is returned as is.
   */
  getServer(
    nameOrId: Ref,
    opts: { filters?: Filters; allProjects?: boolean; bare?: boolean } = {},
  ): Promise<Server | null> {
    return servers.getServer(this.core, nameOrId, opts);
  }

  /** Direct `GET /servers/{id}` (bypasses the cache), addresses resolved; null on 404. */
  getServerById(id: string): Promise<Server | null> {
    return servers.getServerById(this.core, id);
  }

  /** shade's create_server: names/ids/objects resolved, BDM v2 for volumes, userdata base64, then wait or one GET. */
  createServer(o: serverCreate.CreateServerOptions): Promise<Server> {
    return serverCreate.createServer(this.core, o);
  }

  /**
   * Wait until the server is ACTIVE with an address. ERROR → RESOURCE_FAILED with Nova's fault message;
   * ACTIVE without any address → the server is deleted and RESOURCE_FAILED thrown; timeout → TIMEOUT.
   * Polls through the server-list cache (so many waiters cost one list per interval).
   */
  waitForServer(server: Ref, o: serverWait.WaitForServerOptions = {}): Promise<Server> {
    return serverWait.waitForServer(this.core, server, o);
  }

  /**
   * Delete a server; false when it does not exist (or 404s). With `deleteIps`, its floating IPs go first; with
   * `wait`, returns once the server is gone. Invalidates the server-list cache.
   */
  deleteServer(
    nameOrId: Ref,
    o: { wait?: boolean; timeoutMs?: number; deleteIps?: boolean; signal?: AbortSignal } = {},
  ): Promise<boolean> {
    return servers.deleteServer(this.core, nameOrId, o);
  }

  /** reboot (soft or hard) / stop / start; with `wait`, the server once settled in ACTIVE or SHUTOFF, else null. */
  serverPowerAction(
    server: Ref,
    action: serverPower.PowerAction,
    o: serverPower.PowerOptions = {},
  ): Promise<Server | null> {
    return serverPower.serverPowerAction(this.core, server, action, o);
  }

  getServerConsole(server: Ref, length?: number): Promise<string> {
    return servers.getServerConsole(this.core, server, length);
  }

  // ---------------------------------------------------------------- limits, zones

  getComputeLimits(): Promise<ComputeLimits> {
    return limits.getComputeLimits(this.core);
  }

  /** Nova's and Cinder's absolute limits with the APIs' names. */
  getAbsoluteLimits(o: { signal?: AbortSignal } = {}): ReturnType<typeof limits.getAbsoluteLimits> {
    return limits.getAbsoluteLimits(this.core, o);
  }

  /** Cinder's absolute limits with the API's names (maxTotalVolumes, totalGigabytesUsed, ...). */
  getVolumeLimits(o: { signal?: AbortSignal } = {}): Promise<Record<string, number>> {
    return limits.getVolumeLimits(this.core, o);
  }

  /** Names of availability zones (available ones unless `unavailable`); [] when the cloud forbids the call. */
  listAvailabilityZoneNames(opts: { unavailable?: boolean } = {}): Promise<string[]> {
    return limits.listAvailabilityZoneNames(this.core, opts);
  }
}
