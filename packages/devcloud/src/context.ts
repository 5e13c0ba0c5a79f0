/**
 * The contract between devcloud's parts. Each OpenStack service of one simulated cloud is a fastify plugin
 * (`ServicePlugin`) mounted under its devstack-style prefix on that cloud's port; services of the same cloud
 * talk to each other in-process through `CloudContext.internal`, never over HTTP.
 *
 * Owners: keystone/federation/faults/server/start (devcloud core); nova + neutron; cinder + glance + swift.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiFault } from './fault.ts';

/** What Keystone knows about a validated token; every service authorizes from this. */
export interface TokenInfo {
  userId: string;
  userName: string;
  userDomainId: string;
  /** Undefined for unscoped and domain-scoped tokens. */
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  domainId?: string;
  roles: string[];
  /** Has the `admin` role. Admin sees all projects' resources with `all_tenants`/`all_projects`. */
  isAdmin: boolean;
  expiresAt: Date;
  /** Present when the token came from K2K federation. */
  federated?: { identityProvider: string; protocol: string; groups: string[] };
}

/** Where a service plugin is mounted and how clients reach it. */
export interface ServiceMount {
  /** Catalog service type, e.g. 'compute', 'volumev3', 'image', 'network', 'object-store', 'identity'. */
  type: string;
  /** Catalog service name, e.g. 'nova', 'cinderv3', 'glance', 'neutron', 'swift', 'keystone'. */
  name: string;
  /** URL path prefix on the cloud's port, e.g. '/compute/v2.1'. */
  prefix: string;
  /** Catalog endpoint path (may contain `$(project_id)s`), e.g. '/volume/v3/$(project_id)s'. */
  catalogPath: string;
}

/** In-process calls between the services of one cloud (Nova → Cinder/Glance/Neutron). */
export interface InternalApis {
  volumes: {
    /** The volume as Cinder shows it, or undefined. */
    get(volumeId: string): { id: string; projectId: string; status: string; size: number } | undefined;
    /** Create a volume (boot from volume: source image or blank); resolves when it is 'available'. */
    create(args: {
      projectId: string;
      userId: string;
      size: number;
      name?: string;
      imageId?: string;
      snapshotId?: string;
      sourceVolumeId?: string;
    }): Promise<{ id: string }>;
    /** Mark attached to a server (status in-use, attachment recorded). Throws InternalError on a bad state. */
    attach(volumeId: string, serverId: string, device: string): void;
    detach(volumeId: string, serverId: string): void;
    delete(volumeId: string): void;
  };
  images: {
    get(
      imageId: string,
    ): { id: string; status: string; minDisk: number; minRam: number; size: number | null } | undefined;
    /**
     * A server snapshot (Nova's createImage): a private image owned by `projectId` whose bytes are those of
     * `sourceImageId` (empty when there is none or it has no data, e.g. a volume-backed server), with the source's
     * formats and minimums and `properties` on top. Resolves once the image is active.
     */
    create(args: {
      projectId: string;
      name: string;
      sourceImageId?: string;
      properties: Record<string, string>;
    }): Promise<{ id: string }>;
  };
  network: {
    /** Create (or bind an existing) port for a server on a network; returns the port with its fixed IPs. */
    bindPort(args: { projectId: string; serverId: string; networkId?: string; portId?: string; fixedIp?: string }): {
      id: string;
      networkId: string;
      networkName: string;
      macAddress: string;
      fixedIps: { ipAddress: string; subnetId: string; version: 4 | 6 }[];
    };
    /** Ports bound to a server, with floating IPs associated to them. */
    portsForDevice(serverId: string): {
      id: string;
      networkName: string;
      macAddress: string;
      fixedIps: { ipAddress: string; version: 4 | 6 }[];
      floatingIps: string[];
    }[];
    /** Delete ports Nova created for the server; unbind user-supplied ports. */
    releaseDevice(serverId: string): void;
  };
  quotas: {
    /** Current usage counts for a project, by resource name (instances, cores, ram, volumes, gigabytes, ...). */
    usage(projectId: string): Record<string, number>;
  };
}

