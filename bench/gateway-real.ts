/**
 * `npm run bench:gateway-real`: 1 GiB image transfers through the gRPC gateway against a real Glance (test/real's
 * stack: Keystone idp with K2K to sp1 and sp2, Glance in each SP). Needs the stack up; clouds.yaml from
 * OS_CLIENT_CONFIG_FILE (default /tmp/ocx-real/clouds.yaml). It starts its OWN gateway (`ocx gateway --home-cloud
 * idp-admin`, packages/cli/bin/ocx.js, on free loopback ports) and never touches the stack's services otherwise.
 *
 * Each round, alternating: sp1's `demo` user moves TRANSFER_MB up to sp1's Glance and back with plain HTTP (POST the
 * image, PUT …/file with Content-Length, GET …/file: what a REST client does, the "direct" reference), then idp's
 * `demo` does the same through the gateway (TransferService.UploadImage to sp1 by K2K, chunks of SEND_CHUNK,
 * sha256 given; DownloadImage), the image deleted after. Prints medians (MB/s), per-round ratios, the gateway
 * process's peak RSS growth (VmRSS every 50 ms) and its CPU seconds per GiB. The token's K2K login to sp1 (its
 * first call through the gateway, an image list) happens before any timing.
 *   TRANSFER_MB (default 1024), TRANSFER_RUNS (default 3), PROTOCOL=grpc|connect (connect: Connect over HTTP/1.1),
 *   RELEASE=0 (the client without releaseStreamedMessages: connect-es then keeps every chunk until the call ends),
 *   FRAMES=0 (upload chunks through Connect-ES's encoder instead of the SDK's uploadFrames).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport } from '@connectrpc/connect-node';
import {
  CloudService,
  SEND_CHUNK,
  TransferService,
  UploadImageMetadataSchema,
  WideWindowSessionManager,
} from '@ocx/gateway';
import { releaseStreamedMessages, type UploadFrames, uploadFrames } from '@ocx/sdk';
import { Agent } from 'undici';
import { realLogin } from '../test/lib/real-login.ts';
import { cpuOf, rssGrowth, spawnGateway } from './gateway-transfer.ts';
import { moveImage } from './lib/real-glance.ts';

const cloudsFile = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/ocx-real/clouds.yaml';
const TRANSFER_MB = Number(process.env.TRANSFER_MB ?? 1024);
const TRANSFER_RUNS = Number(process.env.TRANSFER_RUNS ?? 3);
const BYTES = TRANSFER_MB * 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const agent = new Agent({ connections: 4, keepAliveTimeout: 30_000 });
const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), 'ocx-bench-gw-real-'));

/**
 * The descriptor set for a python3-grpcio client (bench/lib/grpcio-download.py), or '' when /usr/bin/python3 has no
 * grpc module (the Python figure is then left out, and said so).
 */
