/**
 * The client's half of blob framing (the gateway's half: packages/gateway/src/blob-frames.ts): the chunks of an
 * `UploadImage` / `PutObject` call written to the HTTP/2 stream as they are, instead of through protobuf-es's encoder
 * and Connect-ES's envelope, which copy each 1 MiB chunk three times.
 *
 * Why, measured (`npm run bench:gateway-real`, client profiled with --cpu-prof, BENCHMARKS.md): during a 1 GiB upload
 * through the gateway the connect-node client spent ~80 % of its busy time in that encode and the garbage it leaves
 * (encodeEnvelope 14 %, the writer's finish/raw/ensureCapacity 9 %, GC 16 % of all samples), on the core the gateway
 * shares with it while Glance's process holds the other.
 *
 * How: a call made with `uploadFrames()`'s header goes out through `FramingSessionManager`, which takes the header
 * off the request and arms the call; each `chunk(bytes)` of an armed call parks the bytes and gives Connect-ES an
 * empty chunk to encode (the 7-byte frame `PLACEHOLDER`); the stream's `write` swaps each such frame for the real
 * envelope header and the chunk, uncopied — byte for byte what Connect-ES would have written. A call whose transport
 * does not frame is never armed and sends its chunks the ordinary way; a frame out of step fails the call.
 */
import type http2 from 'node:http2';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { Http2SessionManager } from '@connectrpc/connect-node';

/** Request header naming the call's parked chunks; taken off by FramingSessionManager, never sent. */
const FRAMES_HEADER = 'x-ocx-upload-frames';
/** All four blob messages (UploadImage/PutObject requests, DownloadImage/GetObject responses) carry the chunk as
 * `bytes chunk = 2` in their `part` oneof, so one frame header and one placeholder serve both directions. */
const CHUNK_FIELD = 2;
const EMPTY = new Uint8Array(0);

interface Parked {
  armed: boolean;
  chunks: Uint8Array[];
}
const calls = new Map<string, Parked>();
let next = 0;

/**
 * The gRPC frame header of a blob message holding `length` bytes of chunk (the same bytes on both sides): the
 * envelope's flags and message length, then the field's tag and length from protobuf-es's writer.
 */
export function chunkFrameHeader(length: number): Uint8Array {
  const field = new BinaryWriter().tag(CHUNK_FIELD, WireType.LengthDelimited).uint32(length).finish();
  const head = new Uint8Array(5 + field.byteLength);
  new DataView(head.buffer).setUint32(1, field.byteLength + length);
  head.set(field, 5);
  return head;
}

/** Connect-ES's frame of a blob message holding an empty chunk: what a parked chunk leaves in the stream. */
const PLACEHOLDER = chunkFrameHeader(0);

/**
 * What to write in place of `bytes` (one frame from Connect-ES) while chunks are parked: the real header and the
 * oldest parked chunk when `bytes` is its placeholder; undefined when nothing is parked (write `bytes` as they are).
 * A parked chunk meeting any other frame (a compressed one, say) throws: the two are out of step.
 */
export function framedChunk(bytes: Uint8Array, parked: Uint8Array[]): [Uint8Array, Uint8Array] | undefined {
  const chunk = parked.shift();
  if (chunk === undefined) return undefined;
  const placeholder = bytes.byteLength === PLACEHOLDER.byteLength && bytes.every((b, i) => b === PLACEHOLDER[i]);
  if (!placeholder) throw new Error('a parked blob chunk and its frame are out of step');
  return [chunkFrameHeader(chunk.byteLength), chunk];
}

/** `bytes` parked for framing, and the message Connect-ES encodes in their place (an empty chunk: `PLACEHOLDER`). */
export function parkChunk(parked: Uint8Array[], bytes: Uint8Array): { part: { case: 'chunk'; value: Uint8Array } } {
  parked.push(bytes);
  return { part: { case: 'chunk', value: EMPTY } };
}

/** One upload call's framing: send `headers` with the call, make each chunk message with `chunk`, then `done()`. */
export interface UploadFrames {
  readonly headers: Record<string, string>;
  chunk(bytes: Uint8Array): { part: { case: 'chunk'; value: Uint8Array } };
  done(): void;
}

export function uploadFrames(): UploadFrames {
  const id = String(++next);
  const parked: Parked = { armed: false, chunks: [] };
  calls.set(id, parked);
  return {
    headers: { [FRAMES_HEADER]: id },
    chunk(bytes) {
      return parked.armed ? parkChunk(parked.chunks, bytes) : { part: { case: 'chunk', value: bytes } };
    },
    done() {
      calls.delete(id);
    },
  };
}

/** Arms the call named by the request's header and makes its stream write parked chunks in place of placeholders. */
function frameStream(stream: http2.ClientHttp2Stream, parked: Parked): void {
  parked.armed = true;
  type Done = (e?: Error | null) => void;
  const write = stream.write.bind(stream) as (data: Uint8Array, encoding?: BufferEncoding, cb?: Done) => boolean;
  // write(data[, encoding][, cb]), as Writable takes it (connect-node passes all three).
  stream.write = ((data: Uint8Array, encoding?: BufferEncoding | Done, callback?: Done) => {
    const cb = typeof encoding === 'function' ? encoding : callback;
    const enc = typeof encoding === 'function' ? undefined : encoding;
    let framed: [Uint8Array, Uint8Array] | undefined;
    try {
      framed = framedChunk(data, parked.chunks);
    } catch (err) {
      stream.destroy(err as Error);
      cb?.(err as Error);
      return false;
    }
    if (!framed) return write(data, enc, cb);
    write(framed[0], enc);
    return write(framed[1], enc, cb);
  }) as typeof stream.write;
}

/** Connect-node's session manager, framing the upload calls made with `uploadFrames()` (this file's header). */
export class FramingSessionManager extends Http2SessionManager {
  override async request(
    method: string,
    path: string,
    headers: http2.OutgoingHttpHeaders,
    options: Omit<http2.ClientSessionRequestOptions, 'signal'>,
  ): Promise<http2.ClientHttp2Stream> {
    const id = headers[FRAMES_HEADER];
    if (id === undefined) return super.request(method, path, headers, options);
    const { [FRAMES_HEADER]: _, ...rest } = headers;
    const stream = await super.request(method, path, rest, options);
    const parked = calls.get(String(id));
    if (parked) frameStream(stream, parked);
    return stream;
  }
}
