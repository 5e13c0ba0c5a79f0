import type { ErrorCode } from './codes.ts';

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

/**
 * The one error class of OCX. Subclasses only narrow `code`; everything a caller needs is on the instance.
 * `instanceof` works across duplicate package copies (Symbol.hasInstance checks a global brand).
 */
export class OcxError extends Error implements ErrorContext {
  readonly code: ErrorCode;
  cloud?: string | undefined;
  region?: string | undefined;
  service?: string | undefined;
  method?: string | undefined;
  url?: string | undefined;
  status?: number | undefined;
  requestId?: string | undefined;
  serverMessage?: string | undefined;
  resourceId?: string | undefined;
  file?: string | undefined;
  key?: string | undefined;
  retryable?: boolean | undefined;
  step?: string | undefined;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OcxError';
    this.code = code;
    Object.assign(this, context);
    Object.defineProperty(this, OCX_ERROR, { value: true });
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

  context(): ErrorContext {
    const {
      cloud,
      region,
      service,
      method,
      url,
      status,
      requestId,
      serverMessage,
      resourceId,
      file,
      key,
      retryable,
      step,
    } = this;
    return {
      cloud,
      region,
      service,
      method,
      url,
      status,
      requestId,
      serverMessage,
      resourceId,
      file,
      key,
      retryable,
      step,
    };
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
