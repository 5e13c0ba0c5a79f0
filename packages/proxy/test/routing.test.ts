import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { anyImage, createServer, startWorld, type World, waitFor } from './helpers.ts';

let w: World;
const servers: Record<string, string> = {};

before(async () => {
  w = await startWorld();
  for (const c of ['idp', 'sp1', 'sp2']) servers[c] = await createServer(w.direct[c]!, `vm-${c}`);
});
after(async () => {
  await w?.stop();
});

test('one server list through the proxy holds the servers of idp, sp1 and sp2, links rewritten to the proxy', async () => {
  const r = await w.call('/compute/v2.1/servers/detail');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-ocx-missing-service-providers'), null);
  const body = (await r.json()) as { servers: { id: string; name: string; links: { href: string }[] }[] };
  assert.deepEqual(body.servers.map((s) => s.name).sort(), ['vm-idp', 'vm-sp1', 'vm-sp2']);
  for (const s of body.servers) {
    for (const l of s.links) assert.ok(l.href.startsWith(w.proxy.url), `link ${l.href} points at the proxy`);
  }
});

test('paging with limit=1 follows next links through all three clouds, each server once', async () => {
  const seen: string[] = [];
  let url: string | undefined = `${w.proxy.url}/compute/v2.1/servers?limit=1`;
  for (let i = 0; url && i < 10; i++) {
    const r: Response = await fetch(url, { headers: { 'x-auth-token': w.token } });
    assert.equal(r.status, 200);
    const body = (await r.json()) as { servers: { id: string }[]; servers_links?: { rel: string; href: string }[] };
    assert.ok(body.servers.length <= 1, 'limit is honoured');
    seen.push(...body.servers.map((s) => s.id));
    url = body.servers_links?.find((l) => l.rel === 'next')?.href;
    if (url) assert.ok(url.startsWith(w.proxy.url), 'next link points at the proxy');
  }
  assert.deepEqual(seen.sort(), Object.values(servers).sort());
});

test('a server living in sp2 is shown and deleted by id alone, and the mapping follows', async () => {
  const id = servers.sp2!;
  const show = await w.call(`/compute/v2.1/servers/${id}`);
  assert.equal(show.status, 200);
  assert.equal(show.headers.get('x-ocx-service-provider'), 'sp2');
  assert.equal(((await show.json()) as { server: { name: string } }).server.name, 'vm-sp2');
  const db = new DatabaseSync(join(w.dir, 'proxy.sqlite'));
  const row = () =>
    db
      .prepare('SELECT target_id FROM project_resource_mappings WHERE resource_type = ? AND resource_id = ?')
      .get('servers', id);
  assert.deepEqual({ ...(row() as object) }, { target_id: 'sp2' });
  const del = await w.call(`/compute/v2.1/servers/${id}`, { method: 'DELETE' });
  assert.equal(del.status, 204);
  assert.equal(row(), undefined, 'mapping forgotten on DELETE');
  db.close();
  // The delete reached sp2: the server goes away there.
  await waitFor('server gone from sp2', async () => {
    const r = await fetch(`${w.direct.sp2!.endpoints.compute}/servers/${id}`, {
      headers: { 'x-auth-token': w.direct.sp2!.token },
    });
    await r.body?.cancel();
    return r.status === 404 ? true : undefined;
  });
});

test('an unknown id is a 404 in the service body shape after asking every cloud', async () => {
  const r = await w.call('/compute/v2.1/servers/7d0a1b8e-0000-4000-8000-000000000000');
  assert.equal(r.status, 404);
  const body = (await r.json()) as { itemNotFound?: { code: number; message: string } };
  assert.equal(body.itemNotFound?.code, 404);
});

test("a bad token gets Keystone's 401 body; no token gets the same", async () => {
  const variants: Record<string, string>[] = [{ 'x-auth-token': 'not-a-token' }, {}];
  for (const headers of variants) {
    const r = await fetch(`${w.proxy.url}/compute/v2.1/servers`, { headers });
    assert.equal(r.status, 401);
    assert.match(r.headers.get('www-authenticate') ?? '', /^Keystone uri=/);
    const body = (await r.json()) as { error: { code: number; title: string } };
    assert.equal(body.error.code, 401);
    assert.equal(body.error.title, 'Unauthorized');
  }
});

