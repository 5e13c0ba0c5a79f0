/**
 * `npm run bench:proxy-real`: the federation proxy on real OpenStack (test/real/openstack.sh: Keystone idp with K2K
 * to sp1 and sp2, Glance in sp1 and sp2). Needs the stack up; clouds.yaml from OS_CLIENT_CONFIG_FILE (default
 * /tmp/ocx-real/clouds.yaml). It starts its OWN proxy (`ocx proxy --home-cloud idp-admin`, via packages/cli/bin/ocx.js,
 * on 127.0.0.1 port 0, a temporary database) and never touches the stack's proxies. Loopback only.
 *
 *   1. GET /image/v2/images of sp1 through the proxy (user `demo` of idp, MM-SERVICE-PROVIDER: sp1) vs direct to
 *      sp1's Glance (user `demo` of sp1): p50 at c=1 and req/s at c=1 and c=8 (a fixed number of calls each), each
 *      measured in alternating blocks of CALLS/5 calls (direct, proxy, direct, ...) so that a shared machine's load
 *      drifting during the run hits both alike; the ratio proxy/direct and the added p50;
 *   2. the aggregated GET /image/v2/images (sp1 + sp2) warm;
 *   3. cold: ROUNDS times, a NEW idp token (its password login not timed), then its first aggregated
 *      GET /image/v2/images through the proxy, timed, with the per-step breakdown the proxy's metrics give
 *      (ocx_proxy_token_step_seconds: home validation, each K2K call per SP); beside it, in the same round, one plain
 *      K2K login idp → sp1 with the SDK's Keystone2Keystone (from a fresh idp token, as a user's client would do it),
 *      and the first Glance list with that new sp1 token (what any client pays once for a new token at Glance);
 *      and one with keystoneauth (bench/lib/keystoneauth-k2k.py, Debian's python3-keystoneauth1), the login the
 *      issue measures the cold call against. The upstream rows of the breakdown (`image call`) run from the credential's start to Glance's answer.
 *   4. STREAM_MB (default 1024; 0 skips) of image data up to sp1's real Glance and back, direct (sp1's demo user)
 *      and through the proxy (idp's demo, MM-SERVICE-PROVIDER: sp1), alternating, STREAM_ROUNDS times (default 3):
 *      a new image each upload (Glance takes one upload per image), deleted after; the median MB/s ratio. Beside
 *      them, sp1's demo through bench/reference-relay-http.ts (a bare node:http + undici relay, what issue 12 measures
 *      the node plane against) in the same rounds.
 * Medians are printed. Options: ROUNDS (default 5), CALLS (c=1 calls per round, default 300), PLANE (node|nginx,
 * default: the proxy's own default).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createTransport, Keystone2Keystone, loadCloudsConfig, MemoryTokenCache, TokenAuth } from '@ocx/sdk';
import { Agent, request } from 'undici';
import { type RealLogin, realLogin } from '../test/lib/real-login.ts';
import { moveImage } from './lib/real-glance.ts';
import { startReferenceRelay } from './lib/reference-relay.ts';

const cloudsFile = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/ocx-real/clouds.yaml';
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const CALLS = Number(process.env.CALLS ?? 300);
const STREAM_MB = Number(process.env.STREAM_MB ?? 1024);
const STREAM_ROUNDS = Number(process.env.STREAM_ROUNDS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'ocx-bench-proxy-real-'));
const children: ChildProcess[] = [];
const agent = new Agent({ connections: 16, keepAliveTimeout: 30_000 });

const run = promisify(execFile);
const clouds = loadCloudsConfig({ files: { clouds: [cloudsFile], secure: [], publicClouds: [] }, loadEnv: false });

async function startProxyCli(): Promise<string> {
  const log = join(dir, 'proxy.log');
  const fd = openSync(log, 'w');
  const args = [
    'packages/cli/bin/ocx.js',
    'proxy',
    '--home-cloud',
    'idp-admin',
    '--clouds-file',
    cloudsFile,
    '--listen',
    '127.0.0.1:0',
    '--db',
    join(dir, 'proxy.sqlite'),
  ];
  if (process.env.PLANE) args.push('--data-plane', process.env.PLANE);
  const child = spawn(process.execPath, args, { cwd: process.cwd(), stdio: ['ignore', fd, 'inherit'] });
  closeSync(fd);
  children.push(child);
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  for (let i = 0; i < 600; i++) {
    if (exited !== undefined) throw new Error(`ocx proxy exited ${exited}: ${readFileSync(log, 'utf8').slice(-2000)}`);
    const m = /listening (http\S+)/.exec(readFileSync(log, 'utf8'));
    if (m) return m[1]!;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('ocx proxy never said it was listening');
}

async function get(url: string, headers: Record<string, string>): Promise<void> {
  const r = await request(url, { dispatcher: agent, headers, headersTimeout: 60_000, bodyTimeout: 60_000 });
  await r.body.dump();
  if (r.statusCode !== 200) throw new Error(`${url} answered ${r.statusCode}`);
}

/** `n` sequential calls; returns each call's ms. */
async function serial(url: string, headers: Record<string, string>, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await get(url, headers);
    out.push(performance.now() - t0);
  }
  return out;
}

