import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, test } from 'node:test';
import { Cloud, type CloudOptions, connectCloud, IMAGE_MD5_KEY, IMAGE_SHA256_KEY } from '../src/cloud/index.ts';
import { loadCloudsConfig } from '../src/config/index.ts';
import { ErrorCode } from '../src/errors/codes.ts';
import { OcxError } from '../src/errors/ocx-error.ts';
import type { NovaServer } from '../src/services/compute.ts';
import { type FakeCloud, novaServer, PROJECT, startFakeCloud } from './cloud-fake.ts';
import { addPort, installMiniCloud, type MiniState } from './cloud-mini.ts';

const fakes: FakeCloud[] = [];
afterEach(async () => {
  while (fakes.length) await fakes.pop()!.close();
});

async function setup(
  opts: CloudOptions = {},
  extra: Record<string, unknown> = {},
): Promise<{ fake: FakeCloud; st: MiniState; cloud: Cloud }> {
  const fake = await startFakeCloud();
  fakes.push(fake);
  const st = installMiniCloud(fake);
  const cloud = new Cloud(fake.session(extra), { pollIntervalMs: 5, ...opts });
  return { fake, st, cloud };
}

function isCode(code: string) {
  return (e: unknown) => e instanceof OcxError && e.code === code;
}

describe('Cloud: listServers and addresses', () => {
  test('resolves public_v4 / private_v4 / interface_ip per meta.py rules, with location', async () => {
    const { st, cloud } = await setup();
    // Nova already reports a floating IP.
    st.servers.set(
      's-fip',
      novaServer('s-fip', 'with-fip', {
        addresses: {
          private: [
            { addr: '10.0.0.5', version: 4, type: 'fixed', mac: 'fa:16:3e:aa:aa:aa' },
            { addr: '93.184.216.5', version: 4, type: 'floating', mac: 'fa:16:3e:aa:aa:aa' },
          ],
        },
        az: 'az1',
      }),
    );
    // Only a fixed IP in Nova; Neutron has a floating IP on its port (Nova has not caught up).
    st.servers.set(
      's-neutron',
      novaServer('s-neutron', 'neutron-fip', {
        addresses: { private: [{ addr: '10.0.0.6', version: 4, mac: 'fa:16:3e:bb:bb:bb' }] },
      }),
    );
    addPort(st, 's-neutron', { ip: '10.0.0.6', fip: '93.184.216.6', mac: 'fa:16:3e:bb:bb:bb' });
    // Directly on the external network.
    st.servers.set(
      's-ext',
      novaServer('s-ext', 'external', {
        addresses: {
          public: [
            { addr: '93.184.216.7', version: 4 },
            { addr: '2001:db8::7', version: 6 },
          ],
        },
      }),
    );
    // accessIPv4 wins.
    st.servers.set(
      's-access',
      novaServer('s-access', 'access', {
        accessIPv4: '93.184.216.8',
        addresses: { private: [{ addr: '10.0.0.8', version: 4 }] },
      }),
    );
    // Private only: no public address, so no interface_ip unless the cloud is `private`.
    st.servers.set(
      's-priv',
      novaServer('s-priv', 'private-only', { addresses: { private: [{ addr: '10.0.0.9', version: 4 }] } }),
    );

    const servers = await cloud.listServers();
    const by = Object.fromEntries(servers.map((s) => [s.id, s]));
    assert.deepEqual(
      ['s-fip', 's-neutron', 's-ext', 's-access', 's-priv'].map((id) => [
        by[id]!.public_v4,
        by[id]!.private_v4,
        by[id]!.interface_ip,
      ]),
      [
        ['93.184.216.5', '10.0.0.5', '93.184.216.5'],
        ['93.184.216.6', '10.0.0.6', '93.184.216.6'],
        ['93.184.216.7', '', '93.184.216.7'],
        ['93.184.216.8', '10.0.0.8', '93.184.216.8'],
        ['', '10.0.0.9', '10.0.0.9'],
      ],
    );
    assert.equal(by['s-ext']!.public_v6, '2001:db8::7');
    // The Neutron floating IP was merged into addresses with the port's MAC.
    assert.deepEqual(by['s-neutron']!.addresses.private!.at(-1), {
      version: 4,
      addr: '93.184.216.6',
      'OS-EXT-IPS:type': 'floating',
      'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:bb:bb:bb',
    });
    assert.deepEqual(by['s-fip']!.location, {
      cloud: 'fake',
      region: 'RegionOne',
      zone: 'az1',
      project: { id: PROJECT.id, name: 'demo', domain_id: 'default', domain_name: 'Default' },
    });
    assert.equal(by['s-fip']!.host_id, 'host-abc');
    assert.equal(by['s-fip']!.power_state, 1);
  });

  test("private-only servers: interface_ip is private_v4 on a `private: true` cloud, '' under the strict SDK rule", async () => {
    const { st, cloud } = await setup({ interfaceIpFallbackToPrivate: false }, { private: true });
    st.servers.set('s-priv', novaServer('s-priv', 'p', { addresses: { private: [{ addr: '10.0.0.9', version: 4 }] } }));
    const [s] = await cloud.listServers();
    assert.equal(s!.interface_ip, '10.0.0.9');
    const strict = new Cloud(cloud.session, { interfaceIpFallbackToPrivate: false, private: false });
    const [t] = await strict.listServers();
    assert.equal(t!.interface_ip, '');
    assert.equal(t!.private_v4, '10.0.0.9');
  });

  test('one list-wide port fetch and one floating-IP fetch per list, however many servers', async () => {
    const { fake, st, cloud } = await setup();
    for (let i = 0; i < 25; i++) {
      const id = `srv-${i}`;
      st.servers.set(
        id,
        novaServer(id, `n${i}`, { addresses: { private: [{ addr: `10.0.1.${i + 1}`, version: 4 }] } }),
      );
      addPort(st, id, { ip: `10.0.1.${i + 1}`, fip: i % 2 ? `93.184.217.${i}` : undefined });
    }
    const servers = await cloud.listServers();
    assert.equal(servers.length, 25);
    assert.equal(servers.filter((s) => s.public_v4).length, 12);
    assert.equal(fake.count('GET', '/compute/v2.1/servers/detail'), 1);
    assert.equal(fake.count('GET', '/network/v2.0/ports'), 1);
    assert.equal(fake.count('GET', '/network/v2.0/floatingips'), 1);
    assert.ok(fake.requests.every((r) => r.path !== '/network/v2.0/ports' || !r.query.has('device_id')));
  });

  test('one server by id (useDirectGet): its ports, then only the floating IPs on them', async () => {
    const { fake, st, cloud } = await setup({ useDirectGet: true });
    const id = '0a0b0c0d-1111-4222-8333-444455556666';
    st.servers.set(id, novaServer(id, 'direct', { addresses: { private: [{ addr: '10.0.0.70', version: 4 }] } }));
    const { portId } = addPort(st, id, { ip: '10.0.0.70', fip: '93.184.216.70' });
    addPort(st, 'someone-else', { ip: '10.0.0.71', fip: '93.184.216.71' });
    const s = await cloud.getServer(id);
    assert.equal(s!.public_v4, '93.184.216.70');
    assert.equal(fake.count('GET', '/compute/v2.1/servers/detail'), 0);
    const fipReq = fake.requests.filter((r) => r.path === '/network/v2.0/floatingips');
    assert.deepEqual(
      fipReq.map((r) => r.query.getAll('port_id')),
      [[portId]],
    );
    assert.equal(fake.requests.find((r) => r.path === '/network/v2.0/ports')!.query.get('device_id'), id);
  });

  test('servers fetched by the caller (a watch batch): one floating-IP list, ports only for a floating IP of theirs', async () => {
    const { fake, st, cloud } = await setup();
    const active = (id: string, ip: string) =>
      novaServer(id, id, { status: 'ACTIVE', addresses: { private: [{ addr: ip, version: 4 }] } }) as NovaServer;
    addPort(st, 'new-1', { ip: '10.0.0.81' });
    addPort(st, 'someone-else', { ip: '10.0.0.89', fip: '93.184.216.89' });
    const [fresh] = await cloud.expandServers([active('new-1', '10.0.0.81')]);
    assert.equal(fresh!.private_v4, '10.0.0.81');
    assert.equal(fresh!.public_v4, '');
    assert.equal(fake.count('GET', '/network/v2.0/floatingips'), 1);
    assert.equal(fake.count('GET', '/network/v2.0/ports'), 0, 'no floating IP on its address: no port list');
    assert.equal(fake.count('GET', '/compute/v2.1/servers/detail'), 0);

    // A floating IP Neutron has and Nova's record does not show yet: found through its port, asked for by id.
    const { portId } = addPort(st, 'new-2', { ip: '10.0.0.82', fip: '93.184.216.82' });
    const both = await cloud.expandServers([active('new-1', '10.0.0.81'), active('new-2', '10.0.0.82')]);
    assert.deepEqual(
      both.map((s) => [s.id, s.public_v4, s.interface_ip]),
      [
        ['new-1', '', '10.0.0.81'],
        ['new-2', '93.184.216.82', '93.184.216.82'],
      ],
    );
    const portReqs = fake.requests.filter((r) => r.path === '/network/v2.0/ports');
    assert.deepEqual(
      portReqs.map((r) => r.query.getAll('id')),
      [[portId]],
    );
  });

  test('a Neutron without the router extension: no floating-IP calls at all', async () => {
    const { fake, st, cloud } = await setup();
    st.noRouter = true;
    fake.route('GET', '/network/v2.0/floatingips', () => ({
      status: 404,
      json: { NeutronError: { message: 'The resource could not be found.' } },
    }));
    st.servers.set('s1', novaServer('s1', 'a', { addresses: { private: [{ addr: '10.0.0.5', version: 4 }] } }));
    const [s] = await cloud.listServers();
    assert.equal(s!.private_v4, '10.0.0.5');
    assert.equal(await cloud.deleteUnattachedFloatingIps(), 0);
    assert.deepEqual(await cloud.listFloatingIps(), []);
    assert.equal(await cloud.deleteServer('s1', { deleteIps: true }), true);
    assert.equal(fake.count('GET', '/network/v2.0/floatingips'), 0);
    assert.equal(fake.count('GET', '/network/v2.0/extensions'), 1);
  });

  test('no port/floating-IP fetch when every active server already shows a floating IP', async () => {
    const { fake, st, cloud } = await setup();
    st.servers.set(
      's1',
      novaServer('s1', 'a', {
        addresses: {
          private: [
            { addr: '10.0.0.5', version: 4 },
            { addr: '93.184.216.5', version: 4, type: 'floating' },
          ],
        },
      }),
    );
    st.servers.set('s2', novaServer('s2', 'b', { status: 'BUILD' }));
    await cloud.listServers();
    assert.equal(fake.count('GET', '/network/v2.0/ports'), 0);
    assert.equal(fake.count('GET', '/network/v2.0/floatingips'), 0);
  });
});

