import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { MockAgent } from 'undici';
import { ErrorCode, OcxError } from '../src/errors/index.ts';
import type { RequestMetric } from '../src/transport/index.ts';
import { createLogger, createTransport, parseRetryAfter } from '../src/transport/index.ts';
import { rejectsWith } from './assert-errors.ts';
import { captureStream, closedPort, sendJson, startServer, type TestServer } from './transport-helpers.ts';

const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});
async function server(route: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const s = await startServer(route);
  servers.push(s);
  return s;
}

describe('transport: a plain call', () => {
  it('returns status, headers, json and the OpenStack request id', async () => {
    const s = await server((_req, res) =>
      sendJson(res, 200, { servers: [] }, { 'x-compute-request-id': 'req-abc', 'x-openstack-request-id': 'req-os' }),
    );
    const t = createTransport({ retry: false });
    const res = await t.request({ method: 'GET', url: `${s.url}/servers`, headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(res.requestId, 'req-os');
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { servers: [] });
    assert.equal(s.requests[0]?.headers['user-agent'], 'ocx-sdk/0.1.0');
    await t.close();
  });

  it('falls back to x-compute-request-id and x-trans-id', async () => {
    const s = await server((req, res) => {
      if (req.url === '/a') sendJson(res, 200, {}, { 'x-compute-request-id': 'req-compute' });
      else {
        res.writeHead(204, { 'x-trans-id': 'tx-swift' });
        res.end();
      }
    });
    const t = createTransport({ retry: false });
    assert.equal((await t.request({ method: 'GET', url: `${s.url}/a` })).requestId, 'req-compute');
    const r = await t.request({ method: 'HEAD', url: `${s.url}/b` });
    assert.equal(r.requestId, 'tx-swift');
    await r.dump();
    await t.close();
  });

  it('resolves non-2xx statuses (errors are the session layer’s business) and does not follow redirects', async () => {
    const s = await server((req, res) => {
      if (req.url === '/moved') {
        res.writeHead(303, { location: '/elsewhere', 'set-cookie': 'a=1; Path=/' });
        res.end();
      } else sendJson(res, 404, { itemNotFound: { message: 'nope', code: 404 } });
    });
    const t = createTransport({ retry: false });
    const r = await t.request({ method: 'POST', url: `${s.url}/moved`, body: 'x' });
    assert.equal(r.status, 303);
    assert.deepEqual(r.headers.getSetCookie(), ['a=1; Path=/']);
    await r.dump();
    assert.equal(s.requests.length, 1, 'the redirect was not followed');
    const nf = await t.request({ method: 'GET', url: `${s.url}/x` });
    assert.equal(nf.status, 404);
    await t.close();
  });

  it('uses an injected dispatcher (MockAgent)', async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    mock
      .get('https://nova.example')
      .intercept({ path: '/v2.1/flavors', method: 'GET' })
      .reply(200, { flavors: [{ id: '1' }] });
    const t = createTransport({ dispatcher: mock, retry: false });
    const r = await t.request({ method: 'GET', url: 'https://nova.example/v2.1/flavors' });
    assert.deepEqual(await r.json(), { flavors: [{ id: '1' }] });
    await mock.close();
  });

  it('json() of a non-JSON body is INVALID_RESPONSE; an empty body is undefined', async () => {
    const s = await server((req, res) => {
      if (req.url === '/html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>oops</html>');
      } else {
        res.writeHead(204);
        res.end();
      }
    });
    const t = createTransport({ retry: false });
    await rejectsWith((await t.request({ method: 'GET', url: `${s.url}/html` })).json(), ErrorCode.INVALID_RESPONSE);
    assert.equal(await (await t.request({ method: 'GET', url: `${s.url}/empty` })).json(), undefined);
    await t.close();
  });
});

