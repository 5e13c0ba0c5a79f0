/**
 * Bounds on what one client can hold of the gateway's listeners (issue 16: slowloris, idle connections, floods):
 * a connection cap per listener, a deadline for the HTTP/1.1 request head, and for HTTP/2 a deadline for the first
 * stream of a new connection, an idle timeout for a connection with no open stream, and a cap on concurrent
 * streams per connection. Long-lived streams (WatchServers) are never cut: only connections without an open
 * stream count as idle.
 */
import type http from 'node:http';
import type http2 from 'node:http2';
import { STREAM_WINDOW } from './windows.ts';

export interface ListenerLimits {
  /** HTTP/1.1: the whole request head within this; HTTP/2: the first stream within this (ms). Default 20 000. */
  headersTimeoutMs?: number | undefined;
  /** A connection with no open request or stream is closed after this (ms). Default 300 000. */
  idleTimeoutMs?: number | undefined;
  /** Open connections per listener at most; new ones beyond it are closed at once. Default 4 096. */
  maxConnections?: number | undefined;
  /** HTTP/2 streams one connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). Default 256. */
  maxConcurrentStreams?: number | undefined;
}

export const DEFAULT_LIMITS = {
  headersTimeoutMs: 20_000,
  idleTimeoutMs: 300_000,
  maxConnections: 4_096,
  maxConcurrentStreams: 256,
} as const;

function resolved(l: ListenerLimits) {
  return {
    headersTimeoutMs: l.headersTimeoutMs ?? DEFAULT_LIMITS.headersTimeoutMs,
    idleTimeoutMs: l.idleTimeoutMs ?? DEFAULT_LIMITS.idleTimeoutMs,
    maxConnections: l.maxConnections ?? DEFAULT_LIMITS.maxConnections,
    maxConcurrentStreams: l.maxConcurrentStreams ?? DEFAULT_LIMITS.maxConcurrentStreams,
  };
}

/** node:http options for the HTTP/1.1 listener (Connect, gRPC-Web). */
export function http1Options(l: ListenerLimits): http.ServerOptions {
  const r = resolved(l);
  return {
    headersTimeout: r.headersTimeoutMs,
    // node:http checks headersTimeout on this tick (default 30 s, which would let a slow head live 50 s).
    connectionsCheckingInterval: Math.min(1_000, r.headersTimeoutMs),
    keepAliveTimeout: Math.min(r.idleTimeoutMs, 65_000),
    // Uploads (UploadImage over gRPC-Web) may take long; a stalled one ends with the client's deadline.
    requestTimeout: 0,
  };
}

export function limitHttp1(server: http.Server, l: ListenerLimits): void {
  server.maxConnections = resolved(l).maxConnections;
}

/** node:http2 settings for the h2c / TLS listener. */
export function http2Settings(l: ListenerLimits): http2.Settings {
  // A stream may take STREAM_WINDOW at once; the connection's own 64 KiB caps that until windows.ts widens it.
  return { maxConcurrentStreams: resolved(l).maxConcurrentStreams, initialWindowSize: STREAM_WINDOW };
}

/**
 * Connection cap, first-stream deadline and idle timeout for an HTTP/2 listener. A connection that opens no stream
 * within headersTimeoutMs (no preface, a head that never completes, or nothing at all) is destroyed; one whose
 * streams have all ended is sent GOAWAY after idleTimeoutMs.
 */
export function limitHttp2(server: http2.Http2Server | http2.Http2SecureServer, l: ListenerLimits): void {
  const r = resolved(l);
  server.maxConnections = r.maxConnections;
  server.on('session', (session: http2.ServerHttp2Session) => {
    let open = 0;
    let everOpened = false;
    let timer: NodeJS.Timeout | undefined = setTimeout(() => session.destroy(), r.headersTimeoutMs);
    timer.unref();
    const idle = () => {
      timer = setTimeout(() => {
        if (open === 0 && !session.closed && !session.destroyed) session.close();
      }, r.idleTimeoutMs);
      timer.unref();
    };
    session.on('stream', (stream: http2.ServerHttp2Stream) => {
      open++;
      clearTimeout(timer);
      timer = undefined;
      everOpened = true;
      stream.once('close', () => {
        open--;
        if (open === 0 && everOpened) idle();
      });
    });
    session.once('close', () => clearTimeout(timer));
  });
}
