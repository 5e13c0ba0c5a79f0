/**
 * One simulated cloud: a fastify server on 127.0.0.1:port with Keystone at /identity and the given service
 * modules at their prefixes, a CloudContext shared by them, fault injection and the /_devcloud admin API.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { adminRoutes } from './admin.ts';
import type {
  CloudContext,
  FaultSpec,
  InternalApis,
  ServiceModule,
  ServiceMount,
  StateStore,
  TokenInfo,
} from './context.ts';
import { InternalError } from './context.ts';
import { cutOff, Faults, faultDelayMs, injectedErrorBody, throttle } from './faults.ts';
import { frameworkErrorHandler, jsonNestedDeeperThan, MAX_JSON_DEPTH } from './framework-errors.ts';
import { Federation } from './keystone/federation.ts';
import { KEYSTONE_MOUNT, type KeystoneRouteSet, keystonePlugin } from './keystone/index.ts';
import { Keystone } from './keystone/model.ts';
import { keystoneRouteSets } from './keystone/route-sets.ts';
import { type QuotaService, Quotas } from './quotas.ts';
import { MemoryStore } from './store.ts';

export interface BootstrapUser {
  name: string;
  password: string;
  project: string;
  roles: string[];
  /** Make the project the user's default_project_id (an unscoped login is then scoped to it). */
  defaultProject?: boolean;
}

/** The users every cloud starts with, as in the real-OpenStack harness (demo has a default project, admin not). */
export const DEFAULT_USERS: BootstrapUser[] = [
  { name: 'admin', password: 'admin-secret', project: 'admin', roles: ['admin'] },
  { name: 'demo', password: 'demo-secret', project: 'demo', roles: ['member', 'reader'], defaultProject: true },
];

export interface CreateCloudOptions {
  name: string;
  /** 0 (default) = ephemeral. */
  port?: number;
  region?: string;
  services?: ServiceModule[];
  store?: StateStore;
  /**
   * Directory for this cloud's files (image data, objects). Default: the store's `dataDir` (beside a SQLite state
   * file), else a private temp dir removed on close.
   */
  dataDir?: string;
  /** BUILD/creating → settled delay, ms (default 1000). */
  transitionMs?: number;
  /** Token lifetime, seconds (default 3600). */
  tokenTtlSeconds?: number;
  /** Initial faults by service key ('*', a catalog type or a service name). */
  faults?: Record<string, FaultSpec>;
  users?: BootstrapUser[];
  quotaDefaults?: Partial<Record<QuotaService, Record<string, number>>>;
  /** Log level for this cloud's JSON-lines log on stderr (default: env OCX_DEVCLOUD_LOG or 'warn'). */
  logLevel?: string;
  /** Other clouds of the same devcloud, so one cloud's admin API can set faults on another (e.g. a down one). */
  peers?: () => ReadonlyMap<string, Cloud>;
}

export interface Cloud {
  readonly name: string;
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly baseUrl: string;
  /** http://127.0.0.1:PORT/identity/v3 */
  readonly authUrl: string;
  readonly region: string;
  readonly app: FastifyInstance;
  readonly ctx: CloudContext;
  readonly keystone: Keystone;
  /** K2K: this cloud as IdP (service providers, signing) and as SP (identity providers, mappings). */
  readonly federation: Federation;
  readonly faults: Faults;
  readonly mounts: ServiceMount[];
  /** Set (or clear with null/{}) the fault spec for a service key or '*'. */
  setFaults(service: string, spec: FaultSpec | null): Promise<void>;
  close(): Promise<void>;
}

function missing(service: string): never {
  throw new InternalError(503, `The ${service} service is not deployed in this devcloud cloud.`);
}

function defaultInternal(): InternalApis {
  return {
    volumes: {
      get: () => missing('volume'),
      create: async () => missing('volume'),
      attach: () => missing('volume'),
      detach: () => missing('volume'),
      delete: () => missing('volume'),
    },
    images: { get: () => missing('image'), create: async () => missing('image') },
    network: {
      bindPort: () => missing('network'),
      portsForDevice: () => missing('network'),
      releaseDevice: () => missing('network'),
    },
    quotas: { usage: () => ({}) },
  };
}

function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const LEVELS: Record<string, number> = { debug: 20, info: 30, warn: 40, error: 50, silent: 100 };

