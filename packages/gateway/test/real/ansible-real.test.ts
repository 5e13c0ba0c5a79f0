// The Ansible write surface through the gateway against real OpenStack (sp1 reached by K2K in the caller's name):
// network + subnet + router with its interface, security group + rule, volume, container + objects, each created
// twice (the second unchanged) and deleted twice (the second a no-op), and Neutron's and Swift's refusals as gRPC
// codes. Runs only with OCX_TEST_TARGET=real; clouds from OS_CLIENT_CONFIG_FILE. Everything it makes it deletes.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { type Client, Code, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { createSession, loadCloudsConfig, ObjectStoreClient } from '@ocx/sdk';
import { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { type Gateway, startGateway } from '../../src/server.ts';

const REAL = process.env.OCX_TEST_TARGET === 'real';
const FILE = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/ocx-real/clouds.yaml';
const TARGET = 'sp1';

async function code(p: Promise<unknown>): Promise<Code | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return ConnectError.from(err).code;
  }
}

describe('gateway Ansible surface on real OpenStack (K2K idp → sp1)', {
  skip: !REAL && 'set OCX_TEST_TARGET=real',
  timeout: 300_000,
}, () => {
  let gw: Gateway;
  let client: Client<typeof CloudService>;
  let auth: { headers: { authorization: string } };
  let swift: ObjectStoreClient;
  let closeDirect: () => Promise<void>;
  const prefix = `ocx-ans-${randomBytes(3).toString('hex')}`;
  const at = { location: { cloud: TARGET } };
  const one = (nameOrId: string) => ({ filter: { nameOrId, location: { clouds: [TARGET] } } });

  before(async () => {
    assert.ok(existsSync(FILE), `${FILE} exists`);
    const config = loadCloudsConfig({ files: { clouds: [FILE], secure: [], publicClouds: [] }, loadEnv: false });
    gw = await startGateway({ home: config.getCloud('idp-admin'), homeName: 'idp', serviceProviders: [TARGET] });
    const user = createSession(config.getCloud('idp'));
    auth = { headers: { authorization: `Bearer ${await user.getToken()}` } };
    await user.close();
    client = createClient(CloudService, createGrpcTransport({ baseUrl: gw.grpcUrl }));
    const direct = createSession(config.getCloud(TARGET)); // the demo user's own sp1 login: the same project
    swift = new ObjectStoreClient(direct.client('object-store'));
    closeDirect = () => direct.close();
  });
  after(async () => {
    // Whatever a failed assertion left behind.
    await client?.deleteRouter(one(`${prefix}-router`), auth).catch(() => undefined);
    await client?.deleteSubnet(one(`${prefix}-sub`), auth).catch(() => undefined);
    await client?.deleteNetwork(one(`${prefix}-net`), auth).catch(() => undefined);
    await client?.deleteSecurityGroup(one(`${prefix}-sg`), auth).catch(() => undefined);
    await client?.deleteVolume({ ...one(`${prefix}-vol`), wait: true }, auth).catch(() => undefined);
    await client?.deleteContainer({ ...at, name: `${prefix}-c`, deleteObjects: true }, auth).catch(() => undefined);
    await closeDirect?.();
    await gw?.close();
  });

  test('network, subnet, router with interface: present twice, absent twice, a busy network refused', async () => {
    const net = await client.createNetwork({ ...at, name: `${prefix}-net` }, auth);
    assert.deepEqual([net.changed, net.network?.location?.cloud], [true, TARGET]);
    assert.equal((await client.createNetwork({ ...at, name: `${prefix}-net` }, auth)).changed, false);
    const sub = { ...at, name: `${prefix}-sub`, network: `${prefix}-net`, cidr: '10.95.0.0/24' };
    const s1 = await client.createSubnet(sub, auth);
    assert.deepEqual([s1.changed, s1.subnet?.gatewayIp], [true, '10.95.0.1']);
    assert.equal((await client.createSubnet(sub, auth)).changed, false);
    const router = { ...at, name: `${prefix}-router`, interfaces: [`${prefix}-sub`] };
    const r1 = await client.createRouter(router, auth);
    assert.deepEqual([r1.changed, r1.router?.interfaceSubnets], [true, [s1.subnet?.id]]);
    assert.equal((await client.createRouter(router, auth)).changed, false);
    assert.equal(await code(client.deleteSubnet(one(`${prefix}-sub`), auth)), Code.FailedPrecondition); // in use
    assert.equal((await client.deleteRouter(one(`${prefix}-router`), auth)).deleted, true);
    assert.equal((await client.deleteRouter(one(`${prefix}-router`), auth)).deleted, false);
    assert.equal((await client.deleteSubnet(one(`${prefix}-sub`), auth)).deleted, true);
    assert.equal((await client.deleteNetwork(one(`${prefix}-net`), auth)).deleted, true);
    assert.equal((await client.deleteNetwork(one(`${prefix}-net`), auth)).deleted, false);
  });

  test('security group and rule: present twice, rule absent by its fields twice', async () => {
    assert.equal((await client.createSecurityGroup({ ...at, name: `${prefix}-sg` }, auth)).changed, true);
    assert.equal((await client.createSecurityGroup({ ...at, name: `${prefix}-sg` }, auth)).changed, false);
    const rule = { securityGroup: `${prefix}-sg`, protocol: 'tcp', portRangeMin: 22, remoteIpPrefix: '10.0.0.0/8' };
    const first = await client.createSecurityGroupRule({ ...at, rule }, auth);
    assert.deepEqual([first.changed, first.rule?.portRangeMax], [true, 22]);
    const second = await client.createSecurityGroupRule({ ...at, rule }, auth);
    assert.deepEqual([second.changed, second.rule?.id], [false, first.rule?.id]);
    const del = { filter: { location: { clouds: [TARGET] } }, rule };
    assert.equal((await client.deleteSecurityGroupRule(del, auth)).deleted, true);
    assert.equal((await client.deleteSecurityGroupRule(del, auth)).deleted, false);
    assert.equal((await client.deleteSecurityGroup(one(`${prefix}-sg`), auth)).deleted, true);
  });

  test('volume: present twice, no shrink, absent twice', async () => {
    const spec = { ...at, name: `${prefix}-vol`, size: 1, wait: true, timeoutSeconds: 120 };
    const v = await client.createVolume(spec, { ...auth, timeoutMs: 150_000 });
    assert.deepEqual([v.changed, v.volume?.status], [true, 'available']);
    assert.equal((await client.createVolume(spec, auth)).changed, false);
    assert.equal(
      await code(client.createVolume({ ...spec, size: 0, name: `${prefix}-none` }, auth)),
      Code.InvalidArgument,
    );
    const gone = { ...one(`${prefix}-vol`), wait: true, timeoutSeconds: 120 };
    assert.equal((await client.deleteVolume(gone, { ...auth, timeoutMs: 150_000 })).deleted, true);
    assert.equal((await client.deleteVolume(gone, auth)).deleted, false);
  });

  test('container and objects: present twice, pages by marker, a full container refused, emptied', async () => {
    const c = `${prefix}-c`;
    assert.equal((await client.createContainer({ ...at, name: c, metadata: { team: 'ci' } }, auth)).changed, true);
    const again = await client.createContainer({ ...at, name: c, metadata: { team: 'ci' } }, auth);
    assert.deepEqual([again.changed, again.container?.metadata.team], [false, 'ci']);
    for (const n of ['o1', 'o2', 'o3']) await swift.putObject(c, n, Buffer.from(n));
    const p1 = await client.listObjects({ ...at, container: c, limit: 2 }, auth);
    assert.deepEqual([p1.objects.map((o) => o.name), p1.nextMarker], [['o1', 'o2'], 'o2']);
    const p2 = await client.listObjects({ ...at, container: c, limit: 2, marker: p1.nextMarker }, auth);
    assert.deepEqual([p2.objects.map((o) => o.name), p2.nextMarker], [['o3'], '']);
    assert.equal(await code(client.deleteContainer({ ...at, name: c }, auth)), Code.FailedPrecondition);
    assert.equal((await client.deleteObject({ ...at, container: c, name: 'o3' }, auth)).deleted, true);
    assert.equal((await client.deleteObject({ ...at, container: c, name: 'o3' }, auth)).deleted, false);
    assert.equal((await client.deleteContainer({ ...at, name: c, deleteObjects: true }, auth)).deleted, true);
    assert.equal((await client.deleteContainer({ ...at, name: c }, auth)).deleted, false);
  });
});
