/**
 * What a gRPC client can take at all: DownloadImage answered by a server that costs nothing per message, beside the
 * same bytes as a plain HTTP/1.1 GET (the shape of a direct Glance download) in the same run. If the clients fall
 * short of 0.9× here, no gateway, however fast its own side, gives them 0.9× of a direct download on this host.
 *   node bench/grpc-ceiling.ts      # MB=1024 RUNS=3; the server runs in a child process (`serve`), as a gateway does
 * The server writes one pre-encoded gRPC message (the gateway's 1 MiB − 16 chunk, encoded once by protobuf-es, in a
 * gRPC length-prefixed frame) MB times over node:http2 with backpressure, then `grpc-status: 0`. That framing is
 * written here by hand on purpose: it is the zero-cost reference, not a server anyone should run.
 * Clients, alternating each run: undici GET over HTTP/1.1 (reference), node:http2 GET of the same bytes, the
 * connect-node gRPC client as the SDK configures it (releaseStreamedMessages, wide windows), and python3-grpcio
 * (bench/lib/grpcio-download.py; left out, and said so, when /usr/bin/python3 has no grpc module). The two gRPC
 * clients then take the same download from Connect-ES's own server in the same child (a handler that only yields
 * the chunk): the difference is the server-side cost of the stack the gateway runs on; and from the gateway's own
 * adapter, whose blob chunks skip that encode (packages/gateway/src/blob-frames.ts).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { create, toBinary } from '@bufbuild/protobuf';
import { type ConnectRouter, createClient, type HandlerContext } from '@connectrpc/connect';
import { connectNodeAdapter, createGrpcTransport } from '@connectrpc/connect-node';
import { DownloadImageResponseSchema, SEND_CHUNK, TransferService, WideWindowSessionManager } from '@ocx/gateway';
import { releaseStreamedMessages } from '@ocx/sdk';
import { Agent, request } from 'undici';
import { gatewayNodeAdapter } from '../packages/gateway/src/adapter.ts';
import { chunkMessage } from '../packages/gateway/src/blob-frames.ts';

const MB = Number(process.env.MB ?? 1024);
const RUNS = Number(process.env.RUNS ?? 3);
const CHUNK = SEND_CHUNK; // what the gateway sends
const BYTES = MB * CHUNK;

if (process.argv[2] === 'serve') {
  const message = toBinary(
    DownloadImageResponseSchema,
    create(DownloadImageResponseSchema, { part: { case: 'chunk', value: new Uint8Array(CHUNK).fill(7) } }),
  );
  const frame = Buffer.alloc(5 + message.byteLength);
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, 5);
  const raw = Buffer.alloc(CHUNK, 7);
  /** Writes `buf` MB times with backpressure, then calls `done`. */
  const pump = (out: NodeJS.WritableStream, buf: Buffer, done: () => void) => {
    let i = 0;
    const more = () => {
      while (i < MB) {
        i++;
        if (!out.write(buf)) return void out.once('drain', more);
      }
      done();
    };
    more();
  };
  const h2 = http2.createServer({ settings: { initialWindowSize: 2 * 1024 * 1024 } });
  h2.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    if (headers[':path'] === '/raw') {
      stream.respond({ ':status': 200 });
      return pump(stream, raw, () => stream.end());
    }
    // Any gRPC call gets the download; the request is read and ignored.
    stream.resume();
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    pump(stream, frame, () => stream.end());
  });
  const h1 = http.createServer((_req, res) => pump(res, raw, () => res.end()));
  const chunk = new Uint8Array(CHUNK).fill(7);
  /** An h2c server whose TransferService.DownloadImage yields the chunk MB times, through `adapter`. */
  const downloadServer = (adapter: typeof gatewayNodeAdapter, framing: boolean) =>
    http2.createServer(
      { settings: { initialWindowSize: 2 * 1024 * 1024 } },
      adapter({
        routes(router: ConnectRouter) {
          router.service(
            TransferService,
            {
              async *downloadImage(_req: unknown, ctx: HandlerContext) {
                for (let i = 0; i < MB; i++)
                  yield framing ? chunkMessage(ctx, chunk) : { part: { case: 'chunk', value: chunk } };
              },
            } as never,
            { acceptCompression: [] },
          );
        },
      }),
    );
  // Connect-ES's own server (what the gateway runs), the handler only yielding the chunk: the server-side cost of the
  // gRPC stack, without Glance, hashing or the gateway's own code; then the gateway's adapter, which frames blob chunks
  // past Connect-ES's encoder (packages/gateway/src/blob-frames.ts): what that framing gives back of the stack's cost.
  const connect = downloadServer(connectNodeAdapter as typeof gatewayNodeAdapter, false);
  const framed = downloadServer(gatewayNodeAdapter, true);
  await Promise.all(
    [h2, h1, connect, framed].map((s) => new Promise<void>((r) => (s as http.Server).listen(0, '127.0.0.1', r))),
  );
  const port = (s: http.Server | http2.Http2Server) => (s.address() as AddressInfo).port;
  const ports = { h2: port(h2), h1: port(h1), connect: port(connect), framed: port(framed) };
  process.stdout.write(`${JSON.stringify(ports)}\n`);
  process.stdin.resume().on('end', () => process.exit(0));
} else {
  await main();
}

