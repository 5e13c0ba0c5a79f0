// Contract: Swift as a user sees it on the wire (statuses, headers, bodies), the same on devcloud and on real
// Swift (test/real/lib/swift.sh: Swift 2.30 with keystone auth, SLO, DLO, bulk, quotas): containers and their
// listings, objects, metadata, Range, copy, static and dynamic large objects, quotas and error answers.
// TempURL is in object-store-tempurl.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isOcxError, ObjectStoreClient } from '@ocx/sdk';
import { byteranges, md5, type Swift, swiftFor } from './swift.ts';
import { eventually, startTarget, type Target } from './target.ts';

const utf8 = (s: string) => Buffer.from(s, 'utf8');

describe('object store', () => {
  let t: Target;
  let sw: Swift;
  before(async () => {
    t = await startTarget();
    sw = await swiftFor(t);
  });
  after(async () => {
    await sw?.cleanup();
    await t?.stop();
  });

  describe('containers', () => {
    it('PUT creates (201) then accepts again (202); HEAD shows counts and metadata; POST sets and removes it', async () => {
      const c = `${t.prefix}-meta`;
      const first = await sw.call('PUT', `/${c}`, { headers: { 'x-container-meta-color': 'blue' } });
      assert.equal(first.status, 201);
      await sw.container('meta'); // records it for cleanup (202 now)
      const again = await sw.call('PUT', `/${c}`);
      assert.equal(again.status, 202);
      const head = await sw.call('HEAD', `/${c}`);
      assert.equal(head.status, 204);
      assert.equal(head.headers.get('x-container-object-count'), '0');
      assert.equal(head.headers.get('x-container-bytes-used'), '0');
      assert.equal(head.headers.get('x-container-meta-color'), 'blue');
      const post = await sw.call('POST', `/${c}`, {
        headers: { 'x-container-meta-shape': 'round', 'x-remove-container-meta-color': 'x' },
      });
      assert.equal(post.status, 204);
      const after = await sw.call('HEAD', `/${c}`);
      assert.equal(after.headers.get('x-container-meta-shape'), 'round');
      assert.equal(after.headers.get('x-container-meta-color'), null);
    });

    it('account listing: prefix, limit, marker, end_marker and delimiter', async () => {
      const names = ['ls-a', 'ls-b', 'ls-c', 'ls-d-1', 'ls-d-2'];
      for (const n of names) await sw.container(n);
      const p = `${t.prefix}-ls-`;
      const list = async (q: Record<string, string>) => {
        const r = await sw.call('GET', '', { query: { format: 'json', prefix: p, ...q } });
        assert.equal(r.status, 200);
        assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
        return (JSON.parse(r.text) as { name?: string; subdir?: string; count?: number; bytes?: number }[]).map(
          (e) => e.name ?? `subdir:${e.subdir}`,
        );
      };
      assert.deepEqual(
        await list({}),
        names.map((n) => `${t.prefix}-${n}`),
      );
      assert.deepEqual(await list({ limit: '2' }), [`${p}a`, `${p}b`]);
      assert.deepEqual(await list({ limit: '2', marker: `${p}b` }), [`${p}c`, `${p}d-1`]);
      assert.deepEqual(await list({ end_marker: `${p}c` }), [`${p}a`, `${p}b`]);
      assert.deepEqual(await list({ delimiter: '-' }), [`${p}a`, `${p}b`, `${p}c`, `subdir:${p}d-`]);
      const r = await sw.call('GET', '', { query: { format: 'json', prefix: `${p}a` } });
      const [entry] = JSON.parse(r.text) as { name: string; count: number; bytes: number }[];
      assert.equal(entry?.count, 0);
      assert.equal(entry?.bytes, 0);
      // plain-text listing: one name per line
      const plain = await sw.call('GET', '', { query: { prefix: p, limit: '2' } });
      assert.equal(plain.status, 200);
      assert.match(plain.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(plain.text, `${p}a\n${p}b\n`);
    });

    it('DELETE of a non-empty container is 409; empty: 204, then HEAD is 404', async () => {
      const c = await sw.container('del');
      assert.equal((await sw.call('PUT', `/${c}/o`, { body: utf8('x') })).status, 201);
      const conflict = await sw.call('DELETE', `/${c}`);
      assert.equal(conflict.status, 409);
      assert.match(conflict.text, /Conflict/);
      // the SDK surfaces it as an OcxError with the status
      const os = new ObjectStoreClient(t.session('sp1').client('object-store'));
      const err = await os.deleteContainer(c).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isOcxError(err), `got ${String(err)}`);
      assert.equal(err.status, 409);
      assert.equal((await sw.call('DELETE', `/${c}/o`)).status, 204);
      assert.equal((await sw.call('DELETE', `/${c}`)).status, 204);
      assert.equal((await sw.call('HEAD', `/${c}`)).status, 404);
      assert.equal((await sw.call('DELETE', `/${c}`)).status, 404);
    });
  });

  describe('objects', () => {
    let c: string;
    before(async () => {
      c = await sw.container('obj');
    });

    it('PUT/HEAD/GET: ETag is the MD5, Content-Type and metadata round-trip; POST replaces metadata', async () => {
      const put = await sw.call('PUT', `/${c}/hello.txt`, {
        body: utf8('hello world'),
        headers: { 'content-type': 'text/plain', 'x-object-meta-color': 'Blue' },
      });
      assert.equal(put.status, 201);
      assert.equal(put.headers.get('etag'), md5('hello world'));
      const head = await sw.call('HEAD', `/${c}/hello.txt`);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), '11');
      assert.equal(head.headers.get('content-type'), 'text/plain');
      assert.equal(head.headers.get('etag'), md5('hello world'));
      assert.equal(head.headers.get('x-object-meta-color'), 'Blue');
      assert.equal(head.headers.get('accept-ranges'), 'bytes');
      assert.match(head.headers.get('x-timestamp') ?? '', /^\d+\.\d{5}$/);
      assert.ok(!Number.isNaN(Date.parse(head.headers.get('last-modified') ?? '')));
      const get = await sw.call('GET', `/${c}/hello.txt`);
      assert.equal(get.status, 200);
      assert.equal(get.text, 'hello world');
      assert.equal(get.headers.get('etag'), md5('hello world'));
      // POST replaces all user metadata (color goes, shape comes); content and type stay
      const post = await sw.call('POST', `/${c}/hello.txt`, { headers: { 'x-object-meta-shape': 'round' } });
      assert.equal(post.status, 202);
      const after = await sw.call('HEAD', `/${c}/hello.txt`);
      assert.equal(after.headers.get('x-object-meta-shape'), 'round');
      assert.equal(after.headers.get('x-object-meta-color'), null);
      assert.equal(after.headers.get('content-type'), 'text/plain');
      assert.equal(after.headers.get('etag'), md5('hello world'));
    });

    it('without Content-Type the type is guessed from the name; a wrong ETag is 422 and stores nothing', async () => {
      assert.equal((await sw.call('PUT', `/${c}/data.json`, { body: utf8('{}') })).status, 201);
      assert.equal((await sw.call('HEAD', `/${c}/data.json`)).headers.get('content-type'), 'application/json');
      assert.equal((await sw.call('PUT', `/${c}/blob`, { body: utf8('b') })).status, 201);
      assert.equal((await sw.call('HEAD', `/${c}/blob`)).headers.get('content-type'), 'application/octet-stream');
      const bad = await sw.call('PUT', `/${c}/bad`, { body: utf8('x'), headers: { etag: md5('y') } });
      assert.equal(bad.status, 422);
      assert.equal((await sw.call('HEAD', `/${c}/bad`)).status, 404);
    });

    it('conditional requests: If-None-Match → 304, If-Match mismatch → 412', async () => {
      await sw.call('PUT', `/${c}/cond`, { body: utf8('abc') });
      const etag = md5('abc');
      assert.equal((await sw.call('GET', `/${c}/cond`, { headers: { 'if-none-match': etag } })).status, 304);
      assert.equal((await sw.call('GET', `/${c}/cond`, { headers: { 'if-match': md5('zzz') } })).status, 412);
      assert.equal((await sw.call('GET', `/${c}/cond`, { headers: { 'if-match': etag } })).status, 200);
    });

    it('names with "/" and non-ASCII characters round-trip and list decoded', async () => {
      const name = 'dir/über café.txt';
      const path = `/${c}/${name.split('/').map(encodeURIComponent).join('/')}`;
      assert.equal((await sw.call('PUT', path, { body: utf8('u') })).status, 201);
      assert.equal((await sw.call('GET', path)).text, 'u');
      const r = await sw.call('GET', `/${c}`, { query: { format: 'json', prefix: 'dir/' } });
      assert.deepEqual(
        (JSON.parse(r.text) as { name: string }[]).map((o) => o.name),
        [name],
      );
    });

    it('DELETE: 204, then GET and a second DELETE are 404', async () => {
      await sw.call('PUT', `/${c}/gone`, { body: utf8('g') });
      assert.equal((await sw.call('DELETE', `/${c}/gone`)).status, 204);
      assert.equal((await sw.call('GET', `/${c}/gone`)).status, 404);
      assert.equal((await sw.call('DELETE', `/${c}/gone`)).status, 404);
    });

    it('Range: first bytes, open end, suffix, several ranges (multipart/byteranges), unsatisfiable → 416', async () => {
      const data = 'hello world';
      await sw.call('PUT', `/${c}/range.txt`, { body: utf8(data), headers: { 'content-type': 'text/plain' } });
      const get = (range: string) => sw.call('GET', `/${c}/range.txt`, { headers: { range } });
      const first = await get('bytes=0-4');
      assert.equal(first.status, 206);
      assert.equal(first.text, 'hello');
      assert.equal(first.headers.get('content-range'), 'bytes 0-4/11');
      assert.equal(first.headers.get('content-length'), '5');
      const open = await get('bytes=6-');
      assert.equal(open.status, 206);
      assert.equal(open.text, 'world');
      assert.equal(open.headers.get('content-range'), 'bytes 6-10/11');
      const suffix = await get('bytes=-5');
      assert.equal(suffix.status, 206);
      assert.equal(suffix.text, 'world');
      assert.equal(suffix.headers.get('content-range'), 'bytes 6-10/11');
      const beyond = await get('bytes=-50');
      assert.equal(beyond.status, 206);
      assert.equal(beyond.text, data);
      const multi = await get('bytes=0-1,4-5');
      assert.equal(multi.status, 206);
      const ct = multi.headers.get('content-type') ?? '';
      assert.match(ct, /^multipart\/byteranges;\s*boundary=/);
      assert.deepEqual(byteranges(ct, multi.body), [
        { range: 'bytes 0-1/11', data: 'he' },
        { range: 'bytes 4-5/11', data: 'o ' },
      ]);
      const unsat = await get('bytes=100-200');
      assert.equal(unsat.status, 416);
      assert.equal(unsat.headers.get('content-range'), 'bytes */11');
      // a Range header Swift cannot parse is ignored: the whole object, 200
      const junk = await get('bytes=x-y');
      assert.equal(junk.status, 200);
      assert.equal(junk.text, data);
    });

    it('copy: PUT with X-Copy-From and the COPY verb keep body, type and metadata; a missing source is 404', async () => {
      await sw.call('PUT', `/${c}/src`, {
        body: utf8('copy me'),
        headers: { 'content-type': 'text/x-src', 'x-object-meta-origin': 'src' },
      });
      const put = await sw.call('PUT', `/${c}/dst1`, {
        body: Buffer.alloc(0),
        headers: { 'x-copy-from': `/${c}/src` },
      });
      assert.equal(put.status, 201);
      const d1 = await sw.call('GET', `/${c}/dst1`);
      assert.equal(d1.text, 'copy me');
      assert.equal(d1.headers.get('content-type'), 'text/x-src');
      assert.equal(d1.headers.get('x-object-meta-origin'), 'src');
      assert.equal(d1.headers.get('etag'), md5('copy me'));
      const cp = await sw.call('COPY', `/${c}/src`, {
        headers: { destination: `/${c}/dst2`, 'x-object-meta-extra': 'yes' },
      });
      assert.equal(cp.status, 201);
      const d2 = await sw.call('HEAD', `/${c}/dst2`);
      assert.equal(d2.headers.get('x-object-meta-origin'), 'src');
      assert.equal(d2.headers.get('x-object-meta-extra'), 'yes');
      const missing = await sw.call('PUT', `/${c}/dst3`, {
        body: Buffer.alloc(0),
        headers: { 'x-copy-from': `/${c}/no-such-source` },
      });
      assert.equal(missing.status, 404);
    });
  });

  describe('large objects', () => {
    let c: string;
    before(async () => {
      c = await sw.container('large');
    });
    const seg1 = 'segment-one|';
    const seg2 = 'segment-two';

    it('SLO: manifest PUT, assembled GET and Range, multipart-manifest=get, delete with its segments', async () => {
      await sw.call('PUT', `/${c}/slo/seg/1`, { body: utf8(seg1) });
      await sw.call('PUT', `/${c}/slo/seg/2`, { body: utf8(seg2) });
      const manifest = [
        { path: `/${c}/slo/seg/1`, etag: md5(seg1), size_bytes: seg1.length },
        { path: `/${c}/slo/seg/2`, etag: null, size_bytes: null },
      ];
      const put = await sw.call('PUT', `/${c}/slo/big`, {
        query: { 'multipart-manifest': 'put' },
        body: utf8(JSON.stringify(manifest)),
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(put.status, 201, put.text);
      const sloEtag = `"${md5(md5(seg1) + md5(seg2))}"`;
      assert.equal(put.headers.get('etag'), sloEtag);
      const head = await sw.call('HEAD', `/${c}/slo/big`);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('x-static-large-object'), 'True');
      assert.equal(head.headers.get('content-length'), String(seg1.length + seg2.length));
      assert.equal(head.headers.get('etag'), sloEtag);
      assert.equal(head.headers.get('content-type'), 'text/plain');
      const get = await sw.call('GET', `/${c}/slo/big`);
      assert.equal(get.status, 200);
      assert.equal(get.text, seg1 + seg2);
      const across = await sw.call('GET', `/${c}/slo/big`, { headers: { range: 'bytes=8-15' } });
      assert.equal(across.status, 206);
      assert.equal(across.text, (seg1 + seg2).slice(8, 16));
      assert.equal(across.headers.get('content-range'), `bytes 8-15/${seg1.length + seg2.length}`);
      const raw = await sw.call('GET', `/${c}/slo/big`, { query: { 'multipart-manifest': 'get' } });
      assert.equal(raw.status, 200);
      assert.match(raw.headers.get('content-type') ?? '', /^application\/json/);
      const segs = JSON.parse(raw.text) as { name: string; hash: string; bytes: number }[];
      assert.deepEqual(
        segs.map((s) => [s.name, s.hash, s.bytes]),
        [
          [`/${c}/slo/seg/1`, md5(seg1), seg1.length],
          [`/${c}/slo/seg/2`, md5(seg2), seg2.length],
        ],
      );
      // listings show the manifest with the assembled size
      const list = await sw.call('GET', `/${c}`, { query: { format: 'json', prefix: 'slo/big' } });
      const [entry] = JSON.parse(list.text) as { name: string; bytes: number }[];
      assert.equal(entry?.bytes, seg1.length + seg2.length);
      const del = await sw.call('DELETE', `/${c}/slo/big`, {
        query: { 'multipart-manifest': 'delete' },
        headers: { accept: 'application/json' },
      });
      assert.equal(del.status, 200);
      const report = JSON.parse(del.text) as Record<string, unknown>;
      assert.equal(report['Number Deleted'], 3);
      assert.equal(report['Response Status'], '200 OK');
      for (const p of ['slo/big', 'slo/seg/1', 'slo/seg/2'])
        assert.equal((await sw.call('HEAD', `/${c}/${p}`)).status, 404, p);
    });

    it('SLO: a manifest whose segment ETag or size does not match is 400 and names the segment', async () => {
      await sw.call('PUT', `/${c}/slo2/seg`, { body: utf8(seg1) });
      const bad = await sw.call('PUT', `/${c}/slo2/big`, {
        query: { 'multipart-manifest': 'put' },
        body: utf8(JSON.stringify([{ path: `/${c}/slo2/seg`, etag: md5('other'), size_bytes: seg1.length }])),
      });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /Etag Mismatch/);
      assert.ok(bad.text.includes(`/${c}/slo2/seg`));
      const size = await sw.call('PUT', `/${c}/slo2/big`, {
        query: { 'multipart-manifest': 'put' },
        body: utf8(JSON.stringify([{ path: `/${c}/slo2/seg`, etag: null, size_bytes: 1 }])),
      });
      assert.equal(size.status, 400);
      assert.match(size.text, /Size Mismatch/);
      assert.equal((await sw.call('HEAD', `/${c}/slo2/big`)).status, 404);
    });

    it('DLO: X-Object-Manifest joins the segments under a prefix, in name order', async () => {
      await sw.call('PUT', `/${c}/dlo/seg/002`, { body: utf8(seg2) });
      await sw.call('PUT', `/${c}/dlo/seg/001`, { body: utf8(seg1) });
      const put = await sw.call('PUT', `/${c}/dlo-big`, {
        body: Buffer.alloc(0),
        headers: { 'x-object-manifest': `${c}/dlo/seg/` },
      });
      assert.equal(put.status, 201);
      const head = await sw.call('HEAD', `/${c}/dlo-big`);
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('x-object-manifest'), `${c}/dlo/seg/`);
      assert.equal(head.headers.get('content-length'), String(seg1.length + seg2.length));
      assert.equal(head.headers.get('etag'), `"${md5(md5(seg1) + md5(seg2))}"`);
      const get = await sw.call('GET', `/${c}/dlo-big`);
      assert.equal(get.text, seg1 + seg2);
      const part = await sw.call('GET', `/${c}/dlo-big`, { headers: { range: 'bytes=-4' } });
      assert.equal(part.status, 206);
      assert.equal(part.text, seg2.slice(-4));
      // the manifest itself, with multipart-manifest=get
      const raw = await sw.call('GET', `/${c}/dlo-big`, { query: { 'multipart-manifest': 'get' } });
      assert.equal(raw.status, 200);
      assert.equal(raw.body.length, 0);
      assert.equal(raw.headers.get('x-object-manifest'), `${c}/dlo/seg/`);
      // a new segment shows up at once
      await sw.call('PUT', `/${c}/dlo/seg/003`, { body: utf8('!') });
      assert.equal((await sw.call('GET', `/${c}/dlo-big`)).text, `${seg1}${seg2}!`);
    });
  });

  describe('bulk delete', () => {
    it('POST ?bulk-delete removes listed objects and empty containers; the report counts and names failures', async () => {
      const c1 = await sw.container('bulk1');
      const c2 = await sw.container('bulk2');
      await sw.call('PUT', `/${c1}/a%20b`, { body: utf8('1') });
      await sw.call('PUT', `/${c1}/c`, { body: utf8('2') });
      await sw.call('PUT', `/${c2}/keep`, { body: utf8('3') });
      const bulk = (lines: string[]) =>
        sw.call('POST', '', {
          query: { 'bulk-delete': '' },
          headers: { 'content-type': 'text/plain', accept: 'application/json' },
          body: utf8(lines.map((l) => `${l}\n`).join('')),
        });
      const first = await bulk([`/${c1}/a%20b`, `/${c1}/c`, `/${c1}/missing`, `/${c2}`]);
      assert.equal(first.status, 200);
      assert.match(first.headers.get('content-type') ?? '', /^application\/json/);
      const report = JSON.parse(first.text) as Record<string, unknown>;
      assert.equal(report['Number Deleted'], 2);
      assert.equal(report['Number Not Found'], 1);
      assert.equal(report['Response Status'], '400 Bad Request');
      assert.deepEqual(report.Errors, [[`/${c2}`, '409 Conflict']]);
      assert.equal((await sw.call('HEAD', `/${c1}/a%20b`)).status, 404);
      assert.equal((await sw.call('HEAD', `/${c2}/keep`)).status, 200);
      const second = await bulk([`/${c1}`]);
      const report2 = JSON.parse(second.text) as Record<string, unknown>;
      assert.equal(report2['Number Deleted'], 1);
      assert.equal(report2['Response Status'], '200 OK');
      assert.deepEqual(report2.Errors, []);
      assert.equal((await sw.call('HEAD', `/${c1}`)).status, 404);
    });
  });

  describe('object listings', () => {
    let c: string;
    const names = ['a/1', 'a/2', 'b/1', 'c', 'd'];
    before(async () => {
      c = await sw.container('list');
      for (const n of names)
        await sw.call('PUT', `/${c}/${n}`, { body: utf8(`data of ${n}`), headers: { 'content-type': 'text/plain' } });
    });
    const list = async (q: Record<string, string>) => {
      const r = await sw.call('GET', `/${c}`, { query: { format: 'json', ...q } });
      assert.equal(r.status, 200);
      return (JSON.parse(r.text) as { name?: string; subdir?: string }[]).map((e) => e.name ?? `subdir:${e.subdir}`);
    };

    it('format=json entries carry name, hash, bytes, content_type, last_modified', async () => {
      const r = await sw.call('GET', `/${c}`, { query: { format: 'json', limit: '1' } });
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(r.headers.get('x-container-object-count'), String(names.length));
      const [e] = JSON.parse(r.text) as Record<string, unknown>[];
      assert.equal(e?.name, 'a/1');
      assert.equal(e?.hash, md5('data of a/1'));
      assert.equal(e?.bytes, 'data of a/1'.length);
      assert.equal(e?.content_type, 'text/plain');
      assert.match(String(e?.last_modified), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    });

    it('limit, marker, end_marker, prefix and delimiter', async () => {
      assert.deepEqual(await list({}), names);
      assert.deepEqual(await list({ limit: '2' }), ['a/1', 'a/2']);
      assert.deepEqual(await list({ limit: '2', marker: 'a/2' }), ['b/1', 'c']);
      assert.deepEqual(await list({ marker: 'c' }), ['d']);
      assert.deepEqual(await list({ marker: 'd' }), []);
      assert.deepEqual(await list({ end_marker: 'c' }), ['a/1', 'a/2', 'b/1']);
      assert.deepEqual(await list({ marker: 'a/1', end_marker: 'c' }), ['a/2', 'b/1']);
      assert.deepEqual(await list({ prefix: 'a/' }), ['a/1', 'a/2']);
      assert.deepEqual(await list({ delimiter: '/' }), ['subdir:a/', 'subdir:b/', 'c', 'd']);
      assert.deepEqual(await list({ delimiter: '/', limit: '3' }), ['subdir:a/', 'subdir:b/', 'c']);
      assert.deepEqual(await list({ prefix: 'a/', delimiter: '/' }), ['a/1', 'a/2']);
    });

    it('plain listing is one name per line; an empty container lists as 204 (plain) or [] (json)', async () => {
      const plain = await sw.call('GET', `/${c}`);
      assert.equal(plain.status, 200);
      assert.match(plain.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(plain.text, names.map((n) => `${n}\n`).join(''));
      const empty = await sw.container('list-empty');
      assert.equal((await sw.call('GET', `/${empty}`)).status, 204);
      const json = await sw.call('GET', `/${empty}`, { query: { format: 'json' } });
      assert.equal(json.status, 200);
      assert.deepEqual(JSON.parse(json.text), []);
    });

    it('the SDK pages through with marker and yields every object once', async () => {
      const os = new ObjectStoreClient(t.session('sp1').client('object-store'));
      const got: string[] = [];
      for await (const o of os.listObjects(c, { pageSize: 2 })) got.push(o.name ?? '');
      assert.deepEqual(got, names);
    });
  });

  describe('quotas', () => {
    it('X-Container-Meta-Quota-Bytes: an upload that would exceed it is 413', async () => {
      const c = await sw.container('qb', { 'x-container-meta-quota-bytes': '10' });
      assert.equal((await sw.call('PUT', `/${c}/big`, { body: Buffer.alloc(11) })).status, 413);
      assert.equal((await sw.call('PUT', `/${c}/fits`, { body: Buffer.alloc(10) })).status, 201);
      const over = await sw.call('PUT', `/${c}/one-more`, { body: Buffer.alloc(1) });
      assert.equal(over.status, 413);
      assert.match(over.text, /Upload exceeds quota/);
      // replacing nothing: the stored bytes are unchanged
      assert.equal((await sw.call('HEAD', `/${c}`)).headers.get('x-container-bytes-used'), '10');
    });

    it('X-Container-Meta-Quota-Count: the object after the limit is 413', async () => {
      const c = await sw.container('qc', { 'x-container-meta-quota-count': '1' });
      assert.equal((await sw.call('PUT', `/${c}/first`, { body: utf8('1') })).status, 201);
      assert.equal((await sw.call('PUT', `/${c}/second`, { body: utf8('2') })).status, 413);
    });

    it('a quota that is not a number is 400; a project member may not set an account quota (403)', async () => {
      const c = await sw.container('qbad');
      const bad = await sw.call('POST', `/${c}`, { headers: { 'x-container-meta-quota-bytes': 'lots' } });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /Invalid bytes quota/);
      const badCount = await sw.call('PUT', `/${t.prefix}-qbad2`, {
        headers: { 'x-container-meta-quota-count': '-1' },
      });
      assert.equal(badCount.status, 400);
      assert.match(badCount.text, /Invalid count quota/);
      assert.equal((await sw.call('HEAD', `/${t.prefix}-qbad2`)).status, 404);
      const acct = await sw.call('POST', '', { headers: { 'x-account-meta-quota-bytes': '10' } });
      assert.equal(acct.status, 403);
    });
  });

  describe('accounts', () => {
    it('a reseller admin (the cloud admin here) sets an account quota on the project; its uploads over it are 413', async () => {
      // the reseller's own requests are exempt from account quotas: the project's member uploads
      const adm = await swiftFor(t, 'sp1-admin');
      // the account's usage lags its containers' by a container-updater sweep on real Swift: wait until it caught
      // up, so that the quota below is measured from what the middleware will see
      const used = await eventually('account usage to catch up with its containers', t.settleMs, async () => {
        const acct = Number((await sw.call('HEAD', '')).headers.get('x-account-bytes-used'));
        const list = JSON.parse((await sw.call('GET', '', { query: { format: 'json' } })).text || '[]') as {
          name: string;
        }[];
        let sum = 0;
        for (const { name } of list)
          sum += Number((await sw.call('HEAD', `/${encodeURIComponent(name)}`)).headers.get('x-container-bytes-used'));
        return acct === sum ? acct : undefined;
      });
      const set = await adm.call('POST', sw.account, { headers: { 'x-account-meta-quota-bytes': String(used + 10) } });
      assert.equal(set.status, 204);
      try {
        assert.equal((await sw.call('HEAD', '')).headers.get('x-account-meta-quota-bytes'), String(used + 10));
        const c = await sw.container('aq');
        const over = await sw.call('PUT', `/${c}/big`, { body: Buffer.alloc(11) });
        assert.equal(over.status, 413);
        assert.match(over.text, /Upload exceeds quota/);
        assert.equal((await sw.call('PUT', `/${c}/small`, { body: Buffer.alloc(5) })).status, 201);
        // the member may not lift it
        const lift = await sw.call('POST', '', { headers: { 'x-remove-account-meta-quota-bytes': 'x' } });
        assert.equal(lift.status, 403);
      } finally {
        const rm = await adm.call('POST', sw.account, { headers: { 'x-remove-account-meta-quota-bytes': 'x' } });
        assert.equal(rm.status, 204);
      }
      assert.equal((await sw.call('HEAD', '')).headers.get('x-account-meta-quota-bytes'), null);
    });

    it("sp2 has its own object store: another account, which does not see sp1's containers", async () => {
      const sw2 = await swiftFor(t, 'sp2');
      try {
        assert.notEqual(sw2.account, sw.account);
        const c = await sw.container('iso');
        await sw.call('PUT', `/${c}/only-in-sp1`, { body: utf8('1') });
        assert.equal((await sw2.call('GET', `/${c}/only-in-sp1`)).status, 404);
        const list = await sw2.call('GET', '', { query: { format: 'json', prefix: c } });
        assert.deepEqual(JSON.parse(list.text || '[]'), []);
        await sw2.container('iso');
        assert.equal((await sw2.call('GET', `/${c}`)).status, 204);
      } finally {
        await sw2.cleanup();
      }
    });
  });

  describe('federation', () => {
    it("a K2K token from idp works on sp1's Swift, in the same project account as sp1's own demo user", async () => {
      const fed = await swiftFor(t, 'sp1', t.k2kSession('idp', 'sp1'));
      try {
        assert.equal(fed.account, sw.account);
        const c = await fed.container('k2k');
        assert.equal((await fed.call('PUT', `/${c}/o`, { body: utf8('federated') })).status, 201);
        assert.equal((await sw.call('GET', `/${c}/o`)).text, 'federated');
      } finally {
        await fed.cleanup();
      }
    });
  });

  describe('errors', () => {
    it('a missing object or container is 404 with a request id; the SDK says NOT_FOUND with it', async () => {
      const r = await sw.call('GET', `/${t.prefix}-no-such-container/x`);
      assert.equal(r.status, 404);
      assert.match(r.text, /Not Found/);
      const txn = r.headers.get('x-trans-id') ?? '';
      assert.match(txn, /^tx/);
      assert.equal(r.headers.get('x-openstack-request-id'), txn);
      const os = new ObjectStoreClient(t.session('sp1').client('object-store'));
      const err = await os.headObject(`${t.prefix}-no-such-container`, 'x').then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isOcxError(err), `got ${String(err)}`);
      assert.equal(err.code, 'NOT_FOUND');
      assert.equal(err.status, 404);
      assert.match(err.requestId ?? '', /^tx/);
    });

    it('no token or a bad token is 401 with a WWW-Authenticate challenge', async () => {
      const c = await sw.container('auth');
      const none = await sw.call('GET', `/${c}`, { anonymous: true });
      assert.equal(none.status, 401);
      assert.ok(none.headers.get('www-authenticate'));
      const bad = await sw.call('GET', `/${c}`, { anonymous: true, headers: { 'x-auth-token': 'not-a-token' } });
      assert.equal(bad.status, 401);
    });

    it('/info (no token) lists the limits and the middleware; names and metadata over those limits are 400', async () => {
      const url = `${sw.account.replace(/\/v1\/[^/]+$/, '')}/info`;
      const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
      assert.equal(res.status, 200);
      const info = (await res.json()) as Record<string, Record<string, unknown>>;
      // (real Swift also lists bulk_upload, archive extraction, which devcloud does not offer)
      for (const k of ['slo', 'tempurl', 'bulk_delete', 'account_quotas', 'container_quotas'])
        assert.ok(info[k], `/info has ${k}`);
      const limits = info.swift ?? {};
      const maxContainer = Number(limits.max_container_name_length);
      const maxObject = Number(limits.max_object_name_length);
      const maxMetaValue = Number(limits.max_meta_value_length);
      assert.equal(maxContainer, 256);
      assert.equal(maxObject, 1024);
      assert.equal(maxMetaValue, 256);
      assert.ok((info.tempurl?.allowed_digests as string[] | undefined)?.includes('sha256'));
      assert.equal((await sw.call('PUT', `/${'x'.repeat(maxContainer + 1)}`)).status, 400);
      const c = await sw.container('limits');
      const longName = await sw.call('PUT', `/${c}/${'o'.repeat(maxObject + 1)}`, { body: utf8('x') });
      assert.equal(longName.status, 400);
      const meta = await sw.call('PUT', `/${c}/m`, {
        body: utf8('x'),
        headers: { 'x-object-meta-big': 'v'.repeat(maxMetaValue + 1) },
      });
      assert.equal(meta.status, 400);
      assert.match(meta.text, new RegExp(`Metadata value longer than ${maxMetaValue}`));
      assert.equal((await sw.call('HEAD', `/${c}/m`)).status, 404);
    });
  });
});
