// The root of the `Cloud` facade chain (CloudBase → ComputeFacade → NetworkFacade → StorageFacade → Cloud): the one
// `CloudCore` every capability module works on, the session and raw service clients, location and capabilities,
// cache control and close. Subclasses reach the core through the protected `core` getter.
import type { BlockStorageClient } from '../services/block-storage.ts';
import type { ComputeClient } from '../services/compute.ts';
import type { ImageClient } from '../services/image.ts';
import type { NetworkClient } from '../services/network.ts';
import type { ObjectStoreClient } from '../services/object-store.ts';
import type { Session } from '../session/types.ts';
import { CloudCore, type CloudOptions } from './core.ts';
import type { Location } from './types.ts';

export class CloudBase {
  readonly #core: CloudCore;

  constructor(session: Session, options: CloudOptions = {}) {
    this.#core = new CloudCore(session, options);
  }

  /** The state the capability modules share; for the facades built on this class, not for callers. */
  protected get core(): CloudCore {
    return this.#core;
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

  /** Forget cached lists (all of them), e.g. after changes made outside this object. */
  invalidateCaches(): void {
    this.#core.invalidateCaches();
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
