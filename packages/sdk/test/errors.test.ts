import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MemoryTokenCache } from '../src/auth/index.ts';
import { ErrorCode, errorFromStatus, OcxError, safeUrl } from '../src/errors/index.ts';
import { createSession, type Session } from '../src/session/index.ts';
import { rejectsWith } from './assert-errors.ts';
import { type Cloud, startCloud } from './session-fixtures.ts';
import { closedPort, startServer } from './transport-helpers.ts';

let cloud: Cloud;
let s: Session;
before(async () => {
  cloud = await startCloud();
  s = createSession(cloud.config, {
    tokenCache: new MemoryTokenCache(),
    transportOptions: { retry: { baseDelayMs: 1, maxRetries: 1 } },
  });
});
after(async () => {
  await s.close();
  await cloud.close();
});

describe('errors: HTTP statuses from a service become typed errors with full context', () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['404', ErrorCode.NOT_FOUND, 404, /could not be found/],
    ['409', ErrorCode.CONFLICT, 409, /task_state deleting/],
    ['403', ErrorCode.FORBIDDEN, 403, /Policy doesn't allow/],
    ['403q', ErrorCode.OVER_QUOTA, 403, /Quota exceeded for cores/],
    ['413', ErrorCode.OVER_QUOTA, 413, /Maximum number of ports/],
    ['429', ErrorCode.OVER_QUOTA, 429, /Rate limit/],
    ['400', ErrorCode.BAD_REQUEST, 400, /Invalid input/],
    ['500', ErrorCode.SERVICE_ERROR, 500, /Unexpected API Error/],
    ['503', ErrorCode.SERVICE_ERROR, 503, /Service Unavailable/],
  ];
  for (const [fault, code, status, message] of cases) {
    it(`${fault} → ${code}`, async () => {
      const err = await rejectsWith(
        s.client('compute').get(`/faults/${fault}`, { query: { token: 'not-in-the-error' } }),
        code,
      );
      assert.equal(err.status, status);
      assert.match(err.message, message);
      assert.equal(err.serverMessage, err.message);
      assert.equal(err.cloud, 'fake');
      assert.equal(err.region, 'RegionOne');
      assert.equal(err.service, 'compute');
      assert.equal(err.method, 'GET');
      assert.equal(err.url, `${cloud.svc.url}/compute/v2.1/faults/${fault}?token=***`);
      assert.equal(err.requestId, 'req-fault-1');
      const json = JSON.stringify(err.toJSON());
      assert.ok(!json.includes(await s.getToken()));
      assert.ok(!json.includes('not-in-the-error'));
    });
  }

  it('a 503 on GET is retried (bounded) before SERVICE_ERROR; retryable is set', async () => {
    const before = cloud.svc.requests.filter((r) => r.url === '/compute/v2.1/faults/503').length;
    const err = await rejectsWith(s.client('compute').get('/faults/503'), ErrorCode.SERVICE_ERROR);
    assert.equal(cloud.svc.requests.filter((r) => r.url === '/compute/v2.1/faults/503').length - before, 2);
    assert.equal(err.retryable, true);
  });

  it('errorFromStatus maps Neutron and Keystone error bodies too', () => {
    const n = errorFromStatus(
      404,
      JSON.stringify({
        NeutronError: { type: 'NetworkNotFound', message: 'Network x could not be found.', detail: '' },
      }),
    );
    assert.equal(n.code, ErrorCode.NOT_FOUND);
    assert.equal(n.message, 'Network x could not be found.');
    const k = errorFromStatus(
      409,
      JSON.stringify({ error: { code: 409, title: 'Conflict', message: 'Duplicate entry' } }),
    );
    assert.equal(k.code, ErrorCode.CONFLICT);
    assert.equal(k.message, 'Duplicate entry');
    assert.equal(errorFromStatus(415, '').code, ErrorCode.BAD_REQUEST);
    assert.equal(errorFromStatus(401, '').code, ErrorCode.AUTH_EXPIRED);
  });
});

