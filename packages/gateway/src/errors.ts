/**
 * OCX error codes → gRPC status codes (the SDK's one table, `GRPC_CODE_OF` in sdk errors/grpc.ts, which also reads
 * them back), with an ErrorDetail (OCX code, cloud, region, OpenStack request id, and the per-cloud failures).
 * Messages are the OcxError's own (the SDK never puts tokens in them); no stack traces and no causes go to the client.
 */
import { Code, ConnectError } from '@connectrpc/connect';
import { type CallFailure, ErrorCode, GRPC_CODE_OF, isOcxError, type OcxError } from '@ocx/sdk';
import { type CloudFailure, ErrorDetailSchema } from '@ocx/sdk/gen/ocx/cloud/v1/common_pb';

export { GRPC_CODE_OF };

export function cloudFailure(f: CallFailure): CloudFailure {
  return {
    $typeName: 'ocx.cloud.v1.CloudFailure',
    cloud: f.cloud,
    region: f.region,
    code: f.error.code,
    message: f.error.message,
    requestId: f.error.requestId ?? '',
  };
}

/** An OcxError as a ConnectError; anything else becomes INTERNAL without its message (it may say anything). */
export function toConnectError(err: unknown, failures: readonly CallFailure[] = []): ConnectError {
  if (err instanceof ConnectError) return err;
  if (!isOcxError(err)) {
    return new ConnectError('internal error', Code.Internal, undefined, [
      { desc: ErrorDetailSchema, value: { code: 'INTERNAL', failures: failures.map(cloudFailure) } },
    ]);
  }
  const e = err as OcxError;
  let code: Code = GRPC_CODE_OF[e.code as ErrorCode] ?? Code.Internal;
  // A 409 that says the name is taken (Nova keypairs, Neutron, Glance) is ALREADY_EXISTS, not a state conflict.
  if (e.code === ErrorCode.CONFLICT && /already exists|already in use|duplicate/i.test(e.message)) {
    code = Code.AlreadyExists;
  }
  return new ConnectError(e.message, code, undefined, [
    {
      desc: ErrorDetailSchema,
      value: {
        code: e.code,
        cloud: e.cloud ?? '',
        region: e.region ?? '',
        requestId: e.requestId ?? '',
        failures: failures.map(cloudFailure),
      },
    },
  ]);
}

/** INVALID_ARGUMENT for a bad request field. */
export function invalidArgument(message: string): ConnectError {
  return new ConnectError(message, Code.InvalidArgument, undefined, [
    { desc: ErrorDetailSchema, value: { code: ErrorCode.BAD_REQUEST } },
  ]);
}
