/**
 * `startProxy(opts)`: the federation proxy. node:http listens (llhttp parses and frames requests: the request
 * smuggling defences are Node's), the engine handles every request, and undici (one Agent) carries every upstream
 * call; bodies stream both ways. With `dataPlane: 'nginx'` nginx listens in front (native/lane.ts) and node:http
 * sits on a private Unix socket behind it.
 */
import { randomBytes } from 'node:crypto';
import { type AddressInfo, createServer as createNetServer, type Socket } from 'node:net';
import type { CloudConfig } from '@ocx/sdk';
import { createLogger, loadCloudsConfig } from '@ocx/sdk';
import { type Logger, pino } from 'pino';
import { Breakers } from './breaker.ts';
import { openDatabase } from './db/open.ts';
import { Engine, type RequestState } from './engine.ts';
import { listAggregation } from './extensions/aggregate.ts';
import { builtinExtensions } from './extensions/builtin.ts';
import type { Extension } from './extensions/types.ts';
import { createAgent } from './http.ts';
import type { RemoteTokenSource } from './k2k.ts';
import { HomeKeystone } from './keystone.ts';
import { createListener } from './listener.ts';
import { ProxyMetrics } from './metrics.ts';
import { findNginx, NativeLane } from './native/lane.ts';
import { proxyRoutes } from './proxy-routes.ts';
import { ResourceMappings } from './resource-mappings.ts';
import { SdkK2KTokenSource } from './sdk-k2k.ts';
import { SpRoots } from './sp-roots.ts';
import { TokenMappings } from './token-mappings.ts';

export interface StartProxyOptions {
  /** The home cloud: a clouds.yaml name, or a resolved CloudConfig. Its credentials are the proxy's service account. */
  homeCloud: string | CloudConfig;
  /** 'host:port' (default 127.0.0.1:9913; port 0 = ephemeral). */
  listen?: string | undefined;
  /** SQLite file path (default ./ocx-proxy.sqlite) or postgres://… */
  db?: string | undefined;
  /** Where to find clouds.yaml when `homeCloud` is a name (default: openstacksdk's search path). */
  cloudsFile?: string | undefined;
  /** SQLite: longest wait, off the event loop, for another process's write lock (default 5 s). */
  dbBusyWaitMs?: number | undefined;
  /** Upstream deadline for one forwarded call, to response headers (default 60 s). */
  upstreamTimeoutMs?: number | undefined;
  /** A streamed body idle for this long is cut (default 120 s). */
  bodyIdleTimeoutMs?: number | undefined;
  /** Deadline of an aggregated list's fan-out (default 10 s). */
  fanoutTimeoutMs?: number | undefined;
  /** Deadline of the service account's K2K to one SP, to learn its endpoints (default min(upstream, 30 s)). */
  spDiscoveryTimeoutMs?: number | undefined;
  /** Deadline of one flood (locating an unknown id) (default 10 s). */
  floodTimeoutMs?: number | undefined;
  /** How long a validated token is trusted before asking Keystone again (default 15 s). */
  validationCacheMs?: number | undefined;
  /** How long "no target has this id" is remembered (default 5 s). */
  missTtlMs?: number | undefined;
  maxJsonBodyBytes?: number | undefined;
  maxRewriteBytes?: number | undefined;
  /** How long the mapping write of a create is retried while the database is away before the create is undone (10 s). */
  mappingWriteRetryMs?: number | undefined;
  breakerFailureThreshold?: number | undefined;
  breakerOpenMs?: number | undefined;
  /** A client must send its whole request head within this (slowloris; default 20 s). */
  headersTimeoutMs?: number | undefined;
  /** An idle keep-alive connection is closed after this (default 65 s). */
  keepAliveTimeoutMs?: number | undefined;
  /** Open client connections at most; beyond it new ones are closed at once (default 4096). */
  maxConnections?: number | undefined;
  /** Extra extensions, run after the built-in ones. */
  extensions?: Extension[] | undefined;
  /** Replace K2K (tests, or another federation mechanism). */
  remoteTokenSource?: RemoteTokenSource | undefined;
  logger?: Logger | undefined;
  /** pino level when no logger is given (default info; 'silent' in tests). */
  logLevel?: string | undefined;
  /**
   * 'node' (default): the engine's node:http listener listens. 'nginx': nginx with its Lua module listens and
   * answers repeated pass-through GET/HEAD requests itself (native/lane.ts); needs `findNginx()`.
   */
  dataPlane?: 'node' | 'nginx' | undefined;
  /**
   * Peer proxies allowed to inject mappings here (token injection): users of the home Keystone, by name or id,
   * that must also hold `peerRole`. Default none: every injection is refused with 403.
   */
  peerUsers?: string[] | undefined;
  /** The role a peer account must hold at the home Keystone (default 'service'). */
  peerRole?: string | undefined;
  /**
   * This proxy's accounts at other clouds, to prove itself a peer to the proxies there when injecting:
   * target (service provider id) → clouds.yaml entry name (read from `cloudsFile`) or a resolved CloudConfig.
   */
  peerAccounts?: Record<string, string | CloudConfig> | undefined;
  /** Configured remote projects: local project id → target → remote project id (stored in the database). */
  projectMappings?: Array<{ localProjectId: string; targetId: string; remoteProjectId: string }> | undefined;
}

