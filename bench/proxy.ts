/**
 * `npm run bench:proxy`: what the federation proxy costs.
 *
 * One fast loopback upstream (a Glance-shaped node:http server: a 5-image JSON list, a streamed image file) and a
 * minimal home Keystone stand in for the cloud, so the proxy's own overhead is measured rather than Glance's.
 * In the same run:
 *   1. pass-through GET /v2/images/{id}: direct, through nginx `proxy_pass` (Debian's nginx, started here with a
 *      temporary config, 1 worker, upstream keepalive, access log on as by default), through a bare Node relay
 *      (bench/reference-relay.ts: the floor for any proxy written in Node, as a reference), through a bare node:http +
 *      undici relay (bench/reference-relay-http.ts: issue 12's yardstick for the node plane), and through two proxies
 *      started the way a user starts one (`ocx proxy` via packages/cli/bin/ocx.js, default log level, log to a
 *      file): `proxy` with `--data-plane nginx` (the native lane, the default where nginx is installed) and
 *      `proxy/node` with `--data-plane node` (the engine alone):
 *      p50/p99 latency at concurrency 1 (undici loop, µs clock; 3 interleaved rounds of 1000 calls per target
 *      after 300 warm-up calls each, so drift in a shared machine hits all three alike) and req/s at
 *      concurrency 16 (autocannon, 5 s, same client for all three);
 *   2. an aggregated image list over 3 clouds (home + 2 SPs, upstream latency 5/10/20 ms) vs the slowest alone;
 *   3. a 1 GiB image download and upload directly and through each proxy, alternating STREAM_ROUNDS (3) times:
 *      median throughput ratio proxy/direct per plane and direction (goal ≥ 0.8) and the RSS growth of the proxy's
 *      processes (goal < 50 MB) — bench/proxy-stream.ts. ONLY=stream runs section 3 alone.
 * The aggregation proxy's SP tokens come from a stand-in RemoteTokenSource (started with startProxy, since a
 * stand-in cannot be given on the command line): K2K cost is paid once per token and is not what this measures.
 * BASELINE_DIR=/path/to/another/checkout adds that checkout's node plane (`proxy/base`) to the same rounds.
 * Last line: `proxy p50 added latency vs nginx: X` = (proxy p50 − direct p50) / (nginx p50 − direct p50).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { startReferenceRelay } from './lib/reference-relay.ts';
import { GiB, gigabyte } from './proxy-stream.ts';

const TOKEN = randomBytes(16).toString('hex');
const PROJECT = randomBytes(16).toString('hex');
const dir = mkdtempSync(join(tmpdir(), 'ocx-bench-proxy-'));
const children: ChildProcess[] = [];
const servers: Server[] = [];

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer({ keepAliveTimeout: 60_000 }, handler);
  servers.push(s);
  return new Promise((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)),
  );
}

function imagesDoc(cloud: string): string {
  const images = Array.from({ length: 5 }, (_, i) => ({
    id: `${cloud}-img-${i}`,
    name: `cirros-${cloud}-${i}`,
    status: 'active',
    created_at: `2026-01-0${i + 1}T00:00:00Z`,
    updated_at: `2026-01-0${i + 1}T00:00:00Z`,
    size: 12716032,
    disk_format: 'qcow2',
    container_format: 'bare',
    visibility: 'public',
    self: `/v2/images/${cloud}-img-${i}`,
    file: `/v2/images/${cloud}-img-${i}/file`,
    schema: '/v2/schemas/image',
  }));
  return JSON.stringify({ images, first: '/v2/images', schema: '/v2/schemas/images' });
}

/** A Glance-shaped upstream. `delayMs` is added to list calls (for the aggregation comparison). */
async function glance(cloud: string, delayMs: number): Promise<string> {
  const doc = imagesDoc(cloud);
  return listen((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    if (req.method === 'GET' && path === '/v2/images') {
      const send = () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(doc)) });
        res.end(doc);
      };
      if (delayMs) setTimeout(send, delayMs);
      else send();
      return;
    }
    const show = /^\/v2\/images\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && show) {
      const one = JSON.stringify({ ...JSON.parse(doc).images[0], id: show[1] });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(one)) });
      res.end(one);
      return;
    }
    if (req.method === 'GET' && /\/file$/.test(path)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(GiB) });
      const chunk = Buffer.alloc(256 * 1024, 7);
      let sent = 0;
      Readable.from(
        (function* () {
          while (sent < GiB) {
            sent += chunk.length;
            yield chunk;
          }
        })(),
      ).pipe(res);
      return;
    }
    if (req.method === 'PUT' && /\/file$/.test(path)) {
      let n = 0;
      req.on('data', (c: Buffer) => {
        n += c.length;
      });
      req.on('end', () => {
        res.writeHead(n === GiB ? 204 : 400);
        res.end();
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('404 Not Found\n');
  });
}

