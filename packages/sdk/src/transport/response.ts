import { Readable } from 'node:stream';
import { ErrorCode } from '../errors/codes.ts';
import { type ErrorContext, OcxError } from '../errors/ocx-error.ts';
import { requestIdFrom } from './request-id.ts';
import type { HttpResponse } from './types.ts';

export interface ResponseInit {
  status: number;
  headers: Headers;
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
export function toHeaders(raw: Record<string, string | string[] | undefined>): Headers {
  const h = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) h.append(name, v);
    else h.append(name, value);
  }
  return h;
}

export class BufferedBodyResponse implements HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly url: string;
  readonly method: string;
  readonly requestId: string | undefined;
  readonly #body: Readable;
  readonly #init: ResponseInit;
  #consumed: Promise<Buffer> | undefined;
  #done = false;

  constructor(init: ResponseInit) {
    this.status = init.status;
    this.headers = init.headers;
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

  get body(): Readable {
    return this.#body;
  }

  bytes(): Promise<Uint8Array> {
    return this.#read();
  }

  #read(): Promise<Buffer> {
    if (!this.#consumed) {
      this.#consumed = (async () => {
        const chunks: Buffer[] = [];
        try {
          for await (const chunk of this.#body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        } catch (err) {
          throw this.#init.onError ? this.#init.onError(err) : err;
        } finally {
          this.#finish();
        }
        return Buffer.concat(chunks);
      })();
    }
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
