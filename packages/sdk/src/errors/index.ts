export { ErrorCode } from './codes.ts';
export { errorFromStatus, parseFaultMessage } from './from-response.ts';
export { type ErrorContext, isOcxError, OcxError } from './ocx-error.ts';