/** Just enough Keystone for the proxy: its own login (catalog + SPs) and validation of the user token. */
async function keystone(imageUrl: string, sps: string[]): Promise<string> {
  const self = { url: '' };
  const url = await listen((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const catalog = [{ type: 'image', endpoints: [{ interface: 'public', region: 'RegionOne', url: imageUrl }] }];
    const tokenBody = (project: string) => ({
      token: {
        expires_at: new Date(Date.now() + 3_600_000).toISOString(),
        user: { id: 'u-demo', name: 'demo' },
        project: { id: project, name: 'demo', domain: { id: 'default', name: 'Default' } },
        roles: [{ name: 'member' }],
        catalog,
        service_providers: sps.map((id) => ({
          id,
          auth_url: `${self.url}/sp/${id}`,
          sp_url: `${self.url}/sp/${id}/ecp`,
        })),
      },
    });
    if (req.method === 'POST' && path === '/v3/auth/tokens') {
      req.resume();
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': 'service-token' });
        res.end(JSON.stringify(tokenBody('service-project')));
      });
      return;
    }
    if (req.method === 'GET' && path === '/v3/auth/tokens') {
      const ok = req.headers['x-subject-token'] === TOKEN;
      res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(ok ? tokenBody(PROJECT) : { error: { code: 404, message: 'Could not find token' } }));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  self.url = url;
  return url;
}

function startNginx(upstream: string): Promise<string> {
  const u = new URL(upstream);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log ${dir}/nginx-access.log;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream up { server ${u.host}; keepalive 64; }
  server {
    listen 127.0.0.1:${port};
    location /image/ {
      proxy_pass http://up/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering off;
    }
  }
}
`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(child);
  return waitHttp(`http://127.0.0.1:${port}/image/v2/images`).then(() => `http://127.0.0.1:${port}/image`);
}

async function waitHttp(url: string, headers: Record<string, string> = {}): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(url, { headers, signal: AbortSignal.timeout(1000) });
      await r.body?.cancel();
      if (r.status < 500) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never answered`);
}

/**
 * The pass-through proxy, launched as a user launches it: `ocx proxy` through the CLI's launcher (which runs
 * packages/cli/src/main.ts in a child node). Its log (default level, info) goes to a file. The pid returned is the
 * node process that runs the proxy (the launcher's child), for RSS.
 */
async function startProxyCli(
  keystoneUrl: string,
  plane: 'node' | 'nginx',
  checkout = process.cwd(),
  tag = '',
): Promise<{ url: string; pid: number }> {
  const clouds = join(dir, 'clouds-cli.yaml');
  writeFileSync(
    clouds,
    `clouds:\n  bench-home:\n    auth:\n      auth_url: ${keystoneUrl}/v3\n      username: proxy\n      password: x\n      project_name: service\n      user_domain_name: Default\n      project_domain_name: Default\n`,
  );
  const log = join(dir, `proxy-${plane}${tag}.log`);
  const fd = openSync(log, 'w');
  const child = spawn(
    process.execPath,
    [
      'packages/cli/bin/ocx.js',
      'proxy',
      '--home-cloud',
      'bench-home',
      '--clouds-file',
      clouds,
      '--listen',
      '127.0.0.1:0',
      '--db',
      join(dir, `proxy-${plane}${tag}.sqlite`),
      '--data-plane',
      plane,
    ],
    { cwd: checkout, stdio: ['ignore', fd, 'inherit'] },
  );
  closeSync(fd);
  children.push(child);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  for (let i = 0; i < 400; i++) {
    if (exited !== undefined) throw new Error(`ocx proxy exited ${exited}`);
    const m = /listening (http\S+)/.exec(readFileSync(log, 'utf8'));
    // The whole process tree of the `ocx` command (its node process, the engine, nginx on the native lane): its
    // first child alone was nginx's master on the native lane, which missed the engine.
    if (m) return { url: m[1]!, pid: child.pid! };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('ocx proxy never said it was listening');
}

function startProxy(keystoneUrl: string, sps: Record<string, string>): Promise<{ url: string; pid: number }> {
  const clouds = join(dir, 'clouds.yaml');
  writeFileSync(
    clouds,
    `clouds:\n  bench-home:\n    auth:\n      auth_url: ${keystoneUrl}/v3\n      username: proxy\n      password: x\n      project_name: service\n      user_domain_name: Default\n      project_domain_name: Default\n`,
  );
  // The proxy runs in its own process; the SPs' tokens come from a stand-in source (see the header comment).
  const code = `
    import { startProxy } from '@ocx/proxy';
    const sps = ${JSON.stringify(sps)};
    const source = { async obtain(req) { return { token: 'sp-token-' + req.sp.id, expiresAt: new Date(Date.now() + 3600000), projectId: 'p-' + req.sp.id, projectName: 'demo', endpoints: { image: sps[req.sp.id] } }; } };
    const p = await startProxy({ homeCloud: 'bench-home', cloudsFile: ${JSON.stringify(clouds)}, listen: '127.0.0.1:0', db: ${JSON.stringify(join(dir, 'proxy.sqlite'))}, logLevel: 'silent', remoteTokenSource: source, validationCacheMs: 60000 });
    process.stdout.write('listening ' + p.url + '\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /listening (\S+)/.exec(buf);
      if (m) resolve({ url: m[1]!, pid: child.pid! });
    });
    child.once('exit', (code2) => reject(new Error(`proxy exited ${code2}`)));
  });
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** RSS of a process and all its descendants (the proxy's node process and, on the native lane, its nginx). */
function treeRssMb(pid: number): number {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return 0;
  }
  return rssMb(pid) + kids.reduce((sum, k) => sum + treeRssMb(k), 0);
}

