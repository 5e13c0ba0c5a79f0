/**
 * The root of the gateway backend's cloud layer: one clouds.yaml cloud with `gateway:` — its session (which only
 * logs in to the home Keystone: the token is the gateway's bearer), the gRPC client, the list caches (the same
 * single-flight ListCache as the REST backend, so many callers cost one RPC), the location filter naming the one
 * gateway cloud this entry stands for, and the helpers the capability classes share.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { CloudOptions } from '../cloud/core.ts';
import { ListCache } from '../cloud/list-cache.ts';
import type {
  Flavor,
  FloatingIp,
  Image,
  Keypair,
  Location,
  Network,
  SecurityGroup,
  Server,
  Volume,
} from '../cloud/types.ts';
import type { CloudConfig, GatewayConfig } from '../config/types.ts';
import { ErrorCode } from '../errors/codes.ts';
import { OcxError } from '../errors/ocx-error.ts';
import type { CloudCapabilities } from '../gen/ocx/cloud/v1/cloud_service_pb.ts';
import type {
  CloudFailure,
  FilterSchema,
  LocationFilterSchema,
  LocationSchema,
} from '../gen/ocx/cloud/v1/common_pb.ts';
import type { Limits } from '../gen/ocx/cloud/v1/resources_pb.ts';
import type { Session } from '../session/types.ts';
import { type CallBounds, GatewayClient } from './client.ts';
import { fromLocation } from './convert.ts';
import { GatewayUnsupported } from './unsupported.ts';

export interface GatewayCloudInit {
  /** The resolved clouds.yaml cloud; `config.gateway` must be set. */
  config: CloudConfig;
  /** Logs in to the home Keystone (the cloud's `auth`, or a caller's token a gateway forwards). */
  session: Session;
  options?: CloudOptions | undefined;
  /** close() also closes the session. */
  ownsSession?: boolean | undefined;
}

export abstract class GatewayCore extends GatewayUnsupported {
  readonly #session: Session;
  readonly #config: CloudConfig;
  readonly #ownsSession: boolean;
  protected readonly gw: GatewayConfig;
  protected readonly client: GatewayClient;
  protected readonly opts: CloudOptions & { serverListAgeMs: number; listAgeMs: number };
  protected readonly serverCache: ListCache<Server[]>;
  protected readonly caches: {
    flavors: ListCache<Flavor[]>;
    images: ListCache<Image[]>;
    keypairs: ListCache<Keypair[]>;
    volumes: ListCache<Volume[]>;
    floatingIps: ListCache<FloatingIp[]>;
    networks: ListCache<Network[]>;
    securityGroups: ListCache<SecurityGroup[]>;
  };
  #location: Promise<Location> | undefined;
  #capabilities: Promise<CloudCapabilities> | undefined;

  constructor(init: GatewayCloudInit) {
    super();
    const gw = init.config.gateway;
    if (!gw) {
      throw new OcxError(ErrorCode.CONFIG_INVALID, `cloud '${init.config.name}' has no gateway entry`, {
        cloud: init.config.name,
      });
    }
    this.gw = gw;
    this.#config = init.config;
    this.#session = init.session;
    this.#ownsSession = !!init.ownsSession;
    const options = init.options ?? {};
    this.opts = { ...options, serverListAgeMs: options.serverListAgeMs ?? 5000, listAgeMs: options.listAgeMs ?? 0 };
    const session = init.session;
    this.client = new GatewayClient({
      gateway: gw,
      cloud: init.config.name,
      region: gw.region,
      defaultTimeoutMs: (init.config.apiTimeout ?? 60) * 1000,
      token: async ({ signal, fresh }) => {
        if (fresh) session.invalidate();
        return session.getToken({ signal });
      },
    });
    this.serverCache = new ListCache({ maxAgeMs: this.opts.serverListAgeMs });
    const age = { maxAgeMs: this.opts.listAgeMs };
    this.caches = {
      flavors: new ListCache(age),
      images: new ListCache(age),
      keypairs: new ListCache(age),
      volumes: new ListCache(age),
      floatingIps: new ListCache(age),
      networks: new ListCache(age),
      securityGroups: new ListCache(age),
    };
  }

