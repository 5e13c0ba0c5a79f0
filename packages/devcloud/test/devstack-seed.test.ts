/**
 * The devstack-like seed: every cloud gives `demo` (and `admin`) a `private` network, `private-subnet` and
 * `router1` (gateway on `public`, interface on the subnet), so `openstack server create --image cirros...
 * --flavor m1.tiny NAME` and a floating IP work out of the box, and Nova picks the one visible network as real
 * Nova does (409 "Multiple possible networks found..." once there are several).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { glanceModule, SEED_IMAGE_NAME } from '../src/glance/index.ts';
import { neutronService } from '../src/neutron/index.ts';
import { novaService } from '../src/nova/index.ts';
import { SqliteDatabase } from '../src/store.ts';
import { type Cloud, call, getToken, projectId, startTestCloud } from './helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies
type Json = Record<string, any>;

const C = '/compute/v2.1';
const N = '/network/v2.0';

async function ok(res: Response, status = 200): Promise<Json> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return text ? (JSON.parse(text) as Json) : {};
}

describe('devstack-like seed', () => {
  let cloud: Cloud;
  let demo: string;
  let admin: string;
  let imageId: string;

  before(async () => {
    cloud = await startTestCloud({ services: [novaService, neutronService, glanceModule] });
    demo = await getToken(cloud, 'demo');
    admin = await getToken(cloud, 'admin');
    const images = await ok(await call(cloud, 'GET', `/image/v2/images?name=${SEED_IMAGE_NAME}`, demo));
    imageId = images.images[0].id;
  });
  after(() => cloud.close());

  async function waitActive(id: string, token = demo): Promise<Json> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const s = (await ok(await call(cloud, 'GET', `${C}/servers/${id}`, token))).server;
      if (s.status === 'ACTIVE') return s;
      if (Date.now() > deadline) assert.fail(`server ${id} is ${s.status}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it('gives demo private, private-subnet and router1 joined to public', async () => {
    const nets = (await ok(await call(cloud, 'GET', `${N}/networks`, demo))).networks as Json[];
    assert.deepEqual(nets.map((n) => n.name).sort(), ['private', 'public']);
    const priv = nets.find((n) => n.name === 'private')!;
    const pub = nets.find((n) => n.name === 'public')!;
    assert.equal(priv.project_id, projectId(cloud, 'demo'));
    assert.equal(priv.shared, false);
    assert.equal(priv['router:external'], false);
    assert.equal(pub['router:external'], true);
    const subnets = (await ok(await call(cloud, 'GET', `${N}/subnets?network_id=${priv.id}`, demo))).subnets;
    assert.equal(subnets.length, 1);
    assert.equal(subnets[0].name, 'private-subnet');
    assert.equal(subnets[0].cidr, '10.0.0.0/26');
    assert.equal(subnets[0].gateway_ip, '10.0.0.1');
    assert.equal(subnets[0].enable_dhcp, true);
    const routers = (await ok(await call(cloud, 'GET', `${N}/routers`, demo))).routers as Json[];
    assert.deepEqual(
      routers.map((r) => r.name),
      ['router1'],
    );
    const r = routers[0]!;
    assert.equal(r.external_gateway_info.network_id, pub.id);
    assert.match(r.external_gateway_info.external_fixed_ips[0].ip_address, /^172\.24\.4\.\d+$/);
    const ifaces = (
      await ok(await call(cloud, 'GET', `${N}/ports?device_id=${r.id}&device_owner=network:router_interface`, demo))
    ).ports as Json[];
    assert.equal(ifaces.length, 1);
    assert.deepEqual(ifaces[0]?.fixed_ips, [{ subnet_id: subnets[0].id, ip_address: '10.0.0.1' }]);
  });

  it('gives admin its own private network with a distinct CIDR', async () => {
    const nets = (await ok(await call(cloud, 'GET', `${N}/networks?name=private`, admin))).networks as Json[];
    const mine = nets.filter((n) => n.project_id === projectId(cloud, 'admin'));
    assert.equal(mine.length, 1);
    const sub = (await ok(await call(cloud, 'GET', `${N}/subnets?network_id=${mine[0]?.id}`, admin))).subnets[0];
    assert.equal(sub.cidr, '10.0.0.64/26');
  });

  it('boots without --network onto private (any microversion) and a floating IP associates', async () => {
    const res = await call(cloud, 'POST', `${C}/servers`, demo, {
      server: { name: 'first', imageRef: imageId, flavorRef: '1' },
    });
    const created = (await ok(res, 202)).server;
    const s = await waitActive(created.id);
    assert.equal(s.addresses.private.length, 1);
    assert.match(s.addresses.private[0].addr, /^10\.0\.0\.\d+$/);

    // python-openstackclient sends networks: "auto" at 2.37+ when no --network is given.
    const auto = await call(
      cloud,
      'POST',
      `${C}/servers`,
      admin,
      { server: { name: 'first-admin', imageRef: imageId, flavorRef: '1', networks: 'auto' } },
      { 'OpenStack-API-Version': 'compute 2.37' },
    );
    const adminServer = await waitActive((await ok(auto, 202)).server.id, admin);
    assert.match(adminServer.addresses.private[0].addr, /^10\.0\.0\.(6[5-9]|[7-9]\d|1[01]\d|12[0-6])$/);

    const pub = (await ok(await call(cloud, 'GET', `${N}/networks?name=public`, demo))).networks[0];
    const port = (await ok(await call(cloud, 'GET', `${N}/ports?device_id=${created.id}`, demo))).ports[0];
    const fip = (
      await ok(
        await call(cloud, 'POST', `${N}/floatingips`, demo, {
          floatingip: { floating_network_id: pub.id, port_id: port.id },
        }),
        201,
      )
    ).floatingip;
    assert.equal(fip.status, 'ACTIVE');
    assert.equal(fip.fixed_ip_address, port.fixed_ips[0].ip_address);
  });

  it('refuses to guess once the project sees two networks (409, as Nova words it)', async () => {
    const extra = (await ok(await call(cloud, 'POST', `${N}/networks`, demo, { network: { name: 'second' } }), 201))
      .network;
    try {
      const res = await call(cloud, 'POST', `${C}/servers`, demo, {
        server: { name: 'ambiguous', imageRef: imageId, flavorRef: '1' },
      });
      const body = await ok(res, 409);
      assert.equal(
        body.conflictingRequest.message,
        'Multiple possible networks found, use a Network ID to be more specific.',
      );
    } finally {
      await ok(await call(cloud, 'DELETE', `${N}/networks/${extra.id}`, demo), 204);
    }
  });
});

describe('devstack-like seed with state on disk', () => {
  it('is made once: a deleted seed does not come back after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocx-seed-state-'));
    const path = join(dir, 'state.db');
    try {
      let db = new SqliteDatabase(path);
      let cloud = await startTestCloud({ services: [neutronService], store: db.forCloud('c') });
      let demo = await getToken(cloud, 'demo');
      const routers = (await ok(await call(cloud, 'GET', `${N}/routers`, demo))).routers as Json[];
      const r = routers[0]!;
      const priv = (await ok(await call(cloud, 'GET', `${N}/networks?name=private`, demo))).networks[0];
      const sub = (await ok(await call(cloud, 'GET', `${N}/subnets?network_id=${priv.id}`, demo))).subnets[0];
      await ok(await call(cloud, 'PUT', `${N}/routers/${r.id}/remove_router_interface`, demo, { subnet_id: sub.id }));
      await ok(await call(cloud, 'DELETE', `${N}/routers/${r.id}`, demo), 204);
      await ok(await call(cloud, 'DELETE', `${N}/networks/${priv.id}`, demo), 204);
      await cloud.close();
      db.close();

      db = new SqliteDatabase(path);
      cloud = await startTestCloud({ services: [neutronService], store: db.forCloud('c') });
      try {
        demo = await getToken(cloud, 'demo');
        const nets = (await ok(await call(cloud, 'GET', `${N}/networks`, demo))).networks as Json[];
        assert.deepEqual(
          nets.map((n) => n.name),
          ['public'],
        );
        assert.deepEqual((await ok(await call(cloud, 'GET', `${N}/routers`, demo))).routers, []);
      } finally {
        await cloud.close();
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
