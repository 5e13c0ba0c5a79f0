/**
 * The transfer part of `npm run bench:gateway`: one TRANSFER_MB image to sp1's Glance and back, straight (the SDK's
 * createImage from a stream, `GET …/file`) and through the gateway's TransferService, alternating within each round.
 * As a user runs it: the gateway is `ocx gateway` in a process of its own (GATEWAY=inproc runs it in this process
 * instead, the old setup, for comparison), devcloud in the caller's worker thread, the client here. The gateway's
 * RSS is its process's VmRSS (/proc/<pid>/status) sampled every 50 ms during its transfers.
 *   GW_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' PARTS=transfers npm run bench:gateway   # profile the gateway
 *   PROTOCOL=connect | grpcweb   the client on Connect or gRPC-Web over HTTP/1.1 (the gateway's --http-port)
 *                                instead of gRPC over h2c
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { SEND_CHUNK, TransferService, UploadImageMetadataSchema, WideWindowSessionManager } from '@ocx/gateway';
import { type MultiCloud, releaseStreamedMessages } from '@ocx/sdk';

const TRANSFER_MB = Number(process.env.TRANSFER_MB ?? 1024);
const TRANSFER_RUNS = Number(process.env.TRANSFER_RUNS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/**
 * `ocx gateway` (bin/ocx.js, as `npx ocx gateway` runs) on the bench's clouds.yaml, on free loopback ports; its gRPC
 * URL from the banner.
 */
export async function spawnGateway(
  yaml: string,
): Promise<{ url: string; httpUrl: string; pid: number; stop: () => Promise<void> }> {
  const ocx = fileURLToPath(new URL('../packages/cli/bin/ocx.js', import.meta.url));
  const extra = (process.env.GW_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const args = [...extra, ocx, 'gateway', '--home-cloud', 'idp-admin', '--home-name', 'idp'];
  args.push('--listen', '127.0.0.1:0', '--clouds-file', yaml);
  const child: ChildProcessByStdio<null, Readable, null> = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let httpUrl = '';
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /gRPC (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      const h = /\(HTTP\/1\.1\) (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m?.[1] && h?.[1]) {
        httpUrl = h[1];
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`ocx gateway exited (${code}) before listening`)));
  });
  // GW_STDOUT=FILE keeps what the gateway prints after its banner (--trace-gc's lines, say).
  const keep = process.env.GW_STDOUT ? createWriteStream(process.env.GW_STDOUT) : undefined;
  if (keep) child.stdout.pipe(keep);
  else child.stdout.resume();
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((res) => child.once('exit', res));
    child.kill('SIGTERM');
    await exited;
  };
  return { url, httpUrl, pid: child.pid ?? 0, stop };
}

/** pid and its descendants (`ocx` may start the gateway as its child, with V8 flags: packages/cli/bin/ocx.js). */
function tree(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    // ended meanwhile
  }
  return [pid, ...kids.flatMap(tree)];
}

/** Read a /proc file of a process that may have ended: '' then. */
const proc = (pid: number, file: string) => {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
};

/** The resident set (bytes) of a process tree, from /proc; this process's own when pid is 0. */
function rssOf(pid: number): number {
  if (!pid) return process.memoryUsage().rss;
  return tree(pid).reduce((sum, p) => sum + Number(/VmRSS:\s+(\d+) kB/.exec(proc(p, 'status'))?.[1] ?? 0) * 1024, 0);
}

/** CPU seconds (user + system) of a process tree so far: /proc/<pid>/stat's utime + stime (ticks of 1/100 s). */
export function cpuOf(pid: number): number {
  if (!pid) return 0; // in-process: counted in process.cpuUsage() already
  return tree(pid).reduce((sum, p) => {
    const fields = proc(p, 'stat').split(') ')[1]?.split(' ') ?? [];
    return sum + (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / 100;
  }, 0);
}

/** CPU seconds spent by this process (all its threads: the client and the devcloud worker) and the gateway's. */
const cpuNow = (pid: number) => ({ here: process.cpuUsage(), gw: cpuOf(pid) });
function cpuSince(pid: number, t0: ReturnType<typeof cpuNow>): { here: number; gw: number } {
  const d = process.cpuUsage(t0.here);
  return { here: (d.user + d.system) / 1e6, gw: cpuOf(pid) - t0.gw };
}

/** Peak RSS growth (MB) of the gateway's process while fn runs, sampled every 50 ms. */
export async function rssGrowth(pid: number, fn: () => Promise<void>): Promise<number> {
  const rss0 = rssOf(pid);
  let peak = rss0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssOf(pid));
  }, 50);
  try {
    await fn();
  } finally {
    clearInterval(sampler);
  }
  return (Math.max(peak, rssOf(pid)) - rss0) / 1048576;
}

/**
 * TRANSFER_RUNS rounds: up direct, up through the gateway, down direct, down through the gateway (medians, MB/s,
 * per-round ratios direct time / gateway time, the gateway's peak RSS growth). `pid` 0: the gateway is in this process.
 */