  get session(): Session {
    return this.#session;
  }
  get name(): string {
    return this.#config.name;
  }
  get region(): string {
    return this.#session.regionName;
  }
  protected get gatewayUrl(): string {
    return this.gw.url;
  }

  /** The one gateway cloud (and region) this entry stands for, as every request's location filter. */
  protected where(): MessageInitShape<typeof LocationFilterSchema> {
    return { clouds: [this.gw.cloud], region: this.gw.region };
  }
  /** The same as a Location (for creates). */
  protected at(): MessageInitShape<typeof LocationSchema> {
    return { cloud: this.gw.cloud, region: this.gw.region };
  }
  protected filter(nameOrId = ''): MessageInitShape<typeof FilterSchema> {
    return { location: this.where(), nameOrId };
  }

  /** A list over the one cloud answered with a per-cloud failure: that cloud's error, as the REST call would throw. */
  protected check(failures: readonly CloudFailure[]): void {
    const [f] = failures;
    if (!f) return;
    const code = (Object.values(ErrorCode) as string[]).includes(f.code)
      ? (f.code as ErrorCode)
      : ErrorCode.SERVICE_ERROR;
    throw new OcxError(code, f.message, {
      cloud: this.name,
      region: f.region || undefined,
      requestId: f.requestId || undefined,
    });
  }

  /** Nova's and Cinder's limits of the one cloud, with its location. */
  protected async limits(bounds: CallBounds = {}): Promise<Limits> {
    const r = await this.client.run('GetLimits', bounds, (o) =>
      this.client.cloud.getLimits({ location: this.where() }, o),
    );
    this.check(r.failures);
    const [one] = r.limits;
    if (!one) throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no limits', { cloud: this.name });
    return one;
  }

  /** What the gateway knows of the cloud: services, zones, formats (cached for the life of this object). */
  protected capabilities(): Promise<CloudCapabilities> {
    this.#capabilities ??= this.client
      .run('GetCapabilities', {}, (o) => this.client.cloud.getCapabilities({ location: this.where() }, o))
      .then((r) => {
        this.check(r.failures);
        const [one] = r.clouds;
        if (!one)
          throw new OcxError(ErrorCode.INVALID_RESPONSE, 'the gateway sent no capabilities', { cloud: this.name });
        return one;
      })
      .catch((err: unknown) => {
        this.#capabilities = undefined;
        throw err;
      });
    return this.#capabilities;
  }

  /** The location of this cloud + region + the project the gateway acts in there (zone null). */
  currentLocation(): Promise<Location> {
    this.#location ??= this.limits()
      .then((l) => ({ ...fromLocation(l.location, this.name), zone: null }))
      .catch((err: unknown) => {
        this.#location = undefined;
        throw err;
      });
    return this.#location;
  }

  /** Whether the cloud behind the gateway has a network (Neutron) service. */
  async hasNetwork(): Promise<boolean> {
    return (await this.capabilities()).services.some((s) => s.type === 'network');
  }

  /** Whether the cloud's Neutron offers floating IPs (its router extension), as the gateway found out. */
  async hasFloatingIps(): Promise<boolean> {
    const known = (await this.capabilities()).floatingIps;
    if (known === undefined) throw this.unsupportedError('hasFloatingIps (the gateway could not tell)');
    return known;
  }

  /** Forget cached lists (all of them). */
  invalidateCaches(): void {
    this.serverCache.invalidate();
    for (const c of Object.values(this.caches)) c.invalidate();
  }

  /** How many server-list RPCs the cache has started. */
  cacheStats(): { servers: number } {
    return { servers: this.serverCache.fetches };
  }

  /** Close the gRPC connection (and the session, when this object made it). */
  async close(): Promise<void> {
    this.client.close();
    if (this.#ownsSession) await this.#session.close();
  }
}
