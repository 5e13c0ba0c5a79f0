/**
 * HTTP/1.1 on the wire, the little the proxy's front end needs: find and parse a message head, and follow a
 * body's framing (Content-Length, chunked, until close) byte by byte so a connection can be reused after it.
 * Strict where leniency is dangerous for a proxy (RFC 9112 §6.3, §11.2): Content-Length with Transfer-Encoding,
 * differing Content-Lengths, obs-fold and bad header names are rejected.
 */

export const MAX_HEAD_BYTES = 64 * 1024;

export type Headers = Record<string, string>;

export interface RequestHead {
  method: string;
  /** The request target as sent (origin-form: path?query). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Lower-cased names; repeated fields joined with ", ". */
  headers: Headers;
}

export interface ResponseHead {
  status: number;
  minor: number;
  headers: Headers;
}

export class WireError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** Index just past the blank line ending a head that starts at `from`, or -1 if not all here yet. */
export function headEnd(buf: Buffer, from = 0): number {
  const i = buf.indexOf('\r\n\r\n', from, 'latin1');
  return i < 0 ? -1 : i + 4;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function parseFields(lines: string[], headers: Headers): void {
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const c = line.indexOf(':');
    if (c <= 0) throw new WireError(400, 'malformed header line');
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) throw new WireError(400, 'obsolete line folding is not accepted');
    const name = line.slice(0, c).toLowerCase();
    if (!TOKEN.test(name)) throw new WireError(400, 'invalid header name');
    const value = line.slice(c + 1).trim();
    const prev = headers[name];
    headers[name] = prev === undefined ? value : `${prev}, ${value}`;
  }
}

function httpMinor(version: string | undefined): number {
  if (version === 'HTTP/1.1') return 1;
  if (version === 'HTTP/1.0') return 0;
  throw new WireError(505, 'HTTP version not supported');
}

/** Parse a request head (the bytes up to and including the blank line). */
export function parseRequestHead(buf: Buffer, start: number, end: number): RequestHead {
  const lines = buf.toString('latin1', start, end - 4).split('\r\n');
  const first = lines[0]!;
  const a = first.indexOf(' ');
  const b = first.lastIndexOf(' ');
  if (a <= 0 || b <= a) throw new WireError(400, 'malformed request line');
  const method = first.slice(0, a);
  const target = first.slice(a + 1, b);
  if (!TOKEN.test(method) || target.length === 0 || target.includes(' ')) {
    throw new WireError(400, 'malformed request line');
  }
  const minor = httpMinor(first.slice(b + 1));
  const headers: Headers = Object.create(null);
  parseFields(lines, headers);
  return { method, target, minor, headers };
}

/** Parse a response head. */
export function parseResponseHead(buf: Buffer, start: number, end: number): ResponseHead {
  const lines = buf.toString('latin1', start, end - 4).split('\r\n');
  const first = lines[0]!;
  const a = first.indexOf(' ');
  const minor = httpMinor(a > 0 ? first.slice(0, a) : undefined);
  const status = Number(first.slice(a + 1, a + 4));
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new WireError(502, 'malformed status line');
  const headers: Headers = Object.create(null);
  parseFields(lines, headers);
  return { status, minor, headers };
}

export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

function contentLength(h: Headers): number | undefined {
  const v = h['content-length'];
  if (v === undefined) return undefined;
  const parts = v.split(',').map((s) => s.trim());
  if (!parts.every((p) => /^\d{1,15}$/.test(p)) || parts.some((p) => p !== parts[0])) {
    throw new WireError(400, 'invalid Content-Length');
  }
  return Number(parts[0]);
}

function isChunked(h: Headers): boolean | undefined {
  const te = h['transfer-encoding'];
  if (te === undefined) return undefined;
  const codings = te.toLowerCase().split(',');
  if (codings[codings.length - 1]!.trim() !== 'chunked') return false;
  return true;
}

/** How a request's body is framed (RFC 9112 §6.3); a request without either header has none. */
export function requestFraming(h: RequestHead): Framing {
  const chunked = isChunked(h.headers);
  if (chunked !== undefined) {
    if (h.headers['content-length'] !== undefined) {
      throw new WireError(400, 'Content-Length together with Transfer-Encoding');
    }
    if (!chunked) throw new WireError(400, 'a request body must end with the chunked transfer coding');
    return { kind: 'chunked' };
  }
  const n = contentLength(h.headers);
  return n ? { kind: 'length', length: n } : { kind: 'none' };
}

/** How a response's body is framed, given the request's method. */
export function responseFraming(method: string, r: ResponseHead): Framing {
  if (method === 'HEAD' || r.status === 204 || r.status === 304 || r.status < 200) return { kind: 'none' };
  const chunked = isChunked(r.headers);
  if (chunked === true) return { kind: 'chunked' };
  if (chunked === false) return { kind: 'close' };
  let n: number | undefined;
  try {
    n = contentLength(r.headers);
  } catch {
    throw new WireError(502, 'invalid Content-Length from upstream');
  }
  if (n === undefined) return { kind: 'close' };
  return n === 0 ? { kind: 'none' } : { kind: 'length', length: n };
}

export interface FramedPiece {
  /** Raw bytes of this message consumed from the buffer (framing included). */
  consumed: number;
  /** Decoded body bytes found in them (subarrays of the input). */
  data: Buffer[];
  /** The message ended within them. */
  done: boolean;
}

