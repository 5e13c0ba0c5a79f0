/**
 * Test world: a devcloud (idp, sp1, sp2 with K2K idp→sp1/sp2) and a federation proxy whose home is idp
 * (service account idp-admin). `demo` at idp is the user; `direct(cloud)` talks to one cloud without the proxy.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { type DevcloudOptions, startDevcloud } from '@ocx/devcloud';

type Devcloud = Awaited<ReturnType<typeof startDevcloud>>;

import { pino } from 'pino';
import { type RunningProxy, type StartProxyOptions, startProxy } from '../src/index.ts';

export interface Direct {
  name: string;
  token: string;
  projectId: string;
  /** catalog type → public URL */
  endpoints: Record<string, string>;
  authUrl: string;
  baseUrl: string;
}

export interface World {
  dir: string;
  dc: Devcloud;
  proxy: RunningProxy;
  cloudsYaml: string;
  /** The demo user's token at idp (what clients send to the proxy). */
  token: string;
  projectId: string;
  direct: Record<string, Direct>;
  /** Every line the proxy logged. */
  logs: string[];
  /** fetch through the proxy with the demo token (unless headers override it). */
  call(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  stop(): Promise<void>;
}

export async function login(authUrl: string, user = 'demo', password = 'demo-secret', project = 'demo') {
  const r = await fetch(`${authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } },
        scope: { project: { name: project, domain: { name: 'Default' } } },
      },
    }),
  });
  if (r.status !== 201) throw new Error(`login at ${authUrl} failed: ${r.status} ${await r.text()}`);
  const body = (await r.json()) as {
    token: { project: { id: string }; catalog: { type: string; endpoints: { interface: string; url: string }[] }[] };
  };
  const endpoints: Record<string, string> = {};
  for (const e of body.token.catalog) {
    const pub = e.endpoints.find((x) => x.interface === 'public');
    if (pub) endpoints[e.type] = pub.url.replace(/\/+$/, '');
  }
  return { token: r.headers.get('x-subject-token')!, projectId: body.token.project.id, endpoints };
}

export async function startWorld(
  opts: Partial<StartProxyOptions> = {},
  devcloud: Omit<DevcloudOptions, 'cloudsYamlPath'> = {},
): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-proxy-test-'));
  const cloudsYaml = join(dir, 'clouds.yaml');
  const dc = await startDevcloud({ cloudsYamlPath: cloudsYaml, transitionMs: 30, ...devcloud });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  const proxy = await startProxy({
    homeCloud: 'idp-admin',
    cloudsFile: cloudsYaml,
    listen: '127.0.0.1:0',
    db: join(dir, 'proxy.sqlite'),
    logger: pino({ level: 'debug' }, sink),
    fanoutTimeoutMs: 3_000,
    floodTimeoutMs: 3_000,
    upstreamTimeoutMs: 10_000,
    validationCacheMs: 0,
    ...opts,
  });
  const direct: Record<string, Direct> = {};
  for (const c of dc.clouds) {
    const l = await login(c.authUrl);
    direct[c.name] = { name: c.name, ...l, authUrl: c.authUrl, baseUrl: c.baseUrl };
  }
  const home = await login(dc.clouds[0]!.authUrl);
  const world: World = {
    dir,
    dc,
    proxy,
    cloudsYaml,
    token: home.token,
    projectId: home.projectId,
    direct,
    logs,
    call(path, init = {}) {
      const headers = new Headers(init.headers);
      if (!headers.has('x-auth-token')) headers.set('x-auth-token', home.token);
      let body = init.body;
      if (init.json !== undefined) {
        body = JSON.stringify(init.json);
        headers.set('content-type', 'application/json');
      }
      return fetch(`${proxy.url}${path}`, {
        ...init,
        headers,
        body,
        signal: init.signal ?? AbortSignal.timeout(30_000),
      });
    },
    async stop() {
      await proxy.stop();
      await dc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Create a server directly in one cloud (no network), waiting for nothing. */
export async function createServer(d: Direct, name: string): Promise<string> {
  const r = await fetch(`${d.endpoints.compute}/servers`, {
    method: 'POST',
    headers: { 'x-auth-token': d.token, 'content-type': 'application/json', 'openstack-api-version': 'compute 2.37' },
    body: JSON.stringify({
      server: { name, flavorRef: await anyFlavor(d), imageRef: await anyImage(d), networks: 'none' },
    }),
  });
  const text = await r.text();
  if (r.status !== 202) throw new Error(`server create in ${d.name}: ${r.status} ${text}`);
  return (JSON.parse(text) as { server: { id: string } }).server.id;
}

/** An active image of the cloud (one is uploaded when there is none); any id when the cloud runs no Glance. */
export async function anyImage(d: Direct): Promise<string> {
  const glance = d.endpoints.image;
  if (!glance) return '70a599e0-31e7-49b7-b260-868f441e862b';
  const h = { 'x-auth-token': d.token };
  const list = (await (await fetch(`${glance}/v2/images?status=active`, { headers: h })).json()) as {
    images: { id: string }[];
  };
  if (list.images[0]) return list.images[0].id;
  const created = await fetch(`${glance}/v2/images`, {
    method: 'POST',
    headers: { ...h, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: `boot-${d.name}`,
      disk_format: 'raw',
      container_format: 'bare',
      visibility: 'private',
    }),
  });
  const id = ((await created.json()) as { id: string }).id;
  const up = await fetch(`${glance}/v2/images/${id}/file`, {
    method: 'PUT',
    headers: { ...h, 'content-type': 'application/octet-stream' },
    body: Buffer.alloc(1024, 1),
  });
  if (up.status !== 204) throw new Error(`image upload in ${d.name}: ${up.status}`);
  return id;
}

export async function anyFlavor(d: Direct): Promise<string> {
  const r = await fetch(`${d.endpoints.compute}/flavors`, { headers: { 'x-auth-token': d.token } });
  const body = (await r.json()) as { flavors: { id: string }[] };
  return body.flavors[0]!.id;
}

export async function createVolume(d: Direct, name: string, size = 1): Promise<string> {
  const url = d.endpoints.volumev3 ?? d.endpoints['block-storage'];
  const r = await fetch(`${url}/volumes`, {
    method: 'POST',
    headers: { 'x-auth-token': d.token, 'content-type': 'application/json' },
    body: JSON.stringify({ volume: { name, size } }),
  });
  const text = await r.text();
  if (r.status !== 202) throw new Error(`volume create in ${d.name}: ${r.status} ${text}`);
  return (JSON.parse(text) as { volume: { id: string } }).volume.id;
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** `ocx proxy` (src/main.ts) in a child process on the world's clouds; resolves once it says where it listens. */
export async function spawnProxy(w: World, extra: string[]): Promise<{ child: ChildProcess; url: string }> {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [main, '--home-cloud', 'idp-admin', '--clouds-file', w.cloudsYaml, '--listen', '127.0.0.1:0', ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`proxy exited early (${code})`)));
  });
  return { child, url };
}

/**
 * Where each request to `path` (and `method`, if given) was answered so far, from the access log: 'native' (nginx
 * on the lane) or 'engine'. Scrapes /metrics first, which drains nginx's answers into the log.
 */
export async function laneAnswers(proxyUrl: string, logs: string[], path: string, method?: string): Promise<string[]> {
  await (await fetch(`${proxyUrl}/metrics`)).text();
  return logs
    .filter(
      (l) =>
        l.includes('"msg":"request"') &&
        l.includes(`"path":"${path}"`) &&
        (method === undefined || l.includes(`"method":"${method}"`)),
    )
    .map((l) => ((JSON.parse(l) as { lane?: string }).lane === 'native' ? 'native' : 'engine'));
}