describe('Cloud: single-flight server list cache', () => {
  test('N concurrent callers cause one request; within the age no more requests; invalidation refreshes', async () => {
    const { fake, st, cloud } = await setup({ serverListAgeMs: 60_000 });
    st.servers.set('s1', novaServer('s1', 'a', { status: 'BUILD' }));
    fake.route('GET', '/compute/v2.1/servers/detail', () => ({
      json: { servers: [...st.servers.values()] },
      delayMs: 50,
    }));
    const results = await Promise.all(Array.from({ length: 50 }, () => cloud.listServers()));
    assert.equal(fake.count('GET', '/compute/v2.1/servers/detail'), 1);
    assert.ok(results.every((r) => r.length === 1 && r[0]!.id === 's1'));
    await cloud.listServers();
    assert.equal(fake.count('GET', '/compute/v2.1/servers/detail'), 1);
    cloud.invalidateCaches();
    await cloud.listServers();
    assert.equal(fake.count('GET', '/compute/v2.1/servers/detail'), 2);
  });

  test('while a refresh runs, other callers get the stale list at once; the refresher gets the new one', async () => {
    const { fake, st, cloud } = await setup({ serverListAgeMs: 0 });
    st.servers.set('s1', novaServer('s1', 'old', { status: 'BUILD' }));
    await cloud.listServers();
    st.servers.set('s2', novaServer('s2', 'new', { status: 'BUILD' }));
    fake.route('GET', '/compute/v2.1/servers/detail', () => ({
      json: { servers: [...st.servers.values()] },
      delayMs: 100,
    }));
    const refresher = cloud.listServers();
    const others = await Promise.all(Array.from({ length: 10 }, () => cloud.listServers()));
    assert.ok(others.every((list) => list.length === 1 && list[0]!.name === 'old'));
    assert.equal((await refresher).length, 2);
    assert.equal(fake.count('GET', '/compute/v2.1/servers/detail'), 2);
  });

  test('a failed refresh rejects its caller only; the next call tries again', async () => {
    const { fake, cloud } = await setup({ serverListAgeMs: 0 });
    let fail = true;
    fake.route('GET', '/compute/v2.1/servers/detail', () =>
      fail ? { status: 500, json: { computeFault: { code: 500, message: 'db down' } } } : { json: { servers: [] } },
    );
    await assert.rejects(cloud.listServers(), isCode(ErrorCode.SERVICE_ERROR));
    fail = false;
    assert.deepEqual(await cloud.listServers(), []);
  });
});

