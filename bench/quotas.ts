/**
 * Quotas benchmark: `listQuotas` over 10 loopback clouds × 3 projects each, through the real SDK path (MultiCloud →
 * per-project rescoped Session → transport → undici). Each cloud is a tiny Keystone (password and token
 * rescoping, /v3/auth/projects) plus Nova, Cinder and Neutron quota-detail endpoints that answer after DELAY_MS.
 *
 * Prints the serial time (every (cloud, project) one after another, as a loop of `openstack quota show --usage`
 * would), the slowest single (cloud, project) answer asked alone, the parallel total, and as its LAST line
 * `quotas ratio: X` = parallel total / slowest single answer (median over the runs; the line before gives every
 * run's ratio, min/max and the machine's load average). Goal: ≤ 1.3. The clouds run
 * in a worker thread so that their work does not share the client's event loop (real clouds are other machines).
 *
 *   npm run bench:quotas            # CLOUDS=10 PROJECTS=3 DELAY_MS=50 RUNS=11
 *   OCX_SDK=/other/checkout/packages/sdk/src/index.ts npm run bench:quotas   # the same bench on another SDK build
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { configFor, type MiniCloud, median, serveClouds, startCloudsWorker } from './lib/mini-clouds.ts';

// OCX_SDK=/path/to/other/checkout/packages/sdk/src/index.ts measures another build of the SDK against the same
// clouds (a before/after comparison on the same machine and minutes).
const { listMyProjects, listQuotas, MultiCloud, projectQuotas } = (await import(
  process.env.OCX_SDK ?? '@ocx/sdk'
)) as typeof import('@ocx/sdk');

const CLOUDS = Number(process.env.CLOUDS ?? 10);
const PROJECTS = Number(process.env.PROJECTS ?? 3);
const DELAY_MS = Number(process.env.DELAY_MS ?? 50);
const RUNS = Number(process.env.RUNS ?? 11);

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

async function startMiniCloud(name: string): Promise<MiniCloud> {
  let base = '';
  const projects = Array.from({ length: PROJECTS }, (_, i) => ({ id: `${name}-p${i}`, name: `proj${i}` }));
  const detail = (used: number) => ({ in_use: used, limit: 10, reserved: 0 });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = req.url ?? '';
      if (req.method === 'POST' && url === '/identity/v3/auth/tokens') {
        const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as {
          auth?: { scope?: { project?: { id?: string; name?: string } } };
        };
        const want = body.auth?.scope?.project;
        const project = projects.find((p) => p.id === want?.id || p.name === want?.name) ?? projects[0];
        const pid = project?.id ?? '';
        const ep = (type: string, path: string) => ({
          type,
          id: type,
          endpoints: [
            { id: type, interface: 'public', region: 'RegionOne', region_id: 'RegionOne', url: `${base}${path}` },
          ],
        });
        const now = Date.now();
        json(
          res,
          201,
          {
            token: {
              methods: ['password'],
              expires_at: new Date(now + 3600_000).toISOString(),
              issued_at: new Date(now).toISOString(),
              user: { id: 'u1', name: 'bench', domain: { id: 'default', name: 'Default' } },
              project: { id: pid, name: project?.name, domain: { id: 'default', name: 'Default' } },
              roles: [{ id: 'r1', name: 'member' }],
              catalog: [
                ep('compute', '/compute/v2.1'),
                ep('volumev3', `/volume/v3/${pid}`),
                ep('network', '/network'),
                ep('identity', '/identity/v3'),
              ],
            },
          },
          { 'x-subject-token': `token-${name}-${pid}` },
        );
        return;
      }
      if (req.method === 'GET' && url === '/identity/v3/auth/projects') {
        json(res, 200, { projects: projects.map((p) => ({ ...p, domain_id: 'default', enabled: true })) });
        return;
      }
      if (req.method === 'GET' && url === '/compute/v2.1/') {
        json(res, 200, {
          version: { id: 'v2.1', status: 'CURRENT', version: '2.90', min_version: '2.1', links: [] },
        });
        return;
      }
      if (req.method === 'GET' && url === '/volume/v3/') {
        json(res, 200, {
          version: { id: 'v3.0', status: 'CURRENT', version: '3.70', min_version: '3.0', links: [] },
        });
        return;
      }
      if (req.method === 'GET' && url === '/network/') {
        json(res, 200, {
          versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${base}/network/v2.0/` }] }],
        });
        return;
      }
      const later = (body: unknown) => setTimeout(() => json(res, 200, body), DELAY_MS);
      if (req.method === 'GET' && /^\/compute\/v2\.1\/os-quota-sets\/[^/]+\/detail$/.test(url)) {
        later({
          quota_set: { instances: detail(1), cores: detail(2), ram: { in_use: 512, limit: 51200, reserved: 0 } },
        });
        return;
      }
      if (req.method === 'GET' && /^\/volume\/v3\/[^/]+\/os-quota-sets\/[^/?]+\?usage=true$/.test(url)) {
        later({ quota_set: { volumes: detail(1), gigabytes: detail(3), snapshots: detail(0) } });
        return;
      }
      if (req.method === 'GET' && /^\/network\/v2\.0\/quotas\/[^/]+\/details$/.test(url)) {
        later({ quota: { network: { used: 1, limit: 100, reserved: 0 }, port: { used: 2, limit: 500, reserved: 0 } } });
        return;
      }
      json(res, 404, { itemNotFound: { code: 404, message: `no route ${req.method} ${url}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { name, base, server };
}

async function main(): Promise<void> {
  const { worker, clouds } = await startCloudsWorker(new URL(import.meta.url));
  const multi = await MultiCloud.connect({ clouds: clouds.map((c) => configFor(c, 'proj0')), deadlineMs: 10_000 });
  try {
    if (multi.connectFailures.length) throw multi.connectFailures[0]?.error;
    // Warm up: every project's rescoped token cached and version discovery done, as in a long-running program.
    const warm = await listQuotas(multi);
    if (warm.failures.length) throw warm.failures[0]?.error;
    const expected = CLOUDS * PROJECTS * 8;
    if (warm.rows.length !== expected) throw new Error(`expected ${expected} rows, got ${warm.rows.length}`);
    const projects = await Promise.all(multi.connections().map(async (c) => ({ c, ps: await listMyProjects(c) })));

    const serial: number[] = [];
    const alone: number[] = [];
    const parallel: number[] = [];
    const ratios: number[] = [];
    const cpu: number[] = [];
    const clientCpu: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      let t0 = performance.now();
      let slowest = 0;
      for (const { c, ps } of projects) {
        for (const p of ps) {
          const t1 = performance.now();
          const got = await projectQuotas(c, p);
          if (got.failures.length) throw got.failures[0]?.error;
          slowest = Math.max(slowest, performance.now() - t1);
        }
      }
      serial.push(performance.now() - t0);
      alone.push(slowest);
      t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const thread0 = process.threadCpuUsage();
      const out = await listQuotas(multi, { concurrency: CLOUDS });
      const total = performance.now() - t0;
      const used = process.cpuUsage(cpu0);
      const own = process.threadCpuUsage(thread0);
      clientCpu.push((own.user + own.system) / 1000);
      // cpuUsage is per process (the clouds' worker is in it too); threadCpuUsage is the client's thread alone.
      cpu.push((used.user + used.system) / 1000);
      if (out.failures.length) throw out.failures[0]?.error;
      if (out.rows.length !== expected) throw new Error(`expected ${expected} rows, got ${out.rows.length}`);
      parallel.push(total);
      ratios.push(total / slowest);
    }
    console.log(
      `clouds: ${CLOUDS} × ${PROJECTS} projects, Nova/Cinder/Neutron quota details answering in ${DELAY_MS} ms; ${RUNS} runs (medians)`,
    );
    console.log(`serial (every cloud and project one after another): ${median(serial).toFixed(1)} ms`);
    console.log(`slowest single (cloud, project) answer asked alone: ${median(alone).toFixed(1)} ms`);
    console.log(`listQuotas over all of them: ${median(parallel).toFixed(1)} ms`);
    console.log(`CPU per listQuotas (client and clouds, one process): ${median(cpu).toFixed(1)} ms`);
    console.log(`CPU per listQuotas (the client's thread alone): ${median(clientCpu).toFixed(1)} ms`);
    console.log(`speed-up over serial: ${(median(serial) / median(parallel)).toFixed(1)}x`);
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
    console.log(`ratio per run (listQuotas / slowest single answer of the same run): ${fmt(ratios)}`);
    console.log(
      `ratio median ${median(ratios).toFixed(2)}, min ${Math.min(...ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)}; load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')} on ${availableParallelism()} cores`,
    );
    console.log(`quotas ratio: ${median(ratios).toFixed(2)}`);
  } finally {
    await multi.close();
    worker.postMessage('stop');
    await new Promise((resolve) => worker.once('exit', resolve));
  }
}

if (isMainThread) await main();
else await serveClouds(CLOUDS, startMiniCloud);
