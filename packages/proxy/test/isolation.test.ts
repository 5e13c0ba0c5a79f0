/**
 * Tenant isolation (issue 12 §2): two users in two projects of the home cloud (alice in demo, bob in other) and
 * three clouds. Whatever alice sends through the proxy — injections, creates (Glance lets a client choose the new
 * image's id), lists, crafted markers, deletes — bob's requests go where they went before and he sees what he saw.
 * Only a configured peer account (a user of the home Keystone holding the peer role) may inject mappings, and
 * what a peer injects for alice's token and project is never followed for bob.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_USERS } from '@ocx/devcloud';
import { login, spawnProxy, startWorld, type World } from './helpers.ts';

let w: World;
let alice: string;
let bob: string;
let admin: string;
/** bob's image, living in sp1. */
let bobImage: string;

before(async () => {
  w = await startWorld(
    { peerUsers: ['admin'], peerRole: 'admin' },
    {
      users: [...DEFAULT_USERS, { name: 'bob', password: 'bob-secret', project: 'other', roles: ['member', 'reader'] }],
    },
  );
  // At the service providers K2K users land in group federated_users; bob's project must be open to it there too
  // (the proxy scopes each user's K2K token to the project named like the home one).
  for (const sp of ['sp1', 'sp2']) {
    const ks = w.dc.cloud(sp).keystone;
    const group = ks.ensureGroup('federated_users', 'default');
    ks.grant('group', group.id, 'project', ks.ensureProject('other', 'default').id, ks.findRoleByName('member')!.id);
  }
  const idp = w.direct.idp!.authUrl;
  alice = (await login(idp)).token;
  bob = (await login(idp, 'bob', 'bob-secret', 'other')).token;
  admin = (await login(idp, 'admin', 'admin-secret', 'admin')).token;
  const r = await as(bob, '/image/v2/images', {
    method: 'POST',
    headers: { 'mm-service-provider': 'sp1' },
    json: { name: 'bob-sp1', disk_format: 'raw', container_format: 'bare' },
  });
  assert.equal(r.status, 201, await r.clone().text());
  bobImage = ((await r.json()) as { id: string }).id;
});
after(async () => {
  await w?.stop();
});

function as(token: string, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('x-auth-token', token);
  return w.call(path, { ...init, headers });
}

/** What bob gets for his image: it must stay his, served from sp1. */
async function bobSeesHisImage(after: string): Promise<void> {
  const r = await as(bob, `/image/v2/images/${bobImage}`);
  const text = await r.text();
  assert.equal(r.status, 200, `after ${after}: ${text}`);
  assert.equal((JSON.parse(text) as { name: string }).name, 'bob-sp1', `after ${after}`);
  assert.equal(r.headers.get('x-ocx-service-provider'), 'sp1', `after ${after}`);
}

function injection(resourceId: string) {
  return {
    token_mapping: {
      target_id: 'via:ocx-evil:sp2',
      remote_token: 'not-a-token',
      remote_project_id: 'p',
      endpoints: { image: w.direct.sp2!.endpoints.image },
    },
    resource_mappings: [{ type: 'images', id: resourceId }],
  };
}

async function inject(callerToken: string, subjectToken: string | undefined, resourceId: string): Promise<Response> {
  const headers: Record<string, string> = { 'x-auth-token': callerToken, 'content-type': 'application/json' };
  if (subjectToken) headers['x-subject-token'] = subjectToken;
  return fetch(`${w.proxy.url}/ocx-proxy/v1/injections`, {
    method: 'POST',
    headers,
    body: JSON.stringify(injection(resourceId)),
    signal: AbortSignal.timeout(10_000),
  });
}

test('bob sees his image in sp1 to begin with', async () => {
  await bobSeesHisImage('nothing');
});

