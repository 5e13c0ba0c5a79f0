/**
 * The chunks of a gRPC blob download (DownloadImage, GetObject) written to the wire as they are, instead of through
 * protobuf-es's encoder and Connect-ES's envelope.
 *
 * Why, measured (`node bench/grpc-ceiling.ts`, BENCHMARKS.md): Connect-ES's server encodes each response message with
 * protobuf-es's writer (the 1 MiB chunk copied into a growing buffer, copied out again by `finish()`) and copies the
 * result once more into its length-prefixed envelope. A Connect-ES server whose handler only yields 1 MiB chunks
 * moved 366–460 MB/s to connect-node and grpcio clients, where the same messages written as they are moved
 * 823–1059 MB/s to the same clients on the same host: two thirds of the gateway's download path was that encode.
 *
 * How, with as little protocol as possible written here: everything of the call stays Connect-ES's — request parsing,
 * the auth interceptor, deadlines, errors and trailers, gRPC-Web and Connect. Only for a gRPC call on HTTP/2 does the
 * adapter (adapter.ts) hand the handler a list to park chunks in; `chunkMessage` then parks the chunk there and gives
 * Connect-ES an empty chunk to encode, whose 7-byte frame the SDK's `framedChunk` recognizes (the SDK frames
 * uploads the same way: gateway-backend/upload-frames.ts). `framedBody`, between Connect-ES and the HTTP/2 stream,
 * replaces each of those with the real message: the envelope's 5 bytes, the field's tag and
 * length, then the chunk itself, uncopied — byte for byte what Connect-ES would have written (`blob-frames.test.ts`
 * compares the two). A frame out of step (say a compressed response, which TransferService never sends) fails the
 * call rather than send an empty chunk.
 */
import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import { framedChunk, parkChunk } from '@ocx/sdk';

/** Set by the adapter on gRPC calls over HTTP/2 of the blob downloads (BLOB_DOWNLOAD_PATHS): the chunks a handler
 * parked, in the order Connect-ES will frame their placeholders. */
export const chunkFramesKey = createContextKey<Uint8Array[] | undefined>(undefined);

export const BLOB_DOWNLOAD_PATHS: ReadonlySet<string> = new Set([
  '/ocx.cloud.v1.TransferService/DownloadImage',
  '/ocx.cloud.v1.TransferService/GetObject',
]);

/** The `part` of a download response carrying `chunk`: the chunk itself, or a placeholder when framed here. */
export function chunkMessage(ctx: HandlerContext, chunk: Uint8Array) {
  const parked = ctx.values.get(chunkFramesKey);
  return parked ? parkChunk(parked, chunk) : { part: { case: 'chunk' as const, value: chunk } };
}

/** Connect-ES's response body with each placeholder replaced by its parked chunk's real frame (the SDK's framedChunk). */
export async function* framedBody(body: AsyncIterable<Uint8Array>, parked: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for await (const bytes of body) {
    const framed = framedChunk(bytes, parked);
    if (framed) yield* framed;
    else yield bytes;
  }
  if (parked.length !== 0) throw new Error('blob chunks were parked and never framed');
}
