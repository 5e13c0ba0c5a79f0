/**
 * OcxError.from, the one conversion: a table over every error code undici's lib/core/errors.js defines, the Node
 * socket codes the transport meets, every kind of abort reason, HTTP answers with each service's fault body, and
 * OcxErrors passing through. The expected codes are written here, not read from the implementation.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { errors as undiciErrors } from 'undici';
import { ErrorCode, NODE_ERROR_CODES, OcxError } from '../src/errors/index.ts';
import { callScope, deadlineExceeded } from '../src/transport/index.ts';
import { encodeFault } from '../src/wire/index.ts';

const where = { cloud: 'sp1', service: 'compute', method: 'GET', url: 'http://127.0.0.1:1/compute/v2.1/servers' };

/** What a user should see for each undici code (a connect timeout is "down", see node-codes.ts). */
const UNDICI_EXPECTED: Record<string, ErrorCode> = {
  UND_ERR: ErrorCode.UNREACHABLE,
  UND_ERR_CONNECT_TIMEOUT: ErrorCode.UNREACHABLE,
  UND_ERR_HEADERS_TIMEOUT: ErrorCode.TIMEOUT,
  UND_ERR_HEADERS_OVERFLOW: ErrorCode.INVALID_RESPONSE,
  UND_ERR_BODY_TIMEOUT: ErrorCode.TIMEOUT,
  UND_ERR_INVALID_ARG: ErrorCode.BAD_REQUEST,
  UND_ERR_INVALID_RETURN_VALUE: ErrorCode.BAD_REQUEST,
  UND_ERR_ABORT: ErrorCode.UNREACHABLE,
  UND_ERR_ABORTED: ErrorCode.UNREACHABLE,
  UND_ERR_INFO: ErrorCode.INVALID_RESPONSE,
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: ErrorCode.BAD_REQUEST,
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: ErrorCode.UNREACHABLE,
  UND_ERR_DESTROYED: ErrorCode.UNREACHABLE,
  UND_ERR_CLOSED: ErrorCode.UNREACHABLE,
  UND_ERR_SOCKET: ErrorCode.UNREACHABLE,
  UND_ERR_NOT_SUPPORTED: ErrorCode.BAD_REQUEST,
  UND_ERR_BPL_MISSING_UPSTREAM: ErrorCode.BAD_REQUEST,
  ERR_WEBASSEMBLY_NOT_SUPPORTED: ErrorCode.BAD_REQUEST,
  UND_ERR_RES_EXCEEDED_MAX_SIZE: ErrorCode.INVALID_RESPONSE,
  UND_ERR_REQ_RETRY: ErrorCode.SERVICE_ERROR,
  UND_ERR_RESPONSE: ErrorCode.SERVICE_ERROR,
  UND_ERR_PRX_TLS: ErrorCode.UNREACHABLE,
  UND_ERR_PRX_CONN: ErrorCode.UNREACHABLE,
  UND_ERR_REDIRECT_MAX: ErrorCode.INVALID_RESPONSE,
  UND_ERR_MAX_ORIGINS_REACHED: ErrorCode.BAD_REQUEST,
  UND_ERR_SOCKS5: ErrorCode.UNREACHABLE,
  UND_ERR_WS_MESSAGE_SIZE_EXCEEDED: ErrorCode.INVALID_RESPONSE,
  HPE_INVALID_CHUNK_SIZE: ErrorCode.INVALID_RESPONSE,
};

const NODE_EXPECTED: Record<string, ErrorCode> = {
  ECONNREFUSED: ErrorCode.UNREACHABLE,
  ECONNRESET: ErrorCode.UNREACHABLE,
  ENOTFOUND: ErrorCode.UNREACHABLE,
  EAI_AGAIN: ErrorCode.UNREACHABLE,
  EHOSTUNREACH: ErrorCode.UNREACHABLE,
  ENETUNREACH: ErrorCode.UNREACHABLE,
  EPIPE: ErrorCode.UNREACHABLE,
  ETIMEDOUT: ErrorCode.UNREACHABLE,
  EPROTO: ErrorCode.UNREACHABLE,
  DEPTH_ZERO_SELF_SIGNED_CERT: ErrorCode.UNREACHABLE,
  ERR_TLS_CERT_ALTNAME_INVALID: ErrorCode.UNREACHABLE,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: ErrorCode.UNREACHABLE,
  ERR_INVALID_URL: ErrorCode.BAD_REQUEST,
};

function withCode(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code });
}

