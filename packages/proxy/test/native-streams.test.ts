/**
 * Image data on the native lane (src/engine/describe.ts, src/native/ocx_lane.lua): nginx asks the engine, without
 * the body, where an upload or a first download goes, then carries the bytes itself — and every request the engine
 * would refuse or treat specially still gets the engine's answer.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { findNginx } from '../src/native/lane.ts';
import { laneAnswers, startWorld, type World } from './helpers.ts';

const skip = findNginx() ? false : 'nginx with its Lua module is not installed (apt-get install libnginx-mod-http-lua)';
let w: World;

before(async () => {
  if (skip) return;
  w = await startWorld({ dataPlane: 'nginx' });
});
after(async () => {
  await w?.stop();
});

/** Where each request to `method path` was answered so far. */
const answered = (method: string, path: string) => laneAnswers(w.proxy.url, w.logs, path, method);

/** A new queued image in sp2, made there directly (the proxy learns where it is by asking). */
async function queuedImage(name: string): Promise<string> {
  const sp2 = w.direct.sp2!;
  const r = await fetch(`${sp2.endpoints.image}/v2/images`, {
    method: 'POST',
    headers: { 'x-auth-token': sp2.token, 'content-type': 'application/json' },
    body: JSON.stringify({ name, disk_format: 'raw', container_format: 'bare' }),
  });
  assert.equal(r.status, 201);
  return ((await r.json()) as { id: string }).id;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('an image upload and its first download go from nginx to the SP, the bytes intact', { skip }, async () => {
  const id = await queuedImage('lane-stream');
  const path = `/image/v2/images/${id}/file`;
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const up = await w.call(path, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: data,
  });
  assert.equal(up.status, 204, await up.text());
  assert.equal(up.headers.get('x-ocx-service-provider'), 'sp2');
  assert.deepEqual(await answered('PUT', path), ['native']);
  // What sp2's Glance stored, read there directly.
  const sp2 = w.direct.sp2!;
  const stored = await fetch(`${sp2.endpoints.image}/v2/images/${id}/file`, { headers: { 'x-auth-token': sp2.token } });
  assert.equal(sha(new Uint8Array(await stored.arrayBuffer())), sha(data));
  const down = await w.call(path);
  assert.equal(down.status, 200);
  assert.equal(sha(new Uint8Array(await down.arrayBuffer())), sha(data));
  assert.deepEqual(await answered('GET', path), ['native']);
  const all = w.logs.join('');
  for (const t of [w.token, sp2.token]) assert.ok(!all.includes(t), 'a token reached the log');
});

test('a chunked upload (no Content-Length, as glanceclient sends) streams on the lane too', { skip }, async () => {
  const id = await queuedImage('lane-chunked');
  const path = `/image/v2/images/${id}/file`;
  const parts = [randomBytes(200_000), randomBytes(300_001)];
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(p);
      c.close();
    },
  });
  const up = await w.call(path, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body,
    duplex: 'half',
  } as RequestInit);
  assert.equal(up.status, 204, await up.text());
  assert.deepEqual(await answered('PUT', path), ['native']);
  const down = await w.call(path);
  assert.equal(sha(new Uint8Array(await down.arrayBuffer())), sha(Buffer.concat(parts)));
});

test('an upload with a bad token is the engine’s 401 and nothing is stored', { skip }, async () => {
  const id = await queuedImage('lane-bad-token');
  const path = `/image/v2/images/${id}/file`;
  const r = await w.call(path, {
    method: 'PUT',
    headers: { 'x-auth-token': 'not-a-token', 'content-type': 'application/octet-stream' },
    body: randomBytes(100_000),
  });
  assert.equal(r.status, 401);
  assert.deepEqual(await answered('PUT', path), ['engine']);
  const sp2 = w.direct.sp2!;
  const img = await fetch(`${sp2.endpoints.image}/v2/images/${id}`, { headers: { 'x-auth-token': sp2.token } });
  assert.equal(((await img.json()) as { status: string }).status, 'queued');
});

test('the SP’s refusal of an upload reaches the client as the SP gave it', { skip }, async () => {
  const id = await queuedImage('lane-twice');
  const path = `/image/v2/images/${id}/file`;
  const first = await w.call(path, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: 'x',
  });
  assert.equal(first.status, 204);
  // Glance takes one upload per image: the second is its 409, in its own shape.
  const again = await w.call(path, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: randomBytes(50_000),
  });
  assert.equal(again.status, 409);
  assert.match(await again.text(), /409/);
  assert.deepEqual(await answered('PUT', path), ['native', 'native']);
});

test('no client can ask nginx’s question itself: the route and its remote token stay inside', { skip }, async () => {
  const id = await queuedImage('lane-ask');
  const target = `/image/v2/images/${id}/file`;
  const secretGuess = 'x'.repeat(32);
  const asked = await w.call(`/.ocx-decide?method=GET&target=${encodeURIComponent(target)}`, {
    headers: { 'x-ocx-decide': secretGuess },
  });
  const text = await asked.text();
  assert.notEqual(asked.status, 200);
  assert.ok(!text.includes(w.direct.sp2!.token.slice(0, 12)), 'an SP token in the answer');
  assert.doesNotMatch(text, /\t/);
  // The header on an ordinary request changes nothing.
  const r = await w.call(target, { headers: { 'x-ocx-decide': secretGuess } });
  assert.ok(r.status === 204 || r.status === 200 || r.status === 404, `status ${r.status}`);
  assert.doesNotMatch(await r.text(), /\t/);
});
