/**
 * Gateway benchmark: ListServers over 3 clouds (devcloud idp + sp1 + sp2, K2K, 20 servers each) through the gRPC
 * gateway, against the SDK's own REST fan-out (MultiCloud.call → cloudLayer.listServers, the same code the gateway
 * runs) in the same run, alternating, caches off. Devcloud runs in a worker thread so its work does not share the
 * client's event loop. Then the calls per booted server of WatchServers-based waiting: WAIT_SERVERS servers booted
 * for WAIT_CLIENTS concurrent clients (sp2's quota raised by its admin), waited for three ways.
 *
 *   npm run bench:gateway          # RUNS=30 SERVERS=10 (at most 10: the project quota) LATENCY_MS=50 TRANSFER_MB=1024 TRANSFER_RUNS=3
 *                                  # WAIT_SERVERS=50 WAIT_CLIENTS=5 BOOT_MS=2000 (devcloud's BUILD → ACTIVE time)
 *   PARTS=transfers npm run bench:gateway     # only the image transfers (profiling: node --cpu-prof bench/gateway.ts)
 * Last line: `gateway ratio: X` = median gateway time / median SDK time (goal ≤ 1.2).
 */
import { createHash, randomBytes } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import {
  CloudService,
  startGateway,
  TransferService,
  UploadImageMetadataSchema,
  WideWindowSessionManager,
} from '@ocx/gateway';
import { Cloud, collect, createSession, loadCloudsConfig, MultiCloud } from '@ocx/sdk';

const RUNS = Number(process.env.RUNS ?? 30);
const SERVERS = Math.min(10, Number(process.env.SERVERS ?? 10)); // devcloud quota: 10 instances per project
/** Latency devcloud adds to every OpenStack API answer during the timed runs (real clouds are not on loopback). */
const LATENCY_MS = Number(process.env.LATENCY_MS ?? 50);
/** Image size for the upload/download comparison (MiB); 0 skips it. */
const TRANSFER_MB = Number(process.env.TRANSFER_MB ?? 1024);
/** Servers booted for the waiting comparison, by how many concurrent clients, and how long a boot takes. */
const WAIT_SERVERS = Number(process.env.WAIT_SERVERS ?? 50);
const WAIT_CLIENTS = Number(process.env.WAIT_CLIENTS ?? 5);
const BOOT_MS = Number(process.env.BOOT_MS ?? 2000);
/** Rounds of the transfer comparison (each moves TRANSFER_MB four times). */
const TRANSFER_RUNS = Number(process.env.TRANSFER_RUNS ?? 3);
/** `transfers`: only the image transfers. */
const PARTS = process.env.PARTS ?? 'all';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

