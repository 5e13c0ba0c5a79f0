/**
 * HTTP/2 flow-control windows for blob streams. HTTP/2 starts every stream and connection with a 64 KiB receive
 * window; a sender stops after 64 KiB until the receiver's WINDOW_UPDATE arrives, so a 1 MiB message crosses in 16+
 * round trips through both event loops. Wider windows let a whole message (and the next) travel at once; they bound
 * what one connection can make the receiver hold (STREAM per stream, SESSION in all), which is the memory cost.
 * Measured with `node bench/grpc-stream.ts` (BENCHMARKS.md, gateway section): on both ends of the gRPC stack alone
 * these windows raised throughput (upload 0.17–0.25× → 0.30–0.52× plain node:http2, interleaved runs). The
 * gateway's own server takes the stream window from the start but keeps a connection at HTTP/2's 64 KiB until a
 * caller on it has been authenticated for a blob upload (widenConnection): the connection window is what bounds the
 * bytes a client can make the gateway hold before anything is authenticated (64 KiB a connection, times the
 * connection cap), and 8 MiB for anyone would be 128 times that. Measured (BENCHMARKS.md): 1 GiB uploads to a real
 * Glance 0.53–0.65× direct with the defaults, 0.72–0.74× wide; memory.test's 96 MiB upload 18–19 MB RSS growth wide,
 * 20–22 MB with the defaults (wide windows once cost 48–64 MB, before the young-generation changes).
 */
import type http2 from 'node:http2';
import { createContextKey, type HandlerContext } from '@connectrpc/connect';
import { FramingSessionManager } from '@ocx/sdk';

/** Receive window of each stream (HTTP/2 SETTINGS_INITIAL_WINDOW_SIZE). */
export const STREAM_WINDOW = 2 * 1024 * 1024;
/** Receive window of the whole connection. */
export const SESSION_WINDOW = 8 * 1024 * 1024;

/**
 * connect-node's HTTP/2 session manager for a gateway client (`createGrpcTransport({ baseUrl, sessionManager })`):
 * wide receive windows on the client's side (what the client may be sent ahead of reading it: downloads), and the
 * SDK's upload framing (calls made with `uploadFrames()`, packages/sdk/src/gateway-backend/upload-frames.ts). Clients
 * of other toolchains size their windows themselves (grpcio by BDP probing).
 */
export class WideWindowSessionManager extends FramingSessionManager {
  readonly #widened = new WeakSet<http2.ClientHttp2Session>();

  constructor(url: string | URL, options: http2.ClientSessionOptions = {}) {
    super(url, {}, { ...options, settings: { initialWindowSize: STREAM_WINDOW, ...options.settings } });
  }

  override async request(...args: Parameters<FramingSessionManager['request']>): Promise<http2.ClientHttp2Stream> {
    const stream = await super.request(...args);
    const session = stream.session as http2.ClientHttp2Session | undefined;
    if (session && !this.#widened.has(session)) {
      this.#widened.add(session);
      session.setLocalWindowSize(SESSION_WINDOW);
    }
    return stream;
  }
}

/** The HTTP/2 connection a call came on (undefined over HTTP/1.1), set by the gateway's adapter. */
export const connectionKey = createContextKey<http2.Http2Session | undefined>(undefined, {
  description: 'ocx http2 connection',
});

const widened = new WeakSet<http2.Http2Session>();

/**
 * Open the connection window of a call's HTTP/2 connection to SESSION_WINDOW, once per connection: called by the
 * upload handlers, which run only after the caller's token has been validated.
 */
export function widenConnection(ctx: HandlerContext): void {
  const session = ctx.values.get(connectionKey);
  if (!session || session.destroyed || widened.has(session)) return;
  widened.add(session);
  session.setLocalWindowSize(SESSION_WINDOW);
}
