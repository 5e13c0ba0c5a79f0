/**
 * HTTP/2 flow-control windows for blob streams. HTTP/2 starts every stream and connection with a 64 KiB receive
 * window; a sender stops after 64 KiB until the receiver's WINDOW_UPDATE arrives, so a 1 MiB message crosses in 16+
 * round trips through both event loops. Wider windows let a whole message (and the next) travel at once; they bound
 * what one connection can make the receiver hold (STREAM per stream, SESSION in all), which is the memory cost.
 * Measured with `node bench/grpc-stream.ts` (BENCHMARKS.md, gateway section).
 */
import type http2 from 'node:http2';
import { Http2SessionManager } from '@connectrpc/connect-node';

/** Receive window of each stream (HTTP/2 SETTINGS_INITIAL_WINDOW_SIZE). */
export const STREAM_WINDOW = 2 * 1024 * 1024;
/** Receive window of the whole connection. */
export const SESSION_WINDOW = 8 * 1024 * 1024;

/** Server options: each stream's window, and room in Node's per-session memory cap for the wider windows. */
export const serverWindowOptions = {
  settings: { initialWindowSize: STREAM_WINDOW },
  maxSessionMemory: 32,
} satisfies http2.ServerOptions;

/** Widen the connection window of every session a server accepts. */
export function widenSessions(server: http2.Http2Server | http2.Http2SecureServer): void {
  server.on('session', (session: http2.ServerHttp2Session) => {
    if (session.socket) session.setLocalWindowSize(SESSION_WINDOW);
    else session.once('connect', () => session.setLocalWindowSize(SESSION_WINDOW));
  });
}

/**
 * connect-node's HTTP/2 session manager for a gateway client (`createGrpcTransport({ baseUrl, sessionManager })`):
 * the same wide receive windows on the client's side, for downloads. Clients of other toolchains set theirs
 * (grpcio sizes its windows itself by BDP probing).
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
