/**
 * Blob chunks framed past Connect-ES's encoder (src/blob-frames.ts): the bytes are exactly Connect-ES's, only gRPC
 * on HTTP/2 takes the shortcut, and a frame out of step fails the call instead of sending an empty chunk.
 */
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { create, toBinary } from '@bufbuild/protobuf';
import { type ConnectRouter, createClient, type HandlerContext } from '@connectrpc/connect';
import { encodeEnvelope } from '@connectrpc/connect/protocol';
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { DownloadImageResponseSchema, GetObjectResponseSchema, TransferService } from '@ocx/gateway';
import { chunkFrameHeader } from '@ocx/sdk';
import fc from 'fast-check';
import { gatewayNodeAdapter } from '../src/adapter.ts';
import { chunkFramesKey, chunkMessage, framedBody } from '../src/blob-frames.ts';

const concat = (parts: Uint8Array[]) => Buffer.concat(parts);
const connectFrame = (schema: typeof DownloadImageResponseSchema | typeof GetObjectResponseSchema, c: Uint8Array) =>
  Buffer.from(
    encodeEnvelope(0, toBinary(schema, { $typeName: schema.typeName, part: { case: 'chunk', value: c } } as never)),
  );

describe('blob frames', () => {
  test("a chunk's header and bytes are exactly Connect-ES's envelope of the response message, for both downloads", () => {
    const lengths = [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 1024 * 1024 - 16, 1024 * 1024];
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...lengths), fc.integer({ min: 0, max: 1024 * 1024 })), (n) => {
        const chunk = new Uint8Array(n).fill(n % 251);
        const ours = concat([chunkFrameHeader(n), chunk]);
        assert.deepEqual(ours, connectFrame(DownloadImageResponseSchema, chunk));
        assert.deepEqual(ours, connectFrame(GetObjectResponseSchema, chunk));
      }),
      { numRuns: 60 },
    );
  });

  test('framedBody puts each parked chunk where its placeholder was and passes other messages through', async () => {
    const frames: Uint8Array[] = [];
    const ctx = { values: { get: () => frames } } as unknown as HandlerContext;
    const a = new Uint8Array([1, 2, 3]);
    const b = new Uint8Array(300).fill(9);
    async function* connectOutput() {
      yield Uint8Array.of(0, 0, 0, 0, 1, 0x1a); // some other message
      for (const c of [a, b]) {
        const m = chunkMessage(ctx, c);
        assert.equal(m.part.value.byteLength, 0, 'Connect-ES gets an empty chunk to encode');
        yield encodeEnvelope(0, toBinary(DownloadImageResponseSchema, create(DownloadImageResponseSchema, m)));
      }
    }
    const out: Uint8Array[] = [];
    for await (const piece of framedBody(connectOutput(), frames)) out.push(piece);
    assert.deepEqual(
      concat(out),
      concat([
        Buffer.of(0, 0, 0, 0, 1, 0x1a),
        connectFrame(DownloadImageResponseSchema, a),
        connectFrame(DownloadImageResponseSchema, b),
      ]),
    );
    assert.equal(out[2], a, 'the chunk itself is written, not a copy');
  });

  test('a parked chunk whose frame is not the placeholder (compressed, say) fails instead of sending an empty chunk', async () => {
    const frames = [new Uint8Array(10)];
    async function* compressed() {
      yield Uint8Array.of(1, 0, 0, 0, 3, 0xaa, 0xbb, 0xcc);
    }
    await assert.rejects(async () => {
      for await (const _ of framedBody(compressed(), frames));
    }, /out of step/);
    const leftover = [new Uint8Array(1)];
    async function* nothing() {}
    await assert.rejects(async () => {
      for await (const _ of framedBody(nothing(), leftover));
    }, /never framed/);
  });

  test('through the adapter: gRPC on HTTP/2 is framed here; Connect and gRPC-Web are left to Connect-ES; every byte arrives', async () => {
    const chunks = [
      new Uint8Array(1024 * 1024 - 16).fill(1),
      new Uint8Array(5).fill(2),
      new Uint8Array(0),
      new Uint8Array(70_000).fill(3),
    ];
    const framedBy: boolean[] = [];
    const server = http2.createServer(
      gatewayNodeAdapter({
        routes(router: ConnectRouter) {
          router.service(
            TransferService,
            {
              async *downloadImage(_req: unknown, ctx: HandlerContext) {
                framedBy.push(ctx.values.get(chunkFramesKey) !== undefined);
                yield { part: { case: 'sha256', value: 'before' } };
                for (const c of chunks) yield chunkMessage(ctx, c);
                yield { part: { case: 'sha256', value: 'after' } };
              },
            } as never,
            { acceptCompression: [] },
          );
        },
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const transports = [
        createGrpcTransport({ baseUrl }),
        createConnectTransport({ baseUrl, httpVersion: '2' }),
        createGrpcWebTransport({ baseUrl, httpVersion: '2' }),
      ];
      for (const transport of transports) {
        const got: string[] = [];
        const bytes: Uint8Array[] = [];
        for await (const m of createClient(TransferService, transport).downloadImage({})) {
          if (m.part.case === 'chunk') bytes.push(m.part.value);
          else if (m.part.case === 'sha256') got.push(m.part.value);
        }
        assert.deepEqual(got, ['before', 'after']);
        assert.deepEqual(
          bytes.map((b) => b.byteLength),
          chunks.map((c) => c.byteLength),
        );
        assert.deepEqual(concat(bytes), concat(chunks));
      }
      assert.deepEqual(framedBy, [true, false, false]);
    } finally {
      server.close();
    }
  });
});
