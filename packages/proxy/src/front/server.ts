/**
 * The proxy's listener: a lean HTTP/1.1 front end on plain TCP. Each request head is parsed here; a body-less
 * pass-through call (GET/HEAD of a resource, the bulk of what clients do) is answered by the engine's fast path,
 * which talks to the upstream over pooled raw connections. Everything else — bodies, extensions, version
 * documents, admin routes — is relayed, request by request, over an in-memory connection to the proxy's node:http
 * handler, so each kind of request is served by exactly one implementation.
 *
 * Why not node:http alone: measured on loopback, node:http on the client side plus undici to the upstream added
 * ~0.25 ms to every call before the proxy did any work of its own; this front end adds about what a plain TCP
 * relay in Node does (bench/proxy.ts, BENCHMARKS.md).
 */
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { duplexPair } from 'node:stream';
import { noteStreamed } from '../memory.ts';
import { type IncomingBody, OutgoingConnection } from './outgoing.ts';
import {
  BodyFramer,
  checkHost,
  chunk,
  type Framing,
  headEnd,
  LAST_CHUNK,
  MAX_HEAD_BYTES,
  parseRequestHead,
  type RequestHead,
  type ResponseHead,
  reason,
  requestFraming,
  responseHead,
  WireError,
} from './wire.ts';

/** What the fast path needs of the client connection for one request. */
export interface ClientExchange {
  readonly head: RequestHead;
  readonly remoteAddress: string;
  /** Aborted when the client goes away (made on first use). */
  readonly signal: AbortSignal;
  /** Called once if the client goes away before the answer is complete (cheaper than a signal listener). */
  onGone(cancel: () => void): void;
  /** Whether a response head went out already. */
  readonly headersSent: boolean;
  /** Hand this request to the node:http handler instead (before anything was sent). */
  relay(): Promise<void>;
  /** A whole response at once. */
  respond(status: number, headers: Record<string, string>, body?: Buffer | string): void;
  /** A response whose body streams from an upstream (framed with `contentLength` when known, else chunked). */
  stream(
    status: number,
    headers: Record<string, string>,
    body: IncomingBody,
    prefix: Buffer[],
    contentLength: number | undefined,
  ): Promise<void>;
}

export interface FastPath {
  /** Whether this request may be the fast path's (decided on the head alone, synchronously). */
  accepts(head: RequestHead): boolean;
  /** Answer it (or `x.relay()` it). */
  handle(x: ClientExchange): Promise<void>;
}

export interface FrontOptions {
  /** node:http server that serves every request the fast path does not take. */
  internal: HttpServer;
  fast: FastPath;
  keepAliveTimeoutMs?: number;
}

/** How long an ending connection still drains what a client sends before it is cut. */
const LINGER_MS = 2_000;

const DROP_FROM_INTERNAL = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

class ClientConnection {
  private readonly socket: Socket;
  private readonly o: FrontOptions;
  private buf: Buffer | undefined;
  private busy = false;
  private closing = false;
  private internal: OutgoingConnection | undefined;
  /** While a request body is relayed to the internal handler. */
  private uploadFramer: BodyFramer | undefined;
  private uploadDone: (() => void) | undefined;
  /** Called if the client goes away during the current request. */
  private gone: (() => void) | undefined;

