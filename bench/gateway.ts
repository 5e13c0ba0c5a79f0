/**
 * Gateway benchmark: ListServers over 3 clouds (devcloud idp + sp1 + sp2, K2K, 20 servers each) through the gRPC
 * gateway, against the SDK's own REST fan-out (MultiCloud.call → cloudLayer.listServers, the same code the gateway
 * runs) in the same run, alternating, caches off. Devcloud runs in a worker thread so its work does not share the
 * client's event loop. Then the calls per booted server of WatchServers-based waiting: WAIT_SERVERS servers booted
 * for WAIT_CLIENTS concurrent clients (sp2's quota raised by its admin), waited for three ways.
 *
 *   npm run bench:gateway          # RUNS=30 SERVERS=10 (at most 10: the project quota) LATENCY_MS=50 TRANSFER_MB=1024 TRANSFER_RUNS=3
 *                                  # WAIT_SERVERS=50 WAIT_CLIENTS=5 BOOT_MS=2000 (devcloud's BUILD → ACTIVE time)
 *   PARTS=transfers npm run bench:gateway     # only the image transfers (bench/gateway-transfer.ts: the gateway in
 *                                             # its own process; GATEWAY=inproc in this one; GW_NODE_ARGS=--cpu-prof)
 * Last line: `gateway ratio: X` = median gateway time / median SDK time (goal ≤ 1.2).
 */
import { subscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { CloudService, startGateway } from '@ocx/gateway';
import { Cloud, collect, createSession, loadCloudsConfig, MultiCloud } from '@ocx/sdk';
import { spawnGateway, transfers } from './gateway-transfer.ts';

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
    console.log(await transferPart(multi, yaml, gw.grpcUrl, auth));
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
  if (TRANSFER_MB > 0) console.log(await transferPart(multi, yaml, gw.grpcUrl, auth));
  console.log(`gateway ratio: ${(median(gwTimes) / median(sdkTimes)).toFixed(2)}`);
  await multi.close();
  await gw.close();
  w.postMessage('stop');
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The transfers through `ocx gateway` in its own process (how a user runs it), or with GATEWAY=inproc through the
 * gateway in this process (client and gateway on one event loop: the setup of the figures before 2026-12-06 20:00).
 */
async function transferPart(
  multi: MultiCloud,
  yaml: string,
  inprocUrl: string,
  auth: { headers: Record<string, string> },
): Promise<string> {
  if (process.env.GATEWAY === 'inproc') return transfers(multi, inprocUrl, 0, auth);
  const gw = await spawnGateway(yaml);
  try {
    return await transfers(multi, gw.url, gw.pid, auth, gw.httpUrl);
  } finally {
    await gw.stop();
  }
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

if (isMainThread) await main();
else await worker();