async function grpcioSet(): Promise<string> {
  try {
    await run('/usr/bin/python3', ['-c', 'import grpc, google.protobuf'], { timeout: 30_000 });
  } catch {
    return '';
  }
  const root = fileURLToPath(new URL('..', import.meta.url));
  const set = join(work, 'set.binpb');
  await run(join(root, 'node_modules/.bin/buf'), ['build', '-o', set], { cwd: root, timeout: 120_000 });
  return set;
}
const gw = await spawnGateway(cloudsFile);
try {
  const sp1 = await realLogin('sp1', cloudsFile);
  const idp = await realLogin('idp', cloudsFile);
  const auth = { headers: { authorization: `Bearer ${idp.token}` }, timeoutMs: 900_000 };
  // As docs/gateway.md advises connect-node clients: each streamed chunk freed once used (the SDK's
  // releaseStreamedMessages; RELEASE=0 leaves connect-es to keep them until the call ends, as it does by default).
  const interceptors = process.env.RELEASE === '0' ? [] : [releaseStreamedMessages];
  const transport =
    process.env.PROTOCOL === 'connect'
      ? createConnectTransport({ baseUrl: gw.httpUrl, httpVersion: '1.1', interceptors })
      : createGrpcTransport({ baseUrl: gw.url, sessionManager: new WideWindowSessionManager(gw.url), interceptors });
  const transfer = createClient(TransferService, transport);
  const descriptorSet = await grpcioSet();
  /** DownloadImage by python3-grpcio (C-core): what the gateway serves a client whose decoding is cheap (ms). */
  async function grpcioDownload(id: string): Promise<number> {
    const script = fileURLToPath(new URL('./lib/grpcio-download.py', import.meta.url));
    const target = new URL(gw.url).host;
    const { stdout } = await run('/usr/bin/python3', [script, descriptorSet, target, 'sp1', id], {
      env: { ...process.env, OCX_TOKEN: idp.token },
      timeout: 900_000,
    });
    const out = JSON.parse(stdout) as { ms: number; bytes: number };
    if (out.bytes !== BYTES) throw new Error(`grpcio downloaded ${out.bytes} bytes through the gateway`);
    return out.ms;
  }
  const cloud = createClient(CloudService, transport);

  // The same bytes as moveImage sends (7s), in messages of SEND_CHUNK; their sha256 computed before any timing.
  const piece = Buffer.alloc(SEND_CHUNK, 7);
  const hash = createHash('sha256');
  for (let at = 0; at < BYTES; at += SEND_CHUNK) hash.update(piece.subarray(0, Math.min(SEND_CHUNK, BYTES - at)));
  const sha256 = hash.digest('hex');
  // As the SDK's gateway backend uploads: chunks written as they are, past Connect-ES's encoder
  // (packages/sdk/src/gateway-backend/upload-frames.ts); FRAMES=0 sends them through the encoder instead.
  const framing = process.env.FRAMES !== '0';
  async function* upload(frames: UploadFrames) {
    const metadata = create(UploadImageMetadataSchema, {
      location: { cloud: 'sp1' },
      name: `ocx-bench-gw-${Date.now()}`,
      sha256,
      size: BigInt(BYTES),
      diskFormat: 'raw',
    });
    yield { part: { case: 'metadata' as const, value: metadata } };
    for (let at = 0; at < BYTES; at += SEND_CHUNK) {
      const chunk = piece.subarray(0, Math.min(SEND_CHUNK, BYTES - at));
      yield framing ? frames.chunk(chunk) : { part: { case: 'chunk' as const, value: chunk } };
    }
  }
  let clientDown = 0;
  async function throughGateway(): Promise<{
    up: number;
    down: number;
    rssUp: number;
    rssDown: number;
    python: number;
  }> {
    let id = '';
    let up = 0;
    let down = 0;
    const rssUp = await rssGrowth(gw.pid, async () => {
      const t0 = performance.now();
      const frames = uploadFrames();
      try {
        const headers = { ...auth.headers, ...frames.headers };
        id = (await transfer.uploadImage(upload(frames), { ...auth, headers })).image?.id ?? '';
      } finally {
        frames.done();
      }
      up = performance.now() - t0;
    });
    try {
      let rssDown = 0;
      clientDown = Math.max(
        clientDown,
        await rssGrowth(0, async () => {
          rssDown = await rssGrowth(gw.pid, async () => {
            const t0 = performance.now();
            let got = 0;
            const filter = { location: { clouds: ['sp1'] }, nameOrId: id };
            for await (const m of transfer.downloadImage({ filter }, auth)) {
              if (m.part.case === 'chunk') {
                got += m.part.value.byteLength;
              }
            }
            if (got !== BYTES) throw new Error(`downloaded ${got} bytes through the gateway`);
            down = performance.now() - t0;
          });
        }),
      );
      const python = descriptorSet ? await grpcioDownload(id) : 0;
      return { up, down, rssUp, rssDown, python };
    } finally {
      await cloud.deleteImage({ filter: { location: { clouds: ['sp1'] }, nameOrId: id } }, auth);
    }
  }

  // The token's first call through the gateway logs in to sp1 by K2K (and Glance validates the new token): not timed.
  const warm = await cloud.listImages({ filter: { location: { clouds: ['sp1'] } } }, auth);
  if (warm.failures.length) throw new Error(`gateway list at sp1: ${warm.failures[0]?.message}`);
  const mbps = (ms: number) => (TRANSFER_MB * 1.048576) / (ms / 1000);
  const d = { up: [] as number[], down: [] as number[] };
  const g = { up: [] as number[], down: [] as number[] };
  const py: number[] = [];
  let rssUp = 0;
  let rssDown = 0;
  let gwCpu = 0;
  const clientCpu = { direct: 0, gateway: 0 };
  const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
  for (let r = 0; r < TRANSFER_RUNS; r++) {
    let u0 = process.cpuUsage();
    const a = await moveImage(agent, `${sp1.ep.image}/v2/images`, { 'x-auth-token': sp1.token }, BYTES);
    clientCpu.direct += cpuSeconds(process.cpuUsage(u0));
    const c0 = cpuOf(gw.pid);
    u0 = process.cpuUsage();
    const b = await throughGateway();
    clientCpu.gateway += cpuSeconds(process.cpuUsage(u0));
    gwCpu += cpuOf(gw.pid) - c0;
    d.up.push(mbps(a.up));
    d.down.push(mbps(a.down));
    g.up.push(mbps(b.up));
    g.down.push(mbps(b.down));
    if (b.python) py.push(mbps(b.python));
    rssUp = Math.max(rssUp, b.rssUp);
    rssDown = Math.max(rssDown, b.rssDown);
  }
  const how = process.env.PROTOCOL === 'connect' ? 'Connect, HTTP/1.1' : 'gRPC, h2c';
  console.log(`${TRANSFER_MB} MiB image to sp1's real Glance, ${TRANSFER_RUNS} rounds (medians), gateway via ${how}:`);
  for (const dir of ['up', 'down'] as const) {
    const dm = median(d[dir]);
    const gm = median(g[dir]);
    const rounds = d[dir].map((x, i) => (g[dir][i]! / x).toFixed(2)).join(', ');
    console.log(
      `  ${dir === 'up' ? 'upload:  ' : 'download:'} direct ${dm.toFixed(0)} MB/s, through the gateway ` +
        `${gm.toFixed(0)} MB/s: ratio ${(gm / dm).toFixed(2)}× (rounds ${rounds})`,
    );
  }
  console.log(
    py.length
      ? `  download by a python3-grpcio client (bench/lib/grpcio-download.py), same image, same rounds: ${median(py).toFixed(0)} MB/s: ratio ${(median(py) / median(d.down)).toFixed(2)}× (rounds ${py.map((x, i) => (x / d.down[i]!).toFixed(2)).join(', ')})`
      : '  (no python3-grpcio on /usr/bin/python3: the grpcio download is left out)',
  );
  const gib = (TRANSFER_MB / 1024) * TRANSFER_RUNS * 2;
  console.log(
    `  gateway process: RSS growth peak upload ${rssUp.toFixed(0)} MB, download ${rssDown.toFixed(0)} MB; ` +
      `${(gwCpu / gib).toFixed(1)} CPU s per GiB moved; this client's RSS growth downloading ${clientDown.toFixed(0)} MB`,
  );
  console.log(
    `  this client's CPU s per GiB moved (up and down): direct ${(clientCpu.direct / gib).toFixed(1)}, ` +
      `through the gateway ${(clientCpu.gateway / gib).toFixed(1)}`,
  );
} finally {
  await gw.stop();
  await agent.close();
  rmSync(work, { recursive: true, force: true });
}