  constructor(socket: Socket, o: FrontOptions) {
    this.socket = socket;
    this.o = o;
    socket.setNoDelay(true);
    socket.setTimeout(o.keepAliveTimeoutMs ?? 65_000);
    socket.on('timeout', () => {
      if (!this.busy) socket.destroy();
    });
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.gone?.();
      this.gone = undefined;
      this.internal?.destroy();
    });
  }

  private onData(d: Buffer): void {
    if (this.closing) return; // answered and ending: whatever else comes is dropped
    if (this.uploadFramer) {
      this.relayUpload(d);
      return;
    }
    this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
    if (!this.busy) this.next();
    else if (this.buf.length > MAX_HEAD_BYTES) this.socket.pause(); // pipelined: wait for the current answer
  }

  private next(): void {
    if (this.closing || !this.buf) return;
    const buf = this.buf;
    const end = headEnd(buf);
    if (end < 0) {
      if (buf.length > MAX_HEAD_BYTES) this.reject(431, 'request head too large');
      return;
    }
    if (end > MAX_HEAD_BYTES) {
      this.reject(431, 'request head too large');
      return;
    }
    let head: RequestHead;
    let framing: Framing;
    try {
      head = parseRequestHead(buf, 0, end);
      checkHost(head);
      framing = requestFraming(head);
    } catch (err) {
      this.reject(err instanceof WireError ? err.status : 400, (err as Error).message);
      return;
    }
    const conn = (head.headers.connection ?? '').toLowerCase();
    const keepAlive = head.minor === 1 ? !conn.includes('close') : conn.includes('keep-alive');
    this.busy = true;
    this.socket.resume();
    const rawHead = buf.subarray(0, end);
    this.buf = end < buf.length ? buf.subarray(end) : undefined;
    const done = (close: boolean) => {
      this.busy = false;
      this.gone = undefined;
      if (close || !keepAlive) {
        this.close();
        return;
      }
      this.socket.resume();
      this.next();
    };
    if (framing.kind === 'none' && this.o.fast.accepts(head)) {
      this.fast(rawHead, head, keepAlive).then(done, () => this.socket.destroy());
    } else {
      this.relay(rawHead, head, framing, keepAlive).then(done, () => this.socket.destroy());
    }
  }

  /** End after the answer; a client still sending gets a little while to read it before the socket goes. */
  private close(): void {
    if (this.closing) return;
    this.closing = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  private reject(status: number, message: string): void {
    const body = JSON.stringify({ error: { code: status, title: reason(status), message } });
    this.socket.write(
      responseHead(status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        connection: 'close',
      }) + body,
    );
    this.close();
  }

  // ───────── fast path ─────────

  private async fast(rawHead: Buffer, head: RequestHead, keepAlive: boolean): Promise<boolean> {
    let ac: AbortController | undefined;
    let cancels: Array<() => void> | undefined;
    let gone = false;
    this.gone = () => {
      gone = true;
      ac?.abort(new Error('client went away'));
      if (cancels) for (const c of cancels) c();
    };
    const socket = this.socket;
    let sent = false;
    let relayedClose: boolean | undefined;
    const framingHeader = (h: Record<string, string>): Record<string, string> => {
      sent = true;
      if (!keepAlive) h.connection = 'close';
      return h;
    };
    const x: ClientExchange = {
      head,
      remoteAddress: socket.remoteAddress ?? '',
      get signal() {
        ac ??= new AbortController();
        if (gone && !ac.signal.aborted) ac.abort(new Error('client went away'));
        return ac.signal;
      },
      onGone(cancel) {
        cancels ??= [];
        cancels.push(cancel);
      },
      get headersSent() {
        return sent;
      },
      relay: async () => {
        sent = true;
        relayedClose = await this.relay(rawHead, head, { kind: 'none' }, keepAlive);
      },
      respond(status, headers, body) {
        const b = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body;
        const h = framingHeader(headers);
        h['content-length'] = String(b?.length ?? 0);
        const text = responseHead(status, h);
        if (b?.length && head.method !== 'HEAD') socket.write(Buffer.concat([Buffer.from(text, 'latin1'), b]));
        else socket.write(text, 'latin1');
      },
      stream(status, headers, body, prefix, contentLength) {
        const h = framingHeader(headers);
        delete h['content-length'];
        delete h['transfer-encoding'];
        const noBody = head.method === 'HEAD' || status === 204 || status === 304;
        // Unknown length: chunked for HTTP/1.1; HTTP/1.0 has no chunked coding, so the close ends the body.
        const untilClose = contentLength === undefined && !noBody && head.minor === 0;
        if (contentLength !== undefined) h['content-length'] = String(contentLength);
        else if (untilClose) {
          h.connection = 'close';
          relayedClose = true;
        } else if (!noBody) h['transfer-encoding'] = 'chunked';
        socket.write(responseHead(status, h), 'latin1');
        if (noBody) {
          body.abandon();
          return Promise.resolve();
        }
        return pipeBody(body, socket, prefix, contentLength === undefined && !untilClose);
      },
    };
    await this.o.fast.handle(x);
    return relayedClose ?? false;
  }

  // ───────── relay to the node:http handler ─────────

  private internalConnection(): OutgoingConnection {
    if (this.internal && !this.internal.dead) return this.internal;
    const [mine, theirs] = duplexPair();
    const peer = theirs as typeof theirs & Record<string, unknown>;
    peer.remoteAddress = this.socket.remoteAddress;
    peer.remotePort = this.socket.remotePort;
    peer.remoteFamily = this.socket.remoteFamily;
    peer.encrypted = false;
    peer.setTimeout = () => theirs;
    peer.setNoDelay = () => theirs;
    peer.setKeepAlive = () => theirs;
    this.o.internal.emit('connection', theirs);
    this.internal = new OutgoingConnection(mine);
    return this.internal;
  }

  private async relay(rawHead: Buffer, head: RequestHead, framing: Framing, keepAlive: boolean): Promise<boolean> {
    const conn = this.internalConnection();
    const socket = this.socket;
    const uploaded =
      framing.kind === 'none'
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.uploadFramer = new BodyFramer(framing);
            this.uploadDone = resolve;
          });
    const response = conn.request(rawHead, {
      method: head.method,
      onInterim: (h) => socket.write(responseHead(h.status, {}), 'latin1'),
    });
    if (this.uploadFramer && this.buf) {
      const pending = this.buf;
      this.buf = undefined;
      this.relayUpload(pending);
    }
    const r = await response;
    // Answered before the whole body came (401, 413 …): the rest of the body is not read; the connection ends.
    const early = this.uploadFramer !== undefined;
    const close = this.writeRelayed(r.head, head, keepAlive && !early);
    const chunked = !('content-length' in r.head.headers) && hasBody(head.method, r.head) && head.minor === 1;
    await pipeBody(r.body, socket, [], chunked);
    if (this.uploadFramer) {
      this.uploadFramer = undefined;
      this.uploadDone = undefined;
      this.internal?.destroy();
      return true;
    }
    await uploaded;
    return close;
  }

  /** Request body bytes for the internal handler: forwarded raw (its own framing) with backpressure. */
  private relayUpload(d: Buffer): void {
    const framer = this.uploadFramer!;
    let piece: ReturnType<BodyFramer['push']>;
    try {
      piece = framer.push(d, 0);
    } catch {
      this.socket.destroy();
      return;
    }
    const target = this.internal!.socket;
    noteStreamed(piece.consumed);
    const ok = target.write(piece.consumed === d.length ? d : d.subarray(0, piece.consumed));
    if (!ok) {
      this.socket.pause();
      target.once('drain', () => this.socket.resume());
    }
    if (piece.done) {
      this.uploadFramer = undefined;
      const resolve = this.uploadDone!;
      this.uploadDone = undefined;
      if (piece.consumed < d.length) {
        const rest = d.subarray(piece.consumed);
        this.buf = this.buf ? Buffer.concat([this.buf, rest]) : rest;
      }
      resolve();
    }
  }

  /** Write the internal handler's response head with this connection's own framing; true if closing after. */
  private writeRelayed(r: ResponseHead, req: RequestHead, keepAlive: boolean): boolean {
    const h: Record<string, string> = {};
    for (const k in r.headers) if (!DROP_FROM_INTERNAL.has(k)) h[k] = r.headers[k]!;
    const known = 'content-length' in r.headers;
    // HTTP/1.0 has no chunked coding: an answer of unknown length ends with the connection.
    const untilClose = !known && req.minor === 0 && hasBody(req.method, r);
    const close = !keepAlive || untilClose || (r.headers.connection ?? '').toLowerCase().includes('close');
    if (close) h.connection = 'close';
    if (known) h['content-length'] = r.headers['content-length']!;
    else if (hasBody(req.method, r) && !untilClose) h['transfer-encoding'] = 'chunked';
    this.socket.write(responseHead(r.status, h), 'latin1');
    return close;
  }
}