/**
 * A fault thrown by InternalApis: an ApiFault the calling service may map (e.g. Nova turns Cinder's 503 into its
 * own 400) before rendering it in its own shape.
 */
export class InternalError extends ApiFault {}

/** Fault injection for one service (or the whole cloud when service is '*'). Set by config or the admin API. */
export interface FaultSpec {
  /** Added latency before answering, ms. */
  latencyMs?: number;
  /** Uniform jitter added on top, ms (0..jitterMs). */
  jitterMs?: number;
  /** Fraction 0..1 of requests answered with `errorStatus` (default 500). */
  errorRate?: number;
  errorStatus?: number;
  /** Connection refused: the cloud's listener is closed while down. */
  down?: boolean;
  /** Accept the request but never answer. */
  hang?: boolean;
  /** Stream response bodies slowly: bytes per second. */
  slowBodyBytesPerSec?: number;
  /**
   * Die mid-response: announce the whole body's length, send only this many bytes of it, then reset the
   * connection (a service provider crashing while it answers).
   */
  cutBodyAfterBytes?: number;
}

export interface CloudContext {
  /** Cloud name: 'idp', 'sp1', 'sp2', ... */
  readonly name: string;
  /** e.g. 'http://127.0.0.1:41234' (no trailing slash). Known once the listener is bound. */
  readonly baseUrl: string;
  readonly region: string;
  /** Keystone of this cloud validates tokens (in-process). Returns undefined for invalid/expired/revoked. */
  validateToken(token: string): TokenInfo | undefined;
  /** Project id → name lookup for responses that carry names. */
  projectName(projectId: string): string | undefined;
  /** Quota limits for a project and resource, -1 = unlimited. Keystone-side defaults, overridable per project. */
  quotaLimit(service: 'compute' | 'volume' | 'network', projectId: string, resource: string): number;
  /** All limits of a service for a project (defaults merged with overrides), for quota-set GET bodies. */
  quotaLimits(service: 'compute' | 'volume' | 'network', projectId: string): Record<string, number>;
  /** Override one limit for a project (quota-set PUT); -1 = unlimited. Persisted in the store. */
  setQuotaLimit(service: 'compute' | 'volume' | 'network', projectId: string, resource: string, limit: number): void;
  /** Drop a project's overrides (quota-set DELETE): back to the defaults. */
  resetQuotaLimits(service: 'compute' | 'volume' | 'network', projectId: string): void;
  readonly internal: InternalApis;
  /** Milliseconds a BUILD/creating state lasts before it settles (configurable; tests use small values). */
  readonly transitionMs: number;
  /** Persistent key/value tables for service state (memory, or SQLite with --state). */
  readonly store: StateStore;
  /**
   * This cloud's directory for files (Glance image data, Swift objects): `<state file>.data/<cloud>/` next to the
   * `--state` file when state is on disk, else a private temp dir removed when the cloud closes. Services keep
   * their files in a subdirectory named for themselves. `createCloud` always sets it.
   */
  readonly dataDir?: string;
  readonly log: { info(msg: string, data?: object): void; warn(msg: string, data?: object): void };
}

/** A tiny typed table store: each service keeps its records in named tables. */
export interface StateStore {
  table<T extends { id: string }>(name: string): Table<T>;
  /** Where files that belong with this state live (set by on-disk stores; the cloud's `dataDir` default). */
  readonly dataDir?: string;
}

export interface Table<T extends { id: string }> {
  get(id: string): T | undefined;
  put(row: T): void;
  delete(id: string): boolean;
  all(): T[];
  /** Rows in insertion order filtered by a predicate. */
  filter(pred: (row: T) => boolean): T[];
}

export type ServicePlugin = (app: FastifyInstance, ctx: CloudContext) => void | Promise<void>;

export interface ServiceModule {
  mount: ServiceMount;
  plugin: ServicePlugin;
  /** Contribute this service's implementation of part of InternalApis. */
  internal?: (ctx: CloudContext) => Partial<InternalApis>;
}

export type { FastifyReply, FastifyRequest };
