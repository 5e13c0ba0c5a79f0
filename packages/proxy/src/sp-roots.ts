/**
 * Where the service providers run their services (SP → service type → service root), for the services the home
 * cloud lacks. Version documents (`GET /compute/`, `GET /volume/`) are public: python-openstackclient and
 * keystoneauth ask for them without a token before their first call, so the proxy must know an SP's root without
 * a user's K2K. It learns roots three ways:
 *
 * - from the database (table `sp_service_roots`), so a restarted proxy or another replica answers at once;
 * - on its own: the proxy's service account (the `--home-cloud` credentials) runs K2K to each SP and reads the
 *   SP catalog of its scoped token. Lazily, when a lookup finds no root; one exchange per SP at a time
 *   (single-flight), each to its own deadline, at most once per `rediscoverMs` per SP;
 * - from users' K2K catalogs (`learn`), which also refresh a stored root that changed.
 */
import { OcxError } from '@ocx/sdk';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { ProxyDatabase } from './db/schema.ts';
import type { RemoteTokenSource } from './k2k.ts';
import type { HomeKeystone, ServiceProviderRef } from './keystone.ts';
import type { ProxyMetrics } from './metrics.ts';

export interface SpRootsOptions {
  db: Kysely<ProxyDatabase>;
  keystone: HomeKeystone;
  source: RemoteTokenSource;
  logger: Logger;
  metrics: ProxyMetrics;
  /** Deadline of one discovery (the service account's K2K to one SP). */
  discoveryTimeoutMs: number;
  /** After a discovery of an SP ended (learned or failed), the next one for that SP waits this long. */
  rediscoverMs: number;
  /** Whether a target may be asked now (its circuit breaker is not open; must not take a half-open trial slot). */
  allow?: ((spId: string) => boolean) | undefined;
}

export interface SpRoot {
  spId: string;
  root: string;
}

export class SpRoots {
  private readonly o: SpRootsOptions;
  /** sp id → service type → root. */
  private readonly roots = new Map<string, Map<string, string>>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly lastTried = new Map<string, number>();
  private warnedUnscoped = false;
  /** Aborted by close(): exchanges still running end, and nothing more is written. */
  private readonly closing = new AbortController();

  constructor(opts: SpRootsOptions) {
    this.o = opts;
  }

  /**
   * A service provider's root for `service`: stored or learned, else discovered with the service account's K2K
   * (waits for the discoveries, each bounded by `discoveryTimeoutMs`, or until `signal` aborts).
   * Undefined when no service provider runs it (or none could be asked).
   */
  async rootFor(service: string, signal?: AbortSignal): Promise<SpRoot | undefined> {
    const sps = await this.providers();
    let hit = this.pick(sps, service);
    if (hit) return hit;
    await this.reload(); // another replica (or an earlier run) may know it
    hit = this.pick(sps, service);
    if (hit) return hit;
    const allow = this.o.allow ?? (() => true);
    const runs = sps.filter((sp) => allow(sp.id)).map((sp) => this.discover(sp));
    if (runs.length === 0) return undefined;
    await new Promise<void>((resolve) => {
      let left = runs.length;
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      if (signal?.aborted) return done();
      signal?.addEventListener('abort', done, { once: true });
      // The first SP that turns out to run the service answers; the other exchanges go on and are stored.
      for (const run of runs) {
        void run.finally(() => {
          left--;
          if (left === 0 || this.pick(sps, service)) done();
        });
      }
    });
    return this.pick(sps, service);
  }

  /** Stop: running exchanges are abandoned and learn nothing more (call before the database closes). */
  close(): void {
    this.closing.abort(new Error('the proxy is stopping'));
  }

