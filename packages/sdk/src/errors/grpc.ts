/**
 * OCX error codes and gRPC status codes, both ways, in one table: the gateway answers an OcxError with
 * `GRPC_CODE_OF[code]` plus an `ocx.cloud.v1.ErrorDetail` (OCX code, cloud, region, request id); the SDK's gateway
 * backend turns such an answer back into the same OcxError (`fromGrpcError`, reached through `OcxError.from`).
 * A status without the detail (a proxy in between, another server) gets the code the table lists for it.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorDetailSchema } from '../gen/ocx/cloud/v1/common_pb.ts';
import { ErrorCode } from './codes.ts';
import { type ErrorContext, OcxError } from './ocx-error.ts';

/** OCX code → the gRPC status the gateway answers with. */
export const GRPC_CODE_OF: Readonly<Record<ErrorCode, Code>> = {
  [ErrorCode.AUTH_FAILED]: Code.Unauthenticated,
  [ErrorCode.AUTH_EXPIRED]: Code.Unauthenticated,
  [ErrorCode.FORBIDDEN]: Code.PermissionDenied,
  [ErrorCode.NOT_FOUND]: Code.NotFound,
  [ErrorCode.CONFLICT]: Code.FailedPrecondition,
  [ErrorCode.BAD_REQUEST]: Code.InvalidArgument,
  [ErrorCode.OVER_QUOTA]: Code.ResourceExhausted,
  [ErrorCode.SERVICE_ERROR]: Code.Unavailable,
  [ErrorCode.UNREACHABLE]: Code.Unavailable,
  [ErrorCode.TIMEOUT]: Code.DeadlineExceeded,
  [ErrorCode.CANCELLED]: Code.Canceled,
  [ErrorCode.CONFIG_INVALID]: Code.FailedPrecondition,
  [ErrorCode.ENDPOINT_NOT_FOUND]: Code.FailedPrecondition,
  [ErrorCode.FEDERATION_FAILED]: Code.Unavailable,
  [ErrorCode.AMBIGUOUS]: Code.FailedPrecondition,
  [ErrorCode.RESOURCE_FAILED]: Code.FailedPrecondition,
  [ErrorCode.INVALID_RESPONSE]: Code.Internal,
  // The cloud cannot do this (e.g. move a server to another project on OpenStack): the RPC exists and works for
  // other kinds and clouds, so UNIMPLEMENTED ("no such method") would mislead; the details say UNSUPPORTED.
  [ErrorCode.UNSUPPORTED]: Code.FailedPrecondition,
};

/** gRPC status → OCX code, for answers that carry no ErrorDetail (or one naming a code this SDK does not know). */
export const OCX_CODE_OF_GRPC: Readonly<Record<Code, ErrorCode>> = {
  [Code.Canceled]: ErrorCode.CANCELLED,
  [Code.Unknown]: ErrorCode.SERVICE_ERROR,
  [Code.InvalidArgument]: ErrorCode.BAD_REQUEST,
  [Code.DeadlineExceeded]: ErrorCode.TIMEOUT,
  [Code.NotFound]: ErrorCode.NOT_FOUND,
  [Code.AlreadyExists]: ErrorCode.CONFLICT,
  [Code.PermissionDenied]: ErrorCode.FORBIDDEN,
  [Code.ResourceExhausted]: ErrorCode.OVER_QUOTA,
  [Code.FailedPrecondition]: ErrorCode.CONFLICT,
  [Code.Aborted]: ErrorCode.CONFLICT,
  [Code.OutOfRange]: ErrorCode.BAD_REQUEST,
  // The server has no such method: an older gateway, or one that does not serve this service.
  [Code.Unimplemented]: ErrorCode.UNSUPPORTED,
  [Code.Internal]: ErrorCode.SERVICE_ERROR,
  [Code.Unavailable]: ErrorCode.UNREACHABLE,
  [Code.DataLoss]: ErrorCode.SERVICE_ERROR,
  [Code.Unauthenticated]: ErrorCode.AUTH_FAILED,
};

const KNOWN = new Set<string>(Object.values(ErrorCode));
/** Codes a caller may retry: the gateway or the cloud behind it was unreachable or slow. */
const RETRYABLE = new Set<string>([ErrorCode.UNREACHABLE, ErrorCode.TIMEOUT, ErrorCode.SERVICE_ERROR]);

/**
 * A gRPC failure (a ConnectError) as the OcxError it stands for: the OCX code, region and OpenStack request id from
 * the gateway's ErrorDetail, the message the gateway sent (never a token: the gateway's messages are OcxErrors'
 * own), and the caller's context (the cloud as the caller names it). A client-side failure to reach the gateway
 * at all (connection refused, TLS) is UNREACHABLE naming the gateway.
 */
export function fromGrpcError(err: ConnectError, ctx: ErrorContext = {}): OcxError {
  const [detail] = err.findDetails(ErrorDetailSchema);
  const detailCode = detail?.code && KNOWN.has(detail.code) ? (detail.code as ErrorCode) : undefined;
  const code = detailCode ?? OCX_CODE_OF_GRPC[err.code] ?? ErrorCode.SERVICE_ERROR;
  const context: ErrorContext = {
    ...ctx,
    region: ctx.region ?? (detail?.region || undefined),
    requestId: detail?.requestId || ctx.requestId,
    retryable: RETRYABLE.has(code),
  };
  return new OcxError(code, err.rawMessage || `gateway answered ${Code[err.code] ?? err.code}`, context, {
    cause: err,
  });
}

export function isConnectError(v: unknown): v is ConnectError {
  return v instanceof ConnectError;
}
