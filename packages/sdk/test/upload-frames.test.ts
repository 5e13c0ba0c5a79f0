/**
 * The client's upload framing (src/gateway-backend/upload-frames.ts): the bytes are exactly Connect-ES's, only calls
 * through a FramingSessionManager are framed, every byte arrives, and a frame out of step fails the call.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { type ConnectRouter, createClient, type HandlerContext } from '@connectrpc/connect';
import { encodeEnvelope } from '@connectrpc/connect/protocol';
import {
  compressionGzip,
  connectNodeAdapter,
  createGrpcTransport,
  Http2SessionManager,
} from '@connectrpc/connect-node';
import fc from 'fast-check';
import { chunkFrameHeader, FramingSessionManager, uploadFrames } from '../src/gateway-backend/upload-frames.ts';
import {
  PutObjectRequestSchema,
  TransferService,
  UploadImageMetadataSchema,
  type UploadImageRequest,
  UploadImageRequestSchema,
} from '../src/gen/ocx/cloud/v1/transfer_service_pb.ts';

const connectFrame = (schema: typeof UploadImageRequestSchema | typeof PutObjectRequestSchema, c: Uint8Array) =>
  Buffer.from(encodeEnvelope(0, toBinary(schema, create(schema, { part: { case: 'chunk', value: c } }))));

describe('upload frames', () => {
  test("a chunk's header and bytes are exactly Connect-ES's envelope of the request message, for both uploads", () => {
    const lengths = [0, 1, 127, 128, 16_383, 16_384, 1024 * 1024 - 16, 1024 * 1024];
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...lengths), fc.integer({ min: 0, max: 1024 * 1024 })), (n) => {
        const chunk = new Uint8Array(n).fill(n % 253);
        const ours = Buffer.concat([chunkFrameHeader(n), chunk]);
        assert.deepEqual(ours, connectFrame(UploadImageRequestSchema, chunk));
        assert.deepEqual(ours, connectFrame(PutObjectRequestSchema, chunk));
      }),
      { numRuns: 60 },
    );
  });

  test('through a FramingSessionManager the chunks are framed; through a plain one they go the ordinary way; every byte arrives', async (t) => {
    const received: Uint8Array[][] = [];
    const headers: (string | null)[] = [];
    const server = http2.createServer(
      connectNodeAdapter({
        routes(router: ConnectRouter) {
          router.service(TransferService, {
            async uploadImage(reqs: AsyncIterable<UploadImageRequest>, ctx: HandlerContext) {
              const got: Uint8Array[] = [];
              for await (const r of reqs) if (r.part.case === 'chunk') got.push(r.part.value);
              received.push(got);
              headers.push(ctx.requestHeader.get('x-ocx-upload-frames'));
              return {};
            },
          } as never);
        },
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const chunks = [
      new Uint8Array(1024 * 1024 - 16).fill(1),
      new Uint8Array(3).fill(2),
      new Uint8Array(0),
      new Uint8Array(200_000).fill(3),
    ];
    for (const [manager, framed] of [
      [new FramingSessionManager(baseUrl), true],
      [new Http2SessionManager(baseUrl), false],
    ] as const) {
      const client = createClient(TransferService, createGrpcTransport({ baseUrl, sessionManager: manager }));
      const frames = uploadFrames();
      const sent: number[] = [];
      async function* parts() {
        yield { part: { case: 'metadata' as const, value: create(UploadImageMetadataSchema, { name: 'x' }) } };
        for (const c of chunks) {
          const m = frames.chunk(c);
          sent.push(m.part.value.byteLength);
          yield m;
        }
      }
      try {
        await client.uploadImage(parts(), { headers: frames.headers });
      } finally {
        frames.done();
        manager.abort();
      }
      // Framed: Connect-ES was handed empty chunks; plain: the chunks themselves.
      assert.deepEqual(sent, framed ? [0, 0, 0, 0] : chunks.map((c) => c.byteLength));
      const got = received.at(-1) ?? [];
      assert.deepEqual(
        got.map((c) => c.byteLength),
        chunks.map((c) => c.byteLength),
      );
      assert.deepEqual(Buffer.concat(got), Buffer.concat(chunks));
    }
    // A framing manager takes its header off; a plain one sends it (harmless: nothing reads it).
    assert.equal(headers[0], null);
    assert.notEqual(headers[1], null);
  });

  test('a frame out of step (a compressed request, say) fails the call instead of sending empty chunks', async (t) => {
    let seen = 0;
    const server = http2.createServer(
      connectNodeAdapter({
        routes(router: ConnectRouter) {
          router.service(TransferService, {
            async uploadImage(reqs: AsyncIterable<UploadImageRequest>) {
              for await (const r of reqs) if (r.part.case === 'chunk') seen += r.part.value.byteLength;
              return {};
            },
          } as never);
        },
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const manager = new FramingSessionManager(baseUrl);
    const client = createClient(
      TransferService,
      createGrpcTransport({ baseUrl, sessionManager: manager, sendCompression: compressionGzip, compressMinBytes: 0 }),
    );
    const frames = uploadFrames();
    async function* parts() {
      yield frames.chunk(new Uint8Array(4096).fill(5));
    }
    try {
      await assert.rejects(client.uploadImage(parts(), { headers: frames.headers }));
    } finally {
      frames.done();
      manager.abort();
    }
    assert.equal(seen, 0, 'no empty or partial chunk reached the server as if it were the data');
  });
});
