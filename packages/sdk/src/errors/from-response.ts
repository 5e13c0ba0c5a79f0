import { parseFaultMessage } from '../wire/faults.ts';
import { ErrorCode } from './codes.ts';
import { type ErrorContext, OcxError } from './ocx-error.ts';

export { parseFaultMessage } from '../wire/faults.ts';

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