const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });

/** `n` sequential calls (after `warm` unmeasured ones); the measured times are appended to `into`. */
async function timeCalls(
  url: string,
  n: number,
  headers: Record<string, string>,
  into: number[] = [],
  warm = 200,
): Promise<number[]> {
  for (let i = 0; i < n + warm; i++) {
    const t0 = process.hrtime.bigint();
    const r = await request(url, { dispatcher: agent, headers });
    await r.body.dump();
    if (r.statusCode !== 200) throw new Error(`${url} answered ${r.statusCode}`);
    if (i >= warm) into.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return into;
}

function percentiles(times: number[]): { p50: number; p99: number } {
  const t = [...times].sort((a, b) => a - b);
  return { p50: t[Math.floor(t.length * 0.5)]!, p99: t[Math.floor(t.length * 0.99)]! };
}

async function latency(url: string, n: number, headers: Record<string, string>): Promise<{ p50: number; p99: number }> {
  return percentiles(await timeCalls(url, n, headers));
}

type Autocannon = (opts: {
  url: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
}) => Promise<{ non2xx: number; errors: number; requests: { average: number } }>;
const autocannonModule: string = 'autocannon'; // untyped package: loaded by name
const autocannon = ((await import(autocannonModule)) as { default: Autocannon }).default;

async function throughput(url: string, headers: Record<string, string>): Promise<number> {
  const r = await autocannon({ url, connections: 16, duration: 5, headers });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return r.requests.average;
}

const f = (ms: number) => `${ms.toFixed(3)} ms`;

async function main(): Promise<void> {
  if (spawnSync('nginx', ['-v']).error) throw new Error('nginx is not installed (apt-get install -y nginx)');
  const home = await glance('home', 0);
  const sp1 = await glance('sp1', 10);
  const sp2 = await glance('sp2', 20);
  const homeSlow = await glance('home5', 5);
  const ks = await keystone(home, []);
  const ksAgg = await keystone(homeSlow, ['sp1', 'sp2']);
  const nginx = await startNginx(home);
  const relay = await startReferenceRelay(home, children);
  const relayHttp = await startReferenceRelay(home, children, 'reference-relay-http.ts');
  const proxyNode = await startProxyCli(ks, 'node');
  const proxy = await startProxyCli(ks, 'nginx');
  const proxyAgg = await startProxy(ksAgg, { sp1, sp2 });
  // BASELINE_DIR=/path/to/another/checkout: that checkout's proxy on the node plane too (`proxy/base`), measured in
  // the same interleaved rounds — a before/after comparison on the same machine and minutes.
  const baseline = process.env.BASELINE_DIR
    ? await startProxyCli(ks, 'node', process.env.BASELINE_DIR, '-base')
    : undefined;
  const auth = { 'x-auth-token': TOKEN };
  if (baseline) await waitHttp(`${baseline.url}/image/v2/images`, auth);
  await waitHttp(`${proxy.url}/image/v2/images`, auth);
  await waitHttp(`${proxyNode.url}/image/v2/images`, auth);
  await waitHttp(`${proxyAgg.url}/image/v2/images`, auth);

  // ONLY=stream: the 1 GiB streams alone (the pass-through and aggregation sections take minutes).
  let lastLine: string | undefined;
  if (process.env.ONLY !== 'stream') {
    const ROUNDS = 3;
    const PER_ROUND = 1000;
    console.log(
      `== pass-through GET /v2/images/{id} (c=1 latency: ${ROUNDS} interleaved rounds × ${PER_ROUND} calls per target after 300 warm-up; c=16 throughput for 5 s)`,
    );
    const paths = {
      direct: `${home}/v2/images/img-1`,
      nginx: `${nginx}/v2/images/img-1`,
      relay: `${relay}/v2/images/img-1`,
      'relay/http': `${relayHttp}/v2/images/img-1`,
      'proxy/node': `${proxyNode.url}/image/v2/images/img-1`,
      proxy: `${proxy.url}/image/v2/images/img-1`,
      ...(baseline ? { 'proxy/base': `${baseline.url}/image/v2/images/img-1` } : {}),
    };
    const times: Record<string, number[]> = {};
    for (const [name, url] of Object.entries(paths)) times[name] = await timeCalls(url, 0, auth, [], 300); // warm-up
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, url] of Object.entries(paths)) await timeCalls(url, PER_ROUND, auth, times[name], 0);
    }
    const lat: Record<string, { p50: number; p99: number }> = {};
    const rps: Record<string, number> = {};
    for (const [name, url] of Object.entries(paths)) {
      lat[name] = percentiles(times[name]!);
      rps[name] = await throughput(url, auth);
      console.log(`${name.padEnd(10)} p50 ${f(lat[name].p50)}  p99 ${f(lat[name].p99)}  ${rps[name].toFixed(0)} req/s`);
    }
    const nginxAdded = lat.nginx!.p50 - lat.direct!.p50;
    const proxyAdded = lat.proxy!.p50 - lat.direct!.p50;
    const relayAdded = lat.relay!.p50 - lat.direct!.p50;
    const nodeAdded = lat['proxy/node']!.p50 - lat.direct!.p50;
    const relayHttpAdded = lat['relay/http']!.p50 - lat.direct!.p50;
    console.log(
      `added p50: nginx ${f(nginxAdded)}, node relay ${f(relayAdded)}, proxy on the node plane ${f(nodeAdded)}, proxy (native lane) ${f(proxyAdded)}; req/s proxy/nginx ${(rps.proxy! / rps.nginx!).toFixed(2)} (node plane ${(rps['proxy/node']! / rps.nginx!).toFixed(2)})`,
    );
    console.log(
      `node plane: a bare Node relay (bench/reference-relay.ts) adds ${(relayAdded / nginxAdded).toFixed(2)}× nginx's p50; the proxy on the node plane ${(nodeAdded / nginxAdded).toFixed(2)}× (${(nodeAdded / relayAdded).toFixed(2)}× the bare relay's)`,
    );
    console.log(
      `node plane vs a bare node:http + undici relay (bench/reference-relay-http.ts, adds ${f(relayHttpAdded)}): ${(nodeAdded / relayHttpAdded).toFixed(2)}× (goal ≤ 1.2)`,
    );
    if (lat['proxy/base']) {
      const baseAdded = lat['proxy/base'].p50 - lat.direct!.p50;
      console.log(
        `baseline (${process.env.BASELINE_DIR}) on the node plane adds ${f(baseAdded)}: ${(baseAdded / relayHttpAdded).toFixed(2)}× the node:http + undici relay`,
      );
    }

    console.log('== aggregated image list over 3 clouds (home 5 ms, sp1 10 ms, sp2 20 ms) vs the slowest alone');
    const agg = await latency(`${proxyAgg.url}/image/v2/images`, 300, auth);
    const slowest = await latency(`${sp2}/v2/images`, 300, auth);
    const aggBody = (await (await fetch(`${proxyAgg.url}/image/v2/images`, { headers: auth })).json()) as {
      images: unknown[];
    };
    console.log(
      `aggregated p50 ${f(agg.p50)} (${aggBody.images.length} images)   slowest SP alone p50 ${f(slowest.p50)}   overhead ${f(agg.p50 - slowest.p50)}`,
    );
    lastLine = `proxy p50 added latency vs nginx: ${(proxyAdded / nginxAdded).toFixed(2)} (goal ≤ 1.3; = (proxy p50 − direct p50) / (nginx p50 − direct p50))`;
  }
  const native = await gigabyte(agent, treeRssMb, proxy, auth, 'native lane (nginx in front)', home);
  const node = await gigabyte(agent, treeRssMb, proxyNode, auth, 'node plane', home, relayHttp);
  console.log(
    `1 GiB throughput proxy/direct: native lane down ${native.down.toFixed(2)}× up ${native.up.toFixed(2)}×; node plane down ${node.down.toFixed(2)}× up ${node.up.toFixed(2)}× (goal ≥ 0.8 on both planes)`,
  );
  if (lastLine) console.log(lastLine);
}

try {
  await main();
} finally {
  for (const c of children) c.kill('SIGTERM');
  for (const s of servers) {
    s.close();
    s.closeAllConnections();
  }
  await agent.close();
  await new Promise((r) => setTimeout(r, 300));
  rmSync(dir, { recursive: true, force: true });
}
process.exit(process.exitCode ?? 0);
