import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { MemoryTokenCache } from '../src/auth/index.ts';
import { ErrorCode, OcxError } from '../src/errors/index.ts';
import { createSession, type Session } from '../src/session/index.ts';
import { rejectsWith } from './assert-errors.ts';
import { FakeKeystone } from './auth-fixtures.ts';
import { type Cloud, startCloud } from './session-fixtures.ts';
import { startServer } from './transport-helpers.ts';

let cloud: Cloud;
before(async () => {
  cloud = await startCloud();
});
after(async () => {
  await cloud.close();
});

const tokenPosts = (ks: FakeKeystone) =>
  ks.requests.filter((r) => r.method === 'POST' && r.url.endsWith('/auth/tokens')).length;

function session(extra: Parameters<typeof createSession>[1] = {}): Session {
  return createSession(cloud.config, { tokenCache: new MemoryTokenCache(), ...extra });
}

type Echo = { headers: Record<string, string>; method: string; query: string; body: string };

describe('session: requests', () => {
  it('sends the token, query, JSON body and caller headers; returns status, request id and json', async () => {
    const s = session();
    const nova = s.client('compute');
    const res = await nova.post('/echo', {
      query: { all_tenants: true, status: ['ACTIVE', 'ERROR'], skip: undefined },
      json: { server: { name: 'x' } },
      headers: { 'X-Custom': 'yes', Accept: 'application/json;q=1' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.requestId, 'req-echo');
    const echo = await res.json<Echo>();
    assert.equal(echo.method, 'POST');
    assert.equal(echo.query, '?all_tenants=true&status=ACTIVE&status=ERROR');
    assert.deepEqual(JSON.parse(echo.body), { server: { name: 'x' } });
    assert.equal(echo.headers['content-type'], 'application/json');
    assert.equal(echo.headers['x-custom'], 'yes');
    assert.equal(echo.headers.accept, 'application/json;q=1');
    assert.equal(echo.headers['x-auth-token'], await s.getToken());
    assert.equal(echo.headers['openstack-api-version'], undefined, 'no microversion unless asked');
    await s.close();
  });

  it('streams a request body', async () => {
    const s = session();
    const body = Readable.from([Buffer.alloc(1000, 1), Buffer.alloc(500, 2)]);
    const res = await s
      .client('image')
      .put('/images/upload', { body, headers: { 'content-type': 'application/octet-stream' } });
    assert.deepEqual(await res.json(), { received: 1500 });
    await s.close();
  });

  it('an unexpected 2xx with `expect` is INVALID_RESPONSE; an expected non-2xx resolves', async () => {
    const s = session();
    await rejectsWith(s.client('compute').get('/echo', { expect: 202 }), ErrorCode.INVALID_RESPONSE);
    const r = await s.client('compute').get('/faults/404', { expect: [200, 404] });
    assert.equal(r.status, 404);
    await s.close();
  });

  it('clients are cached per service type and options; aliases share the canonical client', () => {
    const s = session();
    assert.equal(s.client('volumev3'), s.client('block-storage'));
    assert.notEqual(s.client('compute'), s.client('compute', { interface: 'internal' }));
    assert.equal(s.client('volume').serviceType, 'block-storage');
  });
});

describe('session: microversions', () => {
  it('compute: OpenStack-API-Version and the legacy Nova header; latest = the server max', async () => {
    const s = session();
    const nova = s.client('compute');
    let echo = await (await nova.get('/echo', { microversion: '2.79' })).json<Echo>();
    assert.equal(echo.headers['openstack-api-version'], 'compute 2.79');
    assert.equal(echo.headers['x-openstack-nova-api-version'], '2.79');
    echo = await (await nova.get('/echo', { microversion: 'latest' })).json<Echo>();
    assert.equal(echo.headers['openstack-api-version'], 'compute 2.90');
    assert.equal(await nova.negotiateMicroversion('latest'), '2.90');
    const pinned = s.client('compute', { microversion: '2.60' });
    echo = await (await pinned.get('/echo')).json<Echo>();
    assert.equal(echo.headers['openstack-api-version'], 'compute 2.60');
    await s.close();
  });

  it('a microversion outside the server range is BAD_REQUEST before anything is sent', async () => {
    const s = session();
    const before = cloud.svc.requests.filter((r) => r.url === '/compute/v2.1/echo').length;
    const err = await rejectsWith(s.client('compute').get('/echo', { microversion: '2.200' }), ErrorCode.BAD_REQUEST);
    assert.match(err.message, /2\.1 – 2\.90/);
    assert.equal(err.service, 'compute');
    assert.equal(cloud.svc.requests.filter((r) => r.url === '/compute/v2.1/echo').length, before);
    await rejectsWith(s.client('image').get('/images', { microversion: '2.1' }), ErrorCode.BAD_REQUEST);
    await s.close();
  });

  it('block-storage uses the "volume" header name', async () => {
    const s = session();
    const r = await (await s.client('block-storage').get('/volumes/detail', { microversion: '3.59' })).json<{
      path: string;
      headers: Record<string, string>;
    }>();
    assert.equal(r.path, '/volume/v3/p-demo/volumes/detail');
    assert.equal(r.headers['openstack-api-version'], 'volume 3.59');
    assert.equal(r.headers['x-openstack-nova-api-version'], undefined);
    await s.close();
  });
});

describe('session: tokens', () => {
  it('a 401 triggers exactly one re-authentication and the call succeeds with the new token', async () => {
    const s = session();
    const nova = s.client('compute');
    await nova.get('/echo');
    const t1 = await s.getToken();
    cloud.ks.revokeAll();
    const posts = tokenPosts(cloud.ks);
    const echo = await (await nova.get('/echo')).json<Echo>();
    assert.equal(tokenPosts(cloud.ks), posts + 1);
    assert.notEqual(echo.headers['x-auth-token'], t1);
    assert.equal(echo.headers['x-auth-token'], await s.getToken());
    await s.close();
  });

  it('a 401 that persists after the re-authentication is AUTH_EXPIRED (one re-auth, not a loop)', async () => {
    const s = session();
    const nova = s.client('compute');
    await nova.get('/echo');
    const posts = tokenPosts(cloud.ks);
    const calls = () => cloud.svc.requests.filter((r) => r.url === '/compute/v2.1/always-401').length;
    const before = calls();
    const err = await rejectsWith(nova.get('/always-401'), ErrorCode.AUTH_EXPIRED);
    assert.equal(tokenPosts(cloud.ks), posts + 1);
    assert.equal(calls() - before, 2);
    assert.equal(err.status, 401);
    assert.equal(err.cloud, 'fake');
    assert.equal(err.service, 'compute');
    await s.close();
  });

  it('a token-only session (auth_type token) whose token is revoked is AUTH_EXPIRED', async () => {
    const s0 = session();
    const base = await s0.getAccess();
    const tokenOnly = createSession(
      {
        ...cloud.config,
        authType: 'v3token',
        auth: { auth_url: cloud.ks.url, token: base.token, project_id: 'p-demo' },
      },
      { tokenCache: new MemoryTokenCache() },
    );
    await (await tokenOnly.client('compute').get('/echo')).dump();
    cloud.ks.revokeAll();
    const err = await rejectsWith(tokenOnly.client('compute').get('/echo'), ErrorCode.AUTH_EXPIRED);
    assert.equal(err.service, 'compute');
    assert.equal(err.status, 401);
    await tokenOnly.close();
    await s0.close();
  });

  it('concurrent 401s share one re-authentication', async () => {
    const s = session();
    const nova = s.client('compute');
    await nova.get('/echo');
    cloud.ks.revokeAll();
    const posts = tokenPosts(cloud.ks);
    await Promise.all([1, 2, 3, 4].map(() => nova.get('/echo').then((r) => r.dump())));
    assert.equal(tokenPosts(cloud.ks), posts + 1);
    await s.close();
  });

  it('wrong credentials at login are AUTH_FAILED (not AUTH_EXPIRED) and carry the cloud name', async () => {
    const s = createSession(
      { ...cloud.config, auth: { ...cloud.config.auth, password: 'wrong-pass' } },
      { tokenCache: new MemoryTokenCache() },
    );
    const err = await rejectsWith(s.client('compute').get('/echo'), ErrorCode.AUTH_FAILED);
    assert.equal(err.cloud, 'fake');
    await s.close();
  });

  it('a token is refreshed before it expires (refresh margin), and reused while it is fresh', async () => {
    // tokens issued an hour ago that expire in 60 s: inside a 120 s margin
    const old = await FakeKeystone.start({ tokenTtlMs: 60_000, tokenIssuedAgoMs: 3_600_000 });
    try {
      const config = { ...cloud.config, auth: { ...cloud.config.auth, auth_url: old.url } };
      const eager = createSession(config, { tokenCache: new MemoryTokenCache(), refreshMarginMs: 120_000 });
      const a = await eager.getToken();
      const b = await eager.getToken();
      assert.notEqual(a, b, 'a token expiring within the margin is replaced');
      const lazy = createSession(config, { tokenCache: new MemoryTokenCache(), refreshMarginMs: 10_000 });
      assert.equal(await lazy.getToken(), await lazy.getToken());
      await eager.close();
      await lazy.close();
    } finally {
      await old.close();
    }
  });

  it('the margin is capped at half the token lifetime (short-lived tokens are not refreshed on every call)', async () => {
    const short = await FakeKeystone.start({ tokenTtlMs: 60_000 });
    try {
      const config = { ...cloud.config, auth: { ...cloud.config.auth, auth_url: short.url } };
      const s = createSession(config, { tokenCache: new MemoryTokenCache(), refreshMarginMs: 120_000 });
      assert.equal(await s.getToken(), await s.getToken());
      await s.close();
    } finally {
      await short.close();
    }
  });

  it('sessions with the same auth parameters share the process-wide token cache', async () => {
    const cache = new MemoryTokenCache();
    const s1 = createSession(cloud.config, { tokenCache: cache });
    const s2 = createSession(cloud.config, { tokenCache: cache });
    assert.equal(await s1.getToken(), await s2.getToken());
    s1.invalidate();
    assert.notEqual(await s2.getToken(), undefined);
    assert.equal(await s1.projectId(), 'p-demo');
  });

  it('api_timeout from the cloud config bounds calls (TIMEOUT)', async () => {
    const hang = await startServer(() => {
      /* never answers */
    });
    try {
      const s = createSession(
        { ...cloud.config, apiTimeout: 0.3, services: { compute: { endpointOverride: `${hang.url}/v2.1` } } },
        { tokenCache: new MemoryTokenCache() },
      );
      await s.getToken();
      const err = await rejectsWith(
        s
          .client('image')
          .get('/images')
          .then(() => s.client('compute').get('/servers')),
        ErrorCode.TIMEOUT,
      );
      assert.equal(err.cloud, 'fake');
      assert.equal(err.service, 'compute');
      await s.close();
    } finally {
      await hang.close();
    }
  });
});

describe('session: pagination', () => {
  it('follows Nova servers_links', async () => {
    const s = session();
    const ids: string[] = [];
    for await (const sv of s
      .client('compute')
      .paginate<{ id: string }>('/servers/detail', { itemsKey: 'servers', limit: 2 }))
      ids.push(sv.id);
    assert.deepEqual(ids, ['s1', 's2', 's3', 's4', 's5']);
    await s.close();
  });

  it('follows Glance `next` relative to the devstack /image prefix', async () => {
    const s = session();
    const ids: string[] = [];
    for await (const im of s.client('image').paginate<{ id: string }>('/images', { itemsKey: 'images', limit: 2 }))
      ids.push(im.id);
    assert.deepEqual(ids, ['i1', 'i2', 'i3']);
    const urls = cloud.svc.requests.filter((r) => r.url.startsWith('/image/v2/images')).map((r) => r.url);
    assert.ok(urls.includes('/image/v2/images?marker=i2&limit=2'));
    await s.close();
  });

  it('follows Neutron networks_links rel=next and ignores rel=previous', async () => {
    const s = session();
    const ids: string[] = [];
    for await (const n of s.client('network').paginate<{ id: string }>('/networks', { itemsKey: 'networks' }))
      ids.push(n.id);
    assert.deepEqual(ids, ['n1', 'n2', 'n3']);
    await s.close();
  });

  it('Swift marker style: marker = last name until a short page', async () => {
    const s = session();
    const names: string[] = [];
    for await (const c of s
      .client('object-store')
      .paginate<{ name: string }>('', { itemsKey: 'containers', limit: 2, query: { format: 'json' } }))
      names.push(c.name);
    assert.deepEqual(names, ['a', 'b', 'c', 'd', 'e']);
    const qs = cloud.svc.requests.filter((r) => r.url.startsWith('/swift/')).map((r) => r.url);
    assert.deepEqual(qs.slice(-3), [
      '/swift/v1/AUTH_p-demo?format=json&limit=2',
      '/swift/v1/AUTH_p-demo?format=json&limit=2&marker=b',
      '/swift/v1/AUTH_p-demo?format=json&limit=2&marker=d',
    ]);
    await s.close();
  });
});
