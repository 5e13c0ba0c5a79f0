/**
 * The cloud layer's nodepool tests, written once against `CloudLayer` and run on each backend: REST to devcloud
 * (cloud-devcloud.test.ts) and gRPC through an OCX gateway to the same devcloud (packages/gateway/test/
 * sdk-backend.test.ts). What they observe is what a user of either backend sees — the normalized resources, the
 * get/delete conventions, errors by code — plus what reached the cloud: the Nova/Neutron requests devcloud's sp1
 * received, counted at its HTTP server, so "30 callers, one server list" is checked where it matters on both.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { CloudLayer, CloudOptions } from '../src/cloud/index.ts';
import { ErrorCode } from '../src/errors/codes.ts';
import { isOcxError } from '../src/errors/ocx-error.ts';
import type { NetworkClient } from '../src/services/index.ts';

export interface NodepoolBackend {
  /** The cloud layer under test: devcloud's sp1 as its demo user, through this backend. */
  cloud(opts?: CloudOptions): CloudLayer;
  /** The name resources of that cloud carry in `location.cloud` (its clouds.yaml name). */
  cloudName: string;
  /** sp1's TCP port (requests to it are counted). */
  sp1Port: number;
  /** REST access to sp1's Neutron for setup the cloud layer does not do (a tenant network). */
  setupNetwork: NetworkClient;
  stop(): Promise<void>;
}

/** One request devcloud's sp1 received. */
interface Seen {
  method: string;
  path: string;
}