/** JSON lines on stderr (pino's shape), enough for a simulator and much lighter to load than pino. */
function jsonLogger(cloud: string, level: string): (lvl: 'info' | 'warn', msg: string, data?: object) => void {
  const min = LEVELS[level] ?? LEVELS.warn ?? 40;
  return (lvl, msg, data) => {
    const n = LEVELS[lvl] ?? 30;
    if (n < min) return;
    process.stderr.write(`${JSON.stringify({ level: n, time: Date.now(), cloud, msg, ...data })}\n`);
  };
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

/** Temp data dirs of clouds still open: removed at process exit even when nobody closed the cloud. */
const tempDataDirs = new Set<string>();
let exitHook = false;
function tempDataDir(cloud: string): string {
  const dir = mkdtempSync(join(tmpdir(), `devcloud-${cloud.replace(/[^A-Za-z0-9_-]/g, '_')}-data-`));
  tempDataDirs.add(dir);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const d of tempDataDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}
function removeTempDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDataDirs.delete(dir);
}

export async function createCloud(opts: CreateCloudOptions): Promise<Cloud> {
  const name = opts.name;
  const region = opts.region ?? 'RegionOne';
  const store: StateStore = opts.store ?? new MemoryStore();
  const modules = opts.services ?? [];
  const logger = jsonLogger(name, opts.logLevel ?? process.env.OCX_DEVCLOUD_LOG ?? 'warn');
  const keystone = new Keystone({ store, region, tokenTtlSeconds: opts.tokenTtlSeconds ?? 3600 });
  keystone.bootstrap(opts.users ?? DEFAULT_USERS);
  const federation = new Federation(keystone, store);
  const quotas = new Quotas(store, opts.quotaDefaults);
  const faults = new Faults();
  const persistentDataDir = opts.dataDir ?? store.dataDir;
  const dataDir = persistentDataDir ?? tempDataDir(name);
  if (persistentDataDir) mkdirSync(persistentDataDir, { recursive: true });
  let baseUrl = '';
  let port = opts.port ?? 0;

  const internal = defaultInternal();
  const usageFns: ((projectId: string) => Record<string, number>)[] = [];
  const ctx: CloudContext = {
    name,
    get baseUrl() {
      return baseUrl;
    },
    region,
    validateToken: (token: string): TokenInfo | undefined => keystone.tokenInfo(token),
    projectName: (projectId: string) => keystone.projects.get(projectId)?.name,
    quotaLimit: (service, projectId, resource) => quotas.limit(service, projectId, resource),
    quotaLimits: (service, projectId) => quotas.limits(service, projectId),
    setQuotaLimit: (service, projectId, resource, limit) => quotas.set(service, projectId, resource, limit),
    resetQuotaLimits: (service, projectId) => quotas.reset(service, projectId),
    internal,
    transitionMs: opts.transitionMs ?? 1000,
    store,
    dataDir,
    log: {
      info: (msg, data) => logger('info', msg, data),
      warn: (msg, data) => logger('warn', msg, data),
    },
  };
  for (const m of modules) {
    const part = m.internal?.(ctx);
    if (!part) continue;
    for (const [key, value] of Object.entries(part) as [keyof InternalApis, unknown][]) {
      if (key === 'quotas') usageFns.push((value as InternalApis['quotas']).usage);
      else (internal as unknown as Record<string, unknown>)[key] = value;
    }
  }
  if (usageFns.length > 0) {
    internal.quotas = { usage: (projectId) => Object.assign({}, ...usageFns.map((f) => f(projectId))) };
  }

  let server: http.Server | undefined;
  const mounts = [KEYSTONE_MOUNT, ...modules.map((m) => m.mount)];
  const byPrefix = [...mounts].sort((a, b) => b.prefix.length - a.prefix.length);
  const mountFor = (url: string): ServiceMount | undefined =>
    byPrefix.find((m) => url === m.prefix || url.startsWith(`${m.prefix}/`) || url.startsWith(`${m.prefix}?`));
  const app = Fastify({
    logger: false,
    bodyLimit: 16 * 1024 * 1024,
    // a path the router cannot decode gets the service's 404, not fastify's own error body
    frameworkErrors: frameworkErrorHandler((url) => mountFor(url)?.type),
    // Swift's routes take container names (up to 256 characters, percent-encoded in the URL) as a parameter.
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 2048 },
    serverFactory: (handler) => {
      server = http.createServer({ keepAliveTimeout: 5000 }, handler);
      return server;
    },
  });

  // JSON bodies: tolerate an empty body (some clients send Content-Type without one).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    if (jsonNestedDeeperThan(text, MAX_JSON_DEPTH)) {
      return done(
        Object.assign(new Error(`Malformed request body: JSON nested more than ${MAX_JSON_DEPTH} levels deep.`), {
          statusCode: 400,
        }),
        undefined,
      );
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(
        Object.assign(new Error('Malformed request body: the body is not valid JSON.'), { statusCode: 400 }),
        undefined,
      );
    }
  });

  const slow = new WeakMap<FastifyRequest, number>();
  const cut = new WeakMap<FastifyRequest, number>();

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-openstack-request-id', `req-${randomUUID()}`);
    if (req.url.startsWith('/_devcloud/')) return;
    const mount = mountFor(req.url);
    // Every catalog entry served at this prefix (Cinder is both block-storage/cinder and volumev3/cinderv3).
    const keys = mount ? mounts.filter((m) => m.prefix === mount.prefix).flatMap((m) => [m.type, m.name]) : [];
    const spec = faults.effective(keys);
    if (!spec) return;
    if (spec.down) {
      req.raw.socket.destroy();
      return reply.hijack();
    }
    if (spec.hang) return reply.hijack();
    const delay = faultDelayMs(spec);
    if (delay > 0) await sleep(delay);
    if (spec.errorRate && Math.random() < spec.errorRate) {
      const status = spec.errorStatus ?? 500;
      const { contentType, body } = injectedErrorBody(mount?.type, status);
      return reply.code(status).type(contentType).send(body);
    }
    if (spec.slowBodyBytesPerSec) slow.set(req, spec.slowBodyBytesPerSec);
    if (spec.cutBodyAfterBytes !== undefined) cut.set(req, spec.cutBodyAfterBytes);
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const cutAt = cut.get(req);
    if (cutAt !== undefined && payload !== null && payload !== undefined) {
      if (typeof payload === 'string' || Buffer.isBuffer(payload))
        reply.header('content-length', Buffer.byteLength(payload));
      return cutOff(payload, cutAt, () => req.raw.socket.destroy());
    }
    const bps = slow.get(req);
    if (!bps || payload === null || payload === undefined) return payload;
    if (typeof payload === 'string' || Buffer.isBuffer(payload))
      reply.header('content-length', Buffer.byteLength(payload));
    return throttle(payload, bps);
  });

  const peers = (): ReadonlyMap<string, Cloud> => opts.peers?.() ?? new Map([[name, cloud]]);
  adminRoutes(app, { name, faults, peers });

  const ksRouteSets: KeystoneRouteSet[] = keystoneRouteSets(federation);
  await app.register(async (child) => keystonePlugin(keystone, ksRouteSets)(child, ctx), {
    prefix: KEYSTONE_MOUNT.prefix,
  });
  for (const m of modules) {
    await app.register(async (child) => m.plugin(child, ctx), { prefix: m.mount.prefix });
  }
  await app.ready();
  if (!server) throw new Error('devcloud: fastify did not build the HTTP server');
  const srv: http.Server = server;
  try {
    port = await listen(srv, port);
  } catch (err) {
    await app.close().catch(() => undefined);
    if (!persistentDataDir) removeTempDataDir(dataDir);
    throw err;
  }
  baseUrl = `http://127.0.0.1:${port}`;
  for (const m of mounts) keystone.registerService(m.type, m.name, `${baseUrl}${m.catalogPath}`);

  faults.onDownChange = async (down) => {
    if (down) await closeServer(srv);
    else if (!srv.listening) await listen(srv, port);
  };
  for (const [key, spec] of Object.entries(opts.faults ?? {})) await faults.set(key, spec);

  let closed = false;
  const cloud: Cloud = {
    name,
    port,
    baseUrl,
    authUrl: `${baseUrl}${KEYSTONE_MOUNT.catalogPath}`,
    region,
    app,
    ctx,
    keystone,
    federation,
    faults,
    mounts,
    setFaults: (service, spec) => faults.set(service, spec),
    async close() {
      if (closed) return;
      closed = true;
      faults.onDownChange = async () => {};
      await closeServer(srv);
      await app.close();
      if (!persistentDataDir) removeTempDataDir(dataDir);
    },
  };
  return cloud;
}