const S_SIZE = 0;
const S_EXT = 1;
const S_SIZE_LF = 2;
const S_DATA = 3;
const S_DATA_CR = 4;
const S_DATA_LF = 5;
const S_TRAILER = 6;
const MAX_CHUNK_LINE = 4096;

/** Follows one message body through its framing, one buffer at a time. */
export class BodyFramer {
  private readonly framing: Framing;
  private remaining: number;
  private state = S_SIZE;
  private sizeDigits = 0;
  private lineBytes = 0;
  /** Trailer section: how many bytes of the current trailer line. */
  private trailerLine = 0;
  private ended = false;

  constructor(framing: Framing) {
    this.framing = framing;
    this.remaining = framing.kind === 'length' ? framing.length : 0;
    if (framing.kind === 'none') this.ended = true;
  }

  get done(): boolean {
    return this.ended;
  }

  /** The peer closed: fine only for a close-delimited body. */
  endOfStream(): boolean {
    if (this.framing.kind === 'close') this.ended = true;
    return this.ended;
  }

  push(buf: Buffer, start: number): FramedPiece {
    const k = this.framing.kind;
    if (this.ended) return { consumed: 0, data: [], done: true };
    if (k === 'close') return { consumed: buf.length - start, data: [buf.subarray(start)], done: false };
    if (k === 'length') {
      const n = Math.min(this.remaining, buf.length - start);
      this.remaining -= n;
      if (this.remaining === 0) this.ended = true;
      return { consumed: n, data: n ? [buf.subarray(start, start + n)] : [], done: this.ended };
    }
    return this.pushChunked(buf, start);
  }

  private pushChunked(buf: Buffer, start: number): FramedPiece {
    const data: Buffer[] = [];
    let i = start;
    const len = buf.length;
    while (i < len && !this.ended) {
      const c = buf[i]!;
      switch (this.state) {
        case S_SIZE: {
          const d = hexValue(c);
          if (d >= 0) {
            if (++this.sizeDigits > 12) throw new WireError(400, 'chunk size too large');
            this.remaining = this.remaining * 16 + d;
          } else if (this.sizeDigits === 0) {
            throw new WireError(400, 'malformed chunk size');
          } else if (c === 0x3b || c === 0x20 || c === 0x09) {
            this.state = S_EXT;
          } else if (c === 0x0d) {
            this.state = S_SIZE_LF;
          } else {
            throw new WireError(400, 'malformed chunk size');
          }
          i++;
          break;
        }
        case S_EXT:
          if (++this.lineBytes > MAX_CHUNK_LINE) throw new WireError(400, 'chunk extension too long');
          if (c === 0x0d) this.state = S_SIZE_LF;
          i++;
          break;
        case S_SIZE_LF:
          if (c !== 0x0a) throw new WireError(400, 'malformed chunk line');
          i++;
          this.sizeDigits = 0;
          this.lineBytes = 0;
          if (this.remaining === 0) {
            this.state = S_TRAILER;
            this.trailerLine = 0;
          } else {
            this.state = S_DATA;
          }
          break;
        case S_DATA: {
          const n = Math.min(this.remaining, len - i);
          data.push(buf.subarray(i, i + n));
          this.remaining -= n;
          i += n;
          if (this.remaining === 0) this.state = S_DATA_CR;
          break;
        }
        case S_DATA_CR:
          if (c !== 0x0d) throw new WireError(400, 'chunk data not followed by CRLF');
          this.state = S_DATA_LF;
          i++;
          break;
        case S_DATA_LF:
          if (c !== 0x0a) throw new WireError(400, 'chunk data not followed by CRLF');
          this.state = S_SIZE;
          i++;
          break;
        case S_TRAILER:
          // Trailer fields are read and dropped; an empty line ends the message.
          i++;
          if (c === 0x0a) {
            if (this.trailerLine === 0) this.ended = true;
            this.trailerLine = 0;
          } else if (c !== 0x0d) {
            if (++this.trailerLine > MAX_CHUNK_LINE) throw new WireError(400, 'trailer line too long');
          }
          break;
      }
    }
    return { consumed: i - start, data, done: this.ended };
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** One chunk of a chunked body: size line, data, CRLF. */
export function chunk(data: Buffer): Buffer[] {
  return [Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), data, CRLF];
}

export const CRLF = Buffer.from('\r\n', 'latin1');
export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');

const REASONS: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  204: 'No Content',
  206: 'Partial Content',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  416: 'Requested Range Not Satisfiable',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/** Serialise a response head. Values with CR/LF are dropped (never split a head on an upstream's say-so). */
export function responseHead(status: number, headers: Record<string, string | string[]>): string {
  let out = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Status'}\r\n`;
  for (const name in headers) {
    const v = headers[name]!;
    for (const one of Array.isArray(v) ? v : [v]) {
      if (one.includes('\r') || one.includes('\n')) continue;
      out += `${name}: ${one}\r\n`;
    }
  }
  return `${out}\r\n`;
}

/** Serialise a request head (origin-form target). */
export function requestHead(method: string, target: string, headers: Record<string, string>): string {
  let out = `${method} ${target} HTTP/1.1\r\n`;
  for (const name in headers) {
    const v = headers[name]!;
    if (v.includes('\r') || v.includes('\n')) continue;
    out += `${name}: ${v}\r\n`;
  }
  return `${out}\r\n`;
}
