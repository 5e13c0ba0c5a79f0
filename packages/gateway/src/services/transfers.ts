/**
 * TransferService: image bytes streamed through to Glance and back, chunks ≤ 1 MiB, sha256 checked. An upload is
 * pulled: a request chunk is read only when the upload to Glance takes it; a download is written as the HTTP/2 stream
 * drains. Both hold well under the blob's size in the gateway (test/memory.test.ts measures it in its own process).
 */
import { createHash, createHmac, type Hash, randomBytes } from 'node:crypto';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import { type Connection, ErrorCode, isOcxError, OcxError } from '@ocx/sdk';
import type {
  CreateTransferUrlRequest,
  TransferService,
  UploadImageMetadata,
  UploadImageRequest,
} from '@ocx/sdk/gen/ocx/cloud/v1/transfer_service_pb';
import { chunkMessage } from '../blob-frames.ts';
import { cloudAt, findOne, type GatewayDeps, notFound, scopeFor } from '../context.ts';
import { toImage } from '../convert.ts';
import { invalidArgument, toConnectError } from '../errors.ts';
import { widenConnection } from '../windows.ts';
import { movedBytes } from './gc-hint.ts';
import { rechunk } from './rechunk.ts';

export const MAX_CHUNK = 1024 * 1024;
/**
 * The size of the chunks the gateway sends: 1 MiB less room for the field's tag and length, so a whole response
 * message encodes into protobuf-es's writer at 1 MiB. At exactly 1 MiB of data the message is 4 bytes over, and the
 * writer (which doubles its buffer) allocates and zero-fills 2 MiB for each message: 1.5–2 CPU s per GiB more in the
 * encode alone (bench/gateway.ts, BENCHMARKS.md), and twice the garbage.
 */
export const SEND_CHUNK = MAX_CHUNK - 16;

/** A blob from a cloud as the chunks the gateway sends: pieces of SEND_CHUNK, each hashed and counted (gc-hint.ts). */
export async function* sentPieces(body: AsyncIterable<Uint8Array>, hash: Hash): AsyncGenerator<Uint8Array> {
  for await (const piece of rechunk(body, SEND_CHUNK)) {
    hash.update(piece);
    movedBytes(piece.byteLength);
    yield piece;
  }
}

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
    movedBytes(part.value.byteLength);
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
  const conn = await cloudAt(deps, ctx, meta.location);
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

/** Swift's /info at the unversioned root of the account URL; undefined when it cannot be read. */
async function swiftInfo(
  conn: Connection,
  accountUrl: string,
  signal: AbortSignal,
): Promise<Record<string, unknown> | undefined> {
  try {
    const root = accountUrl.replace(/\/v1(\/.*)?$/, '');
    return await (await conn.client('object-store').get(`${root}/info`, { signal })).json<Record<string, unknown>>();
  } catch {
    return undefined;
  }
}

async function transferUrl(deps: GatewayDeps, ctx: HandlerContext, req: CreateTransferUrlRequest) {
  if (!req.container || !req.object) throw invalidArgument('container and object are required');
  const method = (req.method || 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'PUT') throw invalidArgument('method is GET or PUT');
  const conn = await cloudAt(deps, ctx, req.location);
  const where = { cloud: conn.cloud, region: conn.region };
  const swift = conn.client('object-store');
  const accountUrl = await swift.endpoint({ signal: ctx.signal });
  const tempurl = (await swiftInfo(conn, accountUrl, ctx.signal))?.tempurl as
    | { allowed_digests?: string[] }
    | undefined;
  if (!tempurl) throw new OcxError(ErrorCode.CONFLICT, `${conn.name}'s Swift has no tempurl middleware`, where);
  if (tempurl.allowed_digests && !tempurl.allowed_digests.includes('sha256')) {
    throw new OcxError(ErrorCode.CONFLICT, `${conn.name}'s Swift does not accept sha256 temp URL signatures`, where);
  }
  const head = await swift.head('', { signal: ctx.signal, expect: [200, 204] });
  await head.dump();
  let key = head.headers.get('x-account-meta-temp-url-key') ?? head.headers.get('x-account-meta-temp-url-key-2');
  if (!key && req.setKeyIfMissing) {
    key = randomBytes(32).toString('hex');
    await (await swift.post('', { signal: ctx.signal, headers: { 'x-account-meta-temp-url-key': key } })).dump();
  }
  if (!key) {
    throw new OcxError(ErrorCode.CONFLICT, 'the account has no Temp-URL key (set X-Account-Meta-Temp-URL-Key)', where);
  }
  const url = new URL(`${accountUrl}/${encodeURIComponent(req.container)}/${encodeURIComponent(req.object)}`);
  const expires = Math.floor(Date.now() / 1000) + (req.expiresInSeconds || 3600);
  const sig = createHmac('sha256', key).update(`${method}\n${expires}\n${url.pathname}`).digest('hex');
  url.searchParams.set('temp_url_sig', sig);
  url.searchParams.set('temp_url_expires', String(expires));
  return { url: url.toString(), method, expiresAt: BigInt(expires), digest: 'sha256' };
}

export function transferHandlers(deps: GatewayDeps): Partial<ServiceImpl<typeof TransferService>> {
  return {
    async uploadImage(requests, ctx) {
      const it = requests[Symbol.asyncIterator]();
      const first = await it.next();
      if (first.done || first.value.part.case !== 'metadata') {
        throw invalidArgument('the first message must be the metadata');
      }
      widenConnection(ctx); // an authenticated upload: its connection may now send ahead (windows.ts)
      try {
        return await upload(deps, ctx, first.value.part.value, it);
      } catch (err) {
        throw toConnectError(err);
      }
    },

    async createTransferUrl(req, ctx) {
      try {
        return await transferUrl(deps, ctx, req);
      } catch (err) {
        throw isOcxError(err) ? toConnectError(err) : err;
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
        for await (const piece of sentPieces(res.body as AsyncIterable<Uint8Array>, hash)) {
          yield chunkMessage(ctx, piece);
        }
      } catch (err) {
        if (ctx.signal.aborted) throw toConnectError(new OcxError(ErrorCode.CANCELLED, 'the download was cancelled'));
        throw toConnectError(err);
      }
      yield { part: { case: 'sha256', value: hash.digest('hex') } };
    },
  };
}
