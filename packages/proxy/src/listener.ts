/**
 * The proxy's listener: node:http (llhttp parses and frames requests, so request smuggling defences are Node's and
 * the project owns no HTTP parser). On top of what llhttp refuses by itself, HTTP/1.1 requests need exactly one
 * Host and only HTTP/1.x is spoken. Refused heads and refused uploads end their connection with a lingering close:
 * the answer goes out, what the client still sends is read and dropped for a moment, then the connection goes —
 * so the client reads the answer instead of a reset, and nobody's gigabyte is taken in.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Engine } from './engine.ts';
import { errorResponse } from './errors.ts';

/** How long a closing connection's incoming bytes are still read (and dropped) after the answer. */
const LINGER_MS = 2_000;

/** End `socket` after what was written, reading and dropping for LINGER_MS, then destroy it. */
export function lingeringClose(socket: Duplex): void {
  socket.on('data', () => undefined);
  socket.resume();
  socket.end();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** A connection node:http will close after this answer lingers instead of resetting the client. */
function lingerOnClose(res: ServerResponse): void {
  const socket = res.socket as (Socket & { destroySoon?: () => void }) | null;
  if (socket) socket.destroySoon = () => lingeringClose(socket);
}

/** llhttp says HPE_INVALID_VERSION for a bare LF after the version too: 505 only for a well-formed HTTP/2+ line. */
function otherHttpVersion(err: NodeJS.ErrnoException & { rawPacket?: Buffer }): boolean {
  const m = /^[^\s]+ [^\s]+ HTTP\/(\d)\.\d\r\n/.exec(err.rawPacket?.toString('latin1', 0, 16_384) ?? '');
  return m !== null && m[1] !== '1';
}

export function createListener(o: {
  engine: Engine;
  logger: Logger;
  onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  /** Whole request head within this (slowloris bound). */
  headersTimeoutMs?: number | undefined;
  keepAliveTimeoutMs?: number | undefined;
  /** Open connections at most; node:http closes new ones beyond it. */
  maxConnections?: number | undefined;
}): Server {
  const { engine, logger, onRequest } = o;
  const refuse = (res: ServerResponse, status: number, message: string) => {
    res.shouldKeepAlive = false;
    lingerOnClose(res);
    engine.send(res, errorResponse(undefined, status, message));
  };
  const server = createServer(
    {
      keepAliveTimeout: o.keepAliveTimeoutMs ?? 65_000,
      requestTimeout: 0,
      headersTimeout: o.headersTimeoutMs ?? 20_000,
      // node:http enforces headersTimeout on this tick (default 30 s, which would let a slow head live 50 s).
      connectionsCheckingInterval: Math.min(1_000, o.headersTimeoutMs ?? 20_000),
      // Room for big tokens and many headers; beyond it llhttp refuses the head (431).
      maxHeaderSize: 64 * 1024,
      noDelay: true,
    },
    (req, res) => {
      // llhttp reads any one-digit version; this proxy speaks HTTP/1.x only.
      if (req.httpVersionMajor !== 1) return refuse(res, 505, `HTTP/${req.httpVersion} is not supported`);
      // RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host (two could route a smuggled request elsewhere).
      let hosts = 0;
      for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') hosts++;
      if (hosts > 1 || (hosts === 0 && req.httpVersionMinor >= 1)) {
        return refuse(res, 400, 'a request needs exactly one Host header');
      }
      // Answered before its body was read (refused upload): close, lingering, instead of reading it all.
      res.once('prefinish', () => {
        if (!res.shouldKeepAlive) lingerOnClose(res);
      });
      onRequest(req, res);
    },
  );
  if (o.maxConnections) server.maxConnections = o.maxConnections;
  // What llhttp refuses (bad request line, Content-Length with Transfer-Encoding, bare LF, oversized head) gets a
  // JSON error and the connection closes: nothing after a refused head is read as a request.
  const refused = new WeakSet<Duplex>();
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Bytes that keep coming after a refused head fail the parser again: the first answer stands.
    if (refused.has(socket)) return;
    refused.add(socket);
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    // Garbage after a complete request (pipelined): that request is already being answered — perhaps a POST the
    // upstream has acted on — so its answer still goes out, then the connection closes; nothing more is parsed.
    const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
    // Broken framing inside that request's own body (a bad chunk size): its body can never complete, and must not
    // reach the upstream cut short — the connection is reset, as node:http does.
    if (inFlight && !inFlight.req.complete) {
      socket.destroy();
      return;
    }
    if (inFlight) {
      socket.removeAllListeners('data');
      socket.on('data', () => undefined);
      if (!inFlight.headersSent) inFlight.shouldKeepAlive = false;
      const close = () => lingeringClose(socket);
      if (inFlight.writableFinished) close();
      else {
        inFlight.once('finish', close);
        inFlight.once('close', close);
      }
      return;
    }
    const status =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? 431
        : err.code === 'HPE_INVALID_VERSION' && otherHttpVersion(err)
          ? 505
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? 408
            : 400;
    const message =
      status === 431
        ? 'request header too large'
        : status === 408
          ? 'request head not sent in time'
          : 'malformed request';
    const r = errorResponse(undefined, status, message);
    const body = typeof r.body === 'string' ? r.body : r.body.toString('utf8');
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: ${r.headers['content-type'] ?? 'application/json'}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    socket.removeAllListeners('data'); // node:http's parser reads no more of this connection
    lingeringClose(socket);
  });
  // CONNECT (a forward-proxy tunnel): not this proxy's job. Without a listener node:http drops the connection
  // unanswered; answer 405 in JSON and close.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const r = errorResponse(undefined, 405, 'CONNECT is not supported');
    const body = typeof r.body === 'string' ? r.body : r.body.toString('utf8');
    socket.write(
      `HTTP/1.1 405 ${STATUS_CODES[405]}\r\ncontent-type: ${r.headers['content-type'] ?? 'application/json'}\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    lingeringClose(socket);
  });
  // Expect: 100-continue — the token is checked before the client is told to send its body.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    engine
      .refuseBeforeBody(req)
      .then((refusal) => {
        if (refusal) {
          res.shouldKeepAlive = false; // the body is never read
          lingerOnClose(res);
          engine.send(res, refusal);
          return;
        }
        res.writeContinue();
        onRequest(req, res);
      })
      .catch((err: unknown) => {
        logger.warn({ err: { message: (err as Error).message } }, 'expect check failed');
        if (!res.headersSent) engine.send(res, errorResponse(undefined, 503, 'could not check the token'));
      });
  });
  return server;
}
