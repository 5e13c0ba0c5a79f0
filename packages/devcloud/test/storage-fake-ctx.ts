/**
 * A small CloudContext for mounting one storage service (Cinder, Glance, Swift) on a bare fastify in tests:
 * fixed tokens for a demo user, an admin and a second project, in-memory tables, default volume quotas.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { CloudContext, InternalApis, ServiceModule, TokenInfo } from '../src/context.ts';
import { MemoryStore } from '../src/store.ts';

export const DEMO = { token: 'tok-demo', projectId: 'p-demo', userId: 'u-demo' };
export const OTHER = { token: 'tok-other', projectId: 'p-other', userId: 'u-other' };
export const ADMIN = { token: 'tok-admin', projectId: 'p-admin', userId: 'u-admin' };

function info(user: typeof DEMO, name: string, admin: boolean): TokenInfo {
  return {
    userId: user.userId,
    userName: name,
    userDomainId: 'default',
    projectId: user.projectId,
    projectName: name,
    projectDomainId: 'default',
    roles: admin ? ['admin', 'member', 'reader'] : ['member', 'reader'],
    isAdmin: admin,
    expiresAt: new Date(Date.now() + 3600_000),
  };
}

const VOLUME_DEFAULTS: Record<string, number> = {
  volumes: 10,
  gigabytes: 1000,
  snapshots: 10,
  backups: 10,
  backup_gigabytes: 1000,
  per_volume_gigabytes: -1,
  groups: 10,
};

export interface FakeCloud {
  app: FastifyInstance;
  ctx: CloudContext;
  baseUrl: string;
  close(): Promise<void>;
}

/** Mount the given modules on a fresh fastify listening on 127.0.0.1:0. */
export async function startFake(modules: ServiceModule[], opts: { transitionMs?: number } = {}): Promise<FakeCloud> {
  const overrides = new Map<string, number>();
  const store = new MemoryStore();
  let baseUrl = '';
  const internal = {
    quotas: { usage: () => ({}) },
  } as unknown as InternalApis;
  const tokens = new Map<string, TokenInfo>([
    [DEMO.token, info(DEMO, 'demo', false)],
    [OTHER.token, info(OTHER, 'other', false)],
    [ADMIN.token, info(ADMIN, 'admin', true)],
  ]);
  const ctx = {
    name: 'fake',
    get baseUrl() {
      return baseUrl;
    },
    region: 'RegionOne',
    validateToken: (t: string) => tokens.get(t),
    projectName: (id: string) => ({ 'p-demo': 'demo', 'p-other': 'other', 'p-admin': 'admin' })[id],
    quotaLimit: (_s: string, p: string, r: string) => overrides.get(`${p}:${r}`) ?? VOLUME_DEFAULTS[r] ?? -1,
    quotaLimits: (_s: string, p: string) => {
      const out = { ...VOLUME_DEFAULTS };
      for (const [k, v] of overrides) if (k.startsWith(`${p}:`)) out[k.slice(p.length + 1)] = v;
      return out;
    },
    setQuotaLimit: (_s: string, p: string, r: string, l: number) => overrides.set(`${p}:${r}`, l),
    resetQuotaLimits: (_s: string, p: string) => {
      for (const k of [...overrides.keys()]) if (k.startsWith(`${p}:`)) overrides.delete(k);
    },
    internal,
    transitionMs: opts.transitionMs ?? 20,
    store,
    log: { info() {}, warn() {} },
  } as unknown as CloudContext;
  for (const m of modules) Object.assign(internal, m.internal?.(ctx) ?? {});
  const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2048 } });
  for (const m of modules) await app.register(async (child) => m.plugin(child, ctx), { prefix: m.mount.prefix });
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { app, ctx, baseUrl, close: () => app.close() };
}

/** fetch with a token and a deadline. */
export function call(
  base: string,
  path: string,
  init: RequestInit & { token?: string; json?: unknown } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set('x-auth-token', init.token);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  return fetch(`${base}${path}`, { ...init, headers, body, signal: init.signal ?? AbortSignal.timeout(30_000) });
}