describe('OcxError.from: Node and undici error codes', () => {
  it("covers every code in undici's lib/core/errors.js", () => {
    const file = createRequire(import.meta.url).resolve('undici/lib/core/errors.js');
    const source = readFileSync(file, 'utf8');
    const codes = [...source.matchAll(/this\.code = (?:code \|\| )?'([A-Z0-9_]+)'/g)].map((m) => m[1]!);
    assert.ok(codes.length >= 25, `found ${codes.length} codes in ${file}`);
    for (const code of codes) {
      assert.ok(code in UNDICI_EXPECTED, `undici code ${code} has no expected meaning in this test`);
      assert.ok(code in NODE_ERROR_CODES, `undici code ${code} is missing from NODE_ERROR_CODES`);
    }
  });

  for (const [code, expected] of Object.entries({ ...UNDICI_EXPECTED, ...NODE_EXPECTED })) {
    it(`${code} → ${expected}`, () => {
      const err = OcxError.from(withCode(code), where);
      assert.equal(err.code, expected);
      assert.equal(err.cloud, 'sp1');
      assert.equal(err.service, 'compute');
      assert.match(err.message, new RegExp(`\\(${code}\\)`));
      assert.equal(err.step, undefined, 'only a deadline or a cancel names a step');
    });
  }

  it('real undici error instances keep their meaning (code read from the instance, not the class name)', () => {
    const cases: Array<[Error, ErrorCode]> = [
      [new undiciErrors.ConnectTimeoutError(), ErrorCode.UNREACHABLE],
      [new undiciErrors.HeadersTimeoutError(), ErrorCode.TIMEOUT],
      [new undiciErrors.BodyTimeoutError(), ErrorCode.TIMEOUT],
      [new undiciErrors.SocketError('other side closed'), ErrorCode.UNREACHABLE],
      [new undiciErrors.ClientDestroyedError(), ErrorCode.UNREACHABLE],
      [new undiciErrors.InvalidArgumentError('invalid method'), ErrorCode.BAD_REQUEST],
      [new undiciErrors.RequestAbortedError(), ErrorCode.UNREACHABLE],
    ];
    for (const [e, code] of cases) assert.equal(OcxError.from(e, where).code, code, (e as { code?: string }).code);
  });

  it('a socket error wrapped by undici is read by its inner errno', () => {
    const inner = withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1');
    const outer = Object.assign(new Error('fetch failed', { cause: inner }), { code: 'UND_ERR_SOCKET' });
    const err = OcxError.from(outer, where);
    assert.equal(err.code, ErrorCode.UNREACHABLE);
    assert.match(err.message, /connection refused \(ECONNREFUSED\)/);
    assert.equal(err.retryable, true);
  });

  it('TLS failures are UNREACHABLE and not retryable', () => {
    const err = OcxError.from(withCode('SELF_SIGNED_CERT_IN_CHAIN'), where);
    assert.equal(err.code, ErrorCode.UNREACHABLE);
    assert.equal(err.retryable, false);
  });

  it('RetryHandler giving up with a status is decoded as that HTTP answer', () => {
    const e = Object.assign(new Error('Request failed'), {
      code: 'UND_ERR_REQ_RETRY',
      statusCode: 503,
      data: { body: JSON.stringify({ computeFault: { code: 503, message: 'nova-api is restarting' } }) },
    });
    const err = OcxError.from(e, where);
    assert.equal(err.code, ErrorCode.SERVICE_ERROR);
    assert.equal(err.status, 503);
    assert.equal(err.message, 'nova-api is restarting');
  });

  it('anything else is SERVICE_ERROR "unexpected error" with the original as cause', () => {
    const boom = new TypeError('x is not a function');
    const err = OcxError.from(boom, where);
    assert.equal(err.code, ErrorCode.SERVICE_ERROR);
    assert.match(err.message, /unexpected error: x is not a function/);
    assert.equal(err.cause, boom);
    assert.equal(OcxError.from('a string', {}).code, ErrorCode.SERVICE_ERROR);
    // A coded error of an HTTP stack the table does not know: the call did not get through, no blind retry.
    const other = OcxError.from(withCode('UPSTREAM_CLOSED', 'upstream closed the connection'), where);
    assert.equal(other.code, ErrorCode.UNREACHABLE);
    assert.equal(other.retryable, false);
  });
});

