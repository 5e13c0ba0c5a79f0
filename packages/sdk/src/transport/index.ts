// Public exports of transport/.

export { type CallScope, callScope, deadlineExceeded, deadlineOf, resolveDeadline } from './cancel.ts';
export { createAgent, DEFAULT_TIMEOUT_MS } from './dispatch.ts';
export { isIdempotentMethod } from './errors.ts';
export { type CreateLoggerOptions, createLogger } from './logger.ts';
export { Limiter } from './middleware/rate-limit.ts';
export { parseRetryAfter } from './middleware/retry.ts';
export {
  forgetSecret,
  isSecretHeader,
  MASK,
  redactBody,
  redactHeaders,
  redactJson,
  registerSecret,
  scrubSecrets,
} from './redact.ts';
export { REQUEST_ID_HEADERS, requestIdFrom } from './request-id.ts';
export { memoryResponse, toHeaders } from './response.ts';
export { compose, createTransport, USER_AGENT } from './transport.ts';
export type * from './types.ts';