describe('transport: unreachable vs timeout vs cancelled', () => {
  it('a closed port is UNREACHABLE (connection refused), not TIMEOUT', async () => {
    const port = await closedPort();
    const t = createTransport({ retry: false });
    const err = await rejectsWith(
      t.request({ method: 'GET', url: `http://127.0.0.1:${port}/v3` }),
      ErrorCode.UNREACHABLE,
    );
    assert.match(err.message, /refused/);
    assert.equal(err.method, 'GET');
    assert.equal(err.url, `http://127.0.0.1:${port}/v3`);
    await t.close();
  });

  it('an unknown host name is UNREACHABLE', async () => {
    const t = createTransport({ retry: false, timeoutMs: 5000 });
    await rejectsWith(t.request({ method: 'GET', url: 'http://no-such-host.invalid/' }), ErrorCode.UNREACHABLE);
    await t.close();
  });

  it('a server that accepts but never answers is TIMEOUT once the deadline passes', async () => {
    const s = await server(() => {
      /* hang */
    });
    const t = createTransport({ retry: false });
    const err = await rejectsWith(
      t.request({ method: 'GET', url: `${s.url}/slow`, timeoutMs: 150 }),
      ErrorCode.TIMEOUT,
    );
    assert.equal(err.retryable, true);
    await t.close();
  });

  it('a server that resets the connection is UNREACHABLE', async () => {
    const s = await server((_req, _res, raw) => {
      raw.socket.destroy();
    });
    const t = createTransport({ retry: false });
    await rejectsWith(t.request({ method: 'GET', url: `${s.url}/reset` }), ErrorCode.UNREACHABLE);
    await t.close();
  });

  it('the caller aborting is CANCELLED, even while the server hangs', async () => {
    const s = await server(() => {
      /* hang */
    });
    const t = createTransport({ retry: false });
    const ac = new AbortController();
    const p = t.request({ method: 'GET', url: `${s.url}/slow`, signal: ac.signal, timeoutMs: 30_000 });
    setTimeout(() => ac.abort(), 50);
    await rejectsWith(p, ErrorCode.CANCELLED);
    const pre = new AbortController();
    pre.abort();
    await rejectsWith(t.request({ method: 'GET', url: `${s.url}/x`, signal: pre.signal }), ErrorCode.CANCELLED);
    await t.close();
  });

  it('a body that stalls mid-way is TIMEOUT when read', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":');
    });
    const t = createTransport({ retry: false });
    const r = await t.request({ method: 'GET', url: `${s.url}/stall`, timeoutMs: 200 });
    await rejectsWith(r.json(), ErrorCode.TIMEOUT);
    await t.close();
  });
});

describe('transport: retry rules', () => {
  it('retries an idempotent GET on 503 honouring Retry-After, then succeeds', async () => {
    let n = 0;
    const s = await server((_req, res) => {
      n++;
      if (n === 1) sendJson(res, 503, { message: 'busy' }, { 'retry-after': '0' });
      else sendJson(res, 200, { ok: true });
    });
    const retries: Array<RequestMetric & { delayMs: number; reason: string }> = [];
    const t = createTransport({ retry: { baseDelayMs: 1 }, metrics: { onRetry: (m) => retries.push(m) } });
    const r = await t.request({ method: 'GET', url: `${s.url}/x` });
    assert.equal(r.status, 200);
    assert.equal(s.requests.length, 2);
    assert.equal(retries.length, 1);
    assert.equal(retries[0]?.reason, 'HTTP 503');
    assert.equal(retries[0]?.delayMs, 0);
    await t.close();
  });

  it('never retries a POST (not idempotent), on 503 or on a reset connection', async () => {
    const s = await server((req, res, raw) => {
      if (req.url === '/reset') raw.socket.destroy();
      else sendJson(res, 503, {}, { 'retry-after': '0' });
    });
    const t = createTransport({ retry: { baseDelayMs: 1 } });
    const r = await t.request({ method: 'POST', url: `${s.url}/servers`, body: '{}' });
    assert.equal(r.status, 503);
    assert.equal(s.requests.length, 1);
    await rejectsWith(t.request({ method: 'POST', url: `${s.url}/reset`, body: '{}' }), ErrorCode.UNREACHABLE);
    assert.equal(s.requests.length, 2);
    await t.close();
  });

  it('is bounded: maxRetries extra attempts, then the last 503 is returned', async () => {
    const s = await server((_req, res) => sendJson(res, 503, {}, { 'retry-after': '0' }));
    const t = createTransport({ retry: { maxRetries: 3, baseDelayMs: 1 } });
    const r = await t.request({ method: 'GET', url: `${s.url}/x` });
    assert.equal(r.status, 503);
    assert.equal(s.requests.length, 4);
    await t.close();
  });

  it('does not wait for a Retry-After that ends past the deadline', async () => {
    const s = await server((_req, res) => sendJson(res, 503, {}, { 'retry-after': '120' }));
    const t = createTransport({ retry: { maxRetries: 5 } });
    const r = await t.request({ method: 'GET', url: `${s.url}/x`, timeoutMs: 2000 });
    assert.equal(r.status, 503);
    assert.equal(s.requests.length, 1);
    await t.close();
  });

  it('does not retry other 5xx or 4xx statuses', async () => {
    const s = await server((_req, res) => sendJson(res, 500, {}));
    const t = createTransport({ retry: { baseDelayMs: 1 } });
    assert.equal((await t.request({ method: 'GET', url: `${s.url}/x` })).status, 500);
    assert.equal(s.requests.length, 1);
    await t.close();
  });

  it('retries a GET after a connection reset (idempotent) and a refused connection up to the bound', async () => {
    let n = 0;
    const s = await server((_req, res, raw) => {
      n++;
      if (n === 1) raw.socket.destroy();
      else sendJson(res, 200, { ok: 1 });
    });
    const t = createTransport({ retry: { baseDelayMs: 1 } });
    assert.equal((await t.request({ method: 'GET', url: `${s.url}/x` })).status, 200);
    assert.equal(s.requests.length, 2);
    const attempts: RequestMetric[] = [];
    const t2 = createTransport({
      retry: { maxRetries: 2, baseDelayMs: 1 },
      metrics: { onAttempt: (m) => attempts.push(m) },
    });
    const port = await closedPort();
    await rejectsWith(t2.request({ method: 'GET', url: `http://127.0.0.1:${port}/` }), ErrorCode.UNREACHABLE);
    assert.deepEqual(
      attempts.map((a) => [a.attempt, a.errorCode]),
      [
        [1, 'UNREACHABLE'],
        [2, 'UNREACHABLE'],
        [3, 'UNREACHABLE'],
      ],
    );
    await t.close();
    await t2.close();
  });

  it('does not retry a streamed request body', async () => {
    const s = await server((_req, res) => sendJson(res, 503, {}, { 'retry-after': '0' }));
    const t = createTransport({ retry: { baseDelayMs: 1 } });
    async function* chunks() {
      yield new TextEncoder().encode('abc');
    }
    const r = await t.request({ method: 'PUT', url: `${s.url}/file`, body: chunks() });
    assert.equal(r.status, 503);
    assert.equal(s.requests.length, 1);
    assert.equal(s.requests[0]?.body, 'abc');
    await t.close();
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(null), undefined);
  });
});

