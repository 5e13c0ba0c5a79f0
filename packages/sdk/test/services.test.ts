import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { ErrorCode } from '../src/errors/codes.ts';
import { OcxError } from '../src/errors/ocx-error.ts';
import {
  BlockStorageClient,
  ComputeClient,
  collect,
  IdentityClient,
  ImageClient,
  NetworkClient,
  ObjectStoreClient,
} from '../src/services/index.ts';
import { type FakeCloud, type FakeRequest, novaServer, PROJECT, startFakeCloud } from './cloud-fake.ts';

function sink(): Writable & { data(): Buffer } {
  const chunks: Buffer[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, done) {
      chunks.push(chunk);
      done();
    },
  }) as Writable & { data(): Buffer };
  w.data = () => Buffer.concat(chunks);
  return w;
}

describe('service clients against a loopback OpenStack', () => {
  let fake: FakeCloud;
  before(async () => {
    fake = await startFakeCloud();
  });
  after(async () => {
    await fake.close();
  });

  test('compute: listServers follows servers_links across three pages, sending limit and marker', async () => {
    const all = Array.from({ length: 7 }, (_, i) => novaServer(`srv-${i}`, `node-${i}`));
    fake.route('GET', '/compute/v2.1/servers/detail', (r) => {
      const limit = Number(r.query.get('limit') ?? 1000);
      const marker = r.query.get('marker');
      const start = marker ? all.findIndex((s) => s.id === marker) + 1 : 0;
      const page = all.slice(start, start + limit);
      const last = page.at(-1);
      const more = start + limit < all.length;
      return {
        json: {
          servers: page,
          ...(more && last
            ? {
                servers_links: [
                  { rel: 'next', href: `${fake.url}/compute/v2.1/servers/detail?limit=${limit}&marker=${last.id}` },
                ],
              }
            : {}),
        },
      };
    });
    const compute = ComputeClient.fromSession(fake.session());
    const before = fake.count('GET', '/compute/v2.1/servers/detail');
    const got = await collect(compute.listServers({ pageSize: 3 }));
    assert.deepEqual(
      got.map((s) => s.id),
      all.map((s) => s.id),
    );
    assert.equal(fake.count('GET', '/compute/v2.1/servers/detail') - before, 3);
    const pages = fake.requests.filter((r) => r.path === '/compute/v2.1/servers/detail').slice(-3);
    assert.deepEqual(
      pages.map((r) => r.query.get('marker')),
      [null, 'srv-2', 'srv-5'],
    );
  });

  test('image: listImages follows Glance\'s relative "next" link and keeps filters on the first page', async () => {
    const images = Array.from({ length: 5 }, (_, i) => ({ id: `img-${i}`, name: `image-${i}`, status: 'active' }));
    fake.route('GET', '/image/v2/images', (r) => {
      const marker = r.query.get('marker');
      const start = marker ? images.findIndex((i) => i.id === marker) + 1 : 0;
      const page = images.slice(start, start + 2);
      const body: Record<string, unknown> = { images: page, first: '/v2/images', schema: '/v2/schemas/images' };
      if (start + 2 < images.length) body.next = `/v2/images?marker=${page.at(-1)!.id}&limit=2`;
      return { json: body };
    });
    const image = ImageClient.fromSession(fake.session());
    const got = await collect(image.listImages({ query: { status: 'active', sort: 'name:asc' }, pageSize: 2 }));
    assert.deepEqual(
      got.map((i) => i.id),
      images.map((i) => i.id),
    );
    const first = fake.requests.filter((r) => r.path === '/image/v2/images').at(-3)!;
    assert.equal(first.query.get('status'), 'active');
    assert.equal(first.query.get('sort'), 'name:asc');
  });

  test('identity: listProjects follows Keystone links.next', async () => {
    fake.route('GET', '/identity/v3/projects', (r) =>
      r.query.get('page') === '2'
        ? { json: { projects: [{ id: 'p3', name: 'three', domain_id: 'default' }], links: { next: null } } }
        : {
            json: {
              projects: [
                { id: 'p1', name: 'one', domain_id: 'default' },
                { id: 'p2', name: 'two', domain_id: 'default' },
              ],
              links: { next: `${fake.url}/identity/v3/projects?page=2` },
            },
          },
    );
    const identity = IdentityClient.fromSession(fake.session());
    const got = await collect(identity.listProjects());
    assert.deepEqual(
      got.map((p) => p.name),
      ['one', 'two', 'three'],
    );
  });

  test('network: listNetworks follows networks_links; quota details come back per resource', async () => {
    fake.route('GET', '/network/v2.0/networks', (r) =>
      r.query.get('marker')
        ? { json: { networks: [{ id: 'n2', name: 'public', 'router:external': true }], networks_links: [] } }
        : {
            json: {
              networks: [{ id: 'n1', name: 'private' }],
              networks_links: [{ rel: 'next', href: `${fake.url}/network/v2.0/networks?limit=1&marker=n1` }],
            },
          },
    );
    fake.route('GET', `/network/v2.0/quotas/${PROJECT.id}/details`, () => ({
      json: { quota: { floatingip: { limit: 50, used: 3, reserved: 0 }, port: { limit: -1, used: 9, reserved: 1 } } },
    }));
    const network = NetworkClient.fromSession(fake.session());
    assert.deepEqual(
      (await collect(network.listNetworks({ pageSize: 1 }))).map((n) => n.name),
      ['private', 'public'],
    );
    const q = await network.getQuotaDetails(PROJECT.id);
    assert.deepEqual(q.floatingip, { limit: 50, used: 3, reserved: 0 });
    assert.equal(q.port?.limit, -1);
  });

  test('block storage: quota set with usage, on the project-scoped endpoint', async () => {
    fake.route('GET', `/volume/v3/${PROJECT.id}/os-quota-sets/${PROJECT.id}`, (r) => ({
      json: {
        quota_set:
          r.query.get('usage') === 'true'
            ? { id: PROJECT.id, volumes: { limit: 10, in_use: 2, reserved: 0, allocated: 0 } }
            : { id: PROJECT.id, volumes: 10 },
      },
    }));
    const bs = BlockStorageClient.fromSession(fake.session());
    const withUsage = await bs.getQuotaSet(PROJECT.id, { usage: true });
    assert.deepEqual(withUsage.volumes, { limit: 10, in_use: 2, reserved: 0, allocated: 0 });
    const plain = await bs.getQuotaSet(PROJECT.id);
    assert.equal(plain.volumes, 10);
  });

  test('compute: a body without the expected key is INVALID_RESPONSE; a 404 is NOT_FOUND with the fault message', async () => {
    fake.route('GET', '/compute/v2.1/servers/odd', () => ({ json: { notaserver: {} } }));
    const compute = ComputeClient.fromSession(fake.session());
    await assert.rejects(
      compute.getServer('odd'),
      (e: unknown) => e instanceof OcxError && e.code === ErrorCode.INVALID_RESPONSE,
    );
    await assert.rejects(
      compute.getServer('missing'),
      (e: unknown) => e instanceof OcxError && e.code === ErrorCode.NOT_FOUND && /no route/.test(e.message),
    );
  });

  test('image: upload streams a file path and download streams to a Writable, bytes intact', async () => {
    const stored = new Map<string, Buffer>();
    fake.route('PUT', '/image/v2/images/img-up/file', (r) => {
      assert.equal(r.headers['content-type'], 'application/octet-stream');
      stored.set('img-up', r.body);
      return { status: 204 };
    });
    fake.route('GET', '/image/v2/images/img-up/file', () => {
      const data = stored.get('img-up')!;
      return { body: data, headers: { 'content-md5': createHash('md5').update(data).digest('hex') } };
    });
    const dir = await mkdtemp(join(tmpdir(), 'ocx-img-'));
    try {
      const path = join(dir, 'disk.raw');
      const content = Buffer.alloc(300_000);
      for (let i = 0; i < content.length; i++) content[i] = (i * 7) % 251;
      await writeFile(path, content);
      const image = ImageClient.fromSession(fake.session());
      await image.uploadImageData('img-up', { path });
      assert.ok(stored.get('img-up')!.equals(content));
      const out = sink();
      const { bytes, contentMd5 } = await image.downloadImageData('img-up', out);
      assert.equal(bytes, content.length);
      assert.ok(out.data().equals(content));
      assert.equal(contentMd5, createHash('md5').update(content).digest('hex'));
      // An async iterable works as a body too.
      await image.uploadImageData('img-up', Readable.from([Buffer.from('abc'), Buffer.from('def')]));
      assert.equal(stored.get('img-up')!.toString(), 'abcdef');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('object store: marker paging over containers, streamed PUT, ranged GET (206)', async () => {
    const acct = `/swift/v1/AUTH_${PROJECT.id}`;
    const names = ['a', 'b', 'c', 'd', 'e'];
    fake.route('GET', acct, (r) => {
      assert.equal(r.query.get('format'), 'json');
      const marker = r.query.get('marker');
      const limit = Number(r.query.get('limit') ?? 10000);
      const start = marker ? names.indexOf(marker) + 1 : 0;
      const page = names.slice(start, start + limit).map((name) => ({ name, count: 1, bytes: 10 }));
      return page.length ? { json: page } : { status: 204 };
    });
    const objects = new Map<string, Buffer>();
    fake.route('PUT', `${acct}/c1/dir/obj.txt`, (r) => {
      objects.set('dir/obj.txt', r.body);
      return { status: 201, headers: { etag: createHash('md5').update(r.body).digest('hex') } };
    });
    fake.route('GET', `${acct}/c1/dir/obj.txt`, (r) => {
      const data = objects.get('dir/obj.txt')!;
      const m = /^bytes=(\d+)-(\d*)$/.exec(String(r.headers.range ?? ''));
      if (!m) return { body: data };
      const start = Number(m[1]);
      const end = m[2] ? Number(m[2]) : data.length - 1;
      return {
        status: 206,
        body: data.subarray(start, end + 1),
        headers: { 'content-range': `bytes ${start}-${end}/${data.length}` },
      };
    });
    const swift = ObjectStoreClient.fromSession(fake.session());
    const containers = await collect(swift.listContainers({ pageSize: 2 }));
    assert.deepEqual(
      containers.map((c) => c.name),
      names,
    );
    const etag = await swift.putObject(
      'c1',
      'dir/obj.txt',
      Readable.from([Buffer.from('hello '), Buffer.from('world')]),
    );
    assert.equal(etag, createHash('md5').update('hello world').digest('hex'));
    const out = sink();
    const stat = await swift.downloadObject('c1', 'dir/obj.txt', out, { range: { start: 6, end: 10 } });
    assert.equal(stat.status, 206);
    assert.equal(out.data().toString(), 'world');
  });

  test('request shapes: server actions, volume attach, transfers, security group rules, image tags and JSON patch', async () => {
    const seen: { method: string; path: string; body: unknown; type: string | undefined }[] = [];
    const record = (status: number, json?: unknown) => (r: FakeRequest) => {
      seen.push({
        method: r.method,
        path: r.path,
        body: r.body.length ? JSON.parse(r.body.toString()) : undefined,
        type: r.headers['content-type'],
      });
      return { status, json };
    };
    const C = '/compute/v2.1';
    const V = `/volume/v3/${PROJECT.id}`;
    fake.route('POST', `${C}/servers/s1/action`, record(202));
    fake.route(
      'POST',
      `${C}/servers/s1/os-volume_attachments`,
      record(200, { volumeAttachment: { volumeId: 'v1', serverId: 's1', device: '/dev/vdb' } }),
    );
    fake.route(
      'POST',
      `${V}/os-volume-transfer`,
      record(202, { transfer: { id: 't1', name: 'x', volume_id: 'v1', auth_key: 'k' } }),
    );
    fake.route(
      'POST',
      `${V}/os-volume-transfer/t1/accept`,
      record(202, { transfer: { id: 't1', name: 'x', volume_id: 'v1' } }),
    );
    fake.route('POST', '/network/v2.0/security-group-rules', record(201, { security_group_rule: { id: 'r1' } }));
    fake.route('PUT', '/image/v2/images/i1/tags/blue', record(204));
    fake.route('PATCH', '/image/v2/images/i1', record(200, { id: 'i1', name: 'n', status: 'active' }));
    const session = fake.session();
    const compute = ComputeClient.fromSession(session);
    await compute.rebootServer('s1', 'HARD');
    await compute.stopServer('s1');
    await compute.startServer('s1');
    const att = await compute.attachVolume('s1', 'v1', { device: '/dev/vdb' });
    assert.equal(att.device, '/dev/vdb');
    const bs = BlockStorageClient.fromSession(session);
    const tr = await bs.createTransfer('v1', { name: 'x' });
    assert.equal(tr.auth_key, 'k');
    await bs.acceptTransfer('t1', 'k');
    const net = NetworkClient.fromSession(session);
    await net.createSecurityGroupRule({
      security_group_id: 'sg',
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
    });
    const image = ImageClient.fromSession(session);
    await image.addTag('i1', 'blue');
    await image.setImageProperties('i1', { 'owner_specified.openstack.sha256': 'abc', name: 'n' }, { name: 'old' });
    assert.deepEqual(
      seen.map((x) => [x.method, x.path.replace(V, '{V}'), x.body]),
      [
        ['POST', `${C}/servers/s1/action`, { reboot: { type: 'HARD' } }],
        ['POST', `${C}/servers/s1/action`, { 'os-stop': null }],
        ['POST', `${C}/servers/s1/action`, { 'os-start': null }],
        ['POST', `${C}/servers/s1/os-volume_attachments`, { volumeAttachment: { volumeId: 'v1', device: '/dev/vdb' } }],
        ['POST', '{V}/os-volume-transfer', { transfer: { volume_id: 'v1', name: 'x' } }],
        ['POST', '{V}/os-volume-transfer/t1/accept', { accept: { auth_key: 'k' } }],
        [
          'POST',
          '/network/v2.0/security-group-rules',
          {
            security_group_rule: {
              security_group_id: 'sg',
              direction: 'ingress',
              protocol: 'tcp',
              port_range_min: 22,
              port_range_max: 22,
            },
          },
        ],
        ['PUT', '/image/v2/images/i1/tags/blue', undefined],
        [
          'PATCH',
          '/image/v2/images/i1',
          [
            { op: 'add', path: '/owner_specified.openstack.sha256', value: 'abc' },
            { op: 'replace', path: '/name', value: 'n' },
          ],
        ],
      ],
    );
    assert.equal(seen.at(-1)!.type, 'application/openstack-images-v2.1-json-patch');
  });
});
