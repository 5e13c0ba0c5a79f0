/**
 * The native lane: nginx (Debian's, with its Lua module) on the proxy's public address in front of the engine.
 *
 * The engine stays the one place that decides. When it has answered a body-less GET/HEAD by passing the upstream's
 * answer through unchanged (2xx, nothing to rewrite), it publishes that request's route — keyed by a hash of the
 * caller's token, the method, the exact request target and the routing header's value — with a lifetime no longer than the engine's own trust
 * in the token. nginx answers the same request again by itself, without a round trip through Node, until the route
 * expires or is purged; anything else, and any answer from the upstream that is not 2xx or 304, goes to the
 * engine on its private Unix socket. What nginx answered is drained back every second into the engine's metrics
 * and access log.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import { Client } from 'undici';
import { ROUTE_KEY_VALUE } from '../header-policy.ts';
import { nginxConf } from './nginx-conf.ts';

/** A route the engine worked out: where the same request goes next time, and with which credentials. */
export interface LaneRoute {
  /** http://host:port of the upstream service. */
  origin: string;
  /** Upstream path and query. */
  path: string;
  remoteToken: string;
  targetId: string;
  service: string;
  ttlMs: number;
  /** "type id" of the resource the route reaches, so that forgetting it purges the route. */
  resource?: string | undefined;
}

/**
 * Which request a route answers: the caller's token, the method, the exact request target and the value of the
 * routing header (ROUTE_KEY_REQUEST, MM-SERVICE-PROVIDER; undefined or "" when the request has none).
 */
export interface LaneRequest {
  token: string;
  method: string;
  target: string;
  via: string | undefined;
}

/** What the engine sees of the lane. */
export interface RouteLane {
  offer(req: LaneRequest, route: LaneRoute): void;
  /** A route nginx follows at once (a stream, engine/describe.ts); undefined when nginx cannot reach the origin. */
  routeFields?(route: Omit<LaneRoute, 'ttlMs' | 'resource'>): Promise<string | undefined>;
  withdraw(req: LaneRequest): void;
  forgetResource(resource: string): void;
}

/** One answer nginx gave by itself. */
export interface LaneObservation {
  service: string;
  method: string;
  status: number;
  targetId: string;
  seconds: number;
  upstreamSeconds: number | undefined;
  path: string;
}

export interface NginxInstall {
  nginx: string;
  modulesDir: string;
}

const MODULES_DIR = '/usr/lib/nginx/modules';
const RESTY_CORE = '/usr/share/lua/5.1/resty/core.lua';
const LUA_DIR = import.meta.dirname;
const MAX_PUBLISHED = 100_000;

/** nginx with the Lua module (Debian: nginx + libnginx-mod-http-lua), or undefined. */
export function findNginx(env: NodeJS.ProcessEnv = process.env): NginxInstall | undefined {
  const candidates = env.OCX_NGINX
    ? [env.OCX_NGINX]
    : [...(env.PATH ?? '').split(delimiter).map((d) => join(d, 'nginx')), '/usr/sbin/nginx'];
  const nginx = candidates.find((c) => c && existsSync(c));
  if (!nginx) return undefined;
  const mods = ['ndk_http_module.so', 'ngx_http_lua_module.so'].every((m) => existsSync(join(MODULES_DIR, m)));
  if (!mods || !existsSync(RESTY_CORE)) return undefined;
  return { nginx, modulesDir: MODULES_DIR };
}

/** A route's key in nginx's shared memory (ocx_lane.lua builds the same from the request); the token is hashed. */
export function laneKey(r: LaneRequest): string {
  return `${createHash('sha1').update(r.token).digest('base64')} ${r.method} ${r.via ?? ''} ${r.target}`;
}

export interface NativeLaneOptions {
  install: NginxInstall;
  listenHost: string;
  listenPort: number;
  proxyId: string;
  upstreamTimeoutMs: number;
  bodyIdleTimeoutMs: number;
  logger: Logger;
  onObserved: (o: LaneObservation) => void;
}

