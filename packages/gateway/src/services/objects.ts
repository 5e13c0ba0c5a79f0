/**
 * TransferService's Swift half: client-streaming PutObject and server-streaming GetObject, passed straight through
 * (uploads pulled chunk by chunk, chunks ≤ 1 MiB, sha256 checked on upload and reported on download).
 */
import { createHash } from 'node:crypto';
import type { ServiceImpl } from '@connectrpc/connect';
import type { PutObjectRequest, TransferService } from '@ocx/sdk/gen/ocx/cloud/v1/transfer_service_pb';
import { chunkMessage } from '../blob-frames.ts';
import { cloudAt, type GatewayDeps } from '../context.ts';
import { toLocation } from '../convert.ts';
import { invalidArgument, toConnectError } from '../errors.ts';
import { widenConnection } from '../windows.ts';
import { movedBytes } from './gc-hint.ts';
import { MAX_CHUNK, sentPieces } from './transfers.ts';

const objectPath = (container: string, object: string) =>
  `/${encodeURIComponent(container)}/${object.split('/').map(encodeURIComponent).join('/')}`;

export function objectHandlers(deps: GatewayDeps): Partial<ServiceImpl<typeof TransferService>> {
  return {
    async putObject(requests, ctx) {
      const it = requests[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done || first.value.part.case !== 'metadata')
        throw invalidArgument('the first message must be the metadata');
      const meta = first.value.part.value;
      if (!meta.container || !meta.object) throw invalidArgument('metadata.container and metadata.object are required');
      const want = meta.sha256.toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(want)) throw invalidArgument('metadata.sha256 (hex) is required');
      widenConnection(ctx); // an authenticated upload: its connection may now send ahead (windows.ts)
      const conn = await cloudAt(deps, ctx, meta.location);
      const hash = createHash('sha256');
      let bytes = 0;
      let refused: Error | undefined;
      async function* body(): AsyncGenerator<Uint8Array> {
        for (;;) {
          const next: IteratorResult<PutObjectRequest> = await it.next();
          if (next.done) return;
          const part = next.value.part;
          if (part.case !== 'chunk' || part.value.byteLength > MAX_CHUNK) {
            refused = invalidArgument(`after the metadata, only chunks of at most ${MAX_CHUNK} bytes`);
            throw refused;
          }
          hash.update(part.value);
          movedBytes(part.value.byteLength);
          bytes += part.value.byteLength;
          yield part.value;
        }
      }
      const path = objectPath(meta.container, meta.object);
      const swift = conn.client('object-store');
      const headers: Record<string, string> = { 'content-type': meta.contentType || 'application/octet-stream' };
      if (meta.size > 0n) headers['content-length'] = String(meta.size);
      for (const [k, v] of Object.entries(meta.metadata)) headers[`x-object-meta-${k}`] = v;
      let etag = '';
      try {
        const res = await swift.put(path, { body: body(), headers, signal: ctx.signal, expect: [201] });
        etag = res.headers.get('etag') ?? '';
        await res.dump();
      } catch (err) {
        throw refused ?? toConnectError(err);
      }
      const got = hash.digest('hex');
      if (got !== want) {
        await swift.delete(path).then(
          (r) => r.dump(),
          () => undefined,
        );
        throw invalidArgument(`the bytes received (${bytes}, sha256 ${got}) do not match the metadata; object deleted`);
      }
      return { location: toLocation(await conn.cloudLayer.currentLocation()), etag, bytes: BigInt(bytes) };
    },

    async *getObject(req, ctx) {
      if (!req.container || !req.object) throw invalidArgument('container and object are required');
      const conn = await cloudAt(deps, ctx, req.location);
      const hash = createHash('sha256');
      try {
        const res = await conn
          .client('object-store')
          .get(objectPath(req.container, req.object), { stream: true, signal: ctx.signal });
        yield {
          part: {
            case: 'info',
            value: {
              location: toLocation(await conn.cloudLayer.currentLocation()),
              container: req.container,
              object: req.object,
              size: BigInt(res.headers.get('content-length') ?? 0),
              etag: res.headers.get('etag') ?? '',
              contentType: res.headers.get('content-type') ?? '',
            },
          },
        };
        for await (const piece of sentPieces(res.body as AsyncIterable<Uint8Array>, hash)) {
          yield chunkMessage(ctx, piece);
        }
      } catch (err) {
        throw toConnectError(err);
      }
      yield { part: { case: 'sha256', value: hash.digest('hex') } };
    },
  };
}
