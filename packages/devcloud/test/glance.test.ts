import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { glanceBlobDir, glanceModule, SEED_IMAGE_NAME } from '../src/glance/index.ts';
import { ADMIN, call, DEMO, type FakeCloud, OTHER, startFake } from './storage-fake-ctx.ts';
import { startChildServer } from './storage-rss.ts';

const PATCH = 'application/openstack-images-v2.1-json-patch';

describe('glance v2', () => {
  let cloud: FakeCloud;
  let base: string;
  before(async () => {
    cloud = await startFake([glanceModule]);
    base = `${cloud.baseUrl}/image`;
  });
  after(async () => cloud.close());

  async function createImage(token: string, body: Record<string, unknown>) {
    const res = await call(base, '/v2/images', { method: 'POST', token, json: body });
    assert.equal(res.status, 201, await res.clone().text());
    return (await res.json()) as Record<string, unknown> & { id: string };
  }

  async function upload(token: string, id: string, data: Buffer | ReadableStream<Uint8Array>) {
    return call(base, `/v2/images/${id}/file`, {
      method: 'PUT',
      token,
      headers: { 'content-type': 'application/octet-stream' },
      body: data,
      ...(data instanceof ReadableStream ? { duplex: 'half' } : {}),
    } as RequestInit & { token: string });
  }

  it('serves version documents without a token', async () => {
    const root = await call(base, '/');
    assert.equal(root.status, 300);
    const doc = (await root.json()) as { versions: { id: string; status: string; links: { href: string }[] }[] };
    assert.equal(doc.versions[0]!.id, 'v2.16');
    assert.equal(doc.versions[0]!.status, 'CURRENT');
    assert.equal(doc.versions[0]!.links[0]!.href, `${base}/v2/`);
    const versions = await call(base, '/versions');
    assert.equal(versions.status, 200);
  });

  it('answers 401 with a Keystone WWW-Authenticate header without a valid token', async () => {
    const res = await call(base, '/v2/images', { token: 'bogus' });
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Keystone uri="http:\/\/127\.0\.0\.1:\d+\/identity\/v3"$/);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  });

  it('seeds one public active image with real bytes', async () => {
    const res = await call(base, `/v2/images?name=${SEED_IMAGE_NAME}`, { token: OTHER.token });
    const body = (await res.json()) as { images: Record<string, unknown>[] };
    assert.equal(body.images.length, 1);
    const img = body.images[0]!;
    assert.equal(img.status, 'active');
    assert.equal(img.visibility, 'public');
    const file = await call(base, `/v2/images/${img.id}/file`, { token: OTHER.token });
    const data = Buffer.from(await file.arrayBuffer());
    assert.equal(data.length, img.size);
    assert.equal(createHash('md5').update(data).digest('hex'), img.checksum);
    assert.equal(data.subarray(0, 3).toString('latin1'), 'QFI');
  });

  it('creates a queued image with defaults, Location header and custom properties', async () => {
    const res = await call(base, '/v2/images', {
      method: 'POST',
      token: DEMO.token,
      json: { name: 'created', disk_format: 'raw', container_format: 'bare', foo: 'bar', tags: ['a', 'a', 'b'] },
    });
    assert.equal(res.status, 201);
    const img = (await res.json()) as Record<string, unknown>;
    assert.equal(res.headers.get('location'), `${base}/v2/images/${img.id}`);
    assert.equal(img.status, 'queued');
    assert.equal(img.visibility, 'shared');
    assert.equal(img.owner, DEMO.projectId);
    assert.equal(img.size, null);
    assert.equal(img.checksum, null);
    assert.equal(img.foo, 'bar');
    assert.deepEqual(img.tags, ['a', 'b']);
    assert.equal(img.self, `/v2/images/${img.id}`);
    assert.equal(img.file, `/v2/images/${img.id}/file`);
    assert.equal(img.schema, '/v2/schemas/image');
    assert.match(String(img.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('rejects read-only attributes, bad enums and non-string properties like Glance', async () => {
    const ro = await call(base, '/v2/images', { method: 'POST', token: DEMO.token, json: { status: 'active' } });
    assert.equal(ro.status, 403);
    assert.match(await ro.text(), /Attribute &#x27;status&#x27; is read-only/);
    const enumBad = await call(base, '/v2/images', { method: 'POST', token: DEMO.token, json: { disk_format: 'foo' } });
    assert.equal(enumBad.status, 400);
    const notString = await call(base, '/v2/images', {
      method: 'POST',
      token: DEMO.token,
      headers: { accept: 'application/json' },
      json: { x: 1 },
    });
    assert.equal(notString.status, 400);
    const err = (await notString.json()) as { code: string; title: string; message: string };
    assert.equal(err.code, '400 Bad Request');
    assert.match(err.message, /does not match schema 'image'/);
    const pub = await call(base, '/v2/images', { method: 'POST', token: DEMO.token, json: { visibility: 'public' } });
    assert.equal(pub.status, 403);
  });

  it('uploads, checksums and downloads image data; Range gives 206; a second upload is 409', async () => {
    const img = await createImage(DEMO.token, { name: 'up', disk_format: 'raw', container_format: 'bare' });
    const data = Buffer.alloc(100_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) % 251;
    const empty = await call(base, `/v2/images/${img.id}/file`, { token: DEMO.token });
    assert.equal(empty.status, 204);
    const put = await upload(DEMO.token, img.id, data);
    assert.equal(put.status, 204);
    const shown = (await (await call(base, `/v2/images/${img.id}`, { token: DEMO.token })).json()) as Record<
      string,
      unknown
    >;
    assert.equal(shown.status, 'active');
    assert.equal(shown.size, data.length);
    assert.equal(shown.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal(shown.os_hash_algo, 'sha512');
    assert.equal(shown.os_hash_value, createHash('sha512').update(data).digest('hex'));
    const get = await call(base, `/v2/images/${img.id}/file`, { token: DEMO.token });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-md5'), shown.checksum);
    assert.equal(get.headers.get('content-length'), String(data.length));
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
    const part = await call(base, `/v2/images/${img.id}/file`, {
      token: DEMO.token,
      headers: { range: 'bytes=10-19' },
    });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 10-19/${data.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(10, 20));
    const bad = await call(base, `/v2/images/${img.id}/file`, {
      token: DEMO.token,
      headers: { range: 'bytes=999999-' },
    });
    assert.equal(bad.status, 416);
    await bad.arrayBuffer();
    const again = await upload(DEMO.token, img.id, data);
    assert.equal(again.status, 409);
    assert.match(await again.text(), /Image status transition from active to saving is not allowed/);
  });

  it('an upload cut off by the client leaves the image queued, with no partial file, ready for a retry', async () => {
    const img = await createImage(DEMO.token, { name: 'cut', disk_format: 'raw', container_format: 'bare' });
    const u = new URL(`${base}/v2/images/${img.id}/file`);
    await new Promise<void>((resolve, reject) => {
      const sock = connect(Number(u.port), u.hostname, () => {
        sock.write(
          `PUT ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nX-Auth-Token: ${DEMO.token}\r\n` +
            'Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n',
        );
        sock.write(Buffer.alloc(5000, 1), () => setTimeout(() => sock.destroy(), 50));
      });
      sock.on('close', () => resolve());
      sock.on('error', reject);
    });
    const deadline = Date.now() + 10_000;
    let status = '';
    while (Date.now() < deadline) {
      status = ((await (await call(base, `/v2/images/${img.id}`, { token: DEMO.token })).json()) as { status: string })
        .status;
      if (status === 'queued') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 'queued');
    assert.ok(!readdirSync(glanceBlobDir(cloud.ctx)).some((f) => f.endsWith('.part')), 'no partial file is left');
    const retry = await upload(DEMO.token, img.id, Buffer.from('complete'));
    assert.equal(retry.status, 204);
  });

  it('imports staged data with glance-direct, and downloads from a URL with web-download', async () => {
    const img = await createImage(DEMO.token, { name: 'imported', disk_format: 'raw', container_format: 'bare' });
    const early = await call(base, `/v2/images/${img.id}/import`, {
      method: 'POST',
      token: DEMO.token,
      json: { method: { name: 'glance-direct' } },
    });
    assert.equal(early.status, 409);
    const stage = await call(base, `/v2/images/${img.id}/stage`, {
      method: 'PUT',
      token: DEMO.token,
      headers: { 'content-type': 'application/octet-stream' },
      body: 'staged bytes',
    });
    assert.equal(stage.status, 204);
    const staged = (await (await call(base, `/v2/images/${img.id}`, { token: DEMO.token })).json()) as {
      status: string;
    };
    assert.equal(staged.status, 'uploading');
    const imp = await call(base, `/v2/images/${img.id}/import`, {
      method: 'POST',
      token: DEMO.token,
      json: { method: { name: 'glance-direct' } },
    });
    assert.equal(imp.status, 202);
    const active = await waitForStatus(img.id, 'active');
    assert.equal(active.checksum, createHash('md5').update('staged bytes').digest('hex'));
    // web-download pulls the bytes from a URL: a small HTTP server on loopback.
    const { createServer } = await import('node:http');
    const srv = createServer((_q, r) => r.end('downloaded bytes'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (srv.address() as { port: number }).port;
      const img2 = await createImage(DEMO.token, { name: 'web', disk_format: 'raw', container_format: 'bare' });
      const wd = await call(base, `/v2/images/${img2.id}/import`, {
        method: 'POST',
        token: DEMO.token,
        json: { method: { name: 'web-download', uri: `http://127.0.0.1:${port}/disk.img` } },
      });
      assert.equal(wd.status, 202);
      const got = await waitForStatus(img2.id, 'active');
      assert.equal(got.size, 'downloaded bytes'.length);
      const data = await call(base, `/v2/images/${img2.id}/file`, { token: DEMO.token });
      assert.equal(await data.text(), 'downloaded bytes');
    } finally {
      srv.close();
    }
  });

  async function waitForStatus(id: string, want: string): Promise<Record<string, unknown>> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const cur = (await (await call(base, `/v2/images/${id}`, { token: DEMO.token })).json()) as Record<
        string,
        unknown
      >;
      if (cur.status === want) return cur;
      if (Date.now() > deadline) assert.fail(`image ${id} never became ${want} (is ${String(cur.status)})`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('requires disk and container formats before data, and application/octet-stream', async () => {
    const img = await createImage(DEMO.token, { name: 'noformat' });
    const res = await upload(DEMO.token, img.id, Buffer.from('abc'));
    assert.equal(res.status, 400);
    const img2 = await createImage(DEMO.token, { name: 'ct', disk_format: 'raw', container_format: 'bare' });
    const wrong = await call(base, `/v2/images/${img2.id}/file`, {
      method: 'PUT',
      token: DEMO.token,
      headers: { 'content-type': 'text/plain' },
      body: 'abc',
    });
    assert.equal(wrong.status, 415);
  });

  it('streams a large upload and download through a server whose peak RSS stays far below the image size', async () => {
    const child = await startChildServer();
    try {
      const cbase = `${child.baseUrl}/image`;
      const created = await call(cbase, '/v2/images', {
        method: 'POST',
        token: DEMO.token,
        json: { name: 'big', disk_format: 'raw', container_format: 'bare' },
      });
      const img = (await created.json()) as { id: string };
      const total = 64 * 1024 * 1024;
      const chunk = 256 * 1024;
      const md5 = createHash('md5');
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= total) {
            controller.close();
            return;
          }
          const buf = Buffer.alloc(chunk, (sent / chunk) % 256);
          md5.update(buf);
          sent += chunk;
          controller.enqueue(buf);
        },
      });
      const rssBefore = child.peakRss();
      const put = await call(cbase, `/v2/images/${img.id}/file`, {
        method: 'PUT',
        token: DEMO.token,
        headers: { 'content-type': 'application/octet-stream' },
        body: stream,
        duplex: 'half',
      } as RequestInit & { token: string });
      assert.equal(put.status, 204);
      const expected = md5.digest('hex');
      const shown = (await (await call(cbase, `/v2/images/${img.id}`, { token: DEMO.token })).json()) as Record<
        string,
        unknown
      >;
      assert.equal(shown.size, total);
      assert.equal(shown.checksum, expected);
      const get = await call(cbase, `/v2/images/${img.id}/file`, { token: DEMO.token });
      assert.equal(get.headers.get('content-md5'), expected);
      const dl = createHash('md5');
      let got = 0;
      for await (const part of get.body as unknown as AsyncIterable<Uint8Array>) {
        dl.update(part);
        got += part.length;
      }
      assert.equal(got, total);
      assert.equal(dl.digest('hex'), expected);
      const growth = child.peakRss() - rssBefore;
      assert.ok(growth < total / 3, `server peak RSS grew by ${Math.round(growth / 1048576)} MB for a 64 MB image`);
    } finally {
      await child.stop();
    }
  });

  it('DELETE removes the image and its file; protected images cannot be deleted', async () => {
    const img = await createImage(DEMO.token, { name: 'gone', disk_format: 'raw', container_format: 'bare' });
    await upload(DEMO.token, img.id, Buffer.from('hello'));
    const blob = cloud.ctx.store.table<{ id: string; blob: string }>('glance_images').get(img.id)!.blob;
    const dir = glanceBlobDir(cloud.ctx);
    assert.ok(readdirSync(dir).includes(blob));
    const del = await call(base, `/v2/images/${img.id}`, { method: 'DELETE', token: DEMO.token });
    assert.equal(del.status, 204);
    assert.ok(!readdirSync(dir).includes(blob));
    assert.equal((await call(base, `/v2/images/${img.id}`, { token: DEMO.token })).status, 404);
    const prot = await createImage(DEMO.token, { name: 'prot', protected: true });
    const no = await call(base, `/v2/images/${prot.id}`, { method: 'DELETE', token: DEMO.token });
    assert.equal(no.status, 403);
  });

  it('PATCH applies json-patch ops and enforces media type, read-only and queued-only rules', async () => {
    const img = await createImage(DEMO.token, { name: 'p', foo: 'bar', disk_format: 'raw', container_format: 'bare' });
    const res = await call(base, `/v2/images/${img.id}`, {
      method: 'PATCH',
      token: DEMO.token,
      headers: { 'content-type': PATCH },
      body: JSON.stringify([
        { op: 'replace', path: '/name', value: 'renamed' },
        { op: 'add', path: '/k2', value: 'v2' },
        { op: 'remove', path: '/foo' },
        { op: 'replace', path: '/min_disk', value: 2 },
      ]),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.name, 'renamed');
    assert.equal(body.k2, 'v2');
    assert.equal(body.foo, undefined);
    assert.equal(body.min_disk, 2);
    const json = await call(base, `/v2/images/${img.id}`, { method: 'PATCH', token: DEMO.token, json: [] });
    assert.equal(json.status, 415);
    assert.match(json.headers.get('accept-patch') ?? '', /openstack-images-v2.1-json-patch/);
    const patch = (ops: unknown) =>
      call(base, `/v2/images/${img.id}`, {
        method: 'PATCH',
        token: DEMO.token,
        headers: { 'content-type': PATCH },
        body: JSON.stringify(ops),
      });
    assert.equal((await patch([{ op: 'remove', path: '/nothere' }])).status, 409);
    assert.equal((await patch([{ op: 'replace', path: '/size', value: 3 }])).status, 403);
    await upload(DEMO.token, img.id, Buffer.from('x'));
    const late = await patch([{ op: 'replace', path: '/disk_format', value: 'qcow2' }]);
    assert.equal(late.status, 403);
    assert.match(await late.text(), /can be only replaced for a queued image/);
    const other = await call(base, `/v2/images/${img.id}`, {
      method: 'PATCH',
      token: OTHER.token,
      headers: { 'content-type': PATCH },
      body: JSON.stringify([{ op: 'replace', path: '/name', value: 'x' }]),
    });
    assert.equal(other.status, 404);
  });

  it('adds and removes tags', async () => {
    const img = await createImage(DEMO.token, { name: 'tagged' });
    assert.equal((await call(base, `/v2/images/${img.id}/tags/t1`, { method: 'PUT', token: DEMO.token })).status, 204);
    assert.equal((await call(base, `/v2/images/${img.id}/tags/t1`, { method: 'PUT', token: DEMO.token })).status, 204);
    let shown = (await (await call(base, `/v2/images/${img.id}`, { token: DEMO.token })).json()) as { tags: string[] };
    assert.deepEqual(shown.tags, ['t1']);
    assert.equal(
      (await call(base, `/v2/images/${img.id}/tags/zz`, { method: 'DELETE', token: DEMO.token })).status,
      404,
    );
    assert.equal(
      (await call(base, `/v2/images/${img.id}/tags/t1`, { method: 'DELETE', token: DEMO.token })).status,
      204,
    );
    shown = (await (await call(base, `/v2/images/${img.id}`, { token: DEMO.token })).json()) as { tags: string[] };
    assert.deepEqual(shown.tags, []);
  });

  it('applies visibility: private/shared to the owner, public and community to all, admin sees all', async () => {
    const priv = await createImage(DEMO.token, { name: 'vis-private', visibility: 'private' });
    const comm = await createImage(DEMO.token, { name: 'vis-community', visibility: 'community' });
    const shared = await createImage(DEMO.token, { name: 'vis-shared' });
    const names = async (token: string, qs = '') => {
      const res = await call(base, `/v2/images?limit=1000${qs}`, { token });
      return ((await res.json()) as { images: { name: string }[] }).images.map((i) => i.name);
    };
    const demo = await names(DEMO.token);
    assert.ok(demo.includes('vis-private') && demo.includes('vis-shared') && demo.includes(SEED_IMAGE_NAME));
    const other = await names(OTHER.token);
    assert.ok(!other.includes('vis-private') && !other.includes('vis-shared') && !other.includes('vis-community'));
    assert.ok(other.includes(SEED_IMAGE_NAME));
    assert.ok((await names(OTHER.token, '&visibility=community')).includes('vis-community'));
    assert.equal((await call(base, `/v2/images/${priv.id}`, { token: OTHER.token })).status, 404);
    assert.equal((await call(base, `/v2/images/${comm.id}`, { token: OTHER.token })).status, 200);
    assert.ok((await names(ADMIN.token)).includes('vis-private'));
    // Sharing: add OTHER as a member, accept, then OTHER lists it.
    const add = await call(base, `/v2/images/${shared.id}/members`, {
      method: 'POST',
      token: DEMO.token,
      json: { member: OTHER.projectId },
    });
    assert.equal(add.status, 200);
    assert.equal(((await add.json()) as { status: string }).status, 'pending');
    assert.ok(!(await names(OTHER.token)).includes('vis-shared'));
    const acc = await call(base, `/v2/images/${shared.id}/members/${OTHER.projectId}`, {
      method: 'PUT',
      token: OTHER.token,
      json: { status: 'accepted' },
    });
    assert.equal(acc.status, 200);
    assert.ok((await names(OTHER.token)).includes('vis-shared'));
    const del = await call(base, `/v2/images/${shared.id}`, { method: 'DELETE', token: OTHER.token });
    assert.equal(del.status, 403);
  });

  it('filters, sorts and paginates with next links', async () => {
    for (const n of ['pg-c', 'pg-a', 'pg-b', 'pg-d']) {
      await createImage(OTHER.token, {
        name: n,
        tags: n === 'pg-a' || n === 'pg-b' ? ['pg'] : [],
        disk_format: n === 'pg-d' ? 'qcow2' : 'raw',
        color: n === 'pg-c' ? 'red' : 'blue',
      });
    }
    const list = async (qs: string) => {
      const res = await call(base, `/v2/images?${qs}`, { token: OTHER.token });
      assert.equal(res.status, 200);
      return (await res.json()) as {
        images: { name: string; id: string }[];
        next?: string;
        first: string;
        schema: string;
      };
    };
    const asc = await list('sort=name:asc&name=in:pg-a,pg-b,pg-c,pg-d');
    assert.deepEqual(
      asc.images.map((i) => i.name),
      ['pg-a', 'pg-b', 'pg-c', 'pg-d'],
    );
    const desc = await list('sort_key=name&sort_dir=desc&name=in:pg-a,pg-b,pg-c,pg-d');
    assert.deepEqual(
      desc.images.map((i) => i.name),
      ['pg-d', 'pg-c', 'pg-b', 'pg-a'],
    );
    assert.deepEqual(
      (await list('tag=pg&sort=name:asc')).images.map((i) => i.name),
      ['pg-a', 'pg-b'],
    );
    assert.deepEqual(
      (await list('disk_format=qcow2&owner=p-other')).images.map((i) => i.name),
      ['pg-d'],
    );
    assert.deepEqual(
      (await list('color=red')).images.map((i) => i.name),
      ['pg-c'],
    );
    const future = new Date(Date.now() + 3600_000).toISOString().slice(0, 19);
    assert.equal((await list(`created_at=gt:${future}Z&name=in:pg-a,pg-b`)).images.length, 0);
    assert.equal((await list(`created_at=lt:${future}Z&name=in:pg-a,pg-b`)).images.length, 2);
    assert.equal((await call(base, '/v2/images?sort=name:asc&sort_key=id', { token: OTHER.token })).status, 400);
    assert.equal((await call(base, '/v2/images?sort=bogus:asc', { token: OTHER.token })).status, 400);
    // Walk pages of 3 following `next` exactly as a client would.
    const seen: string[] = [];
    let page = await list('limit=3&sort=name:asc&name=in:pg-a,pg-b,pg-c,pg-d');
    assert.equal(page.first, '/v2/images?limit=3&sort=name%3Aasc&name=in%3Apg-a%2Cpg-b%2Cpg-c%2Cpg-d');
    assert.equal(page.schema, '/v2/schemas/images');
    seen.push(...page.images.map((i) => i.name));
    assert.ok(page.next);
    const res = await call(`${base}`, page.next!, { token: OTHER.token });
    page = (await res.json()) as typeof page;
    seen.push(...page.images.map((i) => i.name));
    assert.deepEqual(seen, ['pg-a', 'pg-b', 'pg-c', 'pg-d']);
    assert.equal(page.next, undefined);
    assert.equal((await call(base, '/v2/images?marker=nope', { token: OTHER.token })).status, 400);
  });

  it('serves schemas and import info', async () => {
    const s = (await (await call(base, '/v2/schemas/image', { token: DEMO.token })).json()) as {
      name: string;
      properties: Record<string, unknown>;
    };
    assert.equal(s.name, 'image');
    assert.ok('disk_format' in s.properties);
    const ss = (await (await call(base, '/v2/schemas/images', { token: DEMO.token })).json()) as { name: string };
    assert.equal(ss.name, 'images');
    const info = (await (await call(base, '/v2/info/import', { token: DEMO.token })).json()) as Record<
      string,
      { value: string[] }
    >;
    assert.ok(info['import-methods']!.value.includes('glance-direct'));
  });

  it('deactivates and reactivates; deactivated data cannot be downloaded by non-admins', async () => {
    const img = await createImage(DEMO.token, { name: 'deact', disk_format: 'raw', container_format: 'bare' });
    await upload(DEMO.token, img.id, Buffer.from('data'));
    assert.equal(
      (await call(base, `/v2/images/${img.id}/actions/deactivate`, { method: 'POST', token: DEMO.token })).status,
      204,
    );
    assert.equal((await call(base, `/v2/images/${img.id}/file`, { token: DEMO.token })).status, 403);
    assert.equal(
      (await call(base, `/v2/images/${img.id}/actions/reactivate`, { method: 'POST', token: DEMO.token })).status,
      204,
    );
    const ok = await call(base, `/v2/images/${img.id}/file`, { token: DEMO.token });
    assert.equal(await ok.text(), 'data');
  });

  it('exposes images to other services in-process', async () => {
    const img = await createImage(DEMO.token, { name: 'internal', min_disk: 3, min_ram: 64 });
    assert.deepEqual(cloud.ctx.internal.images.get(img.id), {
      id: img.id,
      status: 'queued',
      minDisk: 3,
      minRam: 64,
      size: null,
    });
    assert.equal(cloud.ctx.internal.images.get('nope'), undefined);
  });
});
