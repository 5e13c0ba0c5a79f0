/**
 * TransferService: image bytes streamed through to Glance and back. Pull-based both ways (a request chunk is read
 * only when the upload to Glance takes it; a download chunk is read from Glance only when the client has taken
 * the previous ones), so memory stays flat whatever the image size. Chunks ≤ 1 MiB; sha256 checked.
 */
import { createHash } from 'node:crypto';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { ErrorCode, OcxError } from '@ocx/sdk';
import { findOne, type GatewayDeps, notFound, scopeFor, targetCloud } from '../context.ts';
import { toImage } from '../convert.ts';
import { invalidArgument, toConnectError } from '../errors.ts';
import type {
  TransferService,
  UploadImageMetadata,
  UploadImageRequest,
} from '../gen/ocx/cloud/v1/transfer_service_pb.ts';

export const MAX_CHUNK = 1024 * 1024;

/** The request's chunks, hashed and counted on the way; refuses chunks over 1 MiB. */
async function* chunks(
  rest: AsyncIterator<UploadImageRequest>,
  hash: ReturnType<typeof createHash>,
  count: { bytes: number; started: boolean; error?: Error },
): AsyncGenerator<Uint8Array> {
  count.started = true;
  const refuse = (message: string) => {
    count.error = invalidArgument(message);
    return count.error;
  };
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    const part = next.value.part;
    if (part.case !== 'chunk') throw refuse('after the metadata, every message must be a chunk');
    if (part.value.byteLength > MAX_CHUNK) throw refuse(`chunks are at most ${MAX_CHUNK} bytes`);
    hash.update(part.value);
    count.bytes += part.value.byteLength;
    yield part.value;
  }
}

async function upload(
  deps: GatewayDeps,
  ctx: HandlerContext,
  meta: UploadImageMetadata,
  rest: AsyncIterator<UploadImageRequest>,
) {
  if (!meta.name) throw invalidArgument('metadata.name is required');
  if (!/^[0-9a-f]{64}$/i.test(meta.sha256)) throw invalidArgument('metadata.sha256 (hex) is required');
  const scope = await scopeFor(deps, ctx, {
    $typeName: 'ocx.cloud.v1.LocationFilter',
    clouds: meta.location?.cloud ? [meta.location.cloud] : [],
    region: meta.location?.region ?? '',
    project: meta.location?.project,
  });
  const conn = targetCloud(scope, meta.location?.cloud ?? '');
  const hash = createHash('sha256');
  const count: { bytes: number; started: boolean; error?: Error } = { bytes: 0, started: false };
  const image = await conn.cloudLayer
    .createImage(meta.name, {
      data: chunks(rest, hash, count),
      sha256: meta.sha256.toLowerCase(),
      diskFormat: meta.diskFormat || undefined,
      containerFormat: meta.containerFormat || undefined,
      visibility: (meta.visibility || undefined) as 'public' | 'private' | 'shared' | 'community' | undefined,
      meta: Object.keys(meta.meta).length ? { ...meta.meta } : undefined,
      wait: meta.wait,
      allowDuplicates: meta.allowDuplicates,
      signal: ctx.signal,
    })
    .catch((err: unknown) => {
      // The upload fails however the HTTP client words it; what the caller did wrong is the answer.
      throw count.error ?? err;
    });
  // An existing image with this name and hash is returned without reading the stream (shade's idempotency).
  if (count.started) {
    const got = hash.digest('hex');
    if (got !== meta.sha256.toLowerCase() || (meta.size > 0n && BigInt(count.bytes) !== meta.size)) {
      await conn.cloudLayer.deleteImage({ id: image.id }).catch(() => false);
      throw invalidArgument(
        `the bytes received (${count.bytes}, sha256 ${got}) do not match the metadata; image deleted`,
      );
    }
  }
  return { image: toImage(image), bytes: BigInt(count.bytes) };
}

export function transferHandlers(deps: GatewayDeps): ServiceImpl<typeof TransferService> {
  return {
    async uploadImage(requests, ctx) {
      const it = requests[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done || first.value.part.case !== 'metadata') {
        throw invalidArgument('the first message must be the metadata');
      }
      try {
        return await upload(deps, ctx, first.value.part.value, it);
      } catch (err) {
        throw toConnectError(err);
      }
    },

    async *downloadImage(req, ctx) {
      const key = req.filter?.nameOrId ?? '';
      if (!key) throw invalidArgument('filter.name_or_id is required');
      const scope = await scopeFor(deps, ctx, req.filter?.location);
      const got = await findOne(scope, 'image', key, (conn) => conn.cloudLayer.searchImages(key));
      if (!got.item) throw notFound('image', key, got.failures);
      yield { part: { case: 'image', value: toImage(got.item) } };
      const hash = createHash('sha256');
      try {
        const res = await got.conn
          .client('image')
          .get(`/images/${encodeURIComponent(got.item.id)}/file`, { stream: true, signal: ctx.signal });
        for await (const buf of res.body as AsyncIterable<Buffer>) {
          for (let off = 0; off < buf.byteLength; off += MAX_CHUNK) {
            const piece = buf.subarray(off, Math.min(off + MAX_CHUNK, buf.byteLength));
            hash.update(piece);
            yield { part: { case: 'chunk', value: piece } };
          }
        }
      } catch (err) {
        if (ctx.signal.aborted) throw toConnectError(new OcxError(ErrorCode.CANCELLED, 'the download was cancelled'));
        throw toConnectError(err);
      }
      yield { part: { case: 'sha256', value: hash.digest('hex') } };
    },
  };
}
