// The nodepool surface of the cloud layer against real OpenStack (Glance, Nova with the fake driver, Neutron,
// Cinder). Runs only with OCX_TEST_TARGET=real; clouds from OS_CLIENT_CONFIG_FILE (default: the shared
// harness's /tmp/os-harness/clouds.yaml), names from OCX_REAL_CLOUDS (default "sp1 sp2").
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Cloud, connectCloud } from '../../src/cloud/index.ts';
import { k2kCloudConfig, loadCloudsConfig } from '../../src/config/index.ts';
import { ErrorCode } from '../../src/errors/codes.ts';
import { isOcxError } from '../../src/errors/ocx-error.ts';
import { NetworkClient } from '../../src/services/index.ts';

const REAL = process.env.OCX_TEST_TARGET === 'real';
const FILE = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/os-harness/clouds.yaml';
const CLOUDS = (process.env.OCX_REAL_CLOUDS ?? 'sp1 sp2').split(/\s+/).filter(Boolean);
const SETTLE_MS = 180_000;

for (const cloudName of CLOUDS) {
  describe(`cloud layer on real ${cloudName}`, { skip: !REAL && 'set OCX_TEST_TARGET=real', timeout: 600_000 }, () => {
    let cloud: Cloud;
    let dir: string;
    const prefix = `ocx-rl-${randomBytes(3).toString('hex')}`;
    before(async () => {
      assert.ok(existsSync(FILE), `${FILE} exists`);
      const config = loadCloudsConfig({ files: { clouds: [FILE], secure: [], publicClouds: [] }, loadEnv: false });
      cloud = connectCloud({ cloud: cloudName, config, serverListAgeMs: 2000, pollIntervalMs: 1000 });
      dir = await mkdtemp(join(tmpdir(), 'ocx-real-cloud-'));
    });
    after(async () => {
      await cloud?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('image from a small file, server on a network, wait, list, delete', async () => {
      const path = join(dir, 'disk.raw');
      const data = randomBytes(256 * 1024);
      await writeFile(path, data);
      const image = await cloud.createImage(`${prefix}-img`, {
        filename: path,
        diskFormat: 'raw',
        wait: true,
        timeoutMs: SETTLE_MS,
      });
      const network = new NetworkClient(cloud.session.client('network'));
      const net = await network.createNetwork({ name: `${prefix}-net` });
      let serverId: string | undefined;
      try {
        assert.equal(image.status, 'active');
        assert.equal(image.checksum, createHash('md5').update(data).digest('hex'));
        assert.equal(
          image.properties['owner_specified.openstack.sha256'],
          createHash('sha256').update(data).digest('hex'),
        );
        const again = await cloud.createImage(`${prefix}-img`, { filename: path, diskFormat: 'raw', wait: true });
        assert.equal(again.id, image.id, 'idempotent by name + hash');

        await network.createSubnet({ network_id: net.id, name: `${prefix}-sub`, cidr: '10.93.0.0/24', ip_version: 4 });
        const flavor = (await cloud.listFlavors()).sort((a, b) => a.ram - b.ram)[0]!;
        const server = await cloud.createServer({
          name: `${prefix}-srv`,
          image: `${prefix}-img`,
          flavor: flavor.name,
          network: `${prefix}-net`,
          userdata: '#cloud-config\n',
          metadata: { nodepool_provider_name: 'ocx', nodepool_node_id: '0001' },
          wait: true,
          timeoutMs: SETTLE_MS,
        });
        serverId = server.id;
        assert.equal(server.status, 'ACTIVE');
        assert.match(server.private_v4, /^10\.93\.0\.\d+$/);
        assert.equal(server.interface_ip, server.public_v4 || server.private_v4);
        assert.equal(server.location.cloud, cloudName);
        assert.equal(server.location.project.name, 'demo');
        assert.equal(server.location.zone, 'nova');
        assert.equal(server.image.id, image.id);

        // Many concurrent callers: one list fetch.
        cloud.invalidateCaches();
        const fetchesBefore = cloud.cacheStats().servers;
        const lists = await Promise.all(Array.from({ length: 20 }, () => cloud.listServers()));
        assert.equal(cloud.cacheStats().servers - fetchesBefore, 1);
        const mine = lists[0]!.find((s) => s.id === server.id);
        assert.ok(mine);
        assert.equal(mine.private_v4, server.private_v4);
        assert.equal(mine.metadata.nodepool_node_id, '0001');
        assert.equal((await cloud.getServer(`${prefix}-srv`))?.id, server.id);
      } finally {
        if (serverId)
          assert.equal(await cloud.deleteServer(serverId, { wait: true, deleteIps: true, timeoutMs: SETTLE_MS }), true);
        assert.equal(await cloud.deleteImage(image.id, { wait: true, timeoutMs: SETTLE_MS }), true);
        for (let i = 0; i < 30; i++) {
          try {
            await network.deleteNetwork(net.id);
            break;
          } catch {
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      }
      assert.equal(await cloud.getServer(serverId!), null);
      assert.equal(await cloud.deleteServer(serverId!), false);
      assert.equal(await cloud.deleteImage(image.id), false);
    });

    test('keypairs, limits, zones, unattached floating IPs, missing things', async () => {
      const kp = await cloud.createKeypair(`${prefix}-kp`);
      assert.match(kp.private_key ?? '', /PRIVATE KEY/);
      assert.ok((await cloud.listKeypairs()).some((k) => k.name === kp.name));
      assert.equal(await cloud.deleteKeypair(kp.name), true);
      assert.equal(await cloud.deleteKeypair(kp.name), false);
      const limits = await cloud.getComputeLimits();
      assert.equal(typeof limits.max_total_instances, 'number');
      assert.equal(typeof limits.total_cores_used, 'number');
      assert.ok((await cloud.listAvailabilityZoneNames()).length >= 1);
      assert.equal(typeof (await cloud.deleteUnattachedFloatingIps()), 'number');
      assert.equal(await cloud.getImage(`${prefix}-no-such-image`), null);
      assert.equal(await cloud.deleteServer(`${prefix}-no-such-server`), false);
      await assert.rejects(
        cloud.createServer({ name: `${prefix}-x`, image: `${prefix}-no-such-image`, flavor: 'm1.tiny' }),
        (e: unknown) => isOcxError(e, ErrorCode.NOT_FOUND),
      );
    });

    test('volumes: create, wait, delete', async () => {
      const vol = await cloud.createVolume({ size: 1, name: `${prefix}-vol`, wait: true, timeoutMs: SETTLE_MS });
      assert.equal(vol.status, 'available');
      assert.equal((await cloud.getVolume(`${prefix}-vol`))?.id, vol.id);
      assert.equal(await cloud.deleteVolume(vol.id, { wait: true, timeoutMs: SETTLE_MS }), true);
      assert.equal(await cloud.getVolume(`${prefix}-vol`), null);
    });
  });
}

describe('cloud layer over K2K (idp → each SP)', {
  skip: !REAL && 'set OCX_TEST_TARGET=real',
  timeout: 300_000,
}, () => {
  for (const sp of CLOUDS) {
    test(`idp → ${sp}: flavors, images and servers with a location naming the federated cloud and project`, async () => {
      const config = loadCloudsConfig({ files: { clouds: [FILE], secure: [], publicClouds: [] }, loadEnv: false });
      const cloud = connectCloud({
        cloud: k2kCloudConfig(config.getCloud('idp'), {
          serviceProvider: sp,
          remoteProjectName: 'demo',
          remoteProjectDomainName: 'Default',
        }),
      });
      try {
        const flavors = await cloud.listFlavors();
        assert.ok(flavors.length > 0);
        assert.equal(flavors[0]!.location.cloud, `idp→${sp}`);
        assert.equal(flavors[0]!.location.project.name, 'demo');
        assert.ok(Array.isArray(await cloud.listImages()));
        for (const s of await cloud.listServers()) assert.equal(s.location.project.name, 'demo');
      } finally {
        await cloud.close();
      }
    });
  }
});
