// Public exports of transport/.
export type * from './types.ts';
export { createTransport, compose, USER_AGENT } from './transport.ts';
export { createLogger, type CreateLoggerOptions } from './logger.ts';
export {
  redactBody,
  redactHeaders,
  redactJson,
  registerSecret,
  forgetSecret,
  scrubSecrets,
  isSecretHeader,
  MASK,
} from './redact.ts';
export { classifyFailure, safeUrl, isIdempotentMethod } from './errors.ts';
export { requestIdFrom, REQUEST_ID_HEADERS } from './request-id.ts';
export { memoryResponse, toHeaders } from './response.ts';
export { parseRetryAfter } from './middleware/retry.ts';
export { Limiter } from './middleware/rate-limit.ts';
export { DEFAULT_TIMEOUT_MS, createAgent } from './dispatch.ts';