describe('Cloud: get / search / delete conventions', () => {
  test('getServer: null when missing, AMBIGUOUS for two matches, globs search', async () => {
    const { st, cloud } = await setup();
    st.servers.set('s1', novaServer('s1', 'dup', { status: 'BUILD' }));
    st.servers.set('s2', novaServer('s2', 'dup', { status: 'BUILD' }));
    st.servers.set('s3', novaServer('s3', 'web-1', { status: 'BUILD' }));
    assert.equal(await cloud.getServer('nope'), null);
    await assert.rejects(cloud.getServer('dup'), isCode(ErrorCode.AMBIGUOUS));
    assert.equal((await cloud.getServer('s1'))!.id, 's1');
    assert.deepEqual(
      (await cloud.searchServers('web-*')).map((s) => s.id),
      ['s3'],
    );
    assert.deepEqual(
      (await cloud.searchServers(undefined, { location: { zone: 'nova' }, name: 'web-1' })).map((s) => s.id),
      ['s3'],
    );
  });

  test('delete → false when missing or 404; getImage/getFlavor null; deleteKeypair false on 404', async () => {
    const { fake, st, cloud } = await setup();
    assert.equal(await cloud.deleteServer('no-such-server'), false);
    assert.equal(await cloud.deleteServer('6f1c2b9e-0000-4000-8000-000000000000'), false);
    assert.equal(await cloud.deleteImage('no-such-image'), false);
    assert.equal(await cloud.deleteKeypair('no-such-key'), false);
    assert.equal(await cloud.deleteVolume('no-such-volume'), false);
    assert.equal(await cloud.getImage('nope'), null);
    assert.equal(await cloud.getFlavor('nope'), null);
    assert.equal((await cloud.getFlavor('m1.large'))!.ram, 8192);
    // A server that vanishes between lookup and DELETE: false, not an error.
    st.servers.set('s-race', novaServer('s-race', 'race', { status: 'BUILD' }));
    fake.route('DELETE', '/compute/v2.1/servers/s-race', () => ({
      status: 404,
      json: { itemNotFound: { code: 404, message: 'gone' } },
    }));
    assert.equal(await cloud.deleteServer('race'), false);
  });

  test("searchRouters: a router's interfaces are its plain, DVR and HA interface ports, not its gateway or HA ports", async () => {
    const { fake, st, cloud } = await setup();
    const router = { id: 'r-ha', name: 'ha', status: 'ACTIVE', admin_state_up: true, project_id: PROJECT.id };
    fake.route('GET', '/network/v2.0/routers', () => ({ json: { routers: [router] } }));
    const owners = [
      ['network:router_interface', 'sub-plain'],
      ['network:router_interface_distributed', 'sub-dvr'],
      ['network:ha_router_replicated_interface', 'sub-ha'],
      ['network:router_gateway', 'sub-public'],
      ['network:router_ha_interface', 'sub-ha-heartbeat'],
    ];
    for (const [owner, subnet] of owners) {
      const { portId } = addPort(st, 'r-ha', { ip: '10.0.9.1' });
      Object.assign(st.ports.find((p) => p.id === portId)!, {
        device_owner: owner,
        fixed_ips: [{ subnet_id: subnet, ip_address: '10.0.9.1' }],
      });
    }
    const want = ['sub-plain', 'sub-dvr', 'sub-ha'];
    assert.deepEqual(
      (await cloud.searchRouters('ha')).map((r) => r.interface_subnets),
      [want],
    );
    assert.deepEqual((await cloud.routerFromRecord(router)).interface_subnets, want);
  });
});