async function worker(): Promise<void> {
  const { startDevcloud } = await import('@ocx/devcloud');
  const dc = await startDevcloud({
    cloudsYamlPath: workerData.yaml,
    transitionMs: workerData.bootMs,
    logLevel: 'silent',
  });
  let requests = 0;
  subscribe('http.server.request.start', (msg) => {
    const url = (msg as { request: IncomingMessage }).request.url ?? '';
    if (/\/(compute|image|network|volume)/.test(url)) requests++;
  });
  parentPort?.on('message', async (m: string) => {
    if (m === 'count') parentPort?.postMessage({ requests });
    if (m === 'latency') {
      for (const c of dc.clouds) {
        for (const svc of ['compute', 'network']) await dc.setFaults(c.name, svc, { latencyMs: workerData.latencyMs });
      }
      parentPort?.postMessage({ requests });
    }
    if (m === 'stop') {
      await dc.stop();
      process.exit(0);
    }
  });
  parentPort?.postMessage({ ready: true });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-bench-gw-'));
  const yaml = join(dir, 'clouds.yaml');
  const w = new Worker(new URL(import.meta.url), { workerData: { yaml, latencyMs: LATENCY_MS, bootMs: BOOT_MS } });
  const ask = (m: string) => new Promise<{ requests: number }>((res) => w.once('message', res) && w.postMessage(m));
  await new Promise((res) => w.once('message', res));
  const config = loadCloudsConfig({ files: { clouds: [yaml], secure: [], publicClouds: [] }, loadEnv: false });
  const cloudOptions = { serverListAgeMs: 0 };
  const gw = await startGateway({ home: config.getCloud('idp-admin'), homeName: 'idp', cloudOptions });
  const user = createSession(config.getCloud('idp'));
  const token = await user.getToken();
  await user.close();
  const multi = await MultiCloud.connect({
    config,
    home: 'idp',
    k2k: { remoteProjectName: 'demo', remoteProjectDomainName: 'Default' },
    cloudOptions,
  });
  const client = createClient(CloudService, createGrpcTransport({ baseUrl: gw.grpcUrl }));
  const auth = { headers: { authorization: `Bearer ${token}` } };
  if (PARTS === 'transfers') {
    console.log(await transfers(multi, gw.grpcUrl, auth));
    await multi.close();
    await gw.close();
    w.postMessage('stop');
    rmSync(dir, { recursive: true, force: true });
    return;
  }

  // Boot SERVERS per cloud through the gateway, waited for with WaitForServer (the shared watch).
  const before = (await ask('count')).requests;
  const ids: string[] = [];
  for (const cloud of ['idp', 'sp1', 'sp2']) {
    const made = await Promise.all(
      Array.from({ length: SERVERS }, (_, i) =>
        client.createServer(
          { spec: { location: { cloud }, name: `bench-${cloud}-${i}`, image: 'cirros-*', flavor: 'm1.tiny' } },
          auth,
        ),
      ),
    );
    await Promise.all(
      made.map((m) =>
        client.waitForServer({ filter: { location: { clouds: [cloud] }, nameOrId: m.server?.id ?? '' } }, auth),
      ),
    );
    ids.push(...made.map((m) => m.server?.id ?? ''));
  }
  const boots = (await ask('count')).requests - before;
  const booted = ids.length;

  if (LATENCY_MS > 0) await ask('latency');
  // Warm both paths (tokens, discovery, pools), then alternate.
  for (let i = 0; i < 3; i++) {
    await client.listServers({}, auth);
    await multi.call((conn) => conn.cloudLayer.listServers());
  }
  const gwTimes: number[] = [];
  const sdkTimes: number[] = [];
  let count = 0;
  for (let r = 0; r < RUNS; r++) {
    let t = performance.now();
    const viaGw = await client.listServers({}, auth);
    gwTimes.push(performance.now() - t);
    t = performance.now();
    const viaSdk = await multi.call((conn) => conn.cloudLayer.listServers());
    sdkTimes.push(performance.now() - t);
    count = viaGw.servers.length;
    if (viaGw.servers.length !== viaSdk.results.reduce((n, x) => n + x.value.length, 0)) {
      throw new Error('the two paths disagree on the server list');
    }
  }
  console.log(
    `clouds: 3 (idp, sp1 and sp2 by K2K), ${count} servers in all, Nova and Neutron answering after ${LATENCY_MS} ms; ${RUNS} runs, alternating (medians)`,
  );
  console.log(
    `boots: ${booted} servers created + waited for via WaitForServer: ${(boots / booted).toFixed(2)} cloud API calls per server`,
  );
  console.log(`SDK REST fan-out (MultiCloud.call → listServers): ${median(sdkTimes).toFixed(1)} ms`);
  console.log(`through the gateway (gRPC ListServers): ${median(gwTimes).toFixed(1)} ms`);
  await Promise.all(ids.map((id) => client.deleteServer({ filter: { nameOrId: id }, wait: true }, auth)));

  // Waiting for boots three ways on one cloud (sp2; servers stay in BUILD for BOOT_MS): WAIT_SERVERS servers for
  // WAIT_CLIENTS clients, created the same way each time (REST, before counting); the count is every OpenStack API
  // request devcloud's sp2 and the others received during the wait, the same counter for all three ways.
  const sp = multi.get('sp2');
  await raiseInstanceQuota(config, sp, WAIT_SERVERS + SERVERS);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const perClient = (ids: string[]) =>
    Array.from({ length: WAIT_CLIENTS }, (_, c) => ids.filter((_, i) => i % WAIT_CLIENTS === c));
  const waitWays: Record<string, (ids: string[]) => Promise<void>> = {
    'WatchServers (gateway WaitForServer, a gRPC connection per client)': async (ids) => {
      await Promise.all(
        perClient(ids).map((mine) => {
          const own = createClient(CloudService, createGrpcTransport({ baseUrl: gw.grpcUrl }));
          return Promise.all(
            mine.map((id) => own.waitForServer({ filter: { location: { clouds: ['sp2'] }, nameOrId: id } }, auth)),
          );
        }),
      );
    },
    "nodepool's (one shared server list per second)": async (ids) => {
      for (;;) {
        const all = await collect(sp.compute.listServers());
        if (ids.every((id) => all.find((x) => x.id === id)?.status === 'ACTIVE')) return;
        await sleep(1000);
      }
    },
    "shade's (wait_for_server: GET each server every 2 s)": async (ids) => {
      await Promise.all(
        ids.map(async (id) => {
          while ((await sp.compute.getServer(id)).status !== 'ACTIVE') await sleep(2000);
        }),
      );
    },
  };
  const perServer: string[] = [];
  for (const [way, wait] of Object.entries(waitWays)) {
    const made = await Promise.all(
      Array.from({ length: WAIT_SERVERS }, (_, i) =>
        sp.cloudLayer.createServer({ name: `bench-wait-${i}`, image: 'cirros-*', flavor: 'm1.tiny' }),
      ),
    );
    const c0 = (await ask('count')).requests;
    await wait(made.map((m) => m.id));
    const calls = (await ask('count')).requests - c0;
    perServer.push(`  ${way}: ${(calls / WAIT_SERVERS).toFixed(2)} calls per server (${calls} in all)`);
    await Promise.all(made.map((m) => sp.cloudLayer.deleteServer({ id: m.id }, { wait: true })));
  }
  console.log(
    `waiting for ${WAIT_SERVERS} boots (${BOOT_MS} ms each) by ${WAIT_CLIENTS} clients on sp2, cloud API calls during the wait:\n${perServer.join('\n')}`,
  );
  if (TRANSFER_MB > 0) console.log(await transfers(multi, gw.grpcUrl, auth));
  console.log(`gateway ratio: ${(median(gwTimes) / median(sdkTimes)).toFixed(2)}`);
  await multi.close();
  await gw.close();
  w.postMessage('stop');
  rmSync(dir, { recursive: true, force: true });
}