function hasBody(method: string, r: ResponseHead): boolean {
  return method !== 'HEAD' && r.status !== 204 && r.status !== 304 && r.status >= 200;
}

/** Stream a response body to the client with backpressure, chunk-framing it when asked. */
function pipeBody(body: IncomingBody, socket: Socket, prefix: Buffer[], chunked: boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const write = (piece: Buffer): boolean => {
      if (piece.length === 0) return true;
      noteStreamed(piece.length);
      if (!chunked) return socket.write(piece);
      socket.cork();
      for (const part of chunk(piece)) socket.write(part);
      socket.uncork();
      return socket.writableLength < socket.writableHighWaterMark;
    };
    for (const p of prefix) write(p);
    for (const p of body.early) write(p);
    body.early.length = 0;
    let waiting = false;
    const onClose = () => {
      body.abandon();
      reject(new Error('client went away'));
    };
    socket.once('close', onClose);
    body.consume({
      data(piece) {
        const ok = write(piece);
        if (!ok && !waiting) {
          waiting = true;
          socket.once('drain', () => {
            waiting = false;
            body.resume();
          });
        }
        return ok;
      },
      end() {
        socket.off('close', onClose);
        if (chunked) socket.write(LAST_CHUNK);
        resolve();
      },
      error(err) {
        socket.off('close', onClose);
        reject(err);
      },
    });
  });
}

/** Listen with the front end; `internal` is never bound to a port itself. */
export function createFront(o: FrontOptions): Server {
  const server = createServer({ noDelay: true }, (socket) => {
    new ClientConnection(socket, o);
  });
  return server;
}