describe('Cloud: waitForServer', () => {
  test('ERROR → RESOURCE_FAILED carrying the fault message and the server id', async () => {
    const { st, cloud } = await setup({ serverListAgeMs: 0 });
    st.onCreate = (s) => {
      s.status = 'ERROR';
      s.fault = { code: 500, message: 'No valid host was found. There are not enough hosts available.' };
    };
    await assert.rejects(
      cloud.createServer({ name: 'x', image: { id: 'img-1' }, flavor: 'm1.small', wait: true, timeoutMs: 5000 }),
      (e: unknown) =>
        e instanceof OcxError &&
        e.code === ErrorCode.RESOURCE_FAILED &&
        /No valid host was found/.test(e.message) &&
        e.serverMessage === 'No valid host was found. There are not enough hosts available.' &&
        typeof e.resourceId === 'string' &&
        st.servers.has(e.resourceId),
    );
  });

  test('ACTIVE without any address → the server is deleted and RESOURCE_FAILED thrown', async () => {
    const { fake, st, cloud } = await setup({ serverListAgeMs: 0 });
    st.onCreate = (s) => {
      s.status = 'ACTIVE';
    };
    const err = await cloud
      .createServer({ name: 'no-ip', image: { id: 'img-1' }, flavor: 'm1.small', wait: true, timeoutMs: 5000 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof OcxError && err.code === ErrorCode.RESOURCE_FAILED, String(err));
    assert.match(err.message, /without being allocated an IP address/);
    assert.equal(st.servers.size, 0);
    assert.equal(
      fake.requests.filter((r) => r.method === 'DELETE' && r.path.startsWith('/compute/v2.1/servers/')).length,
      1,
    );
  });

  test('a failure waiting cannot cure (403) ends the wait at once; a transient 503 does not', async () => {
    const { fake, st, cloud } = await setup({ serverListAgeMs: 0 });
    st.servers.set('s-x', novaServer('s-x', 'x', { status: 'BUILD' }));
    let mode: 'forbidden' | 'flaky' = 'forbidden';
    let calls = 0;
    fake.route('GET', '/compute/v2.1/servers/detail', () => {
      calls++;
      if (mode === 'forbidden')
        return { status: 403, json: { forbidden: { code: 403, message: 'Policy does not allow' } } };
      if (calls % 2) return { status: 503, json: { computeFault: { code: 503, message: 'try later' } } };
      st.servers.get('s-x')!.status = 'ACTIVE';
      st.servers.get('s-x')!.addresses = { private: [{ addr: '10.0.0.3', version: 4 }] };
      return { json: { servers: [...st.servers.values()] } };
    });
    await assert.rejects(cloud.waitForServer({ id: 's-x' }, { timeoutMs: 60_000 }), isCode(ErrorCode.FORBIDDEN));
    assert.equal(calls, 1);
    mode = 'flaky';
    calls = 0;
    const s = await cloud.waitForServer({ id: 's-x' }, { timeoutMs: 60_000, autoIp: false });
    assert.equal(s.status, 'ACTIVE');
    assert.equal(calls, 2);
  });

  test('many concurrent waiters share the server list: far fewer list requests than waiters', async () => {
    const { fake, st, cloud } = await setup({ serverListAgeMs: 50, pollIntervalMs: 10 });
    const ids = Array.from({ length: 20 }, (_, i) => `w-${i}`);
    for (const id of ids) st.servers.set(id, novaServer(id, id, { status: 'BUILD' }));
    let lists = 0;
    fake.route('GET', '/compute/v2.1/servers/detail', () => {
      if (++lists === 2) {
        for (const s of st.servers.values()) {
          s.status = 'ACTIVE';
          s.addresses = { private: [{ addr: '10.0.0.4', version: 4, 'OS-EXT-IPS:type': 'fixed' }] };
        }
      }
      return { json: { servers: [...st.servers.values()] } };
    });
    const done = await Promise.all(ids.map((id) => cloud.waitForServer({ id }, { timeoutMs: 30_000, autoIp: false })));
    assert.ok(done.every((s) => s.status === 'ACTIVE'));
    // Unbatched polling would cost at least two lists per waiter (40); the shared cache needs ~2.
    assert.ok(lists < ids.length, `${lists} list requests for ${ids.length} waiters`);
  });

  test('still BUILD at the deadline → TIMEOUT', async () => {
    const { st, cloud } = await setup({ serverListAgeMs: 0 });
    st.servers.set('s-slow', novaServer('s-slow', 'slow', { status: 'BUILD' }));
    await assert.rejects(cloud.waitForServer('s-slow', { timeoutMs: 50 }), isCode(ErrorCode.TIMEOUT));
  });

  test('ACTIVE with an address returns the server; with autoIp a floating IP is attached to its port', async () => {
    const { st, cloud } = await setup({ serverListAgeMs: 0 });
    st.onCreate = (s) => {
      s.status = 'ACTIVE';
      s.addresses = {
        private: [
          { addr: '10.0.0.20', version: 4, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:cc:cc:cc' },
        ],
      };
      addPort(st, String(s.id), { ip: '10.0.0.20', mac: 'fa:16:3e:cc:cc:cc' });
    };
    const plain = await cloud.createServer({
      name: 'a',
      image: { id: 'img-1' },
      flavor: 'm1.small',
      wait: true,
      autoIp: false,
    });
    assert.equal(plain.private_v4, '10.0.0.20');
    assert.equal(plain.public_v4, '');
    assert.equal(plain.admin_password, 'generated-pass');
    const withIp = await cloud.createServer({
      name: 'b',
      image: { id: 'img-1' },
      flavor: 'm1.small',
      wait: true,
      reuseIps: false,
    });
    assert.match(withIp.public_v4, /^93\.184\.216\./);
    assert.equal(withIp.interface_ip, withIp.public_v4);
    const fip = [...st.fips.values()].find((f) => f.floating_ip_address === withIp.public_v4)!;
    assert.equal(fip.floating_network_id, 'net-pub');
    assert.equal(fip.fixed_ip_address, '10.0.0.20');
  });
});

describe('Cloud: clouds.yaml behaviour keys', () => {
  test('image_format, networks[default_interface/routes_externally] shape defaults and addresses', async () => {
    const { st, cloud } = await setup(
      {},
      { image_format: 'raw', networks: [{ name: 'private', routes_externally: true, default_interface: true }] },
    );
    const img = await cloud.createImage('fmt', { data: Buffer.from('x') });
    assert.equal(img.disk_format, 'raw');
    await cloud.createServer({ name: 'n', image: img, flavor: 'm1.small' });
    assert.deepEqual(st.createBodies[0]!.networks, [{ uuid: 'net-priv' }]);
    st.servers.set('s9', novaServer('s9', 's9', { addresses: { private: [{ addr: '10.0.0.99', version: 4 }] } }));
    const s = (await cloud.listServers()).find((x) => x.id === 's9')!;
    assert.equal(s.public_v4, '10.0.0.99'); // configured as routing externally
    assert.equal(s.interface_ip, '10.0.0.99');
  });
});

describe('Cloud: createServer request', () => {
  test('resolves image/flavor/network names, encodes userdata, builds a boot-from-volume BDM', async () => {
    const { st, cloud } = await setup();
    st.images.set('img-9', { id: 'img-9', name: 'debian', status: 'active', owner: PROJECT.id });
    const server = await cloud.createServer({
      name: 'node-1',
      image: 'debian',
      flavor: 'm1.large',
      network: 'private',
      keyName: 'k1',
      userdata: '#!/bin/sh\necho hi\n',
      metadata: { nodepool_provider_name: 'p1', nodepool_node_id: '42' },
      securityGroups: ['default', 'ssh'],
      availabilityZone: 'az1',
      bootFromVolume: true,
      volumeSize: 20,
      terminateVolume: true,
    });
    const body = st.createBodies[0]!;
    assert.equal(body.flavorRef, 'f2');
    assert.equal(body.imageRef, '');
    assert.deepEqual(body.networks, [{ uuid: 'net-priv' }]);
    assert.equal(Buffer.from(String(body.user_data), 'base64').toString(), '#!/bin/sh\necho hi\n');
    assert.deepEqual(body.security_groups, [{ name: 'default' }, { name: 'ssh' }]);
    assert.equal(body.key_name, 'k1');
    assert.equal(body.availability_zone, 'az1');
    assert.deepEqual(body.block_device_mapping_v2, [
      {
        boot_index: '0',
        delete_on_termination: true,
        destination_type: 'volume',
        uuid: 'img-9',
        source_type: 'image',
        volume_size: '20',
      },
    ]);
    assert.equal(server.status, 'BUILD');
    assert.deepEqual(server.metadata, { nodepool_provider_name: 'p1', nodepool_node_id: '42' });
    assert.equal(st.createHints[0], undefined);
    await cloud.createServer({
      name: 'grouped',
      image: 'debian',
      flavor: 'm1.small',
      group: 'spread',
      schedulerHints: { same_host: ['x'] },
      nics: [{ 'net-name': 'private', 'v4-fixed-ip': '10.0.0.50' }],
    });
    assert.deepEqual(st.createHints[1], { same_host: ['x'], group: 'sg-aa' });
    assert.deepEqual(st.createBodies[1]!.networks, [{ uuid: 'net-priv', fixed_ip: '10.0.0.50' }]);
    await assert.rejects(
      cloud.createServer({ name: 'x', image: 'no-such-image', flavor: 'm1.small' }),
      isCode(ErrorCode.NOT_FOUND),
    );
  });

  test('without wait, a server that is already ERROR raises RESOURCE_FAILED', async () => {
    const { st, cloud } = await setup();
    st.onCreate = (s) => {
      s.status = 'ERROR';
      s.fault = { code: 400, message: 'Flavor disk too small' };
    };
    await assert.rejects(
      cloud.createServer({ name: 'x', image: { id: 'i' }, flavor: { id: 'f1' } }),
      (e: unknown) =>
        e instanceof OcxError && e.code === ErrorCode.RESOURCE_FAILED && /Flavor disk too small/.test(e.message),
    );
  });
});

describe('Cloud: deleteServer', () => {
  test('deleteIps removes the floating IP first, then the server; wait returns once it is gone', async () => {
    const { fake, st, cloud } = await setup({ serverListAgeMs: 0 });
    st.servers.set(
      '11111111-2222-4333-8444-555555555555',
      novaServer('11111111-2222-4333-8444-555555555555', 'victim', {
        addresses: { private: [{ addr: '10.0.0.30', version: 4 }] },
      }),
    );
    const { fipId } = addPort(st, '11111111-2222-4333-8444-555555555555', { ip: '10.0.0.30', fip: '93.184.216.30' });
    assert.equal(await cloud.deleteServer('victim', { deleteIps: true, wait: true, timeoutMs: 5000 }), true);
    assert.equal(st.fips.has(fipId!), false);
    assert.equal(st.servers.size, 0);
    const order = fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/')[2]);
    assert.deepEqual(order, ['v2.0', 'v2.1']);
    assert.deepEqual(await cloud.listServers(), []);
  });

  /** A floating IP attached to no port. */
  const addLooseFip = (st: MiniState, id: string, address: string) =>
    st.fips.set(id, {
      id,
      floating_ip_address: address,
      floating_network_id: 'net-pub',
      port_id: null,
      fixed_ip_address: null,
      status: 'DOWN',
    });

  test('deleteUnattachedFloatingIps deletes exactly the unattached ones', async () => {
    const { st, cloud } = await setup();
    const { fipId } = addPort(st, 'srv', { ip: '10.0.0.40', fip: '93.184.216.40' });
    for (const id of ['loose-1', 'loose-2']) addLooseFip(st, id, `93.184.216.${id.length}`);
    assert.equal(await cloud.deleteUnattachedFloatingIps(), 2);
    assert.deepEqual([...st.fips.keys()], [fipId]);
  });

  test('getFloatingIp by id or address: null for none, AMBIGUOUS when several share the address', async () => {
    const { st, cloud } = await setup();
    const { fipId } = addPort(st, 'srv', { ip: '10.0.0.41', fip: '93.184.216.41' });
    for (const id of ['twin-1', 'twin-2']) addLooseFip(st, id, '93.184.216.42');
    assert.equal((await cloud.getFloatingIp(fipId!))?.floating_ip_address, '93.184.216.41');
    assert.equal((await cloud.getFloatingIp('93.184.216.41'))?.id, fipId);
    assert.equal((await cloud.getFloatingIp('twin-2'))?.id, 'twin-2');
    assert.equal(await cloud.getFloatingIp('93.184.216.99'), null);
    await assert.rejects(cloud.getFloatingIp('93.184.216.42'), isCode(ErrorCode.AMBIGUOUS));
  });
});

describe('Cloud: images', () => {
  test('createImage uploads a file once, stores md5/sha256, and is idempotent by name + hash', async () => {
    const { fake, st, cloud } = await setup();
    const dir = await mkdtemp(join(tmpdir(), 'ocx-cloud-img-'));
    try {
      const path = join(dir, 'img.qcow2');
      const data = Buffer.from('QFI\xfb fake qcow2 payload '.repeat(1000));
      await writeFile(path, data);
      const first = await cloud.createImage('builder-image', { filename: path, wait: true, meta: { build: '7' } });
      assert.equal(first.status, 'active');
      assert.equal(first.properties[IMAGE_MD5_KEY], createHash('md5').update(data).digest('hex'));
      assert.equal(first.properties[IMAGE_SHA256_KEY], createHash('sha256').update(data).digest('hex'));
      assert.equal(first.properties.build, '7');
      assert.equal(first.disk_format, 'qcow2');
      assert.equal(first.visibility, 'private');
      assert.ok(st.imageData.get(first.id)!.equals(data));
      const again = await cloud.createImage('builder-image', { filename: path, wait: true });
      assert.equal(again.id, first.id);
      assert.equal(fake.count('POST', '/image/v2/images'), 1);
      assert.equal(fake.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/file')).length, 1);
      // Different content under the same name: a new image (openstacksdk behaviour).
      await writeFile(path, Buffer.from('other bytes'));
      const changed = await cloud.createImage('builder-image', { filename: path, allowDuplicates: false });
      assert.notEqual(changed.id, first.id);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a stream upload is hashed on the way and the hashes are stored afterwards', async () => {
    const { st, cloud } = await setup();
    const img = await cloud.createImage('streamed', {
      data: Readable.from([Buffer.from('part-1;'), Buffer.from('part-2')]),
      diskFormat: 'raw',
      wait: true,
    });
    assert.equal(st.imageData.get(img.id)!.toString(), 'part-1;part-2');
    const stored = st.images.get(img.id)!;
    assert.equal(stored[IMAGE_SHA256_KEY], createHash('sha256').update('part-1;part-2').digest('hex'));
    assert.equal(stored.disk_format, 'raw');
  });

  test('a stream upload with its sha256 given: the md5 Glance computed over the stored bytes is stored beside the given sha256', async () => {
    const { st, cloud } = await setup();
    const given = createHash('sha256').update('part-1;part-2').digest('hex');
    async function* parts() {
      yield Buffer.from('part-1;');
      yield Buffer.from('part-2');
    }
    const img = await cloud.createImage('streamed-sha', { data: parts(), sha256: given, diskFormat: 'raw' });
    assert.equal(st.imageData.get(img.id)!.toString(), 'part-1;part-2');
    const stored = st.images.get(img.id)!;
    assert.equal(stored[IMAGE_SHA256_KEY], given);
    assert.equal(stored[IMAGE_MD5_KEY], createHash('md5').update('part-1;part-2').digest('hex'));
  });

  test('a source stream that fails mid-upload fails createImage (no hang) and removes the image', async () => {
    const { st, cloud } = await setup();
    async function* broken() {
      yield Buffer.from('first chunk');
      throw new Error('disk read error');
    }
    await assert.rejects(cloud.createImage('half', { data: broken(), wait: true }));
    assert.equal(st.images.size, 0);
  });

  test('a failed upload deletes the half-made image and rethrows', async () => {
    const { fake, st, cloud } = await setup();
    st.failUpload = 503;
    await assert.rejects(
      cloud.createImage('broken', { data: Buffer.from('abc'), wait: true }),
      isCode(ErrorCode.SERVICE_ERROR),
    );
    assert.equal(st.images.size, 0);
    assert.equal(
      fake.requests.filter((r) => r.method === 'DELETE' && r.path.startsWith('/image/v2/images/')).length,
      1,
    );
  });

  test('createImageSnapshot: image id from the body (2.45+) or the Location header, then wait for active', async () => {
    const { fake, st, cloud } = await setup();
    st.servers.set('s1', novaServer('s1', 'snap-me', { status: 'ACTIVE' }));
    let n = 0;
    fake.route('POST', '/compute/v2.1/servers/s1/action', (r) => {
      const body = r.json() as { createImage: { name: string; metadata: Record<string, string> } };
      const id = `snap-${++n}`;
      st.images.set(id, {
        id,
        name: body.createImage.name,
        status: 'active',
        owner: PROJECT.id,
        ...body.createImage.metadata,
      });
      return n === 1
        ? { status: 202, json: { image_id: id } }
        : { status: 202, headers: { location: `${fake.url}/image/v2/images/${id}` } };
    });
    const a = await cloud.createImageSnapshot('snap-a', 'snap-me', { wait: true, metadata: { k: 'v' } });
    assert.deepEqual([a.id, a.name, a.status, a.properties.k], ['snap-1', 'snap-a', 'active', 'v']);
    const b = await cloud.createImageSnapshot('snap-b', { id: 's1' }, { wait: true });
    assert.equal(b.id, 'snap-2');
  });

  test('deleteImage by name → true, then false', async () => {
    const { st, cloud } = await setup();
    st.images.set('i1', { id: 'i1', name: 'old', status: 'active', owner: PROJECT.id });
    assert.equal(await cloud.deleteImage('old'), true);
    assert.equal(await cloud.deleteImage('old'), false);
  });
});

describe('Cloud: keypairs, limits, zones, volumes, flavors', () => {
  test('createKeypair without a public key returns the private key; list and delete', async () => {
    const { cloud } = await setup();
    const kp = await cloud.createKeypair('k1');
    assert.match(kp.private_key!, /PRIVATE KEY/);
    await cloud.createKeypair('k2', 'ssh-ed25519 AAAAmine');
    assert.deepEqual(
      (await cloud.listKeypairs()).map((k) => [k.name, k.public_key]),
      [
        ['k1', 'ssh-ed25519 AAAAgenerated'],
        ['k2', 'ssh-ed25519 AAAAmine'],
      ],
    );
    assert.equal(await cloud.deleteKeypair('k1'), true);
    assert.deepEqual(
      (await cloud.listKeypairs()).map((k) => k.name),
      ['k2'],
    );
  });

  test('getComputeLimits normalizes Nova absolute limits; unknown ones go to properties', async () => {
    const { st, cloud } = await setup();
    st.servers.set('s1', novaServer('s1', 'a', { status: 'BUILD' }));
    const limits = await cloud.getComputeLimits();
    assert.equal(limits.max_total_instances, 10);
    assert.equal(limits.max_total_cores, 20);
    assert.equal(limits.max_total_ram_size, 51200);
    assert.equal(limits.total_instances_used, 1);
    assert.equal(limits.total_ram_used, 2048);
    assert.equal(limits.properties.maxImageMeta, 128);
    assert.equal(limits.location.project.name, 'demo');
  });

  test('availability zone names list only available zones unless asked', async () => {
    const { cloud } = await setup();
    assert.deepEqual(await cloud.listAvailabilityZoneNames(), ['nova']);
    assert.deepEqual(await cloud.listAvailabilityZoneNames({ unavailable: true }), ['nova', 'broken']);
  });

  test('volumes: create with wait, get by name, delete, get → null', async () => {
    const { cloud } = await setup();
    const v = await cloud.createVolume({ size: 2, name: 'data', wait: true });
    assert.equal(v.status, 'available');
    assert.equal(v.location.zone, 'nova');
    assert.equal((await cloud.getVolume('data'))!.id, v.id);
    assert.equal(await cloud.deleteVolume('data', { wait: true }), true);
    assert.equal(await cloud.getVolume('data'), null);
  });

  test('security groups are normalized with their rules (oaktree model)', async () => {
    const { cloud } = await setup();
    const sg = await cloud.getSecurityGroup('default');
    assert.equal(sg!.description, 'Default security group');
    assert.equal(sg!.properties.stateful, true);
    assert.deepEqual(
      sg!.security_group_rules.map((r) => [
        r.direction,
        r.protocol,
        r.port_range_min,
        r.port_range_max,
        r.remote_ip_prefix,
      ]),
      [['ingress', 'tcp', 22, 22, '0.0.0.0/0']],
    );
    assert.equal(sg!.security_group_rules[0]!.location.project.name, 'demo');
    assert.equal(await cloud.getSecurityGroup('nope'), null);
  });

  test('flavors: smallest flavor with enough RAM; networks by name', async () => {
    const { cloud } = await setup();
    assert.equal((await cloud.getFlavorByRam(4096))!.name, 'm1.large');
    assert.equal((await cloud.getFlavorByRam(1024))!.name, 'm1.small');
    assert.equal(await cloud.getFlavorByRam(1_000_000), null);
    const net = await cloud.getNetwork('public');
    assert.equal(net!.is_router_external, true);
    assert.equal(net!.location.project.id, 'admin-proj');
  });
});

describe('connectCloud', () => {
  test('builds a Cloud from a clouds.yaml entry; close() releases the session it made', async () => {
    const fake = await startFakeCloud();
    fakes.push(fake);
    installMiniCloud(fake);
    const dir = await mkdtemp(join(tmpdir(), 'ocx-clouds-'));
    try {
      const file = join(dir, 'clouds.yaml');
      await writeFile(
        file,
        [
          'clouds:',
          '  mini:',
          '    region_name: RegionOne',
          '    private: true',
          '    auth:',
          `      auth_url: ${fake.url}/identity/v3`,
          '      username: demo',
          '      password: secret',
          '      project_name: demo',
          '      user_domain_name: Default',
          '      project_domain_name: Default',
          '',
        ].join('\n'),
      );
      const config = loadCloudsConfig({
        files: { clouds: [file], secure: [], publicClouds: [] },
        env: {},
        cwd: dir,
        home: dir,
      });
      const cloud = connectCloud({ cloud: 'mini', config });
      assert.equal(cloud.name, 'mini');
      assert.equal(cloud.region, 'RegionOne');
      const flavors = await cloud.listFlavors();
      assert.deepEqual(
        flavors.map((f) => [f.name, f.location.cloud, f.location.region, f.location.project.name]),
        [
          ['m1.small', 'mini', 'RegionOne', 'demo'],
          ['m1.large', 'mini', 'RegionOne', 'demo'],
        ],
      );
      await cloud.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
