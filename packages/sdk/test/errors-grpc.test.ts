// The one OCX <-> gRPC table (errors/grpc.ts): a gateway's answer is read back by OcxError.from into the OcxError
// the gateway had (code, region, request id from its ErrorDetail), and a bare status maps to a code that the
// gateway would itself answer with that status.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Code, ConnectError } from '@connectrpc/connect';
import { ErrorCode, GRPC_CODE_OF, OCX_CODE_OF_GRPC, OcxError } from '../src/errors/index.ts';
import { ErrorDetailSchema } from '../src/gen/ocx/cloud/v1/common_pb.ts';

function answered(code: ErrorCode, message: string): ConnectError {
  return new ConnectError(message, GRPC_CODE_OF[code], undefined, [
    { desc: ErrorDetailSchema, value: { code, cloud: 'far', region: 'R2', requestId: 'req-abc' } },
  ]);
}

describe('gRPC errors from a gateway', () => {
  it('every OCX code survives the round trip through the gateway with its region and request id', () => {
    for (const code of Object.values(ErrorCode)) {
      const e = OcxError.from(answered(code, `it failed: ${code}`), { cloud: 'mine' });
      assert.equal(e.code, code);
      assert.equal(e.message, `it failed: ${code}`);
      assert.equal(e.cloud, 'mine', 'the cloud as the caller names it');
      assert.equal(e.region, 'R2');
      assert.equal(e.requestId, 'req-abc');
    }
  });

  it('a status without details maps to a code the gateway answers with that same status', () => {
    // INTERNAL is the exception: the gateway's unexpected failures (and INVALID_RESPONSE) — a server-side error.
    const sent = new Set(Object.values(GRPC_CODE_OF).filter((s) => s !== Code.Internal));
    assert.equal(OcxError.from(new ConnectError('internal error', Code.Internal)).code, ErrorCode.SERVICE_ERROR);
    for (const status of sent) {
      const e = OcxError.from(new ConnectError('bare', status));
      assert.equal(e.code, OCX_CODE_OF_GRPC[status]);
      assert.equal(GRPC_CODE_OF[e.code], status, `${Code[status]} -> ${e.code} -> back`);
    }
    assert.equal(OcxError.from(new ConnectError('taken', Code.AlreadyExists)).code, ErrorCode.CONFLICT);
    assert.equal(OcxError.from(new ConnectError('no method', Code.Unimplemented)).code, ErrorCode.UNSUPPORTED);
    assert.equal(OcxError.from(new ConnectError('refused', Code.Unavailable)).retryable, true);
  });

  it("the caller's own cancel wins over the status the aborted call ended with", () => {
    const ac = new AbortController();
    ac.abort();
    const e = OcxError.from(new ConnectError('aborted', Code.Canceled), { signal: ac.signal });
    assert.equal(e.code, ErrorCode.CANCELLED);
  });
});
