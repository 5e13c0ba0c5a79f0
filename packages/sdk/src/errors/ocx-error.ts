import type { ErrorCode } from './codes.ts';
import { convertToOcxError, type FromContext } from './convert.ts';

/** Where and what a failed call was. Never contains a token. */
export interface ErrorContext {
  cloud?: string | undefined;
  region?: string | undefined;
  service?: string | undefined;
  method?: string | undefined;
  /** The request URL with any token-bearing query parameter removed. */
  url?: string | undefined;
  status?: number | undefined;
  /** OpenStack request id (x-openstack-request-id / x-compute-request-id / x-trans-id). */
  requestId?: string | undefined;
  /** The fault message the server sent, if any (e.g. Nova's itemNotFound.message). */
  serverMessage?: string | undefined;
  /** For AMBIGUOUS / RESOURCE_FAILED: the resource involved. */
  resourceId?: string | undefined;
  /** For CONFIG_INVALID: the file, cloud and key at fault. */
  file?: string | undefined;
  key?: string | undefined;
  /** Whether retrying the same call later may succeed. */
  retryable?: boolean | undefined;
  /** For FEDERATION_FAILED (and errors during a multi-step flow): the step that failed, e.g. 'sp-assertion'. */
  step?: string | undefined;
}

const OCX_ERROR = Symbol.for('ocx.error');
const CONTEXT = Symbol('ocx.error.context');

// The context fields are declared once, in ErrorContext; this merge puts them on OcxError's type (read-only), and the
// constructor's Object.assign puts them on the instance, so `err.cloud`, `err.step`, ... read as before.
export interface OcxError extends Readonly<ErrorContext> {}

/**
 * The one error class of OCX: a stable `code` plus where the failure happened (ErrorContext). There are no
 * subclasses; callers switch on `err.code`. `instanceof` works across duplicate package copies
 * (Symbol.hasInstance checks a global brand). Build one from anything with `OcxError.from(reason, context)`.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: see the interface above
export class OcxError extends Error {
  readonly code: ErrorCode;
  declare readonly [CONTEXT]: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OcxError';
    this.code = code;
    const own: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(context)) if (v !== undefined) own[k] = v;
    Object.assign(this, own);
    Object.defineProperty(this, CONTEXT, { value: Object.freeze(own) });
    Object.defineProperty(this, OCX_ERROR, { value: true });
  }

  /**
   * The one conversion from anything a call can fail with — an OcxError, an HTTP answer `{status, body}`, an abort
   * reason, a Node/undici error — to an OcxError with `context`. Rules: errors/convert.ts.
   */
  static from(reason: unknown, context: FromContext = {}): OcxError {
    return convertToOcxError(reason, context);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[OCX_ERROR] === true;
  }

  /** A copy with more context (used by layers that know the cloud/service the lower layer did not). */
  withContext(context: ErrorContext): OcxError {
    const copy = new OcxError(this.code, this.message, { ...this.context(), ...context }, { cause: this.cause });
    copy.stack = this.stack;
    return copy;
  }

  /** The context fields that are set. */
  context(): ErrorContext {
    return { ...this[CONTEXT] };
  }

  /** A one-line, token-free description for CLIs and logs: `[TIMEOUT] sp1/compute GET …: message`. */
  summary(): string {
    const where = [this.cloud, this.service].filter(Boolean).join('/');
    const call = [this.method, this.url].filter(Boolean).join(' ');
    const head = [where, call].filter(Boolean).join(' ');
    return `[${this.code}]${head ? ` ${head}` : ''}: ${this.message}`;
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, ...this.context() };
  }
}

export function isOcxError(value: unknown, code?: ErrorCode): value is OcxError {
  return value instanceof OcxError && (code === undefined || value.code === code);
}
