/**
 * The native lane (src/native/): nginx in front of the engine answers a repeated pass-through GET/HEAD by itself,
 * with what the engine answered, and never anything the engine would not answer.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { ENGINE_ONLY_REQUEST } from '../src/header-policy.ts';
import { findNginx } from '../src/native/lane.ts';
import { anyImage, createServer, login, spawnProxy, startWorld, type World, waitFor } from './helpers.ts';

const skip = findNginx() ? false : 'nginx with its Lua module is not installed (apt-get install libnginx-mod-http-lua)';
let w: World;

before(async () => {
  if (skip) return;
  w = await startWorld({ dataPlane: 'nginx', validationCacheMs: 2_000 });
});
after(async () => {
  await w?.stop();
});

/** Access-log lines of requests to `path` so far, with where they were answered. */
async function answered(path: string): Promise<string[]> {
  await (await fetch(`${w.proxy.url}/metrics`)).text(); // drains what nginx answered into the log
  return w.logs
    .filter((l) => l.includes('"msg":"request"') && l.includes(`"path":"${path}"`))
    .map((l) => ((JSON.parse(l) as { lane?: string }).lane === 'native' ? 'native' : 'engine'));
}

const sameHeaders = [
  'content-type',
  'content-length',
  'x-ocx-service-provider',
  'etag',
  'openstack-image-import-methods',
];

test('a repeated GET of an image in an SP is answered by nginx with what the engine answered', { skip }, async () => {
  const img = await anyImage(w.direct.sp1!);
  const path = `/image/v2/images/${img}`;
  const first = await w.call(path);
  const firstBody = await first.text();
  assert.equal(first.status, 200);
  await waitFor('the route on the lane', async () => {
    const again = await w.call(path);
    await again.body?.cancel();
    return (await answered(path)).includes('native') || undefined;
  });
  const second = await w.call(path);
  assert.equal(second.status, 200);
  assert.equal(await second.text(), firstBody);
  for (const h of sameHeaders) assert.equal(second.headers.get(h), first.headers.get(h), h);
  assert.equal(second.headers.get('x-ocx-service-provider'), 'sp1');
  assert.ok((await answered(path)).at(-1) === 'native', 'the last answer came from nginx');
  const metrics = await (await fetch(`${w.proxy.url}/metrics`)).text();
  assert.match(metrics, /ocx_proxy_upstream_duration_seconds_count\{target="sp1",service="image",outcome="200"\} \d+/);
  const all = w.logs.join('');
  for (const t of [w.token, w.direct.sp1!.token]) assert.ok(!all.includes(t), 'a token reached the log');
});

test('an answer whose links the engine rewrites is never answered by nginx', { skip }, async () => {
  const id = await createServer(w.direct.sp2!, 'vm-native');
  const path = `/compute/v2.1/servers/${id}`;
  for (let i = 0; i < 4; i++) {
    const r = await w.call(path);
    assert.equal(r.status, 200);
    const body = (await r.json()) as { server: { links: { href: string }[] } };
    for (const l of body.server.links) assert.ok(l.href.startsWith(w.proxy.url), `link ${l.href} points at the proxy`);
  }
  assert.deepEqual(await answered(path), ['engine', 'engine', 'engine', 'engine']);
});

test('after a DELETE through the proxy the next GET is the 404 the engine gives, not a stale answer', {
  skip,
}, async () => {
  const created = await fetch(`${w.direct.sp2!.endpoints.image}/v2/images`, {
    method: 'POST',
    headers: { 'x-auth-token': w.direct.sp2!.token, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'to-delete', disk_format: 'raw', container_format: 'bare' }),
  });
  const img = ((await created.json()) as { id: string }).id;
  const path = `/image/v2/images/${img}`;
  await waitFor('the route on the lane', async () => {
    await (await w.call(path)).body?.cancel();
    return (await answered(path)).includes('native') || undefined;
  });
  const del = await w.call(path, { method: 'DELETE' });
  assert.equal(del.status, 204);
  const gone = await w.call(path);
  assert.equal(gone.status, 404);
  assert.equal(gone.headers.get('server'), null, 'not an nginx error page');
  assert.match(await gone.text(), /could not be found|not found/i);
  assert.equal((await answered(path)).at(-1), 'engine');
});

