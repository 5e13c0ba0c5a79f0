import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { swiftModule } from '../src/swift/index.ts';
import { ADMIN, call, DEMO, type FakeCloud, OTHER, startFake } from './storage-fake-ctx.ts';
import { startChildServer } from './storage-rss.ts';

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

describe('swift', () => {
  let cloud: FakeCloud;
  let root: string;
  let acct: string;
  before(async () => {
    cloud = await startFake([swiftModule]);
    root = `${cloud.baseUrl}/object-store`;
    acct = `${root}/v1/AUTH_${DEMO.projectId}`;
  });
  after(async () => cloud.close());

  const put = (path: string, body: string | Buffer, headers: Record<string, string> = {}, token = DEMO.token) =>
    call(acct, path, { method: 'PUT', token, headers, body: body as BodyInit });

  it('serves /info at the service root without a token', async () => {
    const res = await call(root, '/info');
    assert.equal(res.status, 200);
    const info = (await res.json()) as { swift: { max_file_size: number }; slo: { min_segment_size: number } };
    assert.ok(info.swift.max_file_size > 0);
    assert.equal(info.slo.min_segment_size, 1);
  });

  it('autocreates the account: HEAD 204 with counts, empty plain listing 204, empty json []', async () => {
    const head = await call(acct, '', { method: 'HEAD', token: DEMO.token });
    assert.equal(head.status, 204);
    assert.equal(head.headers.get('x-account-container-count'), '0');
    assert.equal(head.headers.get('x-account-object-count'), '0');
    assert.match(head.headers.get('x-trans-id') ?? '', /^tx[0-9a-f]{21}-[0-9a-f]{10}$/);
    assert.equal(head.headers.get('x-openstack-request-id'), head.headers.get('x-trans-id'));
    assert.match(head.headers.get('x-timestamp') ?? '', /^\d+\.\d{5}$/);
    const plain = await call(acct, '', { token: DEMO.token });
    assert.equal(plain.status, 204);
    const json = await call(acct, '?format=json', { token: DEMO.token });
    assert.equal(json.status, 200);
    assert.deepEqual(await json.json(), []);
  });

  it('enforces that a token only reaches its own account unless admin', async () => {
    const none = await call(acct, '');
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Keystone uri=/);
    const other = await call(acct, '', { token: OTHER.token });
    assert.equal(other.status, 403);
    assert.equal(await other.text(), '<html><h1>Forbidden</h1><p>Access was denied to this resource.</p></html>');
    const admin = await call(acct, '', { method: 'HEAD', token: ADMIN.token });
    assert.equal(admin.status, 204);
  });

  it('creates containers (201 then 202), sets and removes metadata, lists them in the account', async () => {
    assert.equal((await put('/c1', '')).status, 201);
    assert.equal((await put('/c1', '', { 'x-container-meta-color': 'blue' })).status, 202);
    const post = await call(acct, '/c1', {
      method: 'POST',
      token: DEMO.token,
      headers: { 'x-container-meta-size': 'big', 'x-remove-container-meta-color': 'x' },
    });
    assert.equal(post.status, 204);
    const head = await call(acct, '/c1', { method: 'HEAD', token: DEMO.token });
    assert.equal(head.status, 204);
    assert.equal(head.headers.get('x-container-meta-size'), 'big');
    assert.equal(head.headers.get('x-container-meta-color'), null);
    assert.equal(head.headers.get('x-container-object-count'), '0');
    assert.equal(head.headers.get('x-storage-policy'), 'Policy-0');
    await put('/c2', '');
    const list = await call(acct, '', { token: DEMO.token });
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await list.text(), 'c1\nc2\n');
    const json = (await (await call(acct, '?format=json&limit=1&marker=c1', { token: DEMO.token })).json()) as {
      name: string;
      count: number;
      bytes: number;
      last_modified: string;
    }[];
    assert.equal(json.length, 1);
    assert.equal(json[0]!.name, 'c2');
    assert.equal(json[0]!.count, 0);
    assert.match(json[0]!.last_modified, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal((await call(acct, '/missing', { method: 'HEAD', token: DEMO.token })).status, 404);
    assert.equal((await put(`/${'x'.repeat(300)}`, '')).status, 400);
  });

  it('PUTs objects with an md5 ETag, checks a supplied ETag (422), and needs a length (411)', async () => {
    const res = await put('/c1/hello.txt', Buffer.from('hello world'), { 'x-object-meta-owner': 'me' });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('etag'), md5('hello world'));
    assert.ok(res.headers.get('last-modified'));
    const bad = await put('/c1/bad', 'abc', { etag: md5('xyz') });
    assert.equal(bad.status, 422);
    assert.equal((await call(acct, '/c1/bad', { method: 'HEAD', token: DEMO.token })).status, 404);
    const good = await put('/c1/good', 'abc', { etag: md5('abc') });
    assert.equal(good.status, 201);
    const nocontainer = await put('/nope/x', 'a');
    assert.equal(nocontainer.status, 404);
    // A PUT with neither Content-Length nor chunked encoding, written by hand on a raw socket.
    const u = new URL(`${acct}/c1/nolength`);
    const statusLine = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(u.port), u.hostname, () => {
        sock.write(
          `PUT ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nX-Auth-Token: ${DEMO.token}\r\nConnection: close\r\n\r\n`,
        );
      });
      let data = '';
      sock.on('data', (d) => {
        data += d.toString();
      });
      sock.on('end', () => resolve(data.split('\r\n')[0] ?? ''));
      sock.on('error', reject);
    });
    assert.match(statusLine, /^HTTP\/1\.1 411 /);
  });

  it('an object upload cut off by the client creates nothing and keeps the previous version', async () => {
    await put('/c1/keep', 'old version');
    const u = new URL(`${acct}/c1/keep`);
    await new Promise<void>((resolve, reject) => {
      const sock = connect(Number(u.port), u.hostname, () => {
        sock.write(
          `PUT ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nX-Auth-Token: ${DEMO.token}\r\nContent-Length: 100000\r\n\r\n`,
        );
        sock.write(Buffer.alloc(5000, 1), () => setTimeout(() => sock.destroy(), 50));
      });
      sock.on('close', () => resolve());
      sock.on('error', reject);
    });
    const res = await call(acct, '/c1/keep', { token: DEMO.token });
    assert.equal(await res.text(), 'old version');
  });

  it('GETs and HEADs objects with metadata, content type guess, Range and multiple ranges', async () => {
    const get = await call(acct, '/c1/hello.txt', { token: DEMO.token });
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'hello world');
    assert.equal(get.headers.get('content-type'), 'text/plain');
    assert.equal(get.headers.get('x-object-meta-owner'), 'me');
    assert.equal(get.headers.get('etag'), md5('hello world'));
    assert.equal(get.headers.get('accept-ranges'), 'bytes');
    const head = await call(acct, '/c1/hello.txt', { method: 'HEAD', token: DEMO.token });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '11');
    const part = await call(acct, '/c1/hello.txt', { token: DEMO.token, headers: { range: 'bytes=6-' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 6-10/11');
    assert.equal(await part.text(), 'world');
    const suffix = await call(acct, '/c1/hello.txt', { token: DEMO.token, headers: { range: 'bytes=-3' } });
    assert.equal(await suffix.text(), 'rld');
    const multi = await call(acct, '/c1/hello.txt', { token: DEMO.token, headers: { range: 'bytes=0-1,6-7' } });
    assert.equal(multi.status, 206);
    const ctype = multi.headers.get('content-type') ?? '';
    assert.match(ctype, /^multipart\/byteranges;boundary=/);
    const text = await multi.text();
    assert.match(text, /Content-Range: bytes 0-1\/11\r\n\r\nhe\r\n/);
    assert.match(text, /Content-Range: bytes 6-7\/11\r\n\r\nwo\r\n/);
    const unsat = await call(acct, '/c1/hello.txt', { token: DEMO.token, headers: { range: 'bytes=50-60' } });
    assert.equal(unsat.status, 416);
    assert.equal(unsat.headers.get('content-range'), 'bytes */11');
    const notMod = await call(acct, '/c1/hello.txt', {
      token: DEMO.token,
      headers: { 'if-none-match': md5('hello world') },
    });
    assert.equal(notMod.status, 304);
    const pre = await call(acct, '/c1/hello.txt', { token: DEMO.token, headers: { 'if-match': 'nope' } });
    assert.equal(pre.status, 412);
  });

  it('POST replaces object metadata (202) and DELETE removes objects (204, then 404)', async () => {
    await put('/c1/meta', 'm', { 'x-object-meta-a': '1', 'x-object-meta-b': '2' });
    const post = await call(acct, '/c1/meta', {
      method: 'POST',
      token: DEMO.token,
      headers: { 'x-object-meta-c': '3' },
    });
    assert.equal(post.status, 202);
    const head = await call(acct, '/c1/meta', { method: 'HEAD', token: DEMO.token });
    assert.equal(head.headers.get('x-object-meta-a'), null);
    assert.equal(head.headers.get('x-object-meta-c'), '3');
    assert.equal((await call(acct, '/c1/meta', { method: 'DELETE', token: DEMO.token })).status, 204);
    assert.equal((await call(acct, '/c1/meta', { method: 'DELETE', token: DEMO.token })).status, 404);
  });

  it('lists objects with prefix, delimiter, marker, end_marker, limit and reverse', async () => {
    await put('/list', '');
    for (const n of ['a/1', 'a/2', 'b/1', 'c', 'd']) await put(`/list/${n}`, n);
    const names = async (qs: string) => {
      const res = await call(acct, `/list?format=json${qs}`, { token: DEMO.token });
      return ((await res.json()) as { name?: string; subdir?: string }[]).map((e) => e.name ?? `dir:${e.subdir}`);
    };
    assert.deepEqual(await names(''), ['a/1', 'a/2', 'b/1', 'c', 'd']);
    assert.deepEqual(await names('&delimiter=/'), ['dir:a/', 'dir:b/', 'c', 'd']);
    assert.deepEqual(await names('&prefix=a/'), ['a/1', 'a/2']);
    assert.deepEqual(await names('&marker=a/2&limit=2'), ['b/1', 'c']);
    assert.deepEqual(await names('&end_marker=b'), ['a/1', 'a/2']);
    assert.deepEqual(await names('&reverse=true&limit=2'), ['d', 'c']);
    assert.deepEqual(await names('&delimiter=/&marker=a/'), ['dir:b/', 'c', 'd']);
    const obj = (await (await call(acct, '/list?format=json&prefix=c', { token: DEMO.token })).json()) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(Object.keys(obj[0]!).sort(), ['bytes', 'content_type', 'hash', 'last_modified', 'name']);
    assert.equal(obj[0]!.hash, md5('c'));
    assert.equal(obj[0]!.bytes, 1);
    const plain = await call(acct, '/list?prefix=a/', { token: DEMO.token });
    assert.equal(await plain.text(), 'a/1\na/2\n');
    const head = await call(acct, '/list', { method: 'HEAD', token: DEMO.token });
    assert.equal(head.headers.get('x-container-object-count'), '5');
    assert.equal(head.headers.get('x-container-bytes-used'), String(3 + 3 + 3 + 1 + 1));
    assert.equal((await call(acct, '/list?limit=10001', { token: DEMO.token })).status, 412);
  });

  it('refuses to delete a non-empty container (409) and deletes an empty one', async () => {
    await put('/full', '');
    await put('/full/x', 'x');
    const res = await call(acct, '/full', { method: 'DELETE', token: DEMO.token });
    assert.equal(res.status, 409);
    assert.equal(
      await res.text(),
      '<html><h1>Conflict</h1><p>There was a conflict when trying to complete your request.</p></html>',
    );
    await call(acct, '/full/x', { method: 'DELETE', token: DEMO.token });
    assert.equal((await call(acct, '/full', { method: 'DELETE', token: DEMO.token })).status, 204);
    assert.equal((await call(acct, '/full', { method: 'DELETE', token: DEMO.token })).status, 404);
  });

  it('copies objects server-side with COPY and X-Copy-From, keeping metadata', async () => {
    await put('/c1/src', 'source data', { 'x-object-meta-k': 'v', 'content-type': 'text/x-src' });
    const copy = await call(acct, '/c1/src', { method: 'COPY', token: DEMO.token, headers: { destination: 'c2/dst' } });
    assert.equal(copy.status, 201);
    assert.equal(copy.headers.get('x-copied-from'), 'c1/src');
    const got = await call(acct, '/c2/dst', { token: DEMO.token });
    assert.equal(await got.text(), 'source data');
    assert.equal(got.headers.get('x-object-meta-k'), 'v');
    assert.equal(got.headers.get('content-type'), 'text/x-src');
    const xcf = await put('/c2/dst2', '', { 'x-copy-from': '/c1/src', 'x-object-meta-extra': 'e' });
    assert.equal(xcf.status, 201);
    assert.equal(xcf.headers.get('etag'), md5('source data'));
    const h = await call(acct, '/c2/dst2', { method: 'HEAD', token: DEMO.token });
    assert.equal(h.headers.get('x-object-meta-extra'), 'e');
    assert.equal(h.headers.get('x-object-meta-k'), 'v');
    const missing = await put('/c2/dst3', '', { 'x-copy-from': '/c1/none' });
    assert.equal(missing.status, 404);
  });

  it('static large objects: manifest PUT validates segments, GET streams them, Range spans them, manifest get/delete', async () => {
    await put('/segs', '');
    await put('/slo', '');
    const segs = ['aaaa', 'bbbbbb', 'cc'];
    for (const [i, s] of segs.entries()) await put(`/segs/part${i}`, s);
    const manifest = segs.map((s, i) => ({ path: `/segs/part${i}`, etag: md5(s), size_bytes: s.length }));
    const badManifest = [{ path: '/segs/part0', etag: md5('zzz'), size_bytes: 4 }];
    const bad = await put('/slo/big?multipart-manifest=put', JSON.stringify(badManifest));
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Etag Mismatch/);
    const res = await put('/slo/big?multipart-manifest=put', JSON.stringify(manifest), { 'x-object-meta-kind': 'slo' });
    assert.equal(res.status, 201);
    const expectedEtag = md5(segs.map((s) => md5(s)).join(''));
    assert.equal(res.headers.get('etag'), `"${expectedEtag}"`);
    const get = await call(acct, '/slo/big', { token: DEMO.token });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('x-static-large-object'), 'True');
    assert.equal(get.headers.get('content-length'), '12');
    assert.equal(get.headers.get('etag'), `"${expectedEtag}"`);
    assert.equal(await get.text(), 'aaaabbbbbbcc');
    const range = await call(acct, '/slo/big', { token: DEMO.token, headers: { range: 'bytes=3-10' } });
    assert.equal(range.status, 206);
    assert.equal(await range.text(), 'abbbbbbc');
    const mget = await call(acct, '/slo/big?multipart-manifest=get', { token: DEMO.token });
    const stored = (await mget.json()) as { name: string; bytes: number; hash: string }[];
    assert.deepEqual(
      stored.map((s) => [s.name, s.bytes, s.hash]),
      segs.map((s, i) => [`/segs/part${i}`, s.length, md5(s)]),
    );
    const raw = (await (
      await call(acct, '/slo/big?multipart-manifest=get&format=raw', { token: DEMO.token })
    ).json()) as unknown[];
    assert.deepEqual(raw, manifest);
    const listing = (await (await call(acct, '/slo?format=json', { token: DEMO.token })).json()) as { bytes: number }[];
    assert.equal(listing[0]!.bytes, 12);
    const del = await call(acct, '/slo/big?multipart-manifest=delete', {
      method: 'DELETE',
      token: DEMO.token,
      headers: { accept: 'application/json' },
    });
    assert.equal(del.status, 200);
    const result = (await del.json()) as Record<string, unknown>;
    assert.equal(result['Number Deleted'], 4);
    assert.equal((await call(acct, '/segs/part1', { method: 'HEAD', token: DEMO.token })).status, 404);
  });

  it('SLO segments may carry a byte range and may themselves be manifests', async () => {
    await put('/nest', '');
    await put('/nest/s1', 'abcdef');
    await put('/nest/s2', 'XYZ');
    const inner = [{ path: '/nest/s1', range: '1-3' }, { path: '/nest/s2' }];
    assert.equal((await put('/nest/inner?multipart-manifest=put', JSON.stringify(inner))).status, 201);
    const outer = [{ path: '/nest/inner' }, { path: '/nest/s2', range: '-1' }];
    assert.equal((await put('/nest/outer?multipart-manifest=put', JSON.stringify(outer))).status, 201);
    const res = await call(acct, '/nest/outer', { token: DEMO.token });
    assert.equal(await res.text(), 'bcdXYZZ');
    assert.equal(res.headers.get('content-length'), '7');
  });

  it('listings honour Accept: application/json and format=xml', async () => {
    const json = await call(acct, '/list?prefix=c', { token: DEMO.token, headers: { accept: 'application/json' } });
    assert.equal(json.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(((await json.json()) as { name: string }[])[0]!.name, 'c');
    const xml = await call(acct, '/list?prefix=c&format=xml', { token: DEMO.token });
    assert.equal(xml.headers.get('content-type'), 'application/xml; charset=utf-8');
    const text = await xml.text();
    assert.match(
      text,
      /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<container name="list"><object><hash>[0-9a-f]{32}<\/hash>/,
    );
    assert.match(text, /<name>c<\/name>/);
  });

  it('dynamic large objects concatenate segments under a prefix', async () => {
    await put('/dlo', '');
    await put('/dlo/seg/2', 'world');
    await put('/dlo/seg/1', 'hello ');
    await put('/dlo/whole', '', { 'x-object-manifest': 'dlo/seg/' });
    const res = await call(acct, '/dlo/whole', { token: DEMO.token });
    assert.equal(await res.text(), 'hello world');
    assert.equal(res.headers.get('x-object-manifest'), 'dlo/seg/');
  });

  it('container ACLs: .r:* allows anonymous reads, project grants allow another project to write', async () => {
    await put('/public', '', { 'x-container-read': '.r:*,.rlistings' });
    await put('/public/file', 'public bytes');
    const anon = await call(acct, '/public/file');
    assert.equal(anon.status, 200);
    assert.equal(await anon.text(), 'public bytes');
    assert.equal((await call(acct, '/public')).status, 200);
    assert.equal((await call(acct, '/c1/hello.txt')).status, 401);
    assert.equal((await put('/public/x', 'x', {}, OTHER.token)).status, 403);
    await call(acct, '/public', {
      method: 'POST',
      token: DEMO.token,
      headers: { 'x-container-write': `${OTHER.projectId}:*` },
    });
    assert.equal((await put('/public/x', 'x', {}, OTHER.token)).status, 201);
  });

  it('temporary URLs: a signed GET/PUT works without a token until it expires; a bad signature is 401', async () => {
    await call(acct, '', { method: 'POST', token: DEMO.token, headers: { 'x-account-meta-temp-url-key': 'sekrit' } });
    await put('/tmp', '');
    await put('/tmp/shared.txt', Buffer.from('temp url bytes'));
    const sign = (method: string, expires: number, path: string, digest = 'sha256') =>
      createHmac(digest, 'sekrit').update(`${method}\n${expires}\n${path}`).digest('hex');
    const path = `/v1/AUTH_${DEMO.projectId}/tmp/shared.txt`;
    const exp = Math.floor(Date.now() / 1000) + 600;
    const get = await call(acct, `/tmp/shared.txt?temp_url_sig=${sign('GET', exp, path)}&temp_url_expires=${exp}`);
    assert.equal(get.status, 200);
    assert.equal(await get.text(), 'temp url bytes');
    assert.match(get.headers.get('content-disposition') ?? '', /^attachment; filename="shared.txt"/);
    const sha512 = await call(
      acct,
      `/tmp/shared.txt?temp_url_sig=${sign('GET', exp, path, 'sha512')}&temp_url_expires=${exp}`,
      {
        method: 'HEAD',
      },
    );
    assert.equal(sha512.status, 200, 'HEAD accepts a GET signature');
    const bad = await call(
      acct,
      `/tmp/shared.txt?temp_url_sig=${sign('GET', exp, `${path}x`)}&temp_url_expires=${exp}`,
    );
    assert.equal(bad.status, 401);
    const past = Math.floor(Date.now() / 1000) - 1;
    const expired = await call(
      acct,
      `/tmp/shared.txt?temp_url_sig=${sign('GET', past, path)}&temp_url_expires=${past}`,
    );
    assert.equal(expired.status, 401);
    const wrongMethod = await call(
      acct,
      `/tmp/shared.txt?temp_url_sig=${sign('GET', exp, path)}&temp_url_expires=${exp}`,
      {
        method: 'DELETE',
      },
    );
    assert.equal(wrongMethod.status, 401);
    const upPath = `/v1/AUTH_${DEMO.projectId}/tmp/upload.bin`;
    const up = await call(acct, `/tmp/upload.bin?temp_url_sig=${sign('PUT', exp, upPath)}&temp_url_expires=${exp}`, {
      method: 'PUT',
      body: 'uploaded',
    });
    assert.equal(up.status, 201);
    const prefixSig = sign('GET', exp, `prefix:/v1/AUTH_${DEMO.projectId}/tmp/up`);
    const viaPrefix = await call(
      acct,
      `/tmp/upload.bin?temp_url_sig=${prefixSig}&temp_url_expires=${exp}&temp_url_prefix=up`,
    );
    assert.equal(await viaPrefix.text(), 'uploaded');
    const outside = await call(
      acct,
      `/tmp/shared.txt?temp_url_sig=${prefixSig}&temp_url_expires=${exp}&temp_url_prefix=up`,
    );
    assert.equal(outside.status, 401);
  });

  it('enforces container quotas with 413', async () => {
    await put('/quota', '', { 'x-container-meta-quota-bytes': '10' });
    assert.equal((await put('/quota/a', '12345')).status, 201);
    const over = await put('/quota/b', '1234567');
    assert.equal(over.status, 413);
    assert.equal((await call(acct, '/quota/b', { method: 'HEAD', token: DEMO.token })).status, 404);
  });

  it('expires objects after X-Delete-At', async () => {
    const at = Math.floor(Date.now() / 1000) + 1000;
    await put('/c1/expiring', 'x', { 'x-delete-at': String(at) });
    const head = await call(acct, '/c1/expiring', { method: 'HEAD', token: DEMO.token });
    assert.equal(head.headers.get('x-delete-at'), String(at));
    const row = cloud.ctx.store
      .table<{ id: string; deleteAt: number | null }>('swift_objects')
      .get(`AUTH_${DEMO.projectId}/c1/expiring`)!;
    row.deleteAt = Math.floor(Date.now() / 1000) - 1;
    assert.equal((await call(acct, '/c1/expiring', { method: 'HEAD', token: DEMO.token })).status, 404);
  });

  it('streams a large object in and out through a server whose peak RSS stays far below the object size', async () => {
    const child = await startChildServer();
    try {
      const base = `${child.baseUrl}/object-store/v1/AUTH_${DEMO.projectId}`;
      assert.equal((await call(base, '/big', { method: 'PUT', token: DEMO.token })).status, 201);
      const total = 64 * 1024 * 1024;
      const chunk = 256 * 1024;
      const hash = createHash('md5');
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= total) return controller.close();
          const buf = Buffer.alloc(chunk, (sent / chunk) % 256);
          hash.update(buf);
          sent += chunk;
          controller.enqueue(buf);
        },
      });
      const before = child.peakRss();
      const res = await call(base, '/big/obj', {
        method: 'PUT',
        token: DEMO.token,
        body,
        duplex: 'half',
      } as RequestInit & {
        token: string;
      });
      assert.equal(res.status, 201);
      const etag = hash.digest('hex');
      assert.equal(res.headers.get('etag'), etag);
      const get = await call(base, '/big/obj', { token: DEMO.token });
      assert.equal(get.headers.get('content-length'), String(total));
      const dl = createHash('md5');
      let got = 0;
      for await (const part of get.body as unknown as AsyncIterable<Uint8Array>) {
        dl.update(part);
        got += part.length;
      }
      assert.equal(got, total);
      assert.equal(dl.digest('hex'), etag);
      const growth = child.peakRss() - before;
      assert.ok(growth < total / 3, `server peak RSS grew by ${Math.round(growth / 1048576)} MB for a 64 MB object`);
    } finally {
      await child.stop();
    }
  });
});
