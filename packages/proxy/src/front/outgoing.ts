/**
 * One outgoing HTTP/1.1 connection over any duplex stream (a TCP socket to an upstream service, or the in-memory
 * pair that feeds the proxy's node:http handler): write a request head, read interim and final response heads,
 * then hand the body, decoded from its framing, to whoever consumes it, with backpressure. One exchange at a time.
 */
import type { Duplex } from 'node:stream';
import {
  BodyFramer,
  headEnd,
  MAX_HEAD_BYTES,
  parseResponseHead,
  type ResponseHead,
  responseFraming,
  type WireError,
} from './wire.ts';

export interface BodyConsumer {
  /** A decoded body piece; return false to pause until `resume()`. */
  data(piece: Buffer): boolean;
  end(): void;
  error(err: Error): void;
}

/** A response body as it arrives; pieces received before a consumer is attached are kept. */
export class IncomingBody {
  private readonly conn: OutgoingConnection;
  private consumer: BodyConsumer | undefined;
  /** Pieces received before `consume`; with `ended`, the whole body when it came with the head. */
  readonly early: Buffer[] = [];
  earlyBytes = 0;
  ended = false;
  failed: Error | undefined;

  constructor(conn: OutgoingConnection) {
    this.conn = conn;
  }

  /** @internal */
  push(piece: Buffer): void {
    if (this.consumer) {
      if (!this.consumer.data(piece)) this.conn.pauseReading();
    } else {
      this.early.push(piece);
      this.earlyBytes += piece.length;
    }
  }

  /** @internal */
  finish(err?: Error): void {
    if (this.ended || this.failed) return;
    if (err) this.failed = err;
    else this.ended = true;
    if (!this.consumer) return;
    if (err) this.consumer.error(err);
    else this.consumer.end();
  }

  /** Take the body from here on (after reading `early`, which is not replayed). */
  consume(consumer: BodyConsumer): void {
    this.consumer = consumer;
    if (this.failed) consumer.error(this.failed);
    else if (this.ended) consumer.end();
  }

  resume(): void {
    this.conn.resumeReading();
  }

  /** Stop reading a body still arriving; its connection is not reused. (Nothing, once the body ended.) */
  abandon(): void {
    if (!this.ended && !this.failed) this.conn.destroy();
  }
}

export interface OutgoingResponse {
  head: ResponseHead;
  body: IncomingBody;
}

export interface ExchangeOptions {
  method: string;
  /** No response head within this → TimeoutError (0 = none). */
  headersTimeoutMs?: number;
  /** No body byte for this long → error (0 = none). */
  bodyIdleTimeoutMs?: number;
  /** 1xx responses (100 Continue) as they arrive. */
  onInterim?: (head: ResponseHead) => void;
  /** Receives this exchange's cancel function (call it when the caller went away: the connection is dropped). */
  bind?: (cancel: () => void) => void;
}

export class ExchangeError extends Error {
  /** Nothing of a response arrived (a request that is safe to repeat may be retried on a fresh connection). */
  readonly beforeResponse: boolean;
  readonly code: string;
  constructor(code: string, message: string, beforeResponse: boolean) {
    super(message);
    this.code = code;
    this.beforeResponse = beforeResponse;
  }
}

const IDLE = 0;
const HEAD = 1;
const BODY = 2;
const DEAD = 3;

export class OutgoingConnection {
  readonly socket: Duplex;
  private state = IDLE;
  private buf: Buffer | undefined;
  private opts: ExchangeOptions = { method: 'GET' };
  private framer: BodyFramer | undefined;
  private body: IncomingBody | undefined;
  private gotBytes = false;
  private resolve: ((r: OutgoingResponse) => void) | undefined;
  private reject: ((e: Error) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private keepAlive = true;
  /** Called when an exchange ended and the connection may carry another. */
  onReusable: ((c: OutgoingConnection) => void) | undefined;
  /** Called once when the connection can no longer be used. */
  onDead: ((c: OutgoingConnection) => void) | undefined;
  /** How long the peer keeps an idle connection (its Keep-Alive: timeout=N), if it said. */
  peerIdleMs: number | undefined;

  constructor(socket: Duplex) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('end', () => this.onEnd());
    socket.on('error', (e: Error) => this.fail(new ExchangeError('UPSTREAM_ERROR', e.message, !this.gotBytes)));
    socket.on('close', () => this.onEnd());
  }

  get idle(): boolean {
    return this.state === IDLE;
  }

  get dead(): boolean {
    return this.state === DEAD;
  }

