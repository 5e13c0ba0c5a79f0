/**
 * `npm run soak`: a bounded soak of the federation proxy and the gRPC gateway together (issue 16). devcloud
 * (idp + sp1 + sp2, K2K), an `ocx proxy` child process (node data plane, SQLite) and an `ocx gateway` child process,
 * then `SOAK_CONCURRENCY` (default 32) workers for `SOAK_SECONDS` (default 600), each step going to the proxy or the
 * gateway at random (half each; `SOAK_SURFACES=proxy` or `gateway` for one alone). Through the proxy: flavors (home
 * pass-through), the aggregated server list (fan-out over three clouds), network lists, network create / show /
 * delete (writes that add and drop mappings); through the gateway: bench/lib/soak-gateway.ts (lists over three
 * clouds, keypair create / delete). Reports per surface requests, errors (goal 0), p50/p99, and the process's RSS
 * and open file descriptors after the warm-up, half-way and at the end (goal: flat). Also searches every line either
 * process wrote for every token devcloud issued during the run (users', the service accounts', K2K remote tokens),
 * and every answer too: goal 0 hits. packages/cli/test/soak.test.ts runs it for 2 minutes in the fast suite.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnProxy, startWorld } from '../packages/proxy/test/helpers.ts';
import { gatewayWorkload, type SpawnedGateway, spawnGateway } from './lib/soak-gateway.ts';

/** The gateway's half of the run (same workers, same devcloud). */
export interface GatewaySoak {
  requests: number;
  errors: number;
  errorSamples: string[];
  byOp: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  rssStartMb: number;
  rssMidMb: number;
  rssEndMb: number;
  fdStart: number;
  fdEnd: number;
  /** Issued tokens found in what the gateway process wrote (stdout, stderr). */
  tokenHits: number;
  /** Answers (messages and error messages) that carried an issued token. */
  bodyTokenHits: number;
}

export interface SoakResult {
  seconds: number;
  concurrency: number;
  requests: number;
  errors: number;
  errorSamples: string[];
  byOp: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  rssStartMb: number;
  /** Half-way through: growth from here to the end shows a leak, from the start mostly warm-up. */
  rssMidMb: number;
  rssEndMb: number;
  fdStart: number;
  fdEnd: number;
  tokensIssued: number;
  logLines: number;
  tokenHits: number;
  /** Answers (bodies) that carried an issued token. */
  bodyTokenHits: number;
  /** Shows answered 404 because another worker had just deleted that network (not errors). */
  raced: number;
  /** Absent when SOAK_SURFACES leaves the gateway out. */
  gateway?: GatewaySoak | undefined;
}

export type Surface = 'proxy' | 'gateway';

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : Number.NaN;
}
function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]! * 10) / 10;
}