export class NativeLane implements RouteLane {
  readonly dir = mkdtempSync(join(tmpdir(), 'ocx-lane-'));
  /** Where the engine's node:http listener listens; only nginx connects to it. */
  readonly engineSocket = join(this.dir, 'engine.sock');
  /**
   * Marks nginx's own "where does this stream go?" requests to the engine (engine/describe.ts): nginx sets it on
   * those alone and blanks it on every client request it hands over, so no client can ask for a route (with its
   * remote token) by sending the header itself.
   */
  readonly decideSecret = randomBytes(24).toString('base64url');
  private readonly controlSocket = join(this.dir, 'control.sock');
  private readonly o: NativeLaneOptions;
  private child: ChildProcess | undefined;
  private control: Client | undefined;
  private stopping = false;
  private readonly published = new Map<string, { until: number; resource: string | undefined }>();
  private readonly byResource = new Map<string, Set<string>>();
  private readonly addresses = new Map<string, { address: string | undefined; until: number }>();
  private changes: string[] = [];
  private flushing: Promise<void> | undefined;
  private timers: NodeJS.Timeout[] = [];

  constructor(o: NativeLaneOptions) {
    this.o = o;
  }

  /** Start nginx and wait until it answers on its control socket. */
  async start(): Promise<void> {
    const conf = join(this.dir, 'nginx.conf');
    writeFileSync(
      conf,
      nginxConf({
        dir: this.dir,
        luaDir: LUA_DIR,
        modulesDir: this.o.install.modulesDir,
        listenHost: this.o.listenHost,
        listenPort: this.o.listenPort,
        engineSocket: this.engineSocket,
        controlSocket: this.controlSocket,
        enginePid: process.pid,
        proxyId: this.o.proxyId,
        decideSecret: this.decideSecret,
        upstreamTimeoutMs: this.o.upstreamTimeoutMs,
        bodyIdleTimeoutMs: this.o.bodyIdleTimeoutMs,
        asRoot: process.getuid?.() === 0,
      }),
    );
    this.control = new Client('http://ocx-lane', {
      socketPath: this.controlSocket,
      headersTimeout: 5_000,
      bodyTimeout: 5_000,
    });
    await this.spawn(conf);
    this.timers.push(
      setInterval(() => void this.drain().catch(() => undefined), 1_000),
      setInterval(() => this.sweep(), 30_000),
    );
    for (const t of this.timers) t.unref();
  }

