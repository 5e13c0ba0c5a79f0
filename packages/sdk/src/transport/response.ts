import { finished, Readable } from 'node:stream';
import { ErrorCode } from '../errors/codes.ts';
import { type ErrorContext, OcxError } from '../errors/ocx-error.ts';
import type { RawHeaders } from '../wire/headers.ts';
import { requestIdFrom } from './request-id.ts';
import type { HttpResponse } from './types.ts';

export interface ResponseInit {
  status: number;
  /** WHATWG Headers, or undici's record (made into Headers only when someone reads them). */
  headers: Headers | RawHeaders;
  url: string;
  method: string;
  body: Readable;
  /** Called once when the body has been fully read, dumped or has failed (stops the deadline timer). */
  onDone?: (() => void) | undefined;
  /** Turn a body-read failure into an OcxError (TIMEOUT/CANCELLED/UNREACHABLE). */
  onError?: ((err: unknown) => OcxError) | undefined;
  /** Called with the body text when it was read through text()/json() (trace logging). */
  onText?: ((text: string) => void) | undefined;
  context?: ErrorContext | undefined;
}

/** Convert undici's header record to WHATWG Headers (multi-valued headers such as Set-Cookie kept apart). */
export function toHeaders(raw: RawHeaders): Headers {
  const h = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) h.append(name, v);
    else h.append(name, value);
  }
  return h;
}

/**
 * A whole body, as a `for await` loop would read it (the stream's error, or ERR_STREAM_PREMATURE_CLOSE when it is
 * destroyed before its end), by 'data' events and `finished`: the loop's async iterator costs several times more for
 * the one-chunk answers most API calls get.
 */
function readAll(body: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const onData = (chunk: Buffer | string) => chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    body.on('data', onData);
    finished(body, (err) => {
      body.off('data', onData);
      if (err) reject(err);
      else resolve(chunks.length === 1 && Buffer.isBuffer(chunks[0]) ? chunks[0] : Buffer.concat(chunks));
    });
  });
}

export class BufferedBodyResponse implements HttpResponse {
  readonly status: number;
  readonly url: string;
  readonly method: string;
  readonly requestId: string | undefined;
  readonly #body: Readable;
  readonly #init: ResponseInit;
  #consumed: Promise<Buffer> | undefined;
  #done = false;
  #headers: Headers | RawHeaders;

  constructor(init: ResponseInit) {
    this.status = init.status;
    this.#headers = init.headers;
    this.url = init.url;
    this.method = init.method;
    this.requestId = requestIdFrom(init.headers);
    this.#body = init.body;
    this.#init = init;
    const finish = () => this.#finish();
    init.body.once('end', finish);
    init.body.once('close', finish);
    init.body.once('error', finish);
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#init.onDone?.();
  }

  /** Built on first read: most JSON calls never look at a header, and a WHATWG Headers costs a copy per call. */
  get headers(): Headers {
    if (!(this.#headers instanceof Headers)) this.#headers = toHeaders(this.#headers);
    return this.#headers;
  }

  get body(): Readable {
    return this.#body;
  }

  bytes(): Promise<Uint8Array> {
    return this.#read();
  }

  #read(): Promise<Buffer> {
    this.#consumed ??= readAll(this.#body).then(
      (buf) => {
        this.#finish();
        return buf;
      },
      (err: unknown) => {
        this.#finish();
        throw this.#init.onError ? this.#init.onError(err) : err;
      },
    );
    return this.#consumed;
  }

  async text(): Promise<string> {
    const text = (await this.#read()).toString('utf8');
    this.#init.onText?.(text);
    return text;
  }

  async json<T = unknown>(): Promise<T> {
    const text = await this.text();
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new OcxError(
        ErrorCode.INVALID_RESPONSE,
        `expected JSON from ${this.method} but got ${this.headers.get('content-type') ?? 'no content type'}`,
        { ...this.#init.context, status: this.status, requestId: this.requestId },
        { cause: err },
      );
    }
  }

  async dump(): Promise<void> {
    if (this.#consumed) {
      await this.#consumed.catch(() => undefined);
      return;
    }
    this.#consumed = Promise.resolve(Buffer.alloc(0));
    if (!this.#body.destroyed) {
      this.#body.resume();
      this.#body.destroy();
    }
    this.#finish();
  }
}

/** A response built in memory (tests, middleware that synthesizes answers). */
export function memoryResponse(
  status: number,
  body: string,
  headers: Record<string, string> = {},
  meta: { url?: string; method?: string } = {},
): HttpResponse {
  return new BufferedBodyResponse({
    status,
    headers: new Headers(headers),
    url: meta.url ?? '',
    method: meta.method ?? 'GET',
    body: Readable.from([Buffer.from(body)]),
  });
}
