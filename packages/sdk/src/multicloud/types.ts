import type { CloudOptions } from '../cloud/cloud.ts';
import type { CloudLayer } from '../cloud/layer.ts';
import type { CloudsConfig } from '../config/loader.ts';
import type { CloudConfig } from '../config/types.ts';
import type { OcxError } from '../errors/ocx-error.ts';
import type { BlockStorageClient } from '../services/block-storage.ts';
import type { ComputeClient } from '../services/compute.ts';
import type { IdentityClient } from '../services/identity.ts';
import type { ImageClient } from '../services/image.ts';
import type { NetworkClient } from '../services/network.ts';
import type { ObjectStoreClient } from '../services/object-store.ts';
import type { ServiceClient, ServiceClientOptions, Session } from '../session/types.ts';
import type { Transport } from '../transport/types.ts';
import type { FanOutContext, FanOutOptions } from './fanout.ts';

/** How a connection reaches its cloud. */
/** `gateway`: through an OCX gateway (clouds.yaml `gateway:`); its cloud layer speaks gRPC, it has no REST clients. */
export type ConnectionVia = 'credentials' | 'k2k' | 'gateway';

/** One cloud + region of a MultiCloud: the session plus lazily built service clients. */
export interface Connection {
  /** Unique within the MultiCloud: the cloud name, or `cloud/region` when the same cloud is connected in several regions. */
  readonly name: string;
  /** The cloud's name (clouds.yaml key, or the service provider id for clouds reached by K2K discovery). */
  readonly cloud: string;
  /** The region ('' when the cloud names none). */
  readonly region: string;
  readonly config: CloudConfig;
  readonly via: ConnectionVia;
  /** For K2K connections: the home connection's name. */
  readonly home: string | undefined;
  readonly tags: readonly string[];
  readonly session: Session;
  client(serviceType: string, opts?: ServiceClientOptions): ServiceClient;
  readonly identity: IdentityClient;
  readonly compute: ComputeClient;
  readonly image: ImageClient;
  readonly network: NetworkClient;
  readonly blockStorage: BlockStorageClient;
  readonly objectStore: ObjectStoreClient;
  /** The shade-style cloud layer (nodepool's surface): REST on this connection's session, or gRPC to its gateway. */
  readonly cloudLayer: CloudLayer;
}

/** Where a result came from. `project` is filled by `list()` from the connection's token. */
export interface CallLocation {
  cloud: string;
  region: string;
  /** The connection name (differs from cloud when one cloud is connected in several regions). */
  name: string;
}

export interface CallResult<T> {
  location: CallLocation;
  value: T;
  durationMs: number;
}

export interface CallFailure {
  cloud: string;
  region: string;
  name: string;
  /** AUTH_FAILED / AUTH_EXPIRED / FEDERATION_FAILED / UNREACHABLE / TIMEOUT / SERVICE_ERROR / CONFIG_INVALID / ... */
  error: OcxError;
  durationMs: number;
}

export interface CallOutcome<T> {
  /** In connection order. */
  results: CallResult<T>[];
  /** One per connection that failed, in connection order. */
  failures: CallFailure[];
}

export type CallOptions = FanOutOptions;

/** The function given to `call`: the connection, its name (as in the OCX proposal), and signal/deadline. */
export type CloudFn<T> = (conn: Connection, cloudName: string, ctx: FanOutContext) => Promise<T>;

/** A shade-style location attached to every item `list()` returns (same shape as the cloud layer's Location). */
export interface ItemLocation {
  cloud: string;
  region: string | null;
  zone: string | null;
  project: { id: string | null; name: string | null; domain_id: string | null; domain_name: string | null };
}

export type Located<T> = T & { location: ItemLocation };

export interface ListOutcome<T> {
  /** All items of all clouds, in connection order, each with `location`. */
  items: Located<T>[];
  failures: CallFailure[];
}

/** One service a cloud's catalog lets the user reach. */
export interface ReachableService {
  /** Canonical type (block-storage even when the catalog says volumev3). */
  type: string;
  /** The type exactly as the catalog lists it. */
  catalogType: string;
  name: string | undefined;
  endpoints: Array<{ interface: string; region: string; url: string }>;
}

export interface SelectOptions {
  /** Connection names or cloud names. */
  names?: readonly string[] | undefined;
  regions?: readonly string[] | undefined;
  /** Every listed tag must be present. */
  tags?: readonly string[] | undefined;
  where?: ((conn: Connection) => boolean) | undefined;
}

/** Builds the Session of one cloud. `home` is set for K2K clouds (the home cloud's session). */
export type SessionFactory = (
  cloud: CloudConfig,
  ctx: { home?: Session | undefined; transport?: Transport | undefined },
) => Session | Promise<Session>;

/**
 * A cloud to connect: a clouds.yaml name (all its regions), a name with a region and/or settings laid over it
 * (see GetCloudOptions.overrides), or a ready CloudConfig.
 */
export type CloudSpec =
  | string
  | { cloud: string; region?: string | undefined; overrides?: Record<string, unknown> | undefined }
  | CloudConfig;

export interface K2KOptions {
  /** Service provider ids to reach through the home Keystone. Default: every SP the home token lists. */
  serviceProviders?: readonly string[] | undefined;
  remoteProjectName?: string | undefined;
  remoteProjectId?: string | undefined;
  remoteProjectDomainName?: string | undefined;
  remoteProjectDomainId?: string | undefined;
}

export interface ConnectOptions {
  /** Clouds to connect. Default (with no `home` and no `k2k`): every cloud × region of `config`. */
  clouds?: readonly CloudSpec[] | undefined;
  /** Loaded clouds.yaml (default: loadCloudsConfig()). */
  config?: CloudsConfig | undefined;
  /** The home cloud (authenticated by its own credentials); its Keystone is the IdP for `k2k`. */
  home?: string | CloudConfig | undefined;
  /** Reach service providers of the home cloud by Keystone-to-Keystone federation. */
  k2k?: K2KOptions | undefined;
  /** Tags per cloud name (also read from each cloud's clouds.yaml `tags:` list). */
  tags?: Readonly<Record<string, readonly string[]>> | undefined;
  /** How sessions are made (default: the SDK's Session). */
  sessionFactory?: SessionFactory | undefined;
  /** Options for each connection's cloud layer (`conn.cloudLayer`): cache ages, direct gets, ... */
  cloudOptions?: CloudOptions | undefined;
  /** Shared transport for all sessions (one undici pool per origin). */
  transport?: Transport | undefined;
  /** Authenticate every cloud while connecting (default true); failures are reported in `connectFailures`. */
  authenticate?: boolean | undefined;
  /** Budget per cloud for connecting (ms, default 60 s). */
  deadlineMs?: number | undefined;
  concurrency?: number | undefined;
  signal?: AbortSignal | undefined;
}