  /** Send a request head and wait for the final response head (a body, if any, the caller writes to `socket`). */
  request(head: string | Buffer, opts: ExchangeOptions): Promise<OutgoingResponse> {
    if (this.state !== IDLE) return Promise.reject(new Error('connection busy'));
    this.state = HEAD;
    this.opts = opts;
    this.gotBytes = false;
    this.framer = undefined;
    this.body = undefined;
    return new Promise<OutgoingResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      if (opts.headersTimeoutMs) {
        this.timer = setTimeout(
          () => this.fail(new ExchangeError('HEADERS_TIMEOUT', 'no response before the deadline', !this.gotBytes)),
          opts.headersTimeoutMs,
        );
      }
      opts.bind?.(() => this.fail(new ExchangeError('ABORTED', 'cancelled', !this.gotBytes)));
      this.socket.write(head);
    });
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    if (this.state !== DEAD) this.socket.resume();
  }

  destroy(): void {
    if (this.state === DEAD) return;
    this.fail(new ExchangeError('ABANDONED', 'connection abandoned', false));
  }

  private onData(d: Buffer): void {
    this.gotBytes = true;
    if (this.state === HEAD) {
      this.buf = this.buf ? Buffer.concat([this.buf, d]) : d;
      this.readHeads();
    } else if (this.state === BODY) {
      this.readBody(d, 0);
    } else if (this.state === IDLE) {
      // Bytes nobody asked for: the connection's framing is lost.
      this.fail(new ExchangeError('UPSTREAM_ERROR', 'unexpected bytes from upstream', false));
    }
  }

  private readHeads(): void {
    for (;;) {
      const buf = this.buf!;
      const end = headEnd(buf);
      if (end < 0) {
        if (buf.length > MAX_HEAD_BYTES)
          this.fail(new ExchangeError('UPSTREAM_ERROR', 'response head too large', false));
        return;
      }
      let head: ResponseHead;
      let framer: BodyFramer;
      try {
        head = parseResponseHead(buf, 0, end);
        framer = new BodyFramer(responseFraming(this.opts.method, head));
      } catch (err) {
        this.fail(new ExchangeError('UPSTREAM_ERROR', (err as WireError).message, false));
        return;
      }
      this.buf = end < buf.length ? buf.subarray(end) : undefined;
      if (head.status < 200 && head.status !== 101) {
        this.opts.onInterim?.(head);
        if (!this.buf) return;
        continue;
      }
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      const conn = (head.headers.connection ?? '').toLowerCase();
      this.keepAlive =
        head.status !== 101 && (head.minor === 1 ? !conn.includes('close') : conn.includes('keep-alive'));
      const ka = head.headers['keep-alive'];
      const m = ka ? /timeout=(\d+)/i.exec(ka) : null;
      this.peerIdleMs = m ? Number(m[1]) * 1000 : undefined;
      this.framer = framer;
      const body = new IncomingBody(this);
      this.body = body;
      this.state = BODY;
      if (this.opts.bodyIdleTimeoutMs && !framer.done) this.armBodyTimer();
      const rest = this.buf;
      this.buf = undefined;
      const resolve = this.resolve!;
      this.resolve = undefined;
      this.reject = undefined;
      if (rest) this.readBody(rest, 0);
      else if (framer.done) this.finishBody();
      resolve({ head, body });
      return;
    }
  }

  private armBodyTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.fail(new ExchangeError('BODY_TIMEOUT', 'response body stalled', false)),
      this.opts.bodyIdleTimeoutMs,
    );
  }

  private readBody(d: Buffer, start: number): void {
    const framer = this.framer!;
    let piece: ReturnType<BodyFramer['push']>;
    try {
      piece = framer.push(d, start);
    } catch (err) {
      this.fail(new ExchangeError('UPSTREAM_ERROR', (err as Error).message, false));
      return;
    }
    if (this.timer && this.opts.bodyIdleTimeoutMs) this.timer.refresh();
    for (const p of piece.data) this.body!.push(p);
    if (piece.done) {
      if (start + piece.consumed < d.length) this.keepAlive = false; // trailing garbage: do not reuse
      this.finishBody();
    }
  }

  private finishBody(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const body = this.body!;
    this.state = IDLE;
    this.body = undefined;
    this.framer = undefined;
    if (!this.keepAlive) {
      this.state = DEAD;
      this.socket.destroy();
      this.onDead?.(this);
      this.onDead = undefined;
    }
    body.finish();
    if (this.state === IDLE) {
      this.socket.resume();
      this.onReusable?.(this);
    }
  }

  private onEnd(): void {
    if (this.state === BODY && this.framer?.endOfStream()) {
      this.keepAlive = false;
      this.finishBody();
      return;
    }
    if (this.state !== DEAD)
      this.fail(new ExchangeError('UPSTREAM_CLOSED', 'upstream closed the connection', !this.gotBytes));
  }

  private fail(err: ExchangeError): void {
    if (this.state === DEAD) return;
    const wasIdle = this.state === IDLE;
    this.state = DEAD;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.socket.destroy();
    this.onDead?.(this);
    this.onDead = undefined;
    if (wasIdle) return;
    const reject = this.reject;
    this.resolve = undefined;
    this.reject = undefined;
    if (reject) reject(err);
    else this.body?.finish(err);
  }
}