  /** Roots seen in a catalog of `spId` (a user's K2K, or discovery): new or changed ones are stored. Never rejects. */
  async learn(spId: string, endpoints: Record<string, string>): Promise<void> {
    if (this.closing.signal.aborted) return;
    let known = this.roots.get(spId);
    const changed = Object.entries(endpoints).filter(([svc, root]) => known?.get(svc) !== root);
    if (changed.length === 0) return;
    if (!known) {
      known = new Map();
      this.roots.set(spId, known);
    }
    for (const [svc, root] of changed) known.set(svc, root);
    const now = Date.now();
    try {
      for (const [svc, root] of changed) {
        await this.o.db
          .insertInto('sp_service_roots')
          .values({ sp_id: spId, service_type: svc, root_url: root, learned_at: now })
          .onConflict((oc) => oc.columns(['sp_id', 'service_type']).doUpdateSet({ root_url: root, learned_at: now }))
          .execute();
      }
      this.o.logger.info({ target: spId, services: Object.fromEntries(changed) }, 'learned service provider endpoints');
    } catch (err) {
      if (this.closing.signal.aborted) return;
      this.o.logger.warn(
        { target: spId, err: { message: (err as Error).message } },
        'could not store service provider endpoints',
      );
    }
  }

  /** The home Keystone's service providers, in a stable order (by id): the first that runs a service serves it. */
  private async providers(): Promise<ServiceProviderRef[]> {
    const login = await this.o.keystone.serviceToken();
    return [...login.serviceProviders].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  private pick(sps: ServiceProviderRef[], service: string): SpRoot | undefined {
    const allow = this.o.allow ?? (() => true);
    let fallback: SpRoot | undefined;
    for (const sp of sps) {
      const root = this.roots.get(sp.id)?.get(service);
      if (!root) continue;
      if (allow(sp.id)) return { spId: sp.id, root };
      fallback ??= { spId: sp.id, root };
    }
    return fallback;
  }

  private async reload(): Promise<void> {
    try {
      const rows = await this.o.db
        .selectFrom('sp_service_roots')
        .select(['sp_id', 'service_type', 'root_url'])
        .execute();
      for (const r of rows) {
        let m = this.roots.get(r.sp_id);
        if (!m) {
          m = new Map();
          this.roots.set(r.sp_id, m);
        }
        m.set(r.service_type, r.root_url);
      }
    } catch (err) {
      this.o.logger.warn({ err: { message: (err as Error).message } }, 'could not read service provider endpoints');
    }
  }

  private discover(sp: ServiceProviderRef): Promise<void> {
    const running = this.inflight.get(sp.id);
    if (running) return running;
    const last = this.lastTried.get(sp.id);
    if (last !== undefined && Date.now() - last < this.o.rediscoverMs) return Promise.resolve();
    const run = this.exchange(sp).finally(() => {
      this.inflight.delete(sp.id);
      this.lastTried.set(sp.id, Date.now());
    });
    this.inflight.set(sp.id, run);
    return run;
  }

  /** The service account's K2K to `sp`; its scoped token's catalog is all that is kept. Never rejects. */
  private async exchange(sp: ServiceProviderRef): Promise<void> {
    try {
      const login = await this.o.keystone.serviceToken();
      if (!login.projectId) {
        if (!this.warnedUnscoped) {
          this.warnedUnscoped = true;
          this.o.logger.warn(
            { cloud: this.o.keystone.cloudName },
            "the proxy's service account token is not project-scoped, so it cannot run K2K to learn service providers' endpoints (set project_name in its clouds.yaml entry)",
          );
        }
        return;
      }
      const remote = await this.o.source.obtain({
        localToken: login.token,
        localProjectId: login.projectId,
        localProjectName: login.projectName,
        localProjectDomainName: login.projectDomainName,
        sp,
        catalogOnly: true,
        deadline: Date.now() + this.o.discoveryTimeoutMs,
        signal: this.closing.signal,
      });
      this.o.metrics.spDiscovery(sp.id, 'ok');
      await this.learn(sp.id, remote.endpoints);
    } catch (err) {
      if (this.closing.signal.aborted) return;
      this.o.metrics.spDiscovery(sp.id, 'failed');
      this.o.logger.warn(
        {
          target: sp.id,
          err: { code: err instanceof OcxError ? err.code : undefined, message: (err as Error).message },
        },
        "the proxy's service account could not learn a service provider's endpoints by K2K",
      );
    }
  }
}