test('an ordinary user token cannot inject mappings: 403 with a JSON error, routing unchanged', async () => {
  for (const subject of [undefined, alice, bob]) {
    const r = await inject(alice, subject, bobImage);
    assert.equal(r.status, 403, `alice as caller, subject ${subject === undefined ? 'none' : 'given'}`);
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    const body = (await r.json()) as { error?: { message?: string } };
    assert.match(body.error?.message ?? '', /peer/);
  }
  await bobSeesHisImage("alice's injections");
  // bob (also just a user) cannot either, not even for himself.
  const r = await inject(bob, bob, bobImage);
  assert.equal(r.status, 403);
  await r.body?.cancel();
  await bobSeesHisImage("bob's own injection attempt");
});

test("a peer's injection for alice's token is not followed for bob", async () => {
  const r = await inject(admin, alice, bobImage);
  assert.equal(r.status, 204, await r.text());
  await bobSeesHisImage("a peer's injection for alice");
});

test("alice creating images with bob's image id (in idp and in sp2) does not capture bob's requests", async () => {
  for (const cloud of ['idp', 'sp2']) {
    const r = await as(alice, '/image/v2/images', {
      method: 'POST',
      headers: cloud === 'idp' ? {} : { 'mm-service-provider': cloud },
      json: { id: bobImage, name: `alice-decoy-${cloud}`, disk_format: 'raw', container_format: 'bare' },
    });
    assert.equal(r.status, 201, await r.text());
    await bobSeesHisImage(`alice's decoy in ${cloud}`);
  }
});

test("alice's lists, crafted markers and deletes do not change where bob's requests go", async () => {
  const list = await as(alice, '/image/v2/images');
  assert.equal(list.status, 200);
  await list.body?.cancel();
  await bobSeesHisImage("alice's list");
  for (const marker of [bobImage, 'ocx1.eyJzcDIiOiIxIn0', 'ocx1r.e30']) {
    const r = await as(alice, `/image/v2/images?limit=1&marker=${encodeURIComponent(marker)}`);
    await r.body?.cancel();
    await bobSeesHisImage(`alice's list with marker ${marker}`);
  }
  const show = await as(alice, `/image/v2/images/${bobImage}`);
  await show.body?.cancel();
  await bobSeesHisImage("alice's show of the id");
  const del = await as(alice, `/image/v2/images/${bobImage}`, { method: 'DELETE' });
  await del.body?.cancel();
  await bobSeesHisImage("alice's delete of the id");
  // And bob's aggregated list still holds his image exactly once.
  const mine = await as(bob, '/image/v2/images?limit=1000');
  const ids = ((await mine.json()) as { images: { id: string; name: string }[] }).images.filter(
    (i) => i.name === 'bob-sp1',
  );
  assert.deepEqual(
    ids.map((i) => i.id),
    [bobImage],
  );
});

test('`ocx proxy --peer-user admin --peer-role admin`: the admin may inject, the user may not', async () => {
  const { child, url } = await spawnProxy(w, [
    '--db',
    join(w.dir, 'cli-peer.sqlite'),
    '--log-level',
    'silent',
    '--data-plane',
    'node',
    '--peer-user',
    'admin',
    '--peer-role',
    'admin',
  ]);
  try {
    const send = (caller: string) =>
      fetch(`${url}/ocx-proxy/v1/injections`, {
        method: 'POST',
        headers: { 'x-auth-token': caller, 'x-subject-token': alice, 'content-type': 'application/json' },
        body: JSON.stringify(injection(bobImage)),
        signal: AbortSignal.timeout(10_000),
      });
    const user = await send(alice);
    assert.equal(user.status, 403);
    await user.body?.cancel();
    const peer = await send(admin);
    assert.equal(peer.status, 204, await peer.text());
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

test('`ocx proxy --peer-account` without SP=CLOUD is a usage error (exit 2)', async () => {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, [main, '--home-cloud', 'idp-admin', '--peer-account', 'sp1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 2);
  assert.match(err, /--peer-account must be SP=CLOUD/);
});