  private async spawn(conf: string): Promise<void> {
    const child = spawn(this.o.install.nginx, ['-e', 'stderr', '-c', conf, '-p', this.dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child = child;
    const said: string[] = [];
    let rest = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        said.push(line);
        if (said.length > 20) said.shift();
        this.o.logger.warn({ nginx: line }, 'native lane');
      }
    });
    let exited: string | undefined;
    let up = false;
    child.once('exit', (code, signal) => {
      exited = `nginx exited (${signal ?? code}): ${said.slice(-3).join(' | ')}`;
      if (!up || this.stopping || this.child !== child) return;
      this.o.logger.error({ code, signal }, 'native lane: nginx exited; starting it again');
      setTimeout(() => {
        if (!this.stopping) this.spawn(conf).catch((err: unknown) => this.o.logger.error({ err }, 'native lane'));
      }, 1_000).unref();
    });
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (exited) throw new Error(exited);
      try {
        const r = await this.control!.request({ method: 'GET', path: '/ping' });
        await r.body.dump();
        if (r.statusCode === 200) {
          up = true;
          return;
        }
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`nginx did not start in 10 s: ${said.slice(-3).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  offer(req: LaneRequest, route: LaneRoute): void {
    if (this.stopping || this.published.size >= MAX_PUBLISHED) return;
    // A routing header the lane cannot match exactly stays with the engine (the Lua sends such requests there).
    if (req.via && !ROUTE_KEY_VALUE.test(req.via)) return;
    if (/[\t\n]/.test(req.target)) return;
    const key = laneKey(req);
    const until = Date.now() + route.ttlMs;
    void this.routeFields(route)
      .catch(() => undefined)
      .then((fields) => {
        const ttl = until - Date.now();
        if (!fields || ttl < 50 || this.stopping) return;
        this.record(key, until, route.resource);
        this.queue(`P\t${key}\t${Math.floor(ttl)}\t${fields}`);
      });
  }

  /**
   * A route in the Lua's format (address, port, host, path, remote token, target, service): published by offer(), or
   * followed at once for a stream the engine just decided (engine/describe.ts). Undefined when nginx cannot reach it.
   */
  async routeFields(route: Omit<LaneRoute, 'ttlMs' | 'resource'>): Promise<string | undefined> {
    const u = new URL(route.origin);
    if (u.protocol !== 'http:' || /[\t\n]/.test(route.path + route.remoteToken)) return undefined;
    const address = await this.address(u.hostname);
    if (!address) return undefined;
    return [address, u.port || '80', u.host, route.path, route.remoteToken, route.targetId, route.service].join('\t');
  }

  withdraw(req: LaneRequest): void {
    if (this.published.size === 0) return;
    const key = laneKey(req);
    if (this.published.has(key)) this.purge([key]);
  }

  forgetResource(resource: string): void {
    const keys = this.byResource.get(resource);
    if (keys) this.purge([...keys]);
  }

  /** Feed what nginx answered since the last drain into the engine's metrics and log. */
  async drain(): Promise<void> {
    if (!this.control || this.stopping) return;
    const r = await this.control.request({ method: 'GET', path: '/drain' });
    const text = await r.body.text();
    const dropped = Number(r.headers['x-ocx-dropped'] ?? 0);
    if (dropped > 0) this.o.logger.warn({ dropped }, 'native lane: observations dropped (drain too slow)');
    for (const line of text.split('\n')) {
      const [service, method, status, targetId, secs, upstream, path] = line.split('\t');
      if (!service || !method || !targetId || path === undefined) continue;
      const up = Number.parseFloat(upstream ?? '');
      this.o.onObserved({
        service,
        method,
        status: Number(status),
        targetId,
        seconds: Number(secs),
        upstreamSeconds: Number.isFinite(up) ? up : undefined,
        path,
      });
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return;
    await this.drain().catch(() => undefined);
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGQUIT');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(t);
    }
    await this.control?.close().catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private record(key: string, until: number, resource: string | undefined): void {
    this.published.set(key, { until, resource });
    if (resource) {
      const keys = this.byResource.get(resource) ?? new Set<string>();
      this.byResource.set(resource, keys);
      keys.add(key);
    }
  }

  private purge(keys: string[]): void {
    for (const key of keys) {
      const p = this.published.get(key);
      if (!p) continue;
      this.published.delete(key);
      if (p.resource) this.byResource.get(p.resource)?.delete(key);
      this.queue(`D\t${key}`);
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, p] of this.published) {
      if (p.until > now) continue;
      this.published.delete(key);
      if (!p.resource) continue;
      const keys = this.byResource.get(p.resource);
      keys?.delete(key);
      if (keys?.size === 0) this.byResource.delete(p.resource);
    }
  }

  /** The IPv4 address nginx connects to for a host (looked up by the engine; nginx resolves nothing). */
  private async address(host: string): Promise<string | undefined> {
    if (isIP(host) === 4) return host;
    if (isIP(host) === 6 || host.startsWith('[')) return undefined;
    const hit = this.addresses.get(host);
    if (hit && hit.until > Date.now()) return hit.address;
    let address: string | undefined;
    try {
      address = (await lookup(host, { family: 4 })).address;
    } catch {
      address = undefined;
    }
    this.addresses.set(host, { address, until: Date.now() + 30_000 });
    return address;
  }

  private queue(change: string): void {
    this.changes.push(change);
    if (!this.flushing) this.flushing = new Promise((r) => setImmediate(r)).then(() => this.flush());
  }

  /** Send queued changes in order, one request at a time. */
  private async flush(): Promise<void> {
    while (this.changes.length && !this.stopping) {
      const batch = this.changes;
      this.changes = [];
      try {
        const r = await this.control!.request({ method: 'POST', path: '/apply', body: batch.join('\n') });
        await r.body.dump();
      } catch (err) {
        // Routes not published are only a missed shortcut; purges not applied expire with their TTL.
        this.o.logger.warn({ err: { message: (err as Error).message } }, 'native lane: control call failed');
      }
    }
    this.flushing = undefined;
  }
}