/** `n` calls with `c` workers; returns req/s. */
async function rate(url: string, headers: Record<string, string>, n: number, c: number): Promise<number> {
  let left = n;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (left-- > 0) await get(url, headers);
    }),
  );
  return n / ((performance.now() - t0) / 1000);
}

/**
 * req/s of `a` and of `b` over `n` calls each with `c` workers, measured in alternating blocks of `block` calls, so
 * that the load of a shared machine drifting during the run hits both alike.
 */
async function interleavedRates(
  a: [string, Record<string, string>],
  b: [string, Record<string, string>],
  n: number,
  c: number,
  block: number,
): Promise<[number, number]> {
  let ta = 0;
  let tb = 0;
  for (let done = 0; done < n; done += block) {
    const k = Math.min(block, n - done);
    ta += k / (await rate(a[0], a[1], k, c));
    tb += k / (await rate(b[0], b[1], k, c));
  }
  return [n / ta, n / tb];
}

/** Each target's sequential call times, in alternating blocks of `block` calls. */
async function interleavedSerial(
  targets: [string, Record<string, string>, number][],
  block: number,
): Promise<number[][]> {
  const out = targets.map(() => [] as number[]);
  const rounds = Math.max(...targets.map((t) => Math.ceil(t[2] / block)));
  for (let r = 0; r < rounds; r++) {
    for (const [i, [url, headers, n]] of targets.entries()) {
      const k = Math.min(block, n - r * block);
      if (k > 0) out[i]!.push(...(await serial(url, headers, k)));
    }
  }
  return out;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Sums and counts of ocx_proxy_token_step_seconds per `target step` and of the upstream calls per target. */
async function stepSums(proxy: string): Promise<Map<string, { sum: number; count: number }>> {
  const r = await request(`${proxy}/metrics`, { dispatcher: agent });
  const text = await r.body.text();
  const out = new Map<string, { sum: number; count: number }>();
  for (const m of text.matchAll(/^ocx_proxy_(token_step|upstream_duration)_seconds_(sum|count)\{([^}]*)\} (\S+)$/gm)) {
    const labels = Object.fromEntries([...m[3]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const key = `${labels.target} ${labels.step ?? `${labels.service} call (${labels.outcome})`}`;
    const e = out.get(key) ?? { sum: 0, count: 0 };
    if (m[2] === 'sum') e.sum = Number(m[4]);
    else e.count = Number(m[4]);
    out.set(key, e);
  }
  return out;
}

/**
 * One plain K2K login idp → sp1 by keystoneauth (bench/lib/keystoneauth-k2k.py with Debian's python3-keystoneauth1,
 * from a fresh idp token; only its get_access is timed), the baseline issue 12 names (ms).
 */
async function keystoneauthK2K(idp: RealLogin): Promise<number> {
  const script = fileURLToPath(new URL('./lib/keystoneauth-k2k.py', import.meta.url));
  const { stdout } = await run('/usr/bin/python3', [script, idp.identityUrl, idp.token, idp.projectId, 'sp1', 'demo'], {
    timeout: 120_000,
  });
  const out = JSON.parse(stdout) as { ms: number; token: string };
  if (!out.token) throw new Error('keystoneauth K2K gave no token');
  return out.ms;
}

/** One plain K2K login idp → sp1 (ms), then the first Glance list with its new token (ms: Glance checks a new token). */
async function plainK2K(idp: RealLogin): Promise<{ k2k: number; firstList: number }> {
  const c = clouds.getCloud('idp');
  const transport = createTransport({ retry: false, timeoutMs: 60_000 });
  const k2k = new Keystone2Keystone({
    idp: new TokenAuth({
      authUrl: String(c.auth.auth_url),
      token: idp.token,
      scope: { kind: 'project', id: idp.projectId },
    }),
    serviceProvider: 'sp1',
    target: { projectName: 'demo', projectDomainName: 'Default' },
    idpTokenCache: new MemoryTokenCache(),
  });
  const t0 = performance.now();
  const access = await k2k.authenticate({ transport, deadline: Date.now() + 60_000, cloud: 'sp1' });
  const ms = performance.now() - t0;
  await transport.close();
  const glance = access.catalog
    .find((c) => c.type === 'image')
    ?.endpoints.find((e) => e.interface === 'public')
    ?.url.replace(/\/+$/, '');
  const t1 = performance.now();
  await get(`${glance}/v2/images`, { 'x-auth-token': access.token });
  return { k2k: ms, firstList: performance.now() - t1 };
}

try {
  const proxy = await startProxyCli();
  const sp1 = await realLogin('sp1', cloudsFile);
  const user = await realLogin('idp', cloudsFile);
  const direct = `${sp1.ep.image}/v2/images`;
  const via = `${proxy}/image/v2/images`;
  const dh = { 'x-auth-token': sp1.token };
  const ph = { 'x-auth-token': user.token, 'mm-service-provider': 'sp1' };
  const ah = { 'x-auth-token': user.token };
  // Warm-up: the proxy's K2K for this token, connections, Glance's caches.
  await serial(via, ph, 30);
  await serial(via, ah, 10);
  await serial(direct, dh, 30);

  const p50 = { direct: [] as number[], proxy: [] as number[], agg: [] as number[] };
  const rps = { d1: [] as number[], p1: [] as number[], d8: [] as number[], p8: [] as number[] };
  const block = Math.max(8, Math.ceil(CALLS / 5));
  for (let r = 0; r < ROUNDS; r++) {
    const [d, p, a] = await interleavedSerial(
      [
        [direct, dh, CALLS],
        [via, ph, CALLS],
        [via, ah, Math.ceil(CALLS / 3)],
      ],
      block,
    );
    p50.direct.push(median(d!));
    p50.proxy.push(median(p!));
    p50.agg.push(median(a!));
    const [d1, p1] = await interleavedRates([direct, dh], [via, ph], CALLS, 1, block);
    rps.d1.push(d1);
    rps.p1.push(p1);
    const [d8, p8] = await interleavedRates([direct, dh], [via, ph], CALLS * 2, 8, block * 2);
    rps.d8.push(d8);
    rps.p8.push(p8);
  }
  const f = (ms: number) => `${ms.toFixed(2)} ms`;
  const dP50 = median(p50.direct);
  const pP50 = median(p50.proxy);
  console.log(`proxy: ${proxy} (${process.env.PLANE ?? 'default'} plane); ${ROUNDS} rounds, medians`);
  console.log(`GET /image/v2/images sp1 direct p50 ${f(dP50)}, via proxy p50 ${f(pP50)}: added p50 ${f(pP50 - dP50)}`);
  for (const [c, d, p] of [
    [1, rps.d1, rps.p1],
    [8, rps.d8, rps.p8],
  ] as const) {
    const dm = median(d);
    const pm = median(p);
    console.log(
      `c=${c}: direct ${dm.toFixed(0)} req/s, via proxy ${pm.toFixed(0)} req/s: ratio ${(pm / dm).toFixed(3)}×`,
    );
  }
  console.log(`aggregated GET /image/v2/images (sp1 + sp2) warm p50 ${f(median(p50.agg))}`);
  // Who answered the proxied lists: nginx (the native lane's "lane":"native" access-log lines, drained into the
  // log by a /metrics scrape) or the engine.
  await (await request(`${proxy}/metrics`, { dispatcher: agent })).body.text();
  const lines = readFileSync(join(dir, 'proxy.log'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"msg":"request"') && l.includes('"path":"/image/v2/images"'));
  const native = lines.filter((l) => l.includes('"lane":"native"')).length;
  console.log(`GET /image/v2/images through the proxy: ${native} of ${lines.length} answered by nginx (native lane)`);

  const cold: number[] = [];
  const k2k: number[] = [];
  const firstList: number[] = [];
  const ksa: number[] = [];
  const steps = new Map<string, number[]>();
  for (let r = 0; r < ROUNDS; r++) {
    const fresh = await realLogin('idp', cloudsFile);
    const before = await stepSums(proxy);
    const t0 = performance.now();
    await get(via, { 'x-auth-token': fresh.token });
    cold.push(performance.now() - t0);
    const afterSums = await stepSums(proxy);
    for (const [k, v] of afterSums) {
      const b = before.get(k) ?? { sum: 0, count: 0 };
      if (v.count === b.count) continue;
      const list = steps.get(k) ?? [];
      list.push((v.sum - b.sum) * 1000);
      steps.set(k, list);
    }
    const plain = await plainK2K(await realLogin('idp', cloudsFile));
    k2k.push(plain.k2k);
    firstList.push(plain.firstList);
    ksa.push(await keystoneauthK2K(await realLogin('idp', cloudsFile)));
  }
  console.log('cold first aggregated call of a new token, per step (median ms; SPs run at once, so steps overlap):');
  for (const [k, v] of [...steps].sort()) console.log(`  ${k.padEnd(32)} ${f(median(v))}`);
  const c = median(cold);
  const k = median(k2k);
  console.log(`first Glance list with the plain K2K's new sp1 token (Glance validating it): ${f(median(firstList))}`);
  console.log(`cold aggregated call ${f(c)} vs one plain K2K login idp → sp1 ${f(k)}: ${(c / k).toFixed(2)}×`);
  const kk = median(ksa);
  console.log(
    `cold aggregated call ${f(c)} vs one plain K2K login idp → sp1 by keystoneauth ${f(kk)} (the issue's baseline): ` +
      `${(c / kk).toFixed(2)}×`,
  );

  if (STREAM_MB > 0) {
    const mbps = (ms: number) => (STREAM_MB * 1.048576) / (ms / 1000);
    const bytes = STREAM_MB * 1024 * 1024;
    const glance = sp1.ep.image ?? '';
    const origin = new URL(glance).origin;
    const bare = `${await startReferenceRelay(origin, children, 'reference-relay-http.ts')}${glance.slice(origin.length)}`;
    const d = { up: [] as number[], down: [] as number[] };
    const p = { up: [] as number[], down: [] as number[] };
    const b = { up: [] as number[], down: [] as number[] };
    for (let r = 0; r < STREAM_ROUNDS; r++) {
      const direct = await moveImage(agent, `${sp1.ep.image}/v2/images`, dh, bytes);
      const proxied = await moveImage(agent, `${proxy}/image/v2/images`, ph, bytes);
      const relayed = await moveImage(agent, `${bare}/v2/images`, dh, bytes);
      for (const [into, got] of [
        [d, direct],
        [p, proxied],
        [b, relayed],
      ] as const) {
        into.up.push(mbps(got.up));
        into.down.push(mbps(got.down));
      }
    }
    for (const dir of ['up', 'down'] as const) {
      const dm = median(d[dir]);
      const pm = median(p[dir]);
      const bm = median(b[dir]);
      const rounds = (x: number[]) => x.map((v, i) => (v / d[dir][i]!).toFixed(2)).join(', ');
      console.log(
        `${STREAM_MB} MiB image ${dir === 'up' ? 'upload' : 'download'} at sp1's Glance: direct ${dm.toFixed(0)} MB/s, ` +
          `via proxy ${pm.toFixed(0)} MB/s: ratio ${(pm / dm).toFixed(2)}× (rounds ${rounds(p[dir])}); ` +
          `bare node:http + undici relay ${bm.toFixed(0)} MB/s: ${(bm / dm).toFixed(2)}× (rounds ${rounds(b[dir])})`,
      );
    }
  }
} finally {
  for (const c of children) c.kill('SIGTERM');
  await agent.close();
  rmSync(dir, { recursive: true, force: true });
}