describe('OcxError.from: abort reasons and deadlines', () => {
  const aborted = (reason?: unknown) => {
    const c = new AbortController();
    c.abort(reason);
    return c.signal;
  };

  const table: Array<[string, AbortSignal, ErrorCode]> = [
    ['abort() with no reason (DOMException AbortError)', aborted(), ErrorCode.CANCELLED],
    [
      'AbortSignal.timeout (DOMException TimeoutError)',
      aborted(new DOMException('t', 'TimeoutError')),
      ErrorCode.TIMEOUT,
    ],
    [
      'a deadline reason (deadlineExceeded: OcxError TIMEOUT)',
      aborted(deadlineExceeded(2000, { cloud: 'sp1' })),
      ErrorCode.TIMEOUT,
    ],
    ['a caller CANCELLED OcxError', aborted(new OcxError(ErrorCode.CANCELLED, 'user pressed ^C')), ErrorCode.CANCELLED],
    ['an Error reason', aborted(new Error('shutting down')), ErrorCode.CANCELLED],
    ['a string reason', aborted('bye'), ErrorCode.CANCELLED],
  ];
  for (const [what, signal, code] of table) {
    it(`${what} → ${code}`, () => {
      // What undici throws when its signal aborts: the reason itself, or an AbortError.
      for (const thrown of [signal.reason, new DOMException('This operation was aborted', 'AbortError')]) {
        const err = OcxError.from(thrown, { ...where, signal, step: 'request' });
        assert.equal(err.code, code);
        assert.equal(err.cloud, 'sp1');
        assert.equal(err.step, 'request');
      }
    });
  }

  it('a deadline reason names the step it struck in, in the field and the message', () => {
    const signal = aborted(deadlineExceeded(2000, { cloud: 'sp1' }));
    const err = OcxError.from(signal.reason, { ...where, signal, step: 'auth.password' });
    assert.equal(err.code, ErrorCode.TIMEOUT);
    assert.equal(err.step, 'auth.password');
    assert.equal(err.retryable, true);
    assert.equal(err.message, 'no answer within the 2000 ms deadline during auth.password');
  });

  it('a passed deadline is TIMEOUT whatever the socket said, and an AbortError without a caller is a lost connection', () => {
    const late = OcxError.from(withCode('ECONNRESET'), { ...where, deadline: Date.now() - 10, timeoutMs: 500 });
    assert.equal(late.code, ErrorCode.TIMEOUT);
    assert.match(late.message, /500 ms/);
    const stray = OcxError.from(new DOMException('aborted', 'AbortError'), where);
    assert.equal(stray.code, ErrorCode.UNREACHABLE);
  });

  it('a callScope signal aborts with the caller reason first, else the deadline reason', async () => {
    const caller = new AbortController();
    const scope = callScope({ signal: caller.signal, deadline: Date.now() + 50, timeoutMs: 50 });
    caller.abort();
    assert.equal(OcxError.from(undefined, { signal: scope.signal }).code, ErrorCode.CANCELLED);
    const timed = callScope({ deadline: Date.now() + 20, timeoutMs: 20 });
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(timed.signal.aborted, true);
    assert.equal(OcxError.from(undefined, { signal: timed.signal }).code, ErrorCode.TIMEOUT);
  });
});

describe('OcxError.from: HTTP answers and OcxErrors', () => {
  const faults: Array<[string, number, ErrorCode]> = [
    ['compute', 404, ErrorCode.NOT_FOUND],
    ['block-storage', 409, ErrorCode.CONFLICT],
    ['network', 404, ErrorCode.NOT_FOUND],
    ['image', 403, ErrorCode.FORBIDDEN],
    ['object-store', 503, ErrorCode.SERVICE_ERROR],
    ['identity', 401, ErrorCode.AUTH_EXPIRED],
  ];
  for (const [service, status, code] of faults) {
    it(`${service} ${status} in its own fault body → ${code} with the server's message`, () => {
      const wire = encodeFault(service, status, `the ${service} says no`);
      const err = OcxError.from({ status, body: wire.body, requestId: 'req-1' }, { ...where, service });
      assert.equal(err.code, code);
      assert.equal(err.status, status);
      assert.equal(err.requestId, 'req-1');
      assert.equal(err.service, service);
      assert.match(err.message, new RegExp(`the ${service} says no`));
    });
  }

  it('an OcxError keeps its code and fields and gains only the context it lacked', () => {
    const inner = new OcxError(ErrorCode.NOT_FOUND, 'gone', { service: 'image', status: 404 });
    const err = OcxError.from(inner, { cloud: 'sp2', service: 'compute' });
    assert.equal(err.code, ErrorCode.NOT_FOUND);
    assert.equal(err.service, 'image');
    assert.equal(err.cloud, 'sp2');
    assert.equal(OcxError.from(err, {}), err);
  });

  it('context is one object: fields read directly, context() and toJSON list only what is set', () => {
    const err = new OcxError(ErrorCode.TIMEOUT, 'slow', { cloud: 'sp1', step: 'request', retryable: true });
    assert.equal(err.cloud, 'sp1');
    assert.equal(err.step, 'request');
    assert.deepEqual(err.context(), { cloud: 'sp1', step: 'request', retryable: true });
    assert.deepEqual(err.toJSON(), {
      name: 'OcxError',
      code: 'TIMEOUT',
      message: 'slow',
      cloud: 'sp1',
      step: 'request',
      retryable: true,
    });
    assert.equal(err.withContext({ region: 'R1' }).region, 'R1');
    assert.ok(err instanceof Error);
  });
});
