// nodepool's sequence through the gateway against real OpenStack: the caller's idp token, sp1 reached by K2K in
// the caller's name; limits → image upload → create server → wait (push) → address → delete → delete unattached
// floating IPs → image delete. Runs only with OCX_TEST_TARGET=real; clouds from OS_CLIENT_CONFIG_FILE.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Client, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { type CloudConfig, createSession, loadCloudsConfig, NetworkClient, openCloud, type Session } from '@ocx/sdk';
import { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { type Gateway, startGateway } from '../../src/server.ts';

const REAL = process.env.OCX_TEST_TARGET === 'real';
const FILE = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/ocx-real/clouds.yaml';
const TARGET = 'sp1';

describe('gateway on real OpenStack (K2K idp → sp1)', {
  skip: !REAL && 'set OCX_TEST_TARGET=real',
  timeout: 900_000,
}, () => {
  let gw: Gateway;
  let client: Client<typeof CloudService>;
  let auth: { headers: { authorization: string } };
  let direct: Session;
  let netId: string | undefined;
  const prefix = `ocx-gw-${randomBytes(3).toString('hex')}`;

  before(async () => {
    assert.ok(existsSync(FILE), `${FILE} exists`);
    const config = loadCloudsConfig({ files: { clouds: [FILE], secure: [], publicClouds: [] }, loadEnv: false });
    gw = await startGateway({ home: config.getCloud('idp-admin'), homeName: 'idp', serviceProviders: [TARGET] });
    const user = createSession(config.getCloud('idp'));
    auth = { headers: { authorization: `Bearer ${await user.getToken()}` } };
    await user.close();
    client = createClient(CloudService, createGrpcTransport({ baseUrl: gw.grpcUrl }));
    // A network for the server (the gateway has no network RPCs yet): made with the demo user's own sp1 login.
    direct = createSession(config.getCloud(TARGET));
    const net = new NetworkClient(direct.client('network'));
    netId = (await net.createNetwork({ name: `${prefix}-net` })).id;
    await net.createSubnet({ network_id: netId, name: `${prefix}-sub`, cidr: '10.94.0.0/24', ip_version: 4 });
  });
  after(async () => {
    if (netId) await new NetworkClient(direct.client('network')).deleteNetwork(netId).catch(() => undefined);
    await direct?.close();
    await gw?.close();
  });

  test('limits, image, server create + wait + delete, floating IPs, image delete', async () => {
    const here = { location: { clouds: [TARGET] } };
    const limits = await client.getLimits({ location: { clouds: [TARGET] } }, auth);
    assert.deepEqual(limits.failures, []);
    assert.equal(limits.limits[0]?.location?.cloud, TARGET);
    assert.ok(limits.limits[0]?.compute?.maxTotalInstances !== undefined);
    assert.ok(limits.limits[0]?.volume?.maxTotalVolumes !== undefined, 'Cinder limits');

    const data = randomBytes(128 * 1024);
    const image = (
      await client.createImage(
        { location: { cloud: TARGET }, name: `${prefix}-img`, data, diskFormat: 'raw', wait: true },
        { ...auth, timeoutMs: 300_000 },
      )
    ).image;
    let serverId: string | undefined;
    try {
      assert.equal(image?.status, 'active');
      assert.equal(image?.checksum, createHash('md5').update(data).digest('hex'));
      assert.equal(image?.location?.cloud, TARGET);
      const flavors = await client.listFlavors({ filter: here }, auth);
      const flavor = [...flavors.flavors].sort((a, b) => a.ram - b.ram)[0];
      assert.ok(flavor);
      const created = await client.createServer(
        {
          spec: {
            location: { cloud: TARGET },
            name: `${prefix}-srv`,
            image: image?.id ?? '',
            flavor: flavor.id,
            networks: [`${prefix}-net`],
            metadata: { nodepool_node_id: '0001' },
          },
        },
        { ...auth, timeoutMs: 120_000 },
      );
      serverId = created.server?.id;
      const waited = await client.waitForServer(
        { filter: { ...here, nameOrId: serverId ?? '' }, timeoutSeconds: 300 },
        { ...auth, timeoutMs: 320_000 },
      );
      assert.equal(waited.server?.status, 'ACTIVE');
      assert.match(waited.server?.privateV4 ?? '', /^10\.94\.0\.\d+$/);
      assert.equal(waited.server?.interfaceIp, waited.server?.publicV4 || waited.server?.privateV4);
      assert.equal(waited.server?.location?.project?.name, 'demo');
      const listed = await client.listServers({ filter: { ...here, nameOrId: `${prefix}-*` } }, auth);
      assert.deepEqual(
        listed.servers.map((s) => s.id),
        [serverId],
      );
    } finally {
      if (serverId) {
        const del = await client.deleteServer(
          { filter: { ...here, nameOrId: serverId }, wait: true, timeoutSeconds: 300 },
          { ...auth, timeoutMs: 320_000 },
        );
        assert.equal(del.deleted, true);
      }
      const fips = await client.deleteUnattachedFloatingIps({ location: { clouds: [TARGET] } }, auth);
      assert.deepEqual(fips.failures, []);
      const gone = await client.deleteImage(
        { filter: { ...here, nameOrId: image?.id ?? '' }, wait: true },
        { ...auth, timeoutMs: 300_000 },
      );
      assert.equal(gone.deleted, true);
    }
  });

  test('the SDK on top of the gateway: a gateway: cloud lists, uploads an image, boots, waits and deletes', async () => {
    const config = loadCloudsConfig({ files: { clouds: [FILE], secure: [], publicClouds: [] }, loadEnv: false });
    // clouds.yaml `gateway: {url, cloud: sp1}` on the demo user's idp entry (config-gateway.test.ts covers the YAML).
    const viaGateway: CloudConfig = {
      ...config.getCloud('idp'),
      name: `${TARGET}-gw`,
      gateway: { url: gw.grpcUrl, cloud: TARGET, region: '', verify: true },
    };
    const cloud = openCloud({ cloud: viaGateway, pollIntervalMs: 2000 });
    let serverId: string | undefined;
    let imageId: string | undefined;
    try {
      const flavors = await cloud.listFlavors();
      assert.ok(flavors.length > 0 && flavors.every((f) => f.location.cloud === `${TARGET}-gw`));
      assert.ok(Array.isArray(await cloud.listImages()));
      const data = randomBytes(64 * 1024);
      const image = await cloud.createImage(`${prefix}-sdk-img`, {
        data,
        diskFormat: 'raw',
        wait: true,
        timeoutMs: 300_000,
      });
      imageId = image.id;
      assert.equal(image.checksum, createHash('md5').update(data).digest('hex'));
      const flavor = [...flavors].sort((a, b) => a.ram - b.ram)[0];
      assert.ok(flavor);
      const server = await cloud.createServer({
        name: `${prefix}-sdk-srv`,
        image: image.id,
        flavor: flavor.id,
        network: `${prefix}-net`,
        wait: true,
        autoIp: false,
        timeoutMs: 300_000,
      });
      serverId = server.id;
      assert.equal(server.status, 'ACTIVE');
      assert.match(server.private_v4, /^10\.94\.0\.\d+$/);
      assert.equal(server.interface_ip, server.public_v4 || server.private_v4);
      assert.equal(server.location.project.name, 'demo');
    } finally {
      if (serverId) assert.equal(await cloud.deleteServer(serverId, { wait: true, timeoutMs: 300_000 }), true);
      if (imageId) assert.equal(await cloud.deleteImage(imageId, { wait: true, timeoutMs: 300_000 }), true);
      await cloud.close();
    }
  });

  test("Keystone's OAuth 2.0 client-credentials access token (Debian's Keystone) works as the bearer", async () => {
    const config = loadCloudsConfig({ files: { clouds: [FILE], secure: [], publicClouds: [] }, loadEnv: false });
    const user = createSession(config.getCloud('idp'));
    const access = await user.getAccess();
    const made = await user.client('identity').post(`/users/${access.user.id}/application_credentials`, {
      json: { application_credential: { name: `${prefix}-oauth` } },
    });
    const ac = (await made.json<{ application_credential: { id: string; secret: string } }>()).application_credential;
    try {
      const res = await fetch(`${access.identityUrl}/OS-OAUTH2/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${ac.id}:${ac.secret}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
        signal: AbortSignal.timeout(60_000),
      });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { access_token: string; token_type: string };
      assert.equal(body.token_type, 'Bearer');
      const r = await client.listFlavors(
        { filter: { location: { clouds: [TARGET] } } },
        { headers: { authorization: `Bearer ${body.access_token}` }, timeoutMs: 120_000 },
      );
      assert.deepEqual(r.failures, []);
      assert.ok(r.flavors.length > 0 && r.flavors.every((f) => f.location?.cloud === TARGET));
    } finally {
      await user
        .client('identity')
        .delete(`/users/${access.user.id}/application_credentials/${ac.id}`)
        .catch(() => undefined);
      await user.close();
    }
  });
});
