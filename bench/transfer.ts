/**
 * Object transfer benchmark: a 1 GiB object uploaded and downloaded through the SDK's transfer module (parallel
 * SLO segments, parallel ranges) against a single stream (one PUT, one GET) and python-openstackclient's
 * `openstack object create` / `object save`, all in the same run; then the unchanged file uploaded again, which must
 * send at most 1% of its bytes (the stored segments match). Against devcloud (run in a worker thread so that its work
 * does not share the client's event loop) and, when test/real's clouds.yaml is there, against real Swift on sp1.
 *
 *   npm run bench:transfer          # SIZE_MIB=1024 THREADS=4 SEGMENT_MIB=32 TARGETS=devcloud,real
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomFillSync } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  collect,
  createSession,
  downloadFile,
  loadCloudsConfig,
  ObjectStoreClient,
  type Session,
  uploadFile,
} from '@ocx/sdk';

const MiB = 1024 * 1024;
const SIZE_MIB = Number(process.env.SIZE_MIB ?? 1024);
const THREADS = Number(process.env.THREADS ?? 4);
const SEGMENT = Number(process.env.SEGMENT_MIB ?? 32) * MiB;
const TARGETS = (process.env.TARGETS ?? 'devcloud,real').split(',');
const REAL_CLOUDS = process.env.OCX_REAL_CLOUDS_YAML ?? '/tmp/ocx-real/clouds.yaml';
const REAL_CLOUD = process.env.OCX_REAL_CLOUD ?? 'sp1';
const OPENSTACK = process.env.OCX_OPENSTACK_BIN ?? '/usr/bin/openstack';
const TIMEOUT_MS = 30 * 60_000;
const run = promisify(execFile);

if (!isMainThread) {
  // The devcloud worker: start sp1, write clouds.yaml, report, stop when told.
  const { startDevcloud } = await import('@ocx/devcloud');
  const dc = await startDevcloud({ clouds: ['sp1'], cloudsYamlPath: workerData.cloudsYaml, logLevel: 'silent' });
  parentPort?.postMessage('up');
  parentPort?.once('message', async () => {
    await dc.stop();
    parentPort?.postMessage('down');
  });
} else {
  await benchMain();
}

async function makeFile(path: string, bytes: number): Promise<void> {
  const fh = await open(path, 'w');
  const block = Buffer.alloc(MiB);
  try {
    for (let off = 0; off < bytes; off += MiB) {
      randomFillSync(block);
      await fh.write(block, 0, Math.min(MiB, bytes - off), off);
    }
  } finally {
    await fh.close();
  }
}

interface Line {
  what: string;
  ms: number;
  note?: string;
}

function rate(ms: number, bytes: number): string {
  return `${((bytes / MiB) * 1000) / ms}`.slice(0, 6);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

async function openstack(cloudsYaml: string, cloud: string, args: string[]): Promise<void> {
  const env: Record<string, string | undefined> = { ...process.env, OS_CLIENT_CONFIG_FILE: cloudsYaml };
  env.PATH = `/usr/bin:${process.env.PATH ?? ''}`;
  for (const k of Object.keys(env)) if (k.startsWith('OS_') && k !== 'OS_CLIENT_CONFIG_FILE') delete env[k];
  await run(OPENSTACK, ['--os-cloud', cloud, ...args], { env, timeout: TIMEOUT_MS });
}

async function benchTarget(label: string, cloudsYaml: string, cloud: string, src: string, dir: string) {
  const size = statSync(src).size;
  const config = loadCloudsConfig({ files: { clouds: [cloudsYaml], secure: [], publicClouds: [] }, loadEnv: false });
  const session: Session = createSession(config.getCloud(cloud));
  const store = new ObjectStoreClient(session.client('object-store'));
  const container = `ocx-bench-${randomBytes(4).toString('hex')}`;
  const lines: Line[] = [];
  const dest = join(dir, 'download.bin');
  const call = { timeoutMs: TIMEOUT_MS };
  try {
    await store.createContainer(container);
    const par = await timed(() =>
      uploadFile(store, container, 'par.bin', src, { ...call, threads: THREADS, segmentSize: SEGMENT }),
    );
    lines.push({
      what: `upload: parallel SLO segments (${THREADS} threads, ${SEGMENT / MiB} MiB)`,
      ms: par.ms,
      note: `${par.value.segments} segments`,
    });
    const again = await timed(() =>
      uploadFile(store, container, 'par.bin', src, { ...call, threads: THREADS, segmentSize: SEGMENT }),
    );
    const pct = (100 * again.value.bytesSent) / size;
    lines.push({
      what: 'upload again, file unchanged',
      ms: again.ms,
      note: `sent ${again.value.bytesSent} B = ${pct.toFixed(2)}% of the file (goal <= 1%: ${pct <= 1 ? 'met' : 'MISSED'})`,
    });
    const single = await timed(async () => {
      const { createReadStream } = await import('node:fs');
      return store.putObject(container, 'single.bin', createReadStream(src, { highWaterMark: MiB }), { ...call, size });
    });
    lines.push({ what: 'upload: single stream (one PUT)', ms: single.ms });
    const osc = existsSync(OPENSTACK)
      ? await timed(() => openstack(cloudsYaml, cloud, ['object', 'create', container, src, '--name', 'osc.bin']))
      : undefined;
    if (osc) lines.push({ what: 'upload: openstack object create', ms: osc.ms });

    const dpar = await timed(() => downloadFile(store, container, 'par.bin', dest, { ...call, threads: THREADS }));
    lines.push({
      what: `download: parallel SLO segments (${THREADS} threads), verified`,
      ms: dpar.ms,
      note: `verified=${dpar.value.verified}`,
    });
    await rm(dest, { force: true });
    const dranges = await timed(() =>
      downloadFile(store, container, 'single.bin', dest, { ...call, threads: THREADS, partSize: SEGMENT }),
    );
    lines.push({
      what: `download: parallel ranges of a plain object (${THREADS} threads), verified`,
      ms: dranges.ms,
      note: `verified=${dranges.value.verified}`,
    });
    await rm(dest, { force: true });
    const dsingle = await timed(() => store.downloadObject(container, 'single.bin', createWriteStream(dest), call));
    lines.push({ what: 'download: single stream (one GET, not verified)', ms: dsingle.ms });
    await rm(dest, { force: true });
    if (osc) {
      const dosc = await timed(() =>
        openstack(cloudsYaml, cloud, ['object', 'save', container, 'osc.bin', '--file', dest]),
      );
      lines.push({ what: 'download: openstack object save', ms: dosc.ms });
      await rm(dest, { force: true });
    } else {
      lines.push({ what: `openstack: ${OPENSTACK} not found, not compared`, ms: Number.NaN });
    }
  } finally {
    for (const c of [container, `${container}_segments`]) {
      const objects = await collect(store.listObjects(c)).catch(() => []);
      for (const o of objects) if (o.name) await store.deleteObject(c, o.name).catch(() => {});
      await store.deleteContainer(c).catch(() => {});
    }
    await session.close();
    await rm(dest, { force: true });
  }
  console.log(`\n${label}: ${size / MiB} MiB object`);
  for (const l of lines) {
    if (Number.isNaN(l.ms)) console.log(`  ${l.what}`);
    else
      console.log(
        `  ${l.what.padEnd(70)} ${(l.ms / 1000).toFixed(2).padStart(7)} s ${rate(l.ms, size).padStart(7)} MiB/s${l.note ? `  (${l.note})` : ''}`,
      );
  }
}

async function benchMain(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ocx-bench-transfer-'));
  const src = join(dir, 'source.bin');
  console.log(
    `transfer bench: ${SIZE_MIB} MiB, threads ${THREADS}, segment ${SEGMENT / MiB} MiB, targets ${TARGETS.join(',')}`,
  );
  try {
    await makeFile(src, SIZE_MIB * MiB);
    if (TARGETS.includes('devcloud')) {
      const cloudsYaml = join(dir, 'clouds.yaml');
      const worker = new Worker(new URL(import.meta.url), { workerData: { cloudsYaml } });
      await new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
      });
      try {
        await benchTarget('devcloud (sp1, worker thread, blobs on local disk)', cloudsYaml, 'sp1', src, dir);
      } finally {
        const down = new Promise((resolve) => worker.once('message', resolve));
        worker.postMessage('stop');
        await down;
        await worker.terminate();
      }
    }
    if (TARGETS.includes('real')) {
      if (existsSync(REAL_CLOUDS))
        await benchTarget(`real Swift (${REAL_CLOUD}, test/real)`, REAL_CLOUDS, REAL_CLOUD, src, dir);
      else console.log(`\nreal Swift: ${REAL_CLOUDS} not found (start test/real), not measured`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