export async function runSoak(o: {
  seconds: number;
  concurrency: number;
  surfaces?: readonly Surface[] | undefined;
}): Promise<SoakResult> {
  const surfaces = o.surfaces ?? ['proxy', 'gateway'];
  const w = await startWorld({}, {});
  // Every token devcloud hands out from here on, to search the proxy's log for.
  const issued = new Set<string>([w.token, ...Object.values(w.direct).map((d) => d.token)]);
  for (const c of w.dc.clouds) {
    const ks = c.cloud.keystone as unknown as Record<string, (...a: unknown[]) => { token: string }>;
    for (const m of ['authenticate', 'issueFederated']) {
      const orig = ks[m]!.bind(ks);
      ks[m] = (...a: unknown[]) => {
        const r = orig(...a);
        issued.add(r.token);
        return r;
      };
    }
  }
  const { child, url } = await spawnProxy(w, ['--db', join(w.dir, 'soak.sqlite'), '--data-plane', 'node']);
  let gw: SpawnedGateway | undefined;
  if (surfaces.includes('gateway')) gw = await spawnGateway(w.cloudsYaml);
  const g = {
    byOp: {} as Record<string, number>,
    latencies: [] as number[],
    errors: 0,
    errorSamples: [] as string[],
    bodyTokenHits: 0,
  };
  const gwLoad = gw
    ? gatewayWorkload(gw.grpcUrl, w.token, {
        count: (op) => {
          g.byOp[op] = (g.byOp[op] ?? 0) + 1;
        },
        latency: (ms) => g.latencies.push(ms),
        error: (sample) => {
          g.errors++;
          if (g.errorSamples.length < 10) g.errorSamples.push(sample);
        },
        answer: (text) => {
          for (const t of issued) if (text.includes(t)) g.bodyTokenHits++;
        },
      })
    : undefined;
  const gpid = gw?.child.pid;
  const gs = { rssStart: 0, rssMid: 0, fdStart: 0 };
  const logLines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (c: Buffer) => {
    const parts = (partial + c.toString()).split('\n');
    partial = parts.pop() ?? '';
    logLines.push(...parts);
  });
  const pid = child.pid!;
  const headers = { 'x-auth-token': w.token, 'content-type': 'application/json' };
  const created: string[] = [];
  const latencies: number[] = [];
  const byOp: Record<string, number> = {};
  const errorSamples: string[] = [];
  let errors = 0;
  let seq = 0;
  let bodyTokenHits = 0;

  /** Ids deleted during the run: a show racing another worker's delete of the same network may rightly be 404. */
  const deleted = new Set<string>();
  let raced = 0;

  async function once(
    op: string,
    method: string,
    path: string,
    body?: unknown,
    raceOk?: () => boolean,
  ): Promise<unknown> {
    const t0 = performance.now();
    byOp[op] = (byOp[op] ?? 0) + 1;
    try {
      const r = await fetch(`${url}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await r.text();
      latencies.push(performance.now() - t0);
      for (const t of issued) if (text.includes(t)) bodyTokenHits++;
      if (r.status === 404 && raceOk?.()) {
        raced++;
        return undefined;
      }
      if (r.status >= 400 || r.headers.get('x-ocx-missing-service-providers')) {
        errors++;
        if (errorSamples.length < 10) errorSamples.push(`${op} ${r.status} ${text.slice(0, 200)}`);
        return undefined;
      }
      return text ? JSON.parse(text) : undefined;
    } catch (err) {
      errors++;
      if (errorSamples.length < 10) errorSamples.push(`${op} ${(err as Error).message}`);
      return undefined;
    }
  }

  async function step(): Promise<void> {
    if (gwLoad && (!surfaces.includes('proxy') || Math.random() < 0.5)) return gwLoad.step();
    const dice = Math.random();
    if (dice < 0.4) await once('flavors', 'GET', '/compute/v2.1/flavors');
    else if (dice < 0.55) await once('servers', 'GET', '/compute/v2.1/servers');
    else if (dice < 0.65) await once('networks', 'GET', '/network/v2.0/networks');
    // At most 40 of our networks at a time (devcloud's Neutron quota is 100 a project).
    else if ((dice < 0.8 && created.length < 40) || created.length === 0) {
      const r = (await once('create', 'POST', '/network/v2.0/networks', {
        network: { name: `soak-${process.pid}-${seq++}` },
      })) as { network?: { id: string } } | undefined;
      if (r?.network?.id) created.push(r.network.id);
    } else if (dice < 0.9) {
      const id = created[Math.floor(Math.random() * created.length)]!;
      await once('show', 'GET', `/network/v2.0/networks/${id}`, undefined, () => deleted.has(id));
    } else {
      const id = created.shift()!;
      deleted.add(id);
      await once('delete', 'DELETE', `/network/v2.0/networks/${id}`);
    }
  }

  let rssStart = 0;
  let rssMid = 0;
  let fdStart = 0;
  try {
    const until = Date.now() + o.seconds * 1000;
    const warmUntil = Date.now() + Math.max(2_000, o.seconds * 100);
    let warmed = false;
    const midAt = Date.now() + (o.seconds * 1000) / 2;
    const sampler = setInterval(() => {
      if (!rssMid && Date.now() >= midAt) {
        rssMid = rssMb(pid);
        if (gpid) gs.rssMid = rssMb(gpid);
      }
      if (!warmed && Date.now() >= warmUntil) {
        warmed = true;
        rssStart = rssMb(pid);
        fdStart = fds(pid);
        if (gpid) {
          gs.rssStart = rssMb(gpid);
          gs.fdStart = fds(gpid);
        }
      }
    }, 200);
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (Date.now() < until) await step();
      }),
    );
    clearInterval(sampler);
    if (!warmed) {
      rssStart = rssMb(pid);
      fdStart = fds(pid);
      if (gpid) {
        gs.rssStart = rssMb(gpid);
        gs.fdStart = fds(gpid);
      }
    }
    // Idle connections of the last round close on their own; measure once they have settled.
    await new Promise((r) => setTimeout(r, 500));
    const rssEnd = rssMb(pid);
    const fdEnd = fds(pid);
    const gRssEnd = gpid ? rssMb(gpid) : 0;
    const gFdEnd = gpid ? fds(gpid) : 0;
    await gwLoad?.cleanup();
    // Clean up what is left, outside the measurement.
    for (const id of created) await fetch(`${url}/network/v2.0/networks/${id}`, { method: 'DELETE', headers });
    await new Promise((r) => setTimeout(r, 300));
    const allLog = logLines.join('\n') + partial;
    let tokenHits = 0;
    for (const t of issued) if (allLog.includes(t)) tokenHits++;
    latencies.sort((a, b) => a - b);
    g.latencies.sort((a, b) => a - b);
    const gwOut = gw?.output() ?? '';
    const gateway: GatewaySoak | undefined = gw
      ? {
          requests: Object.values(g.byOp).reduce((a, b) => a + b, 0),
          errors: g.errors,
          errorSamples: g.errorSamples,
          byOp: g.byOp,
          p50Ms: pct(g.latencies, 50),
          p99Ms: pct(g.latencies, 99),
          rssStartMb: gs.rssStart,
          rssMidMb: gs.rssMid || gs.rssStart,
          rssEndMb: gRssEnd,
          fdStart: gs.fdStart,
          fdEnd: gFdEnd,
          tokenHits: [...issued].filter((t) => gwOut.includes(t)).length,
          bodyTokenHits: g.bodyTokenHits,
        }
      : undefined;
    return {
      gateway,
      seconds: o.seconds,
      concurrency: o.concurrency,
      requests: Object.values(byOp).reduce((a, b) => a + b, 0),
      errors,
      errorSamples,
      byOp,
      p50Ms: pct(latencies, 50),
      p99Ms: pct(latencies, 99),
      rssStartMb: rssStart,
      rssMidMb: rssMid || rssStart,
      rssEndMb: rssEnd,
      fdStart,
      fdEnd,
      tokensIssued: issued.size,
      logLines: logLines.length,
      tokenHits,
      bodyTokenHits,
      raced,
    };
  } finally {
    for (const c of [child, gw?.child]) {
      if (!c || c.exitCode !== null) continue;
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
    await w.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.env.SOAK_SECONDS ?? 600);
  const concurrency = Number(process.env.SOAK_CONCURRENCY ?? 32);
  const surfaces = (process.env.SOAK_SURFACES ?? 'proxy,gateway').split(',') as Surface[];
  console.log(
    `soak: ${concurrency} workers for ${seconds} s through ocx ${surfaces.join(' + ')} child processes on devcloud`,
  );
  const r = await runSoak({ seconds, concurrency, surfaces });
  console.log(JSON.stringify(r, null, 2));
  console.log(
    `requests ${r.requests} (${Math.round(r.requests / seconds)}/s), errors ${r.errors}, p50 ${r.p50Ms} ms, p99 ${r.p99Ms} ms, ` +
      `RSS ${r.rssStartMb} → ${r.rssMidMb} → ${r.rssEndMb} MB, fds ${r.fdStart} → ${r.fdEnd}, tokens in the log ${r.tokenHits} of ${r.tokensIssued}, in answers ${r.bodyTokenHits}`,
  );
  const gw = r.gateway;
  if (gw) {
    console.log(
      `gateway: requests ${gw.requests} (${Math.round(gw.requests / seconds)}/s), errors ${gw.errors}, p50 ${gw.p50Ms} ms, p99 ${gw.p99Ms} ms, ` +
        `RSS ${gw.rssStartMb} → ${gw.rssMidMb} → ${gw.rssEndMb} MB, fds ${gw.fdStart} → ${gw.fdEnd}, tokens in its output ${gw.tokenHits}, in answers ${gw.bodyTokenHits}`,
    );
  }
  const gwClean = !gw || (gw.errors === 0 && gw.tokenHits === 0 && gw.bodyTokenHits === 0);
  process.exitCode = r.errors === 0 && r.tokenHits === 0 && r.bodyTokenHits === 0 && gwClean ? 0 : 1;
}