describe('errors: auth, reachability, time and config are tellable apart', () => {
  it('AUTH_FAILED: wrong password at login', async () => {
    const bad = createSession(
      { ...cloud.config, auth: { ...cloud.config.auth, password: 'bad-password-1' } },
      { tokenCache: new MemoryTokenCache() },
    );
    const err = await rejectsWith(bad.client('compute').get('/echo'), ErrorCode.AUTH_FAILED);
    assert.equal(err.service, 'identity');
    assert.ok(!JSON.stringify(err.toJSON()).includes('bad-password-1'));
    await bad.close();
  });

  it('AUTH_EXPIRED: still 401 after one re-authentication', async () => {
    await rejectsWith(s.client('compute').get('/always-401'), ErrorCode.AUTH_EXPIRED);
  });

  it('UNREACHABLE: the Keystone or the service endpoint refuses connections', async () => {
    const port = await closedPort();
    const down = createSession(
      { ...cloud.config, auth: { ...cloud.config.auth, auth_url: `http://127.0.0.1:${port}/v3` } },
      { tokenCache: new MemoryTokenCache(), transportOptions: { retry: false } },
    );
    const e1 = await rejectsWith(down.getToken(), ErrorCode.UNREACHABLE);
    assert.equal(e1.cloud, 'fake');
    await down.close();
    const e2 = await rejectsWith(
      s.client('network', { endpointOverride: `http://127.0.0.1:${port}/v2.0` }).get('/networks'),
      ErrorCode.UNREACHABLE,
    );
    assert.equal(e2.service, 'network');
    assert.equal(e2.url, `http://127.0.0.1:${port}/v2.0/networks`);
  });

  it('TIMEOUT: the service accepts but does not answer before the deadline', async () => {
    const hang = await startServer(() => {
      /* never answers */
    });
    try {
      const err = await rejectsWith(
        s.client('network', { endpointOverride: `${hang.url}/v2.0` }).get('/networks', { timeoutMs: 200 }),
        ErrorCode.TIMEOUT,
      );
      assert.equal(err.service, 'network');
      assert.equal(err.cloud, 'fake');
    } finally {
      await hang.close();
    }
  });

  it('CANCELLED: the caller aborts', async () => {
    const hang = await startServer(() => {
      /* never answers */
    });
    try {
      const ac = new AbortController();
      const p = s.client('network', { endpointOverride: `${hang.url}/v2.0` }).get('/networks', { signal: ac.signal });
      setTimeout(() => ac.abort(), 30);
      await rejectsWith(p, ErrorCode.CANCELLED);
    } finally {
      await hang.close();
    }
  });

  it('CONFIG_INVALID: a cloud without auth_url', () => {
    assert.throws(
      () => createSession({ ...cloud.config, auth: { username: 'u', password: 'p' } }),
      (e: unknown) => e instanceof OcxError && e.code === ErrorCode.CONFIG_INVALID && e.key === 'auth.auth_url',
    );
  });

  it('ENDPOINT_NOT_FOUND: a service the catalog lacks', async () => {
    const err = await rejectsWith(s.client('dns').get('/zones'), ErrorCode.ENDPOINT_NOT_FOUND);
    assert.equal(err.cloud, 'fake');
  });

  it('INVALID_RESPONSE: a redirect is reported, not followed', async () => {
    const redir = await startServer((_req, res) => {
      res.writeHead(302, { location: 'http://login.example/sso' });
      res.end();
    });
    try {
      const err = await rejectsWith(
        s.client('network', { endpointOverride: `${redir.url}/v2.0` }).get('/networks'),
        ErrorCode.INVALID_RESPONSE,
      );
      assert.equal(err.status, 302);
      assert.match(err.message, /login\.example/);
      assert.equal(redir.requests.length, 1);
    } finally {
      await redir.close();
    }
  });

  it('INVALID_RESPONSE: a body that is not JSON', async () => {
    const html = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>proxy error</html>');
    });
    try {
      const r = await s.client('network', { endpointOverride: `${html.url}/v2.0` }).get('/networks');
      await rejectsWith(r.json(), ErrorCode.INVALID_RESPONSE);
    } finally {
      await html.close();
    }
  });
});

describe('errors: safeUrl masks secrets on every call, remembered or not', () => {
  it('the same safe text each time; a query that may hold a secret is masked each time', () => {
    const cases: Array<[string, string]> = [
      [
        'http://127.0.0.1:5/volume/v3/p1/os-quota-sets/p1?usage=true',
        'http://127.0.0.1:5/volume/v3/p1/os-quota-sets/p1?usage=true',
      ],
      [
        'http://127.0.0.1:5/v1/AUTH_p/c/o?temp_url_sig=s3cr3t&temp_url_expires=1',
        'http://127.0.0.1:5/v1/AUTH_p/c/o?temp_url_sig=***&temp_url_expires=1',
      ],
      ['http://127.0.0.1:5/x?X-Auth-Token=s3cr3t', 'http://127.0.0.1:5/x?X-Auth-Token=***'],
      ['http://bob:s3cr3t@127.0.0.1:5/x?usage=true', 'http://127.0.0.1:5/x?usage=true'],
      ['HTTP://Example.COM:80/a', 'http://example.com/a'],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [url, safe] of cases) assert.equal(safeUrl(url), safe, `round ${round}: ${url}`);
    }
  });
});