export async function transfers(
  multi: MultiCloud,
  url: string,
  pid: number,
  auth: { headers: Record<string, string> },
  httpUrl = url,
): Promise<string> {
  const block = randomBytes(1024 * 1024);
  const hash = createHash('sha256');
  for (let i = 0; i < TRANSFER_MB; i++) hash.update(block);
  const sha256 = hash.digest('hex');
  /** block twice over: any chunk of at most 1 MiB of the repeated block is a view of it (no copy). */
  const twice = Buffer.concat([block, block]);
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
  const protocol = process.env.PROTOCOL ?? 'grpc';
  // Each streamed chunk freed once used (the SDK's releaseStreamedMessages, as docs/gateway.md advises connect-node
  // clients); RELEASE=0 leaves connect-es to keep every message until the call ends.
  const interceptors = process.env.RELEASE === '0' ? [] : [releaseStreamedMessages];
  const transport =
    protocol === 'connect'
      ? createConnectTransport({ baseUrl: httpUrl, httpVersion: '1.1', interceptors })
      : protocol === 'grpcweb'
        ? createGrpcWebTransport({ baseUrl: httpUrl, httpVersion: '1.1', interceptors })
        : createGrpcTransport({
            baseUrl: url,
            interceptors,
            ...(wide ? { sessionManager: new WideWindowSessionManager(url) } : {}),
          });
  const transfer = createClient(TransferService, transport);
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
    // The same bytes as blocks(), in messages of SEND_CHUNK (docs/gateway.md: a 1 MiB chunk makes a message 4 bytes
    // over 1 MiB, which protobuf-es encodes through a 2 MiB buffer); CHUNK=1048576 sends whole 1 MiB blocks instead.
    const size = Number(process.env.CHUNK ?? SEND_CHUNK);
    const total = TRANSFER_MB * 1024 * 1024;
    for (let at = 0; at < total; at += size) {
      const off = at % block.byteLength;
      const n = Math.min(size, total - at);
      yield { part: { case: 'chunk' as const, value: twice.subarray(off, off + n) } };
    }
  }
  /** CPU seconds per GiB moved, summed over rounds: [bench process (client + devcloud), gateway process]. */
  const cpu: Record<string, [number, number]> = {};
  const timed = async (what: string, fn: () => Promise<unknown>) => {
    const c0 = cpuNow(pid);
    const t = performance.now();
    await fn();
    const ms = performance.now() - t;
    const c = cpuSince(pid, c0);
    const sum = cpu[what] ?? [0, 0];
    cpu[what] = [sum[0] + c.here, sum[1] + c.gw];
    return ms;
  };
  const times = { upDirect: [] as number[], upGw: [] as number[], downDirect: [] as number[], downGw: [] as number[] };
  let rssUp = 0;
  let rssDown = 0;
  for (let r = 0; r < TRANSFER_RUNS; r++) {
    let directId = '';
    let gwId = '';
    times.upDirect.push(
      await timed('upDirect', async () => {
        directId = (await sp.cloudLayer.createImage('bench-direct', { data: blocks(), sha256, diskFormat: 'raw' })).id;
      }),
    );
    let upMs = 0;
    const up = await rssGrowth(pid, async () => {
      upMs = await timed('upGw', async () => {
        gwId = (await transfer.uploadImage(upload(), auth)).image?.id ?? '';
      });
    });
    rssUp = Math.max(rssUp, up);
    times.upGw.push(upMs);
    times.downDirect.push(
      await timed('downDirect', async () => {
        const res = await sp.client('image').get(`/images/${directId}/file`, { stream: true });
        const n = await drain(res.body as AsyncIterable<Uint8Array>);
        if (n !== TRANSFER_MB * 1024 * 1024) throw new Error(`downloaded ${n} bytes directly`);
      }),
    );
    let downMs = 0;
    const down = await rssGrowth(pid, async () => {
      downMs = await timed('downGw', async () => {
        let got = 0;
        const filter = { location: { clouds: ['sp1'] }, nameOrId: gwId };
        for await (const m of transfer.downloadImage({ filter }, auth)) {
          if (m.part.case === 'chunk') got += m.part.value.byteLength;
        }
        if (got !== TRANSFER_MB * 1024 * 1024) throw new Error(`downloaded ${got} bytes through the gateway`);
      });
    });
    rssDown = Math.max(rssDown, down);
    times.downGw.push(downMs);
    await sp.cloudLayer.deleteImage({ id: directId });
    await sp.cloudLayer.deleteImage({ id: gwId });
  }
  const ratios = (d: number[], g: number[]) => d.map((x, i) => (x / (g[i] ?? 1)).toFixed(2)).join(', ');
  const line = (d: number[], g: number[]) =>
    `direct ${mbps(median(d))} MB/s, through the gateway ${mbps(median(g))} MB/s (ratio ${(median(d) / median(g)).toFixed(2)}; per round ${ratios(d, g)})`;
  const gib = (TRANSFER_MB / 1024) * TRANSFER_RUNS;
  const perGib = (k: string) => {
    const [here, gw] = cpu[k] ?? [0, 0];
    return pid ? `${(here / gib).toFixed(1)} + gateway ${(gw / gib).toFixed(1)}` : (here / gib).toFixed(1);
  };
  const cpuLine = `  CPU s per GiB (client + devcloud${pid ? ' process, + the gateway process' : ', gateway included'}): upload direct ${perGib('upDirect')}, through the gateway ${perGib('upGw')}; download direct ${perGib('downDirect')}, through the gateway ${perGib('downGw')}`;
  const whose = pid ? `the gateway's own processes (ocx ${pid} and its child)` : 'this one process (client + gateway)';
  return [
    `image transfer, ${TRANSFER_MB} MiB to sp1's Glance, ${TRANSFER_RUNS} rounds (medians), gateway ${pid ? 'in its own process (ocx gateway)' : 'in the client process'}:`,
    `  upload:   ${line(times.upDirect, times.upGw)}`,
    `  download: ${line(times.downDirect, times.downGw)}`,
    cpuLine,
    `  RSS growth of ${whose}, peak over rounds: upload ${rssUp.toFixed(0)} MB, download ${rssDown.toFixed(0)} MB`,
  ].join('\n');
}