test('MM-SERVICE-PROVIDER sends a create to that cloud, and the create response teaches the mapping', async () => {
  const r = await w.call('/compute/v2.1/servers', {
    method: 'POST',
    headers: { 'mm-service-provider': 'sp1', 'openstack-api-version': 'compute 2.37' },
    json: {
      server: { name: 'made-via-proxy', flavorRef: '1', imageRef: await anyImage(w.direct.sp1!), networks: 'none' },
    },
  });
  const text = await r.text();
  assert.equal(r.status, 202, text);
  const id = (JSON.parse(text) as { server: { id: string } }).server.id;
  assert.ok(
    r.headers.get('location')?.startsWith(`${w.proxy.url}/compute/`),
    `Location ${r.headers.get('location')} rewritten`,
  );
  const direct = await fetch(`${w.direct.sp1!.endpoints.compute}/servers/${id}`, {
    headers: { 'x-auth-token': w.direct.sp1!.token },
  });
  assert.equal(direct.status, 200, 'the server exists in sp1');
  const db = new DatabaseSync(join(w.dir, 'proxy.sqlite'));
  const row = db.prepare('SELECT target_id FROM project_resource_mappings WHERE resource_id = ?').get(id);
  db.close();
  assert.equal((row as { target_id: string }).target_id, 'sp1');

  const bad = await w.call('/compute/v2.1/servers', {
    method: 'POST',
    headers: { 'mm-service-provider': 'nowhere' },
    json: { server: {} },
  });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { badRequest: { message: string } }).badRequest.message, /nowhere/);
});

test('a request that already passed this proxy is refused as a loop', async () => {
  const r = await w.call('/compute/v2.1/servers', { headers: { 'mm-proxy-list': `other,${w.proxy.proxyId}` } });
  assert.equal(r.status, 508);
});

test('version documents are public and point at the proxy (X-Forwarded-* honoured)', async () => {
  const r = await fetch(`${w.proxy.url}/compute/`, {
    headers: { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'cloud.example.org' },
  });
  assert.equal(r.status, 200);
  const body = (await r.json()) as { versions: { links: { href: string }[] }[] };
  const hrefs = body.versions.flatMap((v) => v.links.map((l) => l.href));
  assert.ok(hrefs.length > 0);
  for (const h of hrefs) assert.ok(h.startsWith('https://cloud.example.org/compute/'), h);
});

test('metrics count requests, upstream calls per cloud and mapping lookups; no token is ever logged', async () => {
  const text = await (await fetch(`${w.proxy.url}/metrics`)).text();
  assert.match(text, /ocx_proxy_requests_total\{service="compute",method="GET",status="200"\} \d+/);
  assert.match(text, /ocx_proxy_upstream_duration_seconds_count\{target="sp2",service="compute",outcome="200"\} \d+/);
  assert.match(text, /ocx_proxy_mapping_lookups_total\{kind="resource",result="(hit|flood_hit)"\} \d+/);
  assert.match(text, /ocx_proxy_breaker_state\{target="sp1"\} 0/);
  const all = w.logs.join('');
  assert.ok(w.logs.length > 0);
  for (const t of [w.token, w.direct.sp1!.token, w.direct.sp2!.token])
    assert.ok(!all.includes(t), 'a token reached the log');
});

test('revoking the local token drops every mapping made from it', async () => {
  const { login } = await import('./helpers.ts');
  const mine = await login(w.direct.idp!.authUrl);
  const r = await w.call('/compute/v2.1/servers', { headers: { 'x-auth-token': mine.token } });
  assert.equal(r.status, 200);
  const db = new DatabaseSync(join(w.dir, 'proxy.sqlite'));
  const count = () => (db.prepare('SELECT COUNT(*) AS n FROM token_mappings').get() as { n: number }).n;
  const before = count();
  assert.ok(before >= 2, 'sp1 and sp2 mappings for the new token');
  const revoke = await fetch(`${w.direct.idp!.authUrl}/auth/tokens`, {
    method: 'DELETE',
    headers: { 'x-auth-token': mine.token, 'x-subject-token': mine.token },
  });
  assert.equal(revoke.status, 204);
  const again = await w.call('/compute/v2.1/servers', { headers: { 'x-auth-token': mine.token } });
  assert.equal(again.status, 401);
  assert.equal(count(), before - 2, "the revoked token's two mappings are gone, others stay");
  db.close();
});
