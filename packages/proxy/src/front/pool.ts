/**
 * Keep-alive pools of plain-TCP HTTP/1.1 connections to upstream services, one per origin. Idle connections are
 * closed before the peer's own keep-alive timeout would; a safe request that finds its pooled connection closed
 * under it (nothing of a response came back) is sent once more on a fresh connection.
 */
import { connect } from 'node:net';
import { ExchangeError, type ExchangeOptions, OutgoingConnection, type OutgoingResponse } from './outgoing.ts';

export interface PoolOptions {
  connectTimeoutMs?: number;
  /** Idle connections are closed after this (default 4 s, or 1 s under the peer's Keep-Alive timeout). */
  idleTimeoutMs?: number;
  maxIdlePerOrigin?: number;
}

interface Origin {
  host: string;
  port: number;
  idle: OutgoingConnection[];
}

export class UpstreamPool {
  private readonly origins = new Map<string, Origin>();
  private readonly connectTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly maxIdle: number;
  private closed = false;

  constructor(opts: PoolOptions = {}) {
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 10_000;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 4_000;
    this.maxIdle = opts.maxIdlePerOrigin ?? 64;
  }

  /** Only plain http:// origins are pooled here (TLS upstreams go through undici). */
  static handles(origin: string): boolean {
    return origin.startsWith('http://');
  }

  async request(origin: string, head: string, opts: ExchangeOptions, idempotent: boolean): Promise<OutgoingResponse> {
    const o = this.origin(origin);
    const pooled = this.take(o);
    if (pooled) {
      try {
        return await pooled.request(head, opts);
      } catch (err) {
        if (!(idempotent && err instanceof ExchangeError && err.beforeResponse && err.code !== 'HEADERS_TIMEOUT')) {
          throw err;
        }
        // The peer closed a kept-alive connection as we reused it: once more, on a new connection.
      }
    }
    const fresh = await this.open(o);
    return fresh.request(head, opts);
  }

  close(): void {
    this.closed = true;
    for (const o of this.origins.values()) for (const c of o.idle.splice(0)) c.destroy();
  }

  private origin(origin: string): Origin {
    let o = this.origins.get(origin);
    if (!o) {
      const u = new URL(origin);
      o = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), idle: [] };
      this.origins.set(origin, o);
    }
    return o;
  }

  private take(o: Origin): OutgoingConnection | undefined {
    for (;;) {
      const c = o.idle.pop();
      if (!c) return undefined;
      if (!c.dead && c.idle) {
        (c.socket as import('node:net').Socket).setTimeout(0);
        return c;
      }
    }
  }

  private open(o: Origin): Promise<OutgoingConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: o.host, port: o.port, noDelay: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ExchangeError('CONNECT_TIMEOUT', `connect to ${o.host}:${o.port} timed out`, true));
      }, this.connectTimeoutMs);
      const onError = (e: Error) => {
        clearTimeout(timer);
        reject(new ExchangeError('CONNECT_FAILED', e.message, true));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        const c = new OutgoingConnection(socket);
        c.onReusable = (conn) => this.release(o, conn);
        c.onDead = (conn) => {
          const i = o.idle.indexOf(conn);
          if (i >= 0) o.idle.splice(i, 1);
        };
        socket.on('timeout', () => c.destroy());
        resolve(c);
      });
    });
  }

  private release(o: Origin, c: OutgoingConnection): void {
    if (this.closed || o.idle.length >= this.maxIdle) {
      c.destroy();
      return;
    }
    const peer = c.peerIdleMs;
    const idleMs = peer !== undefined ? Math.max(0, Math.min(this.idleTimeoutMs, peer - 1_000)) : this.idleTimeoutMs;
    if (idleMs <= 0) {
      c.destroy();
      return;
    }
    (c.socket as import('node:net').Socket).setTimeout(idleMs);
    o.idle.push(c);
  }
}
