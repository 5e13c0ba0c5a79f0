import { ErrorCode } from './codes.ts';
import { type ErrorContext, OcxError } from './ocx-error.ts';

/**
 * Pull the human message out of any OpenStack error body shape:
 * Nova/Cinder `{"itemNotFound": {"message", "code"}}`, Neutron `{"NeutronError": {"message", "type"}}`,
 * Keystone `{"error": {"message", "code", "title"}}`, Glance/Swift plain text or HTML, Synnefo cloudFault.
 */
export function parseFaultMessage(body: string | undefined): string | undefined {
  if (!body) return undefined;
  const text = body.trim();
  if (text.startsWith('{')) {
    try {
      const parsed = JSON.parse(text) as unknown;
      return messageFromJson(parsed);
    } catch {
      // fall through to text handling
    }
  }
  const stripped = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return stripped ? stripped.slice(0, 500) : undefined;
}

function messageFromJson(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const obj = value as Record<string, unknown>;
  if (typeof obj.message === 'string') return obj.message;
  if (typeof obj.error === 'string') return obj.error;
  if (typeof obj.detail === 'string') return obj.detail;
  for (const inner of Object.values(obj)) {
    if (typeof inner === 'object' && inner !== null) {
      const msg = (inner as Record<string, unknown>).message;
      if (typeof msg === 'string') return msg;
    }
  }
  return undefined;
}

const QUOTA_HINT = /quota|limit exceeded|over ?limit|exceeded.*(allowed|maximum)/i;

/** Map an HTTP error status (and the server's message) to the one OCX error. */
export function errorFromStatus(status: number, body: string | undefined, context: ErrorContext = {}): OcxError {
  const serverMessage = parseFaultMessage(body);
  const ctx: ErrorContext = { ...context, status, serverMessage };
  const say = (fallback: string) => serverMessage ?? fallback;
  if (status === 401) return new OcxError(ErrorCode.AUTH_EXPIRED, say('authentication required'), ctx);
  if (status === 403) {
    if (serverMessage && QUOTA_HINT.test(serverMessage)) return new OcxError(ErrorCode.OVER_QUOTA, serverMessage, ctx);
    return new OcxError(ErrorCode.FORBIDDEN, say('forbidden by policy'), ctx);
  }
  if (status === 404) return new OcxError(ErrorCode.NOT_FOUND, say('not found'), ctx);
  if (status === 409) {
    // Neutron reports quota exhaustion as 409 OverQuota ("Quota exceeded for resources: ['network']").
    if (serverMessage && QUOTA_HINT.test(serverMessage)) return new OcxError(ErrorCode.OVER_QUOTA, serverMessage, ctx);
    return new OcxError(ErrorCode.CONFLICT, say('conflict'), ctx);
  }
  if (status === 413 || status === 429)
    return new OcxError(ErrorCode.OVER_QUOTA, say('over quota or rate limit'), { ...ctx, retryable: status === 429 });
  if (status >= 400 && status < 500) return new OcxError(ErrorCode.BAD_REQUEST, say(`bad request (${status})`), ctx);
  return new OcxError(ErrorCode.SERVICE_ERROR, say(`service error (${status})`), {
    ...ctx,
    retryable: status === 502 || status === 503 || status === 504,
  });
}