async function main() {
  const run = promisify(execFile);
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'serve'], {
    env: { ...process.env, MB: String(MB) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ports = await new Promise<{ h2: number; h1: number; connect: number; framed: number }>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(JSON.parse(d.toString())));
    child.once('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  const h2url = `http://127.0.0.1:${ports.h2}`;
  const agent = new Agent({ connections: 1 });
  /** The connect-node client as the SDK configures it, to the server at `url`. */
  const grpcClient = (url: string) =>
    createClient(
      TransferService,
      createGrpcTransport({
        baseUrl: url,
        sessionManager: new WideWindowSessionManager(url),
        interceptors: [releaseStreamedMessages],
      }),
    );
  const grpc = grpcClient(h2url);
  const viaConnect = grpcClient(`http://127.0.0.1:${ports.connect}`);
  const viaFramed = grpcClient(`http://127.0.0.1:${ports.framed}`);
  let python = '';
  try {
    await run('/usr/bin/python3', ['-c', 'import grpc, google.protobuf'], { timeout: 30_000 });
    const root = fileURLToPath(new URL('..', import.meta.url));
    python = join(mkdtempSync(join(tmpdir(), 'ocx-bench-ceiling-')), 'set.binpb');
    await run(join(root, 'node_modules/.bin/buf'), ['build', '-o', python], { cwd: root, timeout: 120_000 });
  } catch {
    python = '';
  }
  const check = (name: string, got: number) => {
    if (got !== BYTES) throw new Error(`${name} got ${got} of ${BYTES} bytes`);
  };
  const clients: Record<string, () => Promise<void>> = {
    'HTTP/1.1 GET (undici)': async () => {
      const res = await request(`http://127.0.0.1:${ports.h1}/`, { dispatcher: agent });
      let got = 0;
      for await (const c of res.body) got += (c as Buffer).byteLength;
      check('undici', got);
    },
    'HTTP/2 GET (node:http2)': () =>
      new Promise<void>((resolve, reject) => {
        const session = http2.connect(h2url, { settings: { initialWindowSize: 2 * 1024 * 1024 } });
        session.on('connect', () => session.setLocalWindowSize(8 * 1024 * 1024));
        let got = 0;
        session
          .request({ ':path': '/raw' })
          .on('data', (c: Buffer) => (got += c.byteLength))
          .on('end', () => {
            session.close();
            try {
              resolve(check('node:http2', got));
            } catch (e) {
              reject(e);
            }
          })
          .on('error', reject);
      }),
    'gRPC, connect-node': () => download(grpc),
    'Connect-ES server → connect-node': () => download(viaConnect),
    'gateway adapter → connect-node': () => download(viaFramed),
  };
  async function download(client: typeof grpc) {
    let got = 0;
    for await (const m of client.downloadImage({}, { timeoutMs: 900_000 }))
      if (m.part.case === 'chunk') got += m.part.value.byteLength;
    check('connect-node', got);
  }
  async function grpcio(port: number) {
    const script = fileURLToPath(new URL('./lib/grpcio-download.py', import.meta.url));
    const { stdout } = await run('/usr/bin/python3', [script, python, `127.0.0.1:${port}`, 'any', 'any'], {
      env: { ...process.env, OCX_TOKEN: 'unused' },
      timeout: 900_000,
    });
    check('grpcio', JSON.parse(stdout).bytes);
  }
  if (python) {
    clients['gRPC, python3-grpcio'] = () => grpcio(ports.h2);
    clients['Connect-ES server → grpcio'] = () => grpcio(ports.connect);
    clients['gateway adapter → grpcio'] = () => grpcio(ports.framed);
  }
  const times = new Map<string, number[]>(Object.keys(clients).map((k) => [k, []]));
  for (let r = 0; r < RUNS; r++) {
    for (const [name, fn] of Object.entries(clients)) {
      const t = performance.now();
      await fn();
      times.get(name)?.push(performance.now() - t);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  const rate = (ms: number) => BYTES / 1e6 / (ms / 1000);
  const ref = rate(median(times.get('HTTP/1.1 GET (undici)') ?? []));
  console.log(`${MB} messages of ${CHUNK} bytes from a zero-cost server in a child process, ${RUNS} runs, medians`);
  for (const [name, ts] of times) {
    const each = ts.map((t) => rate(t).toFixed(0)).join(', ');
    console.log(
      `  ${name.padEnd(33)} ${rate(median(ts)).toFixed(0).padStart(5)} MB/s  ${(rate(median(ts)) / ref).toFixed(2)}× (${each})`,
    );
  }
  if (!python) console.log('  (python3-grpcio not found: its line left out)');
  child.stdin?.end();
  await agent.close();
  process.exit(0);
}