export interface RunningProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** This deployment's id on MM-PROXY-LIST. */
  proxyId: string;
  homeId: string;
  metrics: ProxyMetrics;
  stop(): Promise<void>;
}

function resolveCloud(opts: StartProxyOptions, cloud: string | CloudConfig): CloudConfig {
  if (typeof cloud !== 'string') return cloud;
  const cfg = loadCloudsConfig(opts.cloudsFile ? { files: { clouds: [opts.cloudsFile] } } : {});
  return cfg.getCloud(cloud);
}

function resolveHome(opts: StartProxyOptions): CloudConfig {
  return resolveCloud(opts, opts.homeCloud);
}

function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  if (i < 0) return { host: '127.0.0.1', port: Number(listen) };
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1', port: Number(listen.slice(i + 1)) };
}

export async function startProxy(opts: StartProxyOptions): Promise<RunningProxy> {
  const home = resolveHome(opts);
  // Asynchronous, batched stdout (sonic-boom): with process.stdout a line per request was a synchronous write(2)
  // on a pipe; even asynchronous, one write per line cost ~25 µs of proxy CPU per request. Lines are written in
  // 4 KiB batches, and at least every 250 ms when the proxy is quiet; flushed on stop.
  const ownDestination = opts.logger ? undefined : pino.destination({ fd: 1, sync: false, minLength: 4096 });
  const logFlusher = ownDestination
    ? setInterval(() => {
        try {
          ownDestination.flush();
        } catch {
          // nothing buffered / stdout gone
        }
      }, 250)
    : undefined;
  logFlusher?.unref();
  const logger =
    opts.logger ??
    createLogger({
      name: 'ocx-proxy',
      level: opts.logLevel ?? process.env.OCX_LOG_LEVEL ?? 'info',
      destination: ownDestination,
    });
  const metrics = new ProxyMetrics({ defaultMetrics: false });
  const agent = createAgent();
  const database = await openDatabase(opts.db ?? 'ocx-proxy.sqlite', {
    busyWaitMs: opts.dbBusyWaitMs,
    onIdleError: (err) => logger.warn({ err: { message: err.message } }, 'a database connection was lost'),
  });
  const db = database.db;

  // Deployment-wide values shared by replicas through the database.
  const meta = async (key: string, make: () => string): Promise<string> => {
    const row = await db.selectFrom('proxy_meta').select('value').where('key', '=', key).executeTakeFirst();
    if (row) return row.value;
    await db
      .insertInto('proxy_meta')
      .values({ key, value: make() })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const again = await db.selectFrom('proxy_meta').select('value').where('key', '=', key).executeTakeFirstOrThrow();
    return again.value;
  };
  const pepper = Buffer.from(await meta('token_hash_pepper', () => randomBytes(32).toString('base64')), 'base64');
  const proxyId = await meta('proxy_id', () => `ocx-${randomBytes(6).toString('hex')}`);

  const timeoutMs = opts.upstreamTimeoutMs ?? 60_000;
  const keystone = new HomeKeystone({ cloud: home, timeoutMs: Math.min(timeoutMs, 30_000) });
  const source = opts.remoteTokenSource ?? new SdkK2KTokenSource({ identityUrl: keystone.identityUrl, metrics });
  const tokens = new TokenMappings({ db, pepper, source, metrics });
  for (const m of opts.projectMappings ?? [])
    await tokens.setProjectMapping(m.localProjectId, m.targetId, m.remoteProjectId);
  const resources = new ResourceMappings({ db, metrics, missTtlMs: opts.missTtlMs ?? 5_000 });
  const breakers = new Breakers({
    failureThreshold: opts.breakerFailureThreshold ?? 5,
    openMs: opts.breakerOpenMs ?? 30_000,
    metrics,
  });
  const spRoots = new SpRoots({
    db,
    keystone,
    source,
    logger,
    metrics,
    discoveryTimeoutMs: opts.spDiscoveryTimeoutMs ?? Math.min(timeoutMs, 30_000),
    rediscoverMs: 30_000,
    allow: (id) => !breakers.isOpen(id),
  });
  const { host, port: askedPort } = parseListen(opts.listen ?? '127.0.0.1:9913');
  let lane: NativeLane | undefined;
  let port = askedPort;
  if (opts.dataPlane === 'nginx') {
    const install = findNginx();
    if (!install) {
      throw new Error('data plane nginx: nginx with its Lua module is not installed (Debian: libnginx-mod-http-lua)');
    }
    if (port === 0) port = await freePort(host);
    lane = new NativeLane({
      install,
      listenHost: host,
      listenPort: port,
      proxyId,
      upstreamTimeoutMs: timeoutMs,
      bodyIdleTimeoutMs: opts.bodyIdleTimeoutMs ?? 120_000,
      logger,
      onObserved: (o) => engine.nativeAnswered(o),
    });
  }
  const homeId = home.name;

  const peerCache = new Map<string, { root: string | undefined; until: number }>();
  const peerKeystones = new Map<string, HomeKeystone>();
  let engine: Engine;
  const peerProxyFor = async (st: RequestState, targetId: string): Promise<string | undefined> => {
    const hit = peerCache.get(targetId);
    if (hit && hit.until > Date.now()) return hit.root;
    // A proxy in front of the target's services is found where its catalog sends block-storage (or compute).
    const cred = await engine.credential(st, targetId, Date.now() + timeoutMs);
    let root: string | undefined;
    // Registered as such in the target's catalog (service type federation-proxy), else found where the
    // catalog sends block storage or compute (a proxy answers /.ocx-proxy).
    const candidates = [
      cred.endpoints['federation-proxy'],
      ...['block-storage', 'compute', 'image', 'network'].map((svc) =>
        cred.endpoints[svc]?.replace(/\/(volume|compute|image|network|object-store)$/, ''),
      ),
    ].filter((c): c is string => !!c);
    for (const candidate of [...new Set(candidates)]) {
      try {
        const r = await fetch(`${candidate}/.ocx-proxy`, { signal: AbortSignal.timeout(5_000) });
        if (r.ok) {
          const info = (await r.json()) as { ocx_proxy?: { id?: string } };
          if (info.ocx_proxy?.id && info.ocx_proxy.id !== proxyId) {
            root = candidate;
            break;
          }
        } else {
          await r.body?.cancel();
        }
      } catch {
        // not a proxy (or down)
      }
    }
    peerCache.set(targetId, { root, until: Date.now() + 60_000 });
    return root;
  };

  engine = new Engine({
    proxyId,
    homeId,
    keystone,
    tokens,
    resources,
    spRoots,
    breakers,
    metrics,
    logger,
    agent,
    extensions: [listAggregation(), ...builtinExtensions(), ...(opts.extensions ?? [])],
    listenOrigin: `http://${host}:${port}`,
    upstreamTimeoutMs: timeoutMs,
    bodyIdleTimeoutMs: opts.bodyIdleTimeoutMs ?? 120_000,
    fanoutTimeoutMs: opts.fanoutTimeoutMs ?? 10_000,
    floodTimeoutMs: opts.floodTimeoutMs ?? 10_000,
    validationCacheMs: opts.validationCacheMs ?? 15_000,
    maxJsonBodyBytes: opts.maxJsonBodyBytes ?? 1024 * 1024,
    maxRewriteBytes: opts.maxRewriteBytes ?? 32 * 1024 * 1024,
    mappingWriteRetryMs: opts.mappingWriteRetryMs,
    peerProxyFor,
    peers: { users: opts.peerUsers ?? [], role: opts.peerRole ?? 'service' },
    peerToken: async (targetId) => {
      let ks = peerKeystones.get(targetId);
      if (!ks) {
        const account = opts.peerAccounts?.[targetId];
        if (!account) return undefined;
        ks = new HomeKeystone({ cloud: resolveCloud(opts, account), timeoutMs: Math.min(timeoutMs, 30_000) });
        peerKeystones.set(targetId, ks);
      }
      return (await ks.serviceToken()).token;
    },
    lane,
  });

  const onRequest = proxyRoutes({ engine, lane, metrics, logger, proxyId, homeId });

  const server = createListener({
    engine,
    logger,
    onRequest,
    headersTimeoutMs: opts.headersTimeoutMs ?? 20_000,
    keepAliveTimeoutMs: opts.keepAliveTimeoutMs ?? 65_000,
    maxConnections: opts.maxConnections ?? 4096,
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      resolve();
    };
    // Behind nginx the engine listens on a private Unix socket only nginx reaches.
    if (lane) server.listen(lane.engineSocket, ready);
    else server.listen(port, host, ready);
  });
  let url: string;
  if (lane) {
    try {
      await lane.start();
    } catch (err) {
      server.close();
      await lane.stop();
      await database.close();
      throw err;
    }
    url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  } else {
    const addr = server.address() as AddressInfo;
    url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
  }
  // The engine builds fallback links from the real port.
  engine.setListenOrigin(url);

  const sweeper = setInterval(() => {
    tokens.sweep().catch((err: unknown) => logger.warn({ err: { message: (err as Error).message } }, 'sweep failed'));
  }, 60_000);
  sweeper.unref();

  logger.info(
    { url, home: homeId, db: database.kind, proxyId, dataPlane: lane ? 'nginx' : 'node' },
    'federation proxy listening',
  );
  let stopped = false;
  return {
    url,
    proxyId,
    homeId,
    metrics,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(sweeper);
      await lane?.stop();
      spRoots.close();
      if (logFlusher) clearInterval(logFlusher);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
      await agent.close().catch(() => undefined);
      await keystone.close().catch(() => undefined);
      await database.close();
      if (ownDestination) {
        await new Promise<void>((resolve) => {
          setTimeout(resolve, 1_000).unref();
          try {
            ownDestination.flush(() => resolve());
          } catch {
            resolve(); // nothing to flush / stdout gone
          }
        });
      }
    },
  };
}

/** A free TCP port on `host` for nginx to listen on (asked for port 0). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