export function nodepoolCases(label: string, start: () => Promise<NodepoolBackend>): void {
  describe(`cloud layer nodepool sequence: ${label}`, { timeout: 180_000 }, () => {
    let b: NodepoolBackend;
    const seen: Seen[] = [];
    const onRequest = (msg: unknown) => {
      const req = (msg as { request: IncomingMessage }).request;
      if (req.socket.localPort !== b?.sp1Port) return;
      seen.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '' });
    };
    const clouds: CloudLayer[] = [];
    const cloud = (opts: CloudOptions = {}) => {
      const c = b.cloud({ pollIntervalMs: 20, ...opts });
      clouds.push(c);
      return c;
    };

    before(async () => {
      b = await start();
      subscribe('http.server.request.start', onRequest);
    });
    after(async () => {
      unsubscribe('http.server.request.start', onRequest);
      for (const c of clouds) await c.close();
      await b?.stop();
    });

    test('image upload, servers created and waited for, one list for 30 callers, addresses, delete', async () => {
      const c = cloud({ serverListAgeMs: 100 });
      const data = Buffer.from('devcloud image bytes\n'.repeat(500));
      const image = await c.createImage('np-img', { data, diskFormat: 'raw', wait: true, timeoutMs: 20_000 });
      assert.equal(image.status, 'active');
      assert.equal(image.checksum, createHash('md5').update(data).digest('hex'));
      assert.equal(image.location.cloud, b.cloudName);
      assert.equal((await c.createImage('np-img', { data, diskFormat: 'raw', wait: true })).id, image.id);
      assert.equal((await c.getImage('np-img'))?.id, image.id);

      const network = await b.setupNetwork.createNetwork({ name: 'np-net' });
      await b.setupNetwork.createSubnet({
        network_id: network.id,
        cidr: '10.56.0.0/24',
        ip_version: 4,
        name: 'np-sub',
      });
      try {
        const flavor = (await c.listFlavors()).sort((x, y) => x.ram - y.ram)[0];
        assert.ok(flavor, 'the cloud lists flavors');
        const servers = await Promise.all(
          [1, 2, 3].map((i) =>
            c.createServer({
              name: `np-srv-${i}`,
              image: 'np-img',
              flavor,
              network: 'np-net',
              metadata: { nodepool_node_id: String(i) },
              wait: true,
              autoIp: false,
              timeoutMs: 20_000,
            }),
          ),
        );
        for (const s of servers) {
          assert.equal(s.status, 'ACTIVE');
          assert.match(s.private_v4, /^10\.56\.0\.\d+$/);
          assert.equal(s.interface_ip, s.private_v4);
          assert.equal(s.location.cloud, b.cloudName);
          assert.equal(s.location.project.name, 'demo');
        }

        // 30 concurrent callers: one server list reaches Nova, and no per-server GET or port lookup.
        c.invalidateCaches();
        const from = seen.length;
        const lists = await Promise.all(Array.from({ length: 30 }, () => c.listServers()));
        const during = seen.slice(from);
        assert.equal(during.filter((r) => r.method === 'GET' && r.path.endsWith('/servers/detail')).length, 1);
        const perServer = during.filter(
          (r) => (/\/servers\/[^/]+$/.test(r.path) && !r.path.endsWith('/detail')) || r.path.includes('/ports/'),
        );
        assert.deepEqual(perServer, []);
        for (const list of lists) assert.deepEqual(list.map((s) => s.id).sort(), servers.map((s) => s.id).sort());

        assert.equal((await c.getServer('np-srv-2'))?.metadata.nodepool_node_id, '2');
        assert.equal(await c.getServer('np-srv-none'), null);
        const byId = await c.getServerById(servers[0]?.id ?? '');
        assert.equal(byId?.interface_ip, servers[0]?.interface_ip);
        assert.equal(
          (await c.waitForServer(servers[1]?.id ?? '', { autoIp: false, timeoutMs: 10_000 })).status,
          'ACTIVE',
        );

        for (const s of servers)
          assert.equal(await c.deleteServer(s.id, { wait: true, deleteIps: true, timeoutMs: 20_000 }), true);
        assert.deepEqual(await c.listServers(), []);
        assert.equal(await c.deleteServer(servers[0]?.id ?? ''), false);
        assert.equal(await c.getServerById(servers[0]?.id ?? ''), null);
        assert.equal(await c.deleteUnattachedFloatingIps(), 0);
      } finally {
        await b.setupNetwork.deleteNetwork(network.id).catch(() => undefined);
      }
      assert.equal(await c.deleteImage('np-img', { wait: true, timeoutMs: 20_000 }), true);
      assert.equal(await c.deleteImage('np-img'), false);
    });

    test('keypairs, limits, zones, location, a wait with progress, power actions, AMBIGUOUS names, a missing image', async () => {
      const c = cloud({ serverListAgeMs: 0 });
      const kp = await c.createKeypair('np-kp');
      assert.match(kp.private_key ?? '', /PRIVATE KEY/);
      assert.deepEqual(
        (await c.listKeypairs()).map((k) => k.name),
        ['np-kp'],
      );
      assert.equal((await c.getKeypair('np-kp'))?.fingerprint, kp.fingerprint);
      assert.equal(await c.deleteKeypair('np-kp'), true);
      assert.equal(await c.deleteKeypair('np-kp'), false);

      const limits = await c.getComputeLimits();
      assert.equal(typeof limits.max_total_instances, 'number');
      assert.equal(limits.location.cloud, b.cloudName);
      const abs = await c.getAbsoluteLimits();
      assert.equal(abs.compute.maxTotalInstances, limits.max_total_instances);
      assert.equal(typeof abs.volume.maxTotalVolumes, 'number');
      assert.ok((await c.listAvailabilityZoneNames()).length >= 1);
      const location = await c.currentLocation();
      assert.equal(location.cloud, b.cloudName);
      assert.equal(location.project.name, 'demo');

      // A server created without waiting, then waited for with progress reports.
      const cirros = (await c.listImages()).find((i) => i.name.startsWith('cirros'));
      assert.ok(cirros, 'sp1 has a cirros image');
      const booting = await c.createServer({ name: 'np-progress', image: cirros, flavor: 'm1.tiny', autoIp: false });
      try {
        const seen: string[] = [];
        const ready = await c.waitForServer(booting.id, {
          autoIp: false,
          timeoutMs: 20_000,
          onProgress: (s) => seen.push(s.status),
        });
        assert.equal(ready.status, 'ACTIVE');
        assert.ok(seen.length >= 1, 'onProgress was called');
        assert.equal(seen.at(-1), 'ACTIVE');
        assert.ok(
          seen.every((st) => st === 'BUILD' || st === 'ACTIVE'),
          seen.join(),
        );
        // Power actions: settled in their target status with `wait`, null without.
        assert.equal(
          (await c.serverPowerAction(booting.id, 'stop', { wait: true, timeoutMs: 20_000 }))?.status,
          'SHUTOFF',
        );
        assert.equal(
          (await c.serverPowerAction(booting.id, 'start', { wait: true, timeoutMs: 20_000 }))?.status,
          'ACTIVE',
        );
        assert.equal(await c.serverPowerAction(booting.id, 'reboot'), null);
      } finally {
        assert.equal(await c.deleteServer(booting.id, { wait: true, timeoutMs: 20_000 }), true);
      }

      const err = await c.getFlavor('m1.*').then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isOcxError(err, ErrorCode.AMBIGUOUS), `got ${String(err)}`);
      const missing = await c.createServer({ name: 'np-bad', image: 'no-such-image', flavor: 'm1.tiny' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isOcxError(missing, ErrorCode.NOT_FOUND), `got ${String(missing)}`);
    });
  });
}
