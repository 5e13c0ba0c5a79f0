export { ErrorCode } from './codes.ts';
export { errorCodeOf, type FromContext, type HttpFailure, isDeadlineReason } from './convert.ts';
export { errorFromStatus, parseFaultMessage } from './from-response.ts';
export { fromGrpcError, GRPC_CODE_OF, OCX_CODE_OF_GRPC } from './grpc.ts';
export { type CodeMeaning, meaningOfCode, NODE_ERROR_CODES } from './node-codes.ts';
export { type ErrorContext, isOcxError, OcxError } from './ocx-error.ts';
export { safeUrl } from './safe-url.ts';
