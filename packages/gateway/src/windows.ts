/**
 * HTTP/2 flow-control windows for blob streams. HTTP/2 starts every stream and connection with a 64 KiB receive
 * window; a sender stops after 64 KiB until the receiver's WINDOW_UPDATE arrives, so a 1 MiB message crosses in 16+
 * round trips through both event loops. Wider windows let a whole message (and the next) travel at once; they bound
 * what one connection can make the receiver hold (STREAM per stream, SESSION in all), which is the memory cost.
 * Measured with `node bench/grpc-stream.ts` (BENCHMARKS.md, gateway section): on both ends of the gRPC stack alone
 * these windows raised throughput (upload 0.17–0.25× → 0.30–0.52× plain node:http2, interleaved runs). The
 * gateway's own server keeps Node's defaults for now: with these windows on it, packages/gateway/test/memory.test.ts
 * saw the gateway process hold 48–64 MB of buffers during a 64 MiB upload (3–17 MB with the defaults), a cause not
 * found yet.
 */
import type http2 from 'node:http2';
import { Http2SessionManager } from '@connectrpc/connect-node';

/** Receive window of each stream (HTTP/2 SETTINGS_INITIAL_WINDOW_SIZE). */
export const STREAM_WINDOW = 2 * 1024 * 1024;
/** Receive window of the whole connection. */
export const SESSION_WINDOW = 8 * 1024 * 1024;

/**
 * connect-node's HTTP/2 session manager for a gateway client (`createGrpcTransport({ baseUrl, sessionManager })`):
 * wide receive windows on the client's side (what the client may be sent ahead of reading it: downloads). Clients of
 * other toolchains size theirs themselves (grpcio by BDP probing).
 */
export class WideWindowSessionManager extends Http2SessionManager {
  readonly #widened = new WeakSet<http2.ClientHttp2Session>();

  constructor(url: string | URL, options: http2.ClientSessionOptions = {}) {
    super(url, {}, { ...options, settings: { initialWindowSize: STREAM_WINDOW, ...options.settings } });
  }

  override async request(...args: Parameters<Http2SessionManager['request']>): Promise<http2.ClientHttp2Stream> {
    const stream = await super.request(...args);
    const session = stream.session as http2.ClientHttp2Session | undefined;
    if (session && !this.#widened.has(session)) {
      this.#widened.add(session);
      session.setLocalWindowSize(SESSION_WINDOW);
    }
    return stream;
  }
}
