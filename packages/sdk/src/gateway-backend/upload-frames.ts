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
import { Http2SessionManager } from '@connectrpc/connect-node';

/** Request header naming the call's parked chunks; taken off by FramingSessionManager, never sent. */
const FRAMES_HEADER = 'x-ocx-upload-frames';
/** All four blob messages (UploadImage/PutObject requests, DownloadImage/GetObject responses) carry the chunk as
 * `bytes chunk = 2` in their `part` oneof, so one frame header and one placeholder serve both directions. */
const CHUNK_FIELD_TAG = (2 << 3) | 2;
const PLACEHOLDER = Uint8Array.of(0, 0, 0, 0, 2, CHUNK_FIELD_TAG, 0);
const EMPTY = new Uint8Array(0);

interface Parked {
  armed: boolean;
  chunks: Uint8Array[];
}
const calls = new Map<string, Parked>();
let next = 0;

/** The envelope and field header of a message holding `length` bytes of chunk (the same bytes on both sides). */
export function chunkFrameHeader(length: number): Uint8Array {
  const varint: number[] = [];
  for (let v = length; ; v >>>= 7) {
    if (v < 0x80) {
      varint.push(v);
      break;
    }
    varint.push((v & 0x7f) | 0x80);
  }
  const head = new Uint8Array(6 + varint.length);
  new DataView(head.buffer).setUint32(1, 1 + varint.length + length);
  head[5] = CHUNK_FIELD_TAG;
  head.set(varint, 6);
  return head;
}

/** Whether `bytes` is Connect-ES's frame of a blob message holding an empty chunk (what a parked chunk leaves). */
export function isChunkPlaceholder(bytes: Uint8Array): boolean {
  return bytes.byteLength === PLACEHOLDER.byteLength && bytes.every((b, i) => b === PLACEHOLDER[i]);
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
      if (!parked.armed) return { part: { case: 'chunk', value: bytes } };
      parked.chunks.push(bytes);
      return { part: { case: 'chunk', value: EMPTY } };
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
    if (parked.chunks.length === 0) return write(data, enc, cb);
    const chunk = parked.chunks.shift() as Uint8Array;
    if (!isChunkPlaceholder(data)) {
      const err = new Error('a parked upload chunk and its frame are out of step');
      stream.destroy(err);
      cb?.(err);
      return false;
    }
    write(chunkFrameHeader(chunk.byteLength), enc);
    return write(chunk, enc, cb);
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
