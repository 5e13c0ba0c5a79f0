/**
 * The native lane (src/native/): nginx in front of the engine answers a repeated pass-through GET/HEAD by itself,
 * with what the engine answered, and never anything the engine would not answer.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { DEFAULT_USERS } from '@ocx/devcloud';
import { ENGINE_ONLY_REQUEST } from '../src/header-policy.ts';
import { findNginx } from '../src/native/lane.ts';
import { anyImage, createServer, laneAnswers, login, spawnProxy, startWorld, type World, waitFor } from './helpers.ts';

const skip = findNginx() ? false : 'nginx with its Lua module is not installed (apt-get install libnginx-mod-http-lua)';
let w: World;

/** A second user of the home cloud (bob, project other). */
let bob: string;

before(async () => {
  if (skip) return;
  w = await startWorld(
    { dataPlane: 'nginx', validationCacheMs: 2_000 },
    {
      users: [...DEFAULT_USERS, { name: 'bob', password: 'bob-secret', project: 'other', roles: ['member', 'reader'] }],
    },
  );
  // K2K users land in group federated_users at the SPs: bob's project must be open to it there too.
  for (const sp of ['sp1', 'sp2']) {
    const ks = w.dc.cloud(sp).keystone;
    const group = ks.ensureGroup('federated_users', 'default');
    ks.grant('group', group.id, 'project', ks.ensureProject('other', 'default').id, ks.findRoleByName('member')!.id);
  }
  bob = (await login(w.direct.idp!.authUrl, 'bob', 'bob-secret', 'other')).token;
});
after(async () => {
  await w?.stop();
});

/** Where each request to `path` was answered so far. */
const answered = (path: string) => laneAnswers(w.proxy.url, w.logs, path);

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

test('a request without a token gets the engine’s answer', { skip }, async () => {
  const noToken = await fetch(`${w.proxy.url}/compute/v2.1/servers`);
  assert.equal(noToken.status, 401);
  assert.match(await noToken.text(), /"error"/);
});

/** The ids of an image list answer. */
async function imageIds(r: Response): Promise<string[]> {
  return ((await r.json()) as { images: { id: string }[] }).images.map((i) => i.id).sort();
}

/** One request on a raw socket (for what fetch cannot send: a header twice, a name with "_"); status line and body. */
async function raw(head: string): Promise<{ status: number; body: string }> {
  const u = new URL(w.proxy.url);
  const got = await new Promise<string>((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname);
    let text = '';
    s.on('data', (d) => {
      text += d.toString();
    });
    s.on('end', () => resolve(text));
    s.on('error', reject);
    s.write(`${head}Host: ${u.host}\r\nConnection: close\r\n\r\n`);
  });
  return { status: Number(got.slice(9, 12)), body: got.slice(got.indexOf('\r\n\r\n') + 4) };
}

test('a GET naming an SP (MM-SERVICE-PROVIDER) is answered by nginx from a route for that SP and token only', {
  skip,
}, async () => {
  const path = '/image/v2/images';
  const sp1 = { 'mm-service-provider': 'sp1' };
  const direct = async (d: typeof w.direct.sp1) =>
    imageIds(await fetch(`${d!.endpoints.image}/v2/images`, { headers: { 'x-auth-token': d!.token } }));
  const sp1Ids = await direct(w.direct.sp1);
  const sp2Ids = await direct(w.direct.sp2);
  assert.ok(sp1Ids.length > 0 && sp2Ids.length > 0);
  assert.notDeepEqual(sp1Ids, sp2Ids);
  const first = await w.call(path, { headers: sp1 });
  const firstBody = await first.text();
  assert.equal(first.status, 200);
  assert.equal((await answered(path)).at(-1), 'engine');
  await waitFor('the sp1 route on the lane', async () => {
    await (await w.call(path, { headers: sp1 })).body?.cancel();
    return (await answered(path)).at(-1) === 'native' || undefined;
  });
  const again = await w.call(path, { headers: sp1 });
  assert.equal(again.status, 200);
  assert.equal(again.headers.get('x-ocx-service-provider'), 'sp1');
  const againBody = await again.text();
  assert.equal(againBody, firstBody);
  assert.deepEqual(await imageIds(new Response(againBody)), sp1Ids);
  assert.equal((await answered(path)).at(-1), 'native', 'the identical request came from nginx');

  // Naming sp2: the engine answers with sp2's images, not sp1's route.
  const toSp2 = await w.call(path, { headers: { 'mm-service-provider': 'sp2' } });
  assert.equal(toSp2.status, 200);
  assert.equal(toSp2.headers.get('x-ocx-service-provider'), 'sp2');
  assert.deepEqual(await imageIds(toSp2), sp2Ids);
  assert.equal((await answered(path)).at(-1), 'engine');
  // No header: the engine's list over every cloud.
  const all = await imageIds(await w.call(path));
  for (const id of [...sp1Ids, ...sp2Ids]) assert.ok(all.includes(id), `${id} in the list over every cloud`);
  assert.equal((await answered(path)).at(-1), 'engine');
  // Another user, and another token of the same user: the engine, with their own K2K.
  for (const token of [bob, (await login(w.direct.idp!.authUrl)).token]) {
    const r = await w.call(path, { headers: { ...sp1, 'x-auth-token': token } });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-ocx-service-provider'), 'sp1');
    await r.body?.cancel();
    assert.equal((await answered(path)).at(-1), 'engine');
  }
});

test('a routing header the lane cannot match exactly goes to the engine, also on a published route', {
  skip,
}, async () => {
  const path = '/image/v2/images?limit=3';
  const sp1 = { 'mm-service-provider': 'sp1' };
  await waitFor('the sp1 route on the lane', async () => {
    await (await w.call(path, { headers: sp1 })).body?.cancel();
    return (await answered('/image/v2/images')).at(-1) === 'native' || undefined;
  });
  const token = `X-Auth-Token: ${w.token}\r\n`;
  // Two header lines: the engine reads "sp1, sp1", which names no service provider.
  const twice = await raw(`GET ${path} HTTP/1.1\r\n${token}MM-Service-Provider: sp1\r\nMM-Service-Provider: sp1\r\n`);
  assert.equal(twice.status, 400);
  assert.match(twice.body, /unknown service provider sp1, sp1/);
  assert.equal((await answered('/image/v2/images')).at(-1), 'engine');
  // "_" for "-": nginx's $http_ variable matches it, the engine does not take it for the routing header.
  const underscore = await raw(`GET ${path} HTTP/1.1\r\n${token}mm_service_provider: sp1\r\n`);
  assert.equal(underscore.status, 200);
  assert.equal((await answered('/image/v2/images')).at(-1), 'engine');
  // The same name in another case is the same header: the route answers it.
  const upper = await raw(`GET ${path} HTTP/1.1\r\n${token}MM-SERVICE-PROVIDER: sp1\r\n`);
  assert.equal(upper.status, 200);
  assert.equal((await answered('/image/v2/images')).at(-1), 'native');
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
  assert.ok(sendable.length >= 3);
  for (const h of sendable) {
    const r = await w.call(path, { headers: { [h]: 'x' } });
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
