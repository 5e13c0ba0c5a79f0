/**
 * Fan-out benchmark: one `compute.listServers()` over 10 loopback "clouds" (each a tiny Keystone + Nova that answers
 * the list in 50 ms), through the real SDK path (MultiCloud → Session → transport → undici).
 *
 * Prints the serial time (the clouds one after another, as shade's inventory did) for contrast, then the parallel
 * fan-out time, and as its LAST line `fanout ratio: X` = parallel total / slowest cloud's own time in that run
 * (median over the runs). Goal: ≤ 1.2. The clouds run in a worker thread so that their work does not share the
 * client's event loop (real clouds are other machines).
 *
 *   npm run bench:fanout            # CLOUDS=10 DELAY_MS=50 RUNS=15
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMainThread } from 'node:worker_threads';
import { collect, MultiCloud } from '@ocx/sdk';
import { configFor, type MiniCloud, median, serveClouds, startCloudsWorker } from './lib/mini-clouds.ts';

const CLOUDS = Number(process.env.CLOUDS ?? 10);
const DELAY_MS = Number(process.env.DELAY_MS ?? 50);
const RUNS = Number(process.env.RUNS ?? 15);
const SERVERS_PER_CLOUD = 20;

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Keystone v3 token issue + a Nova v2.1 version document + /servers/detail answered after DELAY_MS. */
async function startMiniCloud(name: string): Promise<MiniCloud> {
  let base = '';
  const servers = Array.from({ length: SERVERS_PER_CLOUD }, (_, i) => ({
    id: `${name}-server-${i}`,
    name: `vm-${i}`,
    status: 'ACTIVE',
    addresses: {},
    flavor: { id: '1' },
    image: { id: 'img' },
    metadata: {},
  }));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const url = req.url ?? '';
      if (req.method === 'POST' && url === '/identity/v3/auth/tokens') {
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
              project: { id: `p-${name}`, name: 'bench', domain: { id: 'default', name: 'Default' } },
              roles: [{ id: 'r1', name: 'member' }],
              catalog: [
                {
                  type: 'compute',
                  name: 'nova',
                  id: 'c1',
                  endpoints: [
                    {
                      id: 'e1',
                      interface: 'public',
                      region: 'RegionOne',
                      region_id: 'RegionOne',
                      url: `${base}/compute/v2.1`,
                    },
                  ],
                },
              ],
            },
          },
          { 'x-subject-token': `token-${name}` },
        );
        return;
      }
      if (req.method === 'GET' && (url === '/compute/v2.1/' || url === '/compute/v2.1')) {
        json(res, 200, {
          version: {
            id: 'v2.1',
            status: 'CURRENT',
            version: '2.90',
            min_version: '2.1',
            links: [{ rel: 'self', href: `${base}/compute/v2.1/` }],
          },
        });
        return;
      }
      if (req.method === 'GET' && url.startsWith('/compute/v2.1/servers/detail')) {
        setTimeout(() => json(res, 200, { servers }, { 'x-openstack-request-id': `req-${name}` }), DELAY_MS);
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
  const multi = await MultiCloud.connect({ clouds: clouds.map((c) => configFor(c, 'bench')), deadlineMs: 10_000 });
  try {
    if (multi.connectFailures.length) {
      for (const f of multi.connectFailures) console.error(`connect failed: ${f.error.summary()}`);
      throw new Error('benchmark clouds did not connect');
    }
    const list = (
      conn: { compute: { listServers(o?: { signal?: AbortSignal }): AsyncIterable<unknown> } },
      _n: string,
      ctx: { signal: AbortSignal },
    ) => collect(conn.compute.listServers({ signal: ctx.signal }));
    // Warm up: tokens are cached and version discovery done, as in a long-running program.
    const warm = await multi.call(list);
    if (warm.failures.length) throw warm.failures[0]?.error;

    const serial: number[] = [];
    const parallel: number[] = [];
    const ratios: number[] = [];
    const alone: number[] = [];
    const inRun: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      let t0 = performance.now();
      let slowestAlone = 0;
      for (const conn of multi.connections()) {
        const t1 = performance.now();
        await collect(conn.compute.listServers());
        slowestAlone = Math.max(slowestAlone, performance.now() - t1);
      }
      serial.push(performance.now() - t0);
      alone.push(slowestAlone);

      t0 = performance.now();
      const outcome = await multi.call(list, { concurrency: CLOUDS });
      const total = performance.now() - t0;
      if (outcome.failures.length) throw outcome.failures[0]?.error;
      const items = outcome.results.reduce((n, r) => n + r.value.length, 0);
      if (items !== CLOUDS * SERVERS_PER_CLOUD)
        throw new Error(`expected ${CLOUDS * SERVERS_PER_CLOUD} servers, got ${items}`);
      const slowestInRun = Math.max(...outcome.results.map((r) => r.durationMs));
      parallel.push(total);
      inRun.push(slowestInRun);
      // The slowest cloud's own time is what it takes when asked alone (from the serial pass of this run).
      ratios.push(total / slowestAlone);
    }
    console.log(`clouds: ${CLOUDS}, each answering servers/detail in ${DELAY_MS} ms; ${RUNS} runs (medians)`);
    console.log(`serial (one cloud after another): ${median(serial).toFixed(1)} ms`);
    console.log(`slowest cloud asked alone: ${median(alone).toFixed(1)} ms`);
    console.log(
      `parallel fan-out (MultiCloud.call): ${median(parallel).toFixed(1)} ms (slowest cloud within it: ${median(inRun).toFixed(1)} ms)`,
    );
    console.log(`speed-up over serial: ${(median(serial) / median(parallel)).toFixed(1)}x`);
    console.log(`fanout ratio: ${median(ratios).toFixed(2)}`);
  } finally {
    await multi.close();
    worker.postMessage('stop');
    await new Promise((resolve) => worker.once('exit', resolve));
  }
}

if (isMainThread) await main();
else await serveClouds(CLOUDS, startMiniCloud);