/** sp2's admin lets the demo project run `instances` servers (Nova's default quota is 10). */
async function raiseInstanceQuota(
  config: ReturnType<typeof loadCloudsConfig>,
  sp: ReturnType<MultiCloud['get']>,
  instances: number,
): Promise<void> {
  const admin = new Cloud(createSession(config.getCloud('sp2-admin')));
  try {
    const project = await sp.session.projectId();
    if (!project) throw new Error('no project id for sp2');
    await admin.compute.updateQuotaSet(project, { instances, cores: instances, ram: instances * 1024 });
  } finally {
    await admin.close();
  }
}

/** One image up and down, straight to Glance (SDK) and through the gateway (TransferService); MB/s and RSS. */
async function transfers(multi: MultiCloud, url: string, auth: { headers: Record<string, string> }): Promise<string> {
  const block = randomBytes(1024 * 1024);
  const hash = createHash('sha256');
  for (let i = 0; i < TRANSFER_MB; i++) hash.update(block);
  const sha256 = hash.digest('hex');
  async function* blocks(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < TRANSFER_MB; i++) yield block;
  }
  const sp = multi.get('sp1');
  const mbps = (ms: number) => (TRANSFER_MB / (ms / 1000)).toFixed(0);
  const drain = async (body: AsyncIterable<Uint8Array>) => {
    let n = 0;
    for await (const c of body) n += c.byteLength;
    return n;
  };
  // The client's side of wider HTTP/2 windows (WideWindowSessionManager); WIDE=0 leaves connect-node's defaults.
  const wide = process.env.WIDE !== '0';
  const transfer = createClient(
    TransferService,
    createGrpcTransport({ baseUrl: url, ...(wide ? { sessionManager: new WideWindowSessionManager(url) } : {}) }),
  );
  async function* upload() {
    yield {
      part: {
        case: 'metadata' as const,
        value: create(UploadImageMetadataSchema, {
          location: { cloud: 'sp1' },
          name: 'bench-gw',
          sha256,
          size: BigInt(TRANSFER_MB * 1024 * 1024),
          diskFormat: 'raw',
        }),
      },
    };
    for await (const b of blocks()) yield { part: { case: 'chunk' as const, value: b } };
  }
  /** Peak RSS growth during the gateway's transfers (sampled every 50 ms). */
  const rssGrowth = async (fn: () => Promise<void>) => {
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 50);
    await fn();
    clearInterval(sampler);
    return (Math.max(peak, process.memoryUsage().rss) - rss0) / 1048576;
  };
  const timed = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  // TRANSFER_RUNS rounds, each: up direct, up through the gateway, down direct, down through the gateway (medians).
  const times = { upDirect: [] as number[], upGw: [] as number[], downDirect: [] as number[], downGw: [] as number[] };
  let rssUp = 0;
  let rssDown = 0;
  for (let r = 0; r < TRANSFER_RUNS; r++) {
    let directId = '';
    let gwId = '';
    times.upDirect.push(
      await timed(async () => {
        directId = (await sp.cloudLayer.createImage('bench-direct', { data: blocks(), sha256, diskFormat: 'raw' })).id;
      }),
    );
    let upMs = 0;
    rssUp = Math.max(
      rssUp,
      await rssGrowth(async () => {
        upMs = await timed(async () => {
          gwId = (await transfer.uploadImage(upload(), auth)).image?.id ?? '';
        });
      }),
    );
    times.upGw.push(upMs);
    times.downDirect.push(
      await timed(async () => {
        const res = await sp.client('image').get(`/images/${directId}/file`, { stream: true });
        if ((await drain(res.body as AsyncIterable<Uint8Array>)) !== TRANSFER_MB * 1024 * 1024)
          throw new Error('short');
      }),
    );
    let downMs = 0;
    rssDown = Math.max(
      rssDown,
      await rssGrowth(async () => {
        downMs = await timed(async () => {
          let got = 0;
          const filter = { location: { clouds: ['sp1'] }, nameOrId: gwId };
          for await (const m of transfer.downloadImage({ filter }, auth)) {
            if (m.part.case === 'chunk') got += m.part.value.byteLength;
          }
          if (got !== TRANSFER_MB * 1024 * 1024) throw new Error(`downloaded ${got} bytes`);
        });
      }),
    );
    times.downGw.push(downMs);
    await sp.cloudLayer.deleteImage({ id: directId });
    await sp.cloudLayer.deleteImage({ id: gwId });
  }
  const ratios = (d: number[], g: number[]) => d.map((x, i) => (x / (g[i] ?? 1)).toFixed(2)).join(', ');
  const line = (d: number[], g: number[]) =>
    `direct ${mbps(median(d))} MB/s, through the gateway ${mbps(median(g))} MB/s (ratio ${(median(d) / median(g)).toFixed(2)}; per round ${ratios(d, g)})`;
  return [
    `image transfer, ${TRANSFER_MB} MiB to sp1's Glance, ${TRANSFER_RUNS} rounds (medians):`,
    `  upload:   ${line(times.upDirect, times.upGw)}`,
    `  download: ${line(times.downDirect, times.downGw)}`,
    `  RSS growth of the process (client + gateway + devcloud worker), peak over rounds: upload ${rssUp.toFixed(0)} MB, download ${rssDown.toFixed(0)} MB`,
  ].join('\n');
}

if (isMainThread) await main();
else await worker();
