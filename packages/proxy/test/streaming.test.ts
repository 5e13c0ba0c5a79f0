import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { startWorld, type World } from './helpers.ts';

let w: World;
before(async () => {
  w = await startWorld();
});
after(async () => {
  await w?.stop();
});

const SIZE = 24 * 1024 * 1024 + 5;
function* chunks(seed: number): Generator<Uint8Array> {
  const block = Buffer.alloc(64 * 1024);
  for (let off = 0; off < SIZE; off += block.length) {
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((off + i + seed) >>> 0, i);
    yield Uint8Array.from(block.subarray(0, Math.min(block.length, SIZE - off)));
  }
}

test('an image uploaded chunked through the proxy into sp2 downloads byte-identical, with its headers', async () => {
  const create = await w.call('/image/v2/images', {
    method: 'POST',
    headers: { 'mm-service-provider': 'sp2' },
    json: { name: 'streamed', disk_format: 'raw', container_format: 'bare' },
  });
  assert.equal(create.status, 201);
  const id = ((await create.json()) as { id: string }).id;
  const hash = createHash('md5');
  const sha = createHash('sha256');
  for (const c of chunks(7)) {
    hash.update(c);
    sha.update(c);
  }
  const up = await w.call(`/image/v2/images/${id}/file`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: Readable.toWeb(Readable.from(chunks(7))) as ReadableStream,
    duplex: 'half',
  } as RequestInit);
  assert.equal(up.status, 204, await up.text());

  const d = w.direct.sp2!;
  const direct = await fetch(`${d.endpoints.image}/v2/images/${id}/file`, { headers: { 'x-auth-token': d.token } });
  await direct.body?.cancel();
  const down = await w.call(`/image/v2/images/${id}/file`);
  assert.equal(down.status, 200);
  assert.equal(down.headers.get('x-ocx-service-provider'), 'sp2');
  assert.equal(down.headers.get('content-length'), String(SIZE));
  for (const h of ['content-md5', 'etag', 'content-type']) {
    assert.equal(down.headers.get(h), direct.headers.get(h), `${h} kept end to end`);
  }
  const got = createHash('sha256');
  let n = 0;
  for await (const c of down.body as unknown as AsyncIterable<Uint8Array>) {
    got.update(c);
    n += c.length;
  }
  assert.equal(n, SIZE);
  assert.equal(got.digest('hex'), sha.digest('hex'));
  if (direct.headers.get('content-md5')) assert.equal(down.headers.get('content-md5'), hash.digest('hex'));
});

test('Swift objects in a container living in sp1: Range and ETag pass through', async () => {
  const account = `/object-store/v1/AUTH_${w.projectId}`;
  const made = await w.call(`${account}/photos`, { method: 'PUT', headers: { 'mm-service-provider': 'sp1' } });
  assert.ok(made.status === 201 || made.status === 202, `container create ${made.status}`);
  const data = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
  const put = await w.call(`${account}/photos/cat.txt`, {
    method: 'PUT',
    body: data,
    headers: { 'content-type': 'text/plain' },
  });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('etag'), createHash('md5').update(data).digest('hex'));
  const ranged = await w.call(`${account}/photos/cat.txt`, { headers: { range: 'bytes=10-15' } });
  assert.equal(ranged.status, 206);
  assert.equal(ranged.headers.get('content-range'), `bytes 10-15/${data.length}`);
  assert.equal(await ranged.text(), 'abcdef');
  // It really is in sp1.
  const d = w.direct.sp1!;
  const direct = await fetch(`${d.endpoints['object-store']}/photos/cat.txt`, { headers: { 'x-auth-token': d.token } });
  assert.equal(direct.status, 200);
  await direct.body?.cancel();
});

test("an oversized JSON body is refused with 413 in the service's error shape, before any upstream call", async () => {
  const big = { server: { name: 'x'.repeat(2 * 1024 * 1024) } };
  const r = await w.call('/compute/v2.1/servers', { method: 'POST', json: big });
  assert.equal(r.status, 413);
  const body = (await r.json()) as { overLimit?: { code: number } };
  assert.equal(body.overLimit?.code, 413);
});
