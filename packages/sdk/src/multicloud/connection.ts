import { Cloud, type CloudOptions } from '../cloud/cloud.ts';
import type { CloudConfig } from '../config/types.ts';
import { BlockStorageClient } from '../services/block-storage.ts';
import { ComputeClient } from '../services/compute.ts';
import { IdentityClient } from '../services/identity.ts';
import { ImageClient } from '../services/image.ts';
import { NetworkClient } from '../services/network.ts';
import { ObjectStoreClient } from '../services/object-store.ts';
import type { ServiceClient, ServiceClientOptions, Session } from '../session/types.ts';
import type { Connection, ConnectionVia } from './types.ts';

/** Per-service options from the cloud's `<service>_*` settings (endpoint override, api version, interface). */
function serviceOptions(config: CloudConfig, serviceType: string): ServiceClientOptions {
  const svc = config.services[serviceType];
  if (!svc) return {};
  const out: ServiceClientOptions = {};
  if (svc.endpointOverride) out.endpointOverride = svc.endpointOverride;
  if (svc.apiVersion) out.apiVersion = svc.apiVersion;
  if (svc.interface) out.interface = svc.interface;
  if (svc.serviceName) out.serviceName = svc.serviceName;
  if (svc.defaultMicroversion) out.microversion = svc.defaultMicroversion;
  return out;
}

/** A cloud + region with its session; service clients are made on first use and kept. */
export class CloudConnection implements Connection {
  readonly name: string;
  readonly cloud: string;
  readonly region: string;
  readonly config: CloudConfig;
  readonly via: ConnectionVia;
  readonly home: string | undefined;
  readonly tags: readonly string[];
  readonly session: Session;
  #identity?: IdentityClient;
  #compute?: ComputeClient;
  #image?: ImageClient;
  #network?: NetworkClient;
  #blockStorage?: BlockStorageClient;
  #objectStore?: ObjectStoreClient;
  #cloudLayer?: Cloud;
  readonly #plainClients = new Map<string, ServiceClient>();
  readonly #cloudOptions: CloudOptions | undefined;

  constructor(init: {
    name: string;
    config: CloudConfig;
    session: Session;
    via: ConnectionVia;
    home?: string | undefined;
    tags?: readonly string[] | undefined;
    cloudOptions?: CloudOptions | undefined;
  }) {
    this.#cloudOptions = init.cloudOptions;
    this.name = init.name;
    this.config = init.config;
    this.cloud = init.config.name;
    this.region = init.session.regionName ?? init.config.regionName;
    this.session = init.session;
    this.via = init.via;
    this.home = init.home;
    this.tags = Object.freeze([...(init.tags ?? [])]);
  }

  /** A client for any service type; the cloud's `<service>_*` settings apply unless `opts` overrides them. */
  client(serviceType: string, opts?: ServiceClientOptions): ServiceClient {
    if (opts) return this.session.client(serviceType, { ...serviceOptions(this.config, serviceType), ...opts });
    // The common call (no options) is made on every request by the readers: keep its client.
    let c = this.#plainClients.get(serviceType);
    if (!c) {
      c = this.session.client(serviceType, serviceOptions(this.config, serviceType));
      this.#plainClients.set(serviceType, c);
    }
    return c;
  }

  get identity(): IdentityClient {
    this.#identity ??= new IdentityClient(this.client('identity'));
    return this.#identity;
  }
  get compute(): ComputeClient {
    this.#compute ??= new ComputeClient(this.client('compute'));
    return this.#compute;
  }
  get image(): ImageClient {
    this.#image ??= new ImageClient(this.client('image'));
    return this.#image;
  }
  get network(): NetworkClient {
    this.#network ??= new NetworkClient(this.client('network'));
    return this.#network;
  }
  get blockStorage(): BlockStorageClient {
    this.#blockStorage ??= new BlockStorageClient(this.client('block-storage'));
    return this.#blockStorage;
  }
  /** The shade-style cloud layer (normalized resources with location, caches, waits) on this connection. */
  get cloudLayer(): Cloud {
    this.#cloudLayer ??= new Cloud(this.session, this.#cloudOptions);
    return this.#cloudLayer;
  }
  get objectStore(): ObjectStoreClient {
    this.#objectStore ??= new ObjectStoreClient(this.client('object-store'));
    return this.#objectStore;
  }
}
