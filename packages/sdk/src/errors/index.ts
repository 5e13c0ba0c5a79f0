export { ErrorCode } from './codes.ts';
export { OcxError, isOcxError, type ErrorContext } from './ocx-error.ts';
export { errorFromStatus, parseFaultMessage } from './from-response.ts';