describe('transport: rate limit and concurrency cap', () => {
  it('caps concurrent calls per service', async () => {
    let inFlight = 0;
    let maxSeen = 0;
    const s = await server((_req, res) => {
      inFlight++;
      maxSeen = Math.max(maxSeen, inFlight);
      setTimeout(() => {
        inFlight--;
        sendJson(res, 200, {});
      }, 30);
    });
    const run = async (concurrency: number | undefined, service: string) => {
      maxSeen = 0;
      const t = createTransport({ rateLimits: concurrency ? { compute: { concurrency } } : {} });
      await Promise.all(
        [1, 2, 3, 4].map(async () =>
          (await t.request({ method: 'GET', url: `${s.url}/`, context: { service } })).dump(),
        ),
      );
      await t.close();
      return maxSeen;
    };
    assert.equal(await run(1, 'compute'), 1);
    assert.equal(await run(2, 'compute'), 2);
    assert.equal(await run(1, 'image'), 4, 'other services are not limited by compute’s cap');
  });

  it('a call that would wait for the token bucket past its deadline fails with TIMEOUT without being sent', async () => {
    const s = await server((_req, res) => sendJson(res, 200, {}));
    const t = createTransport({ rateLimits: { compute: { callsPerSecond: 0.1, burst: 1 } } });
    await (await t.request({ method: 'GET', url: `${s.url}/1`, context: { service: 'compute' } })).dump();
    await rejectsWith(
      t.request({ method: 'GET', url: `${s.url}/2`, timeoutMs: 500, context: { service: 'compute' } }),
      ErrorCode.TIMEOUT,
    );
    assert.equal(s.requests.length, 1);
    await t.close();
  });
});

describe('transport: metrics hooks', () => {
  it('reports one onRequest per call and one onAttempt per attempt, with origin but no path', async () => {
    let n = 0;
    const s = await server((_req, res) => {
      n++;
      sendJson(res, n === 1 ? 503 : 200, {}, { 'retry-after': '0' });
    });
    const calls: RequestMetric[] = [];
    const attempts: RequestMetric[] = [];
    const t = createTransport({
      retry: { baseDelayMs: 1 },
      metrics: { onRequest: (m) => calls.push(m), onAttempt: (m) => attempts.push(m) },
    });
    await (
      await t.request({ method: 'GET', url: `${s.url}/servers/123`, context: { cloud: 'c1', service: 'compute' } })
    ).dump();
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.status, 200);
    assert.equal(calls[0]?.service, 'compute');
    assert.equal(calls[0]?.origin, s.url);
    assert.deepEqual(
      attempts.map((a) => a.status),
      [503, 200],
    );
    await t.close();
  });

  it('a throwing hook does not break the call', async () => {
    const s = await server((_req, res) => sendJson(res, 200, {}));
    const t = createTransport({
      metrics: {
        onRequest: () => {
          throw new Error('boom');
        },
      },
    });
    assert.equal((await t.request({ method: 'GET', url: s.url })).status, 200);
    await t.close();
  });
});

describe('transport: logging', () => {
  it('logs method, URL, status and request id at debug, and never the token header', async () => {
    const s = await server((_req, res) => sendJson(res, 200, {}, { 'x-openstack-request-id': 'req-1' }));
    const out = captureStream();
    const t = createTransport({ logger: createLogger({ level: 'debug', destination: out }) });
    await (
      await t.request({ method: 'GET', url: `${s.url}/v2/images`, headers: { 'X-Auth-Token': 'gAAAAAsecret-token-1' } })
    ).dump();
    const lines = out.lines();
    const resLine = lines.find((l) => l.msg === 'http response');
    assert.equal(resLine?.status, 200);
    assert.equal(resLine?.requestId, 'req-1');
    assert.equal(resLine?.url, `${s.url}/v2/images`);
    assert.ok(!out.text().includes('secret-token-1'));
    await t.close();
  });
});
