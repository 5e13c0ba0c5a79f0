/**
 * The gRPC stack alone: TransferService.UploadImage / DownloadImage between a connect-node client and a
 * connect-node h2c server in one process, the handler draining (upload) or sending (download) MB MiB in 1 MiB
 * chunks — no Glance — beside a plain node:http2 stream of the same bytes as the reference, in the same run.
 *   node bench/grpc-stream.ts     # MB=256 CHUNK_KB=1024 WINDOW= (none) | server | client | both: the gateway's
 *                                 # wider HTTP/2 windows (packages/gateway/src/windows.ts) on that side;
 *                                 # RELEASE=0: the client without the SDK's releaseStreamedMessages
 */
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { create } from '@bufbuild/protobuf';
import { type ConnectRouter, createClient } from '@connectrpc/connect';
import { connectNodeAdapter, createGrpcTransport } from '@connectrpc/connect-node';
import {
  SESSION_WINDOW,
  STREAM_WINDOW,
  TransferService,
  UploadImageMetadataSchema,
  type UploadImageRequest,
  WideWindowSessionManager,
} from '@ocx/gateway';
import { releaseStreamedMessages } from '@ocx/sdk';

const MB = Number(process.env.MB ?? 256);
const W = process.env.WINDOW ?? '';
const SRV = W === 'both' || W === 'server';
const CLI = W === 'both' || W === 'client';
const CHUNK_KB = Number(process.env.CHUNK_KB ?? 1024);
const block = new Uint8Array(CHUNK_KB * 1024).fill(7);
const N = (MB * 1024) / CHUNK_KB;
const settings = { initialWindowSize: STREAM_WINDOW };

const handler = connectNodeAdapter({
  routes(router: ConnectRouter) {
    router.service(
      TransferService,
      {
        async uploadImage(reqs: AsyncIterable<UploadImageRequest>) {
          let n = 0;
          for await (const r of reqs) if (r.part.case === 'chunk') n += r.part.value.byteLength;
          return { bytes: BigInt(n) };
        },
        async *downloadImage() {
          for (let i = 0; i < N; i++) yield { part: { case: 'chunk', value: block } };
        },
      } as never,
      { acceptCompression: [] },
    );
  },
});
const server = http2.createServer({ settings: SRV ? settings : {} }, (req, res) => {
  if (req.url === '/raw-up') {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.byteLength));
    req.on('end', () => res.end(String(n)));
    return;
  }
  if (req.url === '/raw-down') {
    let i = 0;
    const more = () => {
      while (i < N) {
        i++;
        if (!res.write(block)) return void res.once('drain', more);
      }
      res.end();
    };
    return more();
  }
  handler(req, res);
});
if (SRV) server.on('session', (s) => s.setLocalWindowSize(SESSION_WINDOW));
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const transport = createGrpcTransport({
  baseUrl: url,
  // Each streamed message freed once used (docs/gateway.md); RELEASE=0: connect-es keeps them until the call ends.
  interceptors: process.env.RELEASE === '0' ? [] : [releaseStreamedMessages],
  ...(CLI ? { sessionManager: new WideWindowSessionManager(url) } : {}),
});
const client = createClient(TransferService, transport);
const rate = (ms: number) => (MB / (ms / 1000)).toFixed(0);

const session = http2.connect(url, { settings: CLI ? settings : {} });
if (CLI) session.on('connect', () => session.setLocalWindowSize(SESSION_WINDOW));
let t = performance.now();
await new Promise<void>((resolve, reject) => {
  const s = session.request({ ':method': 'POST', ':path': '/raw-up' });
  let i = 0;
  const more = () => {
    while (i < N) {
      i++;
      if (!s.write(block)) return void s.once('drain', more);
    }
    s.end();
  };
  more();
  s.on('data', () => {})
    .on('end', resolve)
    .on('error', reject);
});
const rawUp = performance.now() - t;
t = performance.now();
await new Promise<void>((resolve, reject) => {
  const s = session.request({ ':path': '/raw-down' });
  s.on('data', () => {})
    .on('end', resolve)
    .on('error', reject);
});
const rawDown = performance.now() - t;
session.close();

async function* up() {
  yield {
    part: {
      case: 'metadata' as const,
      value: create(UploadImageMetadataSchema, { name: 'x', sha256: '0'.repeat(64) }),
    },
  };
  for (let i = 0; i < N; i++) yield { part: { case: 'chunk' as const, value: block } };
}
t = performance.now();
await client.uploadImage(up());
const grpcUp = performance.now() - t;
t = performance.now();
let got = 0;
for await (const m of client.downloadImage({})) if (m.part.case === 'chunk') got += m.part.value.byteLength;
const grpcDown = performance.now() - t;
if (got !== MB * 1024 * 1024) throw new Error(`got ${got}`);
console.log(`${MB} MiB in ${CHUNK_KB} KiB chunks, windows raised: ${W || 'none'}`);
console.log(
  `  upload:   node:http2 ${rate(rawUp)} MB/s, gRPC ${rate(grpcUp)} MB/s (ratio ${(rawUp / grpcUp).toFixed(2)})`,
);
console.log(
  `  download: node:http2 ${rate(rawDown)} MB/s, gRPC ${rate(grpcDown)} MB/s (ratio ${(rawDown / grpcDown).toFixed(2)})`,
);
server.close();
process.exit(0);