test('an SP failing behind a published route gets the engine’s answer, not nginx’s', { skip }, async () => {
  const img = await anyImage(w.direct.sp2!);
  const path = `/image/v2/images/${img}`;
  await waitFor('the route on the lane', async () => {
    await (await w.call(path)).body?.cancel();
    return (await answered(path)).includes('native') || undefined;
  });
  await w.dc.setFaults('sp2', 'image', { errorRate: 1, errorStatus: 503 });
  try {
    const r = await w.call(path);
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('x-ocx-service-provider'), 'sp2');
    assert.doesNotMatch(await r.text(), /<html>/);
    assert.equal((await answered(path)).at(-1), 'engine');
  } finally {
    await w.dc.setFaults('sp2', 'image', null);
  }
});

test('a revoked token stops working on the lane once the engine would check it again', { skip }, async () => {
  const mine = await login(w.direct.idp!.authUrl);
  const img = await anyImage(w.direct.sp1!);
  const path = `/image/v2/images/${img}`;
  const headers = { 'x-auth-token': mine.token };
  await waitFor('the route on the lane', async () => {
    await (await w.call(path, { headers })).body?.cancel();
    return (await answered(path)).at(-1) === 'native' || undefined;
  });
  const revoke = await fetch(`${w.direct.idp!.authUrl}/auth/tokens`, {
    method: 'DELETE',
    headers: { 'x-auth-token': mine.token, 'x-subject-token': mine.token },
  });
  assert.equal(revoke.status, 204);
  // validationCacheMs is 2 s here: a route never outlives the engine's trust in the token.
  await new Promise((r) => setTimeout(r, 2_100));
  const r = await w.call(path, { headers });
  assert.equal(r.status, 401);
});

test('requests the lane never answers itself (routing header, no token) get the engine’s answers', {
  skip,
}, async () => {
  const img = await anyImage(w.direct.sp1!);
  const r = await w.call(`/image/v2/images/${img}`, { headers: { 'mm-service-provider': 'sp1' } });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-ocx-service-provider'), 'sp1');
  const noToken = await fetch(`${w.proxy.url}/compute/v2.1/servers`);
  assert.equal(noToken.status, 401);
  assert.match(await noToken.text(), /"error"/);
});

test('headers of the policy table that leave a request to the engine do so on a published route', {
  skip,
}, async () => {
  const img = await anyImage(w.direct.sp1!);
  const path = `/image/v2/images/${img}`;
  await waitFor('the route on the lane', async () => {
    const again = await w.call(path);
    await again.body?.cancel();
    return (await answered(path)).at(-1) === 'native' || undefined;
  });
  // fetch cannot send Expect, Upgrade or Transfer-Encoding on a GET; the others it can.
  const sendable = ENGINE_ONLY_REQUEST.filter((h) => !['expect', 'upgrade', 'transfer-encoding'].includes(h));
  assert.ok(sendable.length >= 4);
  for (const h of sendable) {
    const r = await w.call(path, { headers: { [h]: h === 'mm-service-provider' ? 'sp1' : 'x' } });
    await r.body?.cancel();
    assert.equal((await answered(path)).at(-1), 'engine', `a GET with ${h} was answered by the engine`);
  }
});

test('a malformed request gets a JSON error from the front, not an HTML page', { skip }, async () => {
  const u = new URL(w.proxy.url);
  const raw = await new Promise<string>((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname);
    let got = '';
    s.on('data', (d) => {
      got += d.toString();
    });
    s.on('end', () => resolve(got));
    s.on('error', reject);
    s.write('GET /image/v2/images HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n');
  });
  assert.match(raw, /^HTTP\/1\.1 400/);
  assert.match(raw, /application\/json/);
  assert.match(raw, /"code": 400/);
});

test('nginx does not outlive a proxy killed with SIGKILL', { skip }, async () => {
  const { child, url } = await spawnProxy(w, [
    '--db',
    `${w.dir}/killed-native.sqlite`,
    '--data-plane',
    'nginx',
    '--log-level',
    'silent',
  ]);
  try {
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    child.kill('SIGKILL');
    await waitFor(
      'nginx to stop',
      async () => {
        try {
          await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(500) });
          return undefined;
        } catch {
          return true; // nobody listens any more
        }
      },
      10_000,
    );
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
