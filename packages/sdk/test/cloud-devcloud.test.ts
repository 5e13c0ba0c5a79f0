// The cloud layer against devcloud (in-process Keystone, Nova, Neutron, Glance on loopback): the nodepool flow
// end to end, request counts for the list-wide address fetch and the single-flight cache, over real HTTP.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { Cloud } from '../src/cloud/index.ts';
import { type CloudsConfig, loadCloudsConfig } from '../src/config/index.ts';
import { ErrorCode } from '../src/errors/codes.ts';
import { isOcxError } from '../src/errors/ocx-error.ts';
import { NetworkClient } from '../src/services/index.ts';
import { createSession } from '../src/session/index.ts';
import type { Session } from '../src/session/types.ts';
import type { Middleware } from '../src/transport/types.ts';

describe('cloud layer on devcloud', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let config: CloudsConfig;
  const sessions: Session[] = [];
  /** Every request the SDK sent: method and URL path (no query). */
  const sent: { method: string; path: string }[] = [];
  const recorder: Middleware = (next) => async (req) => {
    sent.push({ method: req.method, path: new URL(req.url).pathname });
    return next(req);
  };
  const count = (method: string, suffix: string) =>
    sent.filter((r) => r.method === method && r.path.endsWith(suffix)).length;

  function cloud(opts: ConstructorParameters<typeof Cloud>[1] = {}): Cloud {
    const s = createSession(config.getCloud('sp1'), { transportOptions: { middleware: [recorder] } });
    sessions.push(s);
    return new Cloud(s, { pollIntervalMs: 20, ...opts });
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-cloud-dc-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp', 'sp1'], cloudsYamlPath, transitionMs: 50, logLevel: 'silent' });
    config = loadCloudsConfig({ files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] }, loadEnv: false });
  });
  after(async () => {
    for (const s of sessions) await s.close();
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('nodepool flow: image, network, servers, wait, list with one port/FIP fetch, single-flight, delete', async () => {
    const c = cloud({ serverListAgeMs: 100 });
    const data = Buffer.from('devcloud image bytes\n'.repeat(500));
    const image = await c.createImage('dc-img', { data, diskFormat: 'raw', wait: true, timeoutMs: 20_000 });
    assert.equal(image.status, 'active');
    assert.equal(image.checksum, createHash('md5').update(data).digest('hex'));
    assert.equal((await c.createImage('dc-img', { data, diskFormat: 'raw', wait: true })).id, image.id);

    const net = new NetworkClient(c.session.client('network'));
    const network = await net.createNetwork({ name: 'dc-net' });
    await net.createSubnet({ network_id: network.id, cidr: '10.55.0.0/24', ip_version: 4, name: 'dc-sub' });
    const flavor = (await c.listFlavors()).sort((a, b) => a.ram - b.ram)[0]!;

    const servers = await Promise.all(
      [1, 2, 3].map((i) =>
        c.createServer({
          name: `dc-srv-${i}`,
          image: 'dc-img',
          flavor,
          network: 'dc-net',
          metadata: { nodepool_node_id: String(i) },
          wait: true,
          autoIp: false,
          timeoutMs: 20_000,
        }),
      ),
    );
    for (const s of servers) {
      assert.equal(s.status, 'ACTIVE');
      assert.match(s.private_v4, /^10\.55\.0\.\d+$/);
      assert.equal(s.interface_ip, s.private_v4);
      assert.equal(s.location.cloud, 'sp1');
      assert.equal(s.location.project.name, 'demo');
    }

    // One servers GET, one ports GET and one floating-IP GET for the whole list, shared by 30 callers.
    c.invalidateCaches();
    const before = sent.length;
    const lists = await Promise.all(Array.from({ length: 30 }, () => c.listServers()));
    const during = sent.slice(before);
    assert.equal(during.filter((r) => r.method === 'GET' && r.path.endsWith('/servers/detail')).length, 1);
    assert.equal(during.filter((r) => r.method === 'GET' && r.path.endsWith('/ports')).length, 1);
    assert.ok(during.filter((r) => r.method === 'GET' && r.path.endsWith('/floatingips')).length <= 1);
    const perServer = during.filter(
      (r) => (/\/servers\/[^/]+$/.test(r.path) && !r.path.endsWith('/detail')) || r.path.includes('/ports/'),
    );
    assert.deepEqual(perServer, []);
    for (const list of lists) assert.deepEqual(list.map((s) => s.id).sort(), servers.map((s) => s.id).sort());

    assert.equal((await c.getServer('dc-srv-2'))?.metadata.nodepool_node_id, '2');
    assert.equal(await c.getServer('dc-srv-none'), null);

    for (const s of servers)
      assert.equal(await c.deleteServer(s.id, { wait: true, deleteIps: true, timeoutMs: 20_000 }), true);
    assert.deepEqual(await c.listServers(), []);
    assert.equal(await c.deleteServer(servers[0]!.id), false);
    assert.equal(await c.deleteImage('dc-img', { wait: true, timeoutMs: 20_000 }), true);
    assert.equal(await c.deleteImage('dc-img'), false);
    await net.deleteNetwork(network.id);
  });

  test('AMBIGUOUS names, keypairs, limits, availability zones', async () => {
    const c = cloud({ serverListAgeMs: 0 });
    const kp = await c.createKeypair('dc-kp');
    assert.match(kp.private_key ?? '', /PRIVATE KEY/);
    assert.equal(await c.deleteKeypair('dc-kp'), true);
    assert.equal(await c.deleteKeypair('dc-kp'), false);
    const limits = await c.getComputeLimits();
    assert.equal(typeof limits.max_total_instances, 'number');
    assert.ok((await c.listAvailabilityZoneNames()).length >= 1);
    const err = await c.getFlavor('m1.*').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isOcxError(err, ErrorCode.AMBIGUOUS), `got ${String(err)}`);
    assert.ok(count('GET', '/limits') >= 1);
  });
});
