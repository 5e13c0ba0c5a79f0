import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cinderModule } from '../src/cinder/index.ts';
import { glanceModule, SEED_IMAGE_NAME } from '../src/glance/index.ts';
import { neutronService } from '../src/neutron/index.ts';
import { FAULT_METADATA_KEY, novaService } from '../src/nova/index.ts';
import { SqliteDatabase } from '../src/store.ts';
import { type Cloud, call, getToken, projectId, startTestCloud } from './helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies
type Json = Record<string, any>;

const C = '/compute/v2.1';
const N = '/network/v2.0';

describe('devcloud nova', () => {
  let cloud: Cloud;
  let demo: string;
  let admin: string;
  let imageId: string;
  let netId: string;

  before(async () => {
    cloud = await startTestCloud({ services: [neutronService, novaService, glanceModule, cinderModule] });
    demo = await getToken(cloud, 'demo');
    admin = await getToken(cloud, 'admin');
    const images = (await (await call(cloud, 'GET', `/image/v2/images?name=${SEED_IMAGE_NAME}`, demo)).json()) as Json;
    imageId = images.images[0].id;
    // devstack's seed: demo's own `private` network (with private-subnet and router1 to `public`).
    const nets = (await (await call(cloud, 'GET', `${N}/networks?name=private`, demo)).json()) as Json;
    assert.equal(nets.networks.length, 1);
    netId = nets.networks[0].id;
  });
  after(() => cloud.close());

  const V = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

  async function ok(res: Response, status = 200): Promise<Json> {
    const text = await res.text();
    assert.equal(res.status, status, text);
    return text ? (JSON.parse(text) as Json) : {};
  }
  async function fault(res: Response, status: number, key: string): Promise<string> {
    const body = (await res.json()) as Json;
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(body[key]?.code, status, JSON.stringify(body));
    return body[key].message as string;
  }
  /** Poll a server until `pred` holds (state changes are asynchronous, as in Nova); fails after 5 s. */
  async function waitServer(
    id: string,
    pred: (s: Json | undefined) => boolean,
    token = demo,
    v = '2.1',
  ): Promise<Json | undefined> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const res = await call(cloud, 'GET', `${C}/servers/${id}`, token, undefined, V(v));
      const s = res.status === 404 ? undefined : ((await res.json()) as Json).server;
      if (pred(s)) return s;
      if (Date.now() > deadline) assert.fail(`server ${id} did not reach the state; last: ${JSON.stringify(s)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  /** Delete a server and wait until it is gone: deleting is asynchronous (as in Nova) and counts against the
   * instance quota until done, and later tests boot more. */
  async function destroy(id: string, token = demo): Promise<void> {
    await ok(await call(cloud, 'DELETE', `${C}/servers/${id}`, token), 204);
    await waitServer(id, (x) => x === undefined, token);
  }
  async function boot(body: Json, token = demo, v = '2.1'): Promise<Json> {
    const res = await call(
      cloud,
      'POST',
      `${C}/servers`,
      token,
      { server: { flavorRef: '1', imageRef: imageId, ...body } },
      V(v),
    );
    const out = await ok(res, 202);
    assert.equal(res.headers.get('location'), `${cloud.baseUrl}${C}/servers/${out.server.id}`);
    return out.server;
  }

  it('serves version documents and negotiates microversions with the headers Nova sends', async () => {
    const root = await ok(await call(cloud, 'GET', '/compute/'));
    const v21 = root.versions.find((v: Json) => v.id === 'v2.1');
    assert.equal(v21.min_version, '2.1');
    assert.equal(v21.version, '2.93');
    assert.equal(v21.links[0].href, `${cloud.baseUrl}/compute/v2.1/`);
    const doc = await ok(await call(cloud, 'GET', '/compute/v2.1'));
    assert.equal(doc.version.id, 'v2.1');

    const res = await call(cloud, 'GET', `${C}/flavors`, demo, undefined, V('2.79'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('openstack-api-version'), 'compute 2.79');
    assert.equal(res.headers.get('x-openstack-nova-api-version'), '2.79');
    assert.match(res.headers.get('vary') ?? '', /OpenStack-API-Version/);
    const rid = res.headers.get('x-openstack-request-id');
    assert.match(rid ?? '', /^req-[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('x-compute-request-id'), rid);
    const legacy = await call(cloud, 'GET', `${C}/flavors`, demo, undefined, {
      'X-OpenStack-Nova-API-Version': '2.10',
    });
    assert.equal(legacy.headers.get('openstack-api-version'), 'compute 2.10');
    const latest = await call(cloud, 'GET', `${C}/flavors`, demo, undefined, V('latest'));
    assert.equal(latest.headers.get('openstack-api-version'), 'compute 2.93');
    const none = await call(cloud, 'GET', `${C}/flavors`, demo);
    assert.equal(none.headers.get('openstack-api-version'), 'compute 2.1');

    const msg = await fault(await call(cloud, 'GET', `${C}/servers`, demo, undefined, V('2.99')), 406, 'computeFault');
    assert.equal(msg, 'Version 2.99 is not supported by the API. Minimum is 2.1 and maximum is 2.93.');
    await fault(await call(cloud, 'GET', `${C}/servers`, demo, undefined, V('two')), 400, 'badRequest');
    const unauth = await call(cloud, 'GET', `${C}/servers`);
    assert.equal(unauth.status, 401);
  });

  it('lists devstack flavors, shows details by microversion, and 404s with itemNotFound', async () => {
    const list = await ok(await call(cloud, 'GET', `${C}/flavors`, demo));
    const names = list.flavors.map((f: Json) => f.name);
    for (const n of ['m1.tiny', 'm1.small', 'm1.medium', 'm1.large', 'm1.xlarge']) assert.ok(names.includes(n), n);
    const tiny = list.flavors.find((f: Json) => f.name === 'm1.tiny');
    assert.equal(tiny.id, '1');
    assert.deepEqual(Object.keys(tiny).sort(), ['id', 'links', 'name']);
    const old = await ok(await call(cloud, 'GET', `${C}/flavors/1`, demo));
    assert.equal(old.flavor.swap, '');
    assert.equal(old.flavor.ram, 512);
    assert.equal(old.flavor.description, undefined);
    const modern = await ok(await call(cloud, 'GET', `${C}/flavors/detail`, demo, undefined, V('2.75')));
    const small = modern.flavors.find((f: Json) => f.id === '2');
    assert.equal(small.swap, 0);
    assert.deepEqual(small.extra_specs, {});
    assert.equal(small.description, null);
    const msg = await fault(await call(cloud, 'GET', `${C}/flavors/nope`, demo), 404, 'itemNotFound');
    assert.equal(msg, 'Flavor nope could not be found.');
    const page = await ok(await call(cloud, 'GET', `${C}/flavors?limit=2`, demo));
    assert.equal(page.flavors.length, 2);
    assert.match(page.flavors_links[0].href, new RegExp(`marker=${page.flavors[1].id}`));
  });

  it('manages extra specs (admin) and rejects members', async () => {
    await fault(
      await call(cloud, 'POST', `${C}/flavors/3/os-extra_specs`, demo, {
        extra_specs: { 'hw:cpu_policy': 'dedicated' },
      }),
      403,
      'forbidden',
    );
    const set = await ok(
      await call(cloud, 'POST', `${C}/flavors/3/os-extra_specs`, admin, {
        extra_specs: { 'hw:cpu_policy': 'dedicated' },
      }),
    );
    assert.deepEqual(set.extra_specs, { 'hw:cpu_policy': 'dedicated' });
    const one = await ok(await call(cloud, 'GET', `${C}/flavors/3/os-extra_specs/hw:cpu_policy`, demo));
    assert.deepEqual(one, { 'hw:cpu_policy': 'dedicated' });
    await ok(await call(cloud, 'DELETE', `${C}/flavors/3/os-extra_specs/hw:cpu_policy`, admin));
    await fault(await call(cloud, 'GET', `${C}/flavors/3/os-extra_specs/hw:cpu_policy`, demo), 404, 'itemNotFound');
  });

  it('generates real SSH keypairs and imports public keys', async () => {
    const res = await call(cloud, 'POST', `${C}/os-keypairs`, demo, { keypair: { name: 'gen' } }, V('2.10'));
    const created = (await ok(res, 201)).keypair;
    assert.match(created.public_key, /^ssh-rsa AAAA[0-9A-Za-z+/=]+ Generated-by-Nova$/);
    assert.match(created.private_key, /^-----BEGIN RSA PRIVATE KEY-----\n/);
    assert.match(created.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    assert.equal(created.type, 'ssh');
    // The private key matches the public key: the OpenSSH blob carries the same RSA modulus.
    const jwk = createPublicKey(createPrivateKey(created.private_key)).export({ format: 'jwk' }) as { n: string };
    const blob = Buffer.from(created.public_key.split(' ')[1], 'base64');
    let off = 0;
    const next = () => {
      const len = blob.readUInt32BE(off);
      const v = blob.subarray(off + 4, off + 4 + len);
      off += 4 + len;
      return v;
    };
    assert.equal(next().toString(), 'ssh-rsa');
    next();
    let n = next();
    while (n[0] === 0) n = n.subarray(1);
    assert.equal(n.toString('base64url'), jwk.n);

    // 2.1: create answers 200 and has no type.
    const imported = await ok(
      await call(cloud, 'POST', `${C}/os-keypairs`, demo, { keypair: { name: 'imp', public_key: created.public_key } }),
    );
    assert.equal(imported.keypair.fingerprint, created.fingerprint);
    assert.equal(imported.keypair.private_key, undefined);
    assert.equal(imported.keypair.type, undefined);
    const dup = await fault(
      await call(cloud, 'POST', `${C}/os-keypairs`, demo, { keypair: { name: 'imp', public_key: created.public_key } }),
      409,
      'conflictingRequest',
    );
    assert.equal(dup, "Key pair 'imp' already exists.");
    await fault(
      await call(cloud, 'POST', `${C}/os-keypairs`, demo, {
        keypair: { name: 'bad', public_key: 'ssh-rsa not-base64!' },
      }),
      400,
      'badRequest',
    );
    await fault(
      await call(cloud, 'POST', `${C}/os-keypairs`, demo, { keypair: { name: 'nokey' } }, V('2.92')),
      400,
      'badRequest',
    );
    const list = await ok(await call(cloud, 'GET', `${C}/os-keypairs`, demo, undefined, V('2.2')));
    assert.deepEqual(
      list.keypairs.map((k: Json) => k.keypair.name),
      ['gen', 'imp'],
    );
    const shown = await ok(await call(cloud, 'GET', `${C}/os-keypairs/gen`, demo));
    assert.equal(shown.keypair.user_id.length > 0, true);
    // Keypairs are per user: admin does not see demo's.
    const adminList = await ok(await call(cloud, 'GET', `${C}/os-keypairs`, admin));
    assert.equal(adminList.keypairs.length, 0);
    const del = await call(cloud, 'DELETE', `${C}/os-keypairs/imp`, demo, undefined, V('2.2'));
    assert.equal(del.status, 204);
    await fault(await call(cloud, 'GET', `${C}/os-keypairs/imp`, demo), 404, 'itemNotFound');
  });

  it('builds a server BUILD → ACTIVE with addresses from a Neutron port', async () => {
    const created = await boot({ name: 'web-1', networks: [{ uuid: netId }], key_name: 'gen' });
    assert.equal(created.adminPass.length, 12);
    assert.deepEqual(created.security_groups, [{ name: 'default' }]);
    const first = await waitServer(created.id, (s) => !!s);
    assert.ok(['BUILD', 'ACTIVE'].includes(first!.status));
    const s = (await waitServer(created.id, (x) => x?.status === 'ACTIVE'))!;
    assert.equal(s['OS-EXT-STS:vm_state'], 'active');
    assert.equal(s['OS-EXT-STS:power_state'], 1);
    assert.equal(s['OS-EXT-STS:task_state'], null);
    assert.equal(s.key_name, 'gen');
    assert.equal(s.tenant_id, projectId(cloud, 'demo'));
    assert.equal(s.image.id, imageId);
    assert.deepEqual(s.flavor, { id: '1', links: [{ rel: 'bookmark', href: `${cloud.baseUrl}/compute/flavors/1` }] });
    assert.match(s['OS-SRV-USG:launched_at'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    const addr = s.addresses.private[0];
    assert.equal(addr.version, 4);
    assert.match(addr.addr, /^10\.0\.0\.\d+$/);
    assert.equal(addr['OS-EXT-IPS:type'], 'fixed');
    const ports = await ok(await call(cloud, 'GET', `${N}/ports?device_id=${s.id}`, demo));
    assert.equal(ports.ports.length, 1);
    assert.equal(ports.ports[0].device_owner, 'compute:nova');
    assert.equal(ports.ports[0].mac_address, addr['OS-EXT-IPS-MAC:mac_addr']);
    const ips = await ok(await call(cloud, 'GET', `${C}/servers/${s.id}/ips`, demo));
    assert.equal(ips.addresses.private[0].addr, addr.addr);
    // 2.47 embeds the flavor.
    const modern = await ok(await call(cloud, 'GET', `${C}/servers/${s.id}`, demo, undefined, V('2.79')));
    assert.equal(modern.server.flavor.original_name, 'm1.tiny');
    assert.equal(modern.server.flavor.vcpus, 1);
    assert.equal(modern.server.locked, false);
    assert.deepEqual(modern.server.tags, []);
  });

  it('shows floating IPs associated in Neutron as floating addresses', async () => {
    const created = await boot({ name: 'fip-vm', networks: [{ uuid: netId }] });
    await waitServer(created.id, (x) => x?.status === 'ACTIVE');
    const pub = (await ok(await call(cloud, 'GET', `${N}/networks?name=public`, demo))).networks[0];
    const port = (await ok(await call(cloud, 'GET', `${N}/ports?device_id=${created.id}`, demo))).ports[0];
    // No router of our own: the seeded router1 already joins private-subnet to public, as on devstack.
    const fip = (
      await ok(
        await call(cloud, 'POST', `${N}/floatingips`, demo, {
          floatingip: { floating_network_id: pub.id, port_id: port.id },
        }),
        201,
      )
    ).floatingip;
    const s = (await ok(await call(cloud, 'GET', `${C}/servers/${created.id}`, demo))).server;
    assert.deepEqual(
      s.addresses.private.map((a: Json) => [a.addr, a['OS-EXT-IPS:type']]),
      [
        [port.fixed_ips[0].ip_address, 'fixed'],
        [fip.floating_ip_address, 'floating'],
      ],
    );
  });

  it('fails a build into ERROR with a fault when devcloud:fault metadata is set', async () => {
    const created = await boot(
      { name: 'doomed', networks: 'none', metadata: { [FAULT_METADATA_KEY]: 'No valid host was found.' } },
      demo,
      '2.37',
    );
    const s = (await waitServer(created.id, (x) => x?.status === 'ERROR'))!;
    assert.equal(s['OS-EXT-STS:vm_state'], 'error');
    assert.equal(s.fault.code, 500);
    assert.equal(s.fault.message, 'No valid host was found.');
    assert.equal(s.fault.details, undefined, 'details of a 500 fault are for admins');
    const asAdmin = await ok(await call(cloud, 'GET', `${C}/servers/${created.id}`, admin));
    assert.equal(typeof asAdmin.server.fault.details, 'string');
    await destroy(created.id);
  });

  it('runs stop/start/reboot through their transitional states and refuses impossible actions', async () => {
    const created = await boot({ name: 'actions', networks: 'none' }, demo, '2.37');
    await waitServer(created.id, (x) => x?.status === 'ACTIVE');
    const start = await fault(
      await call(cloud, 'POST', `${C}/servers/${created.id}/action`, demo, { 'os-start': null }),
      409,
      'conflictingRequest',
    );
    assert.equal(start, `Cannot 'start' instance ${created.id} while it is in vm_state active`);
    const stop = await call(cloud, 'POST', `${C}/servers/${created.id}/action`, demo, { 'os-stop': null });
    await ok(stop, 202);
    const stopRequest = stop.headers.get('x-openstack-request-id');
    const stopped = (await waitServer(created.id, (x) => x?.status === 'SHUTOFF'))!;
    assert.equal(stopped['OS-EXT-STS:power_state'], 4);
    await ok(await call(cloud, 'POST', `${C}/servers/${created.id}/action`, demo, { 'os-start': null }), 202);
    await waitServer(created.id, (x) => x?.status === 'ACTIVE');
    await ok(await call(cloud, 'POST', `${C}/servers/${created.id}/action`, demo, { reboot: { type: 'HARD' } }), 202);
    const rebooting = (await ok(await call(cloud, 'GET', `${C}/servers/${created.id}`, demo))).server;
    assert.ok(['HARD_REBOOT', 'ACTIVE'].includes(rebooting.status));
    await waitServer(created.id, (x) => x?.status === 'ACTIVE' && x['OS-EXT-STS:task_state'] === null);
    await fault(
      await call(cloud, 'POST', `${C}/servers/${created.id}/action`, demo, { reboot: { type: 'GENTLE' } }),
      400,
      'badRequest',
    );
    await fault(await call(cloud, 'POST', `${C}/servers/${created.id}/action`, demo, { fly: {} }), 400, 'badRequest');
    // The action log, newest first, with the request ids the API answered with.
    const log = await ok(await call(cloud, 'GET', `${C}/servers/${created.id}/os-instance-actions`, demo));
    assert.deepEqual(
      log.instanceActions.map((a: Json) => a.action),
      ['reboot', 'start', 'stop', 'create'],
    );
    assert.equal(log.instanceActions[2].request_id, stopRequest);
    const one = await ok(
      await call(
        cloud,
        'GET',
        `${C}/servers/${created.id}/os-instance-actions/${stopRequest}`,
        demo,
        undefined,
        V('2.51'),
      ),
    );
    assert.equal(one.instanceAction.events[0].event, 'compute_stop_instance');
    assert.equal(one.instanceAction.events[0].result, 'Success');
  });

  it('keeps server metadata', async () => {
    const created = await boot({ name: 'meta', networks: 'none', metadata: { a: '1' } }, demo, '2.37');
    const id = created.id;
    const merged = await ok(await call(cloud, 'POST', `${C}/servers/${id}/metadata`, demo, { metadata: { b: '2' } }));
    assert.deepEqual(merged.metadata, { a: '1', b: '2' });
    const item = await ok(await call(cloud, 'PUT', `${C}/servers/${id}/metadata/c`, demo, { meta: { c: '3' } }));
    assert.deepEqual(item.meta, { c: '3' });
    const replaced = await ok(await call(cloud, 'PUT', `${C}/servers/${id}/metadata`, demo, { metadata: { z: '9' } }));
    assert.deepEqual(replaced.metadata, { z: '9' });
    await ok(await call(cloud, 'DELETE', `${C}/servers/${id}/metadata/z`, demo), 204);
    await fault(await call(cloud, 'GET', `${C}/servers/${id}/metadata/z`, demo), 404, 'itemNotFound');
  });

  it('pages with limit/marker and servers_links, filters by name regex and status', async () => {
    const ids: string[] = [];
    for (const name of ['page-a', 'page-b', 'page-c'])
      ids.push((await boot({ name, networks: 'none' }, demo, '2.37')).id);
    const p1 = await ok(await call(cloud, 'GET', `${C}/servers/detail?name=^page-&limit=2`, demo));
    assert.equal(p1.servers.length, 2);
    // Newest first, like Nova's default created_at desc.
    assert.deepEqual(
      p1.servers.map((s: Json) => s.name),
      ['page-c', 'page-b'],
    );
    const next = p1.servers_links[0];
    assert.equal(next.rel, 'next');
    assert.ok(next.href.startsWith(`${cloud.baseUrl}${C}/servers/detail?`));
    const p2 = await ok(await fetch(next.href, { headers: { 'x-auth-token': demo } }));
    assert.deepEqual(
      p2.servers.map((s: Json) => s.name),
      ['page-a'],
    );
    assert.equal(p2.servers_links, undefined);
    const summary = await ok(await call(cloud, 'GET', `${C}/servers?name=page-b`, demo));
    assert.deepEqual(Object.keys(summary.servers[0]).sort(), ['id', 'links', 'name']);
    await fault(await call(cloud, 'GET', `${C}/servers?marker=nope`, demo), 400, 'badRequest');
    for (const id of ids) await waitServer(id, (x) => x?.status === 'ACTIVE');
    const active = await ok(await call(cloud, 'GET', `${C}/servers/detail?name=page&status=ACTIVE`, demo));
    assert.equal(active.servers.length, 3);
    const building = await ok(await call(cloud, 'GET', `${C}/servers/detail?name=page&status=BUILD`, demo));
    assert.equal(building.servers.length, 0);
  });

  it('deletes servers, releases their ports, and reports deletions through changes-since', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const created = await boot({ name: 'short-lived', networks: [{ uuid: netId }] });
    await waitServer(created.id, (x) => x?.status === 'ACTIVE');
    await destroy(created.id);
    const msg = await fault(await call(cloud, 'GET', `${C}/servers/${created.id}`, demo), 404, 'itemNotFound');
    assert.equal(msg, `Instance ${created.id} could not be found.`);
    const ports = await ok(await call(cloud, 'GET', `${N}/ports?device_id=${created.id}`, demo));
    assert.equal(ports.ports.length, 0);
    const plain = await ok(await call(cloud, 'GET', `${C}/servers/detail`, demo));
    assert.ok(!plain.servers.some((s: Json) => s.id === created.id));
    const changes = await ok(
      await call(cloud, 'GET', `${C}/servers/detail?changes-since=${encodeURIComponent(since)}`, demo),
    );
    const gone = changes.servers.find((s: Json) => s.id === created.id);
    assert.equal(gone.status, 'DELETED');
    const future = await ok(
      await call(
        cloud,
        'GET',
        `${C}/servers/detail?changes-since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
        demo,
      ),
    );
    assert.equal(future.servers.length, 0);
    const backwards = await fault(
      await call(
        cloud,
        'GET',
        `${C}/servers/detail?changes-since=2030-01-01T00:00:00Z&changes-before=2020-01-01T00:00:00Z`,
        demo,
      ),
      400,
      'badRequest',
    );
    assert.equal(backwards, 'The value of changes-since must be less than or equal to changes-before.');
  });

  it('keeps projects apart; admin lists everything with all_tenants', async () => {
    const theirs = await boot({ name: 'admin-vm', networks: 'none' }, admin, '2.37');
    await fault(await call(cloud, 'GET', `${C}/servers/${theirs.id}`, demo), 404, 'itemNotFound');
    const mine = await ok(await call(cloud, 'GET', `${C}/servers`, demo));
    assert.ok(!mine.servers.some((s: Json) => s.id === theirs.id));
    await fault(await call(cloud, 'GET', `${C}/servers?all_tenants=1`, demo), 403, 'forbidden');
    const adminOwn = await ok(await call(cloud, 'GET', `${C}/servers`, admin));
    assert.ok(adminOwn.servers.every((s: Json) => s.name === 'admin-vm'));
    const all = await ok(await call(cloud, 'GET', `${C}/servers/detail?all_tenants=True`, admin));
    const projects = new Set(all.servers.map((s: Json) => s.tenant_id));
    assert.ok(projects.has(projectId(cloud, 'demo')));
    assert.ok(projects.has(projectId(cloud, 'admin')));
    const onlyDemo = await ok(
      await call(cloud, 'GET', `${C}/servers/detail?all_tenants=1&project_id=${projectId(cloud, 'demo')}`, admin),
    );
    assert.ok(onlyDemo.servers.every((s: Json) => s.tenant_id === projectId(cloud, 'demo')));
    await destroy(theirs.id, admin);
  });

  it('reports limits with usage and quota sets (show, defaults, detail)', async () => {
    const pid = projectId(cloud, 'demo');
    const live = (await ok(await call(cloud, 'GET', `${C}/servers/detail`, demo))).servers;
    const cores = live.reduce((n: number) => n + 1, 0);
    const limits = (await ok(await call(cloud, 'GET', `${C}/limits`, demo))).limits.absolute;
    assert.equal(limits.maxTotalInstances, 10);
    assert.equal(limits.maxTotalCores, 20);
    assert.equal(limits.maxTotalRAMSize, 51200);
    assert.equal(limits.totalInstancesUsed, live.length);
    assert.equal(limits.totalCoresUsed, cores);
    assert.equal(limits.totalRAMUsed, live.length * 512);
    const show = (await ok(await call(cloud, 'GET', `${C}/os-quota-sets/${pid}`, demo))).quota_set;
    assert.equal(show.id, pid);
    assert.equal(show.instances, 10);
    assert.equal(show.floating_ips, -1, '2.1 still lists the network proxies');
    const modern = (await ok(await call(cloud, 'GET', `${C}/os-quota-sets/${pid}`, demo, undefined, V('2.57'))))
      .quota_set;
    assert.equal(modern.floating_ips, undefined);
    assert.equal(modern.injected_files, undefined);
    const detail = (await ok(await call(cloud, 'GET', `${C}/os-quota-sets/${pid}/detail`, demo))).quota_set;
    assert.deepEqual(detail.instances, { limit: 10, in_use: live.length, reserved: 0 });
    const defaults = (await ok(await call(cloud, 'GET', `${C}/os-quota-sets/${pid}/defaults`, demo))).quota_set;
    assert.equal(defaults.cores, 20);
    await fault(await call(cloud, 'GET', `${C}/os-quota-sets/${projectId(cloud, 'admin')}`, demo), 403, 'forbidden');
  });

  it('enforces instance, core and RAM quotas with 403 forbidden like Nova', async () => {
    const pid = projectId(cloud, 'demo');
    const used = (await ok(await call(cloud, 'GET', `${C}/limits`, demo))).limits.absolute.totalInstancesUsed as number;
    await fault(
      await call(cloud, 'PUT', `${C}/os-quota-sets/${pid}`, demo, { quota_set: { instances: used + 1 } }),
      403,
      'forbidden',
    );
    const set = await ok(
      await call(cloud, 'PUT', `${C}/os-quota-sets/${pid}`, admin, { quota_set: { instances: used + 1 } }),
    );
    assert.equal(set.quota_set.instances, used + 1);
    const fits = await boot({ name: 'quota-fits', networks: 'none' }, demo, '2.37');
    const msg = await fault(
      await call(
        cloud,
        'POST',
        `${C}/servers`,
        demo,
        { server: { name: 'quota-over', flavorRef: '1', imageRef: imageId, networks: 'none' } },
        V('2.37'),
      ),
      403,
      'forbidden',
    );
    assert.equal(
      msg,
      `Quota exceeded for instances: Requested 1, but already used ${used + 1} of ${used + 1} instances`,
    );
    await ok(
      await call(cloud, 'PUT', `${C}/os-quota-sets/${pid}`, admin, {
        quota_set: { instances: 100, cores: 1, force: true },
      }),
    );
    const coreMsg = await fault(
      await call(
        cloud,
        'POST',
        `${C}/servers`,
        demo,
        { server: { name: 'big', flavorRef: '3', imageRef: imageId, networks: 'none' } },
        V('2.37'),
      ),
      403,
      'forbidden',
    );
    assert.match(coreMsg, /^Quota exceeded for cores: Requested 2, but already used \d+ of 1 cores$/);
    await ok(await call(cloud, 'DELETE', `${C}/os-quota-sets/${pid}`, admin), 202);
    await destroy(fits.id);
  });

  it('requires networks from 2.37 and picks the only network before it', async () => {
    await fault(
      await call(
        cloud,
        'POST',
        `${C}/servers`,
        demo,
        { server: { name: 'x', flavorRef: '1', imageRef: imageId } },
        V('2.37'),
      ),
      400,
      'badRequest',
    );
    const auto = await boot({ name: 'auto-net' });
    const s = (await waitServer(auto.id, (x) => x?.status === 'ACTIVE'))!;
    assert.ok(s.addresses.private?.length === 1);
    await fault(
      await call(cloud, 'POST', `${C}/servers`, demo, {
        server: { name: 'x', flavorRef: '1', imageRef: imageId, networks: [{ uuid: 'nope' }] },
      }),
      400,
      'badRequest',
    );
    await fault(
      await call(cloud, 'POST', `${C}/servers`, demo, { server: { name: 'x', flavorRef: '999', imageRef: imageId } }),
      400,
      'badRequest',
    );
    const badRef = await fault(
      await call(cloud, 'POST', `${C}/servers`, demo, {
        server: { name: 'x', flavorRef: '1', imageRef: 'no-such-image' },
      }),
      400,
      'badRequest',
    );
    assert.match(badRef, /^Invalid input for field\/attribute imageRef\. Value: no-such-image\./);
    const noImage = await fault(
      await call(cloud, 'POST', `${C}/servers`, demo, {
        server: { name: 'x', flavorRef: '1', imageRef: '8a4c8a4c-0000-0000-0000-000000000000' },
      }),
      400,
      'badRequest',
    );
    assert.equal(noImage, 'Can not find requested image');
    const noName = await fault(
      await call(
        cloud,
        'POST',
        `${C}/servers`,
        demo,
        { server: { flavorRef: '1', imageRef: imageId, networks: 'none' } },
        V('2.37'),
      ),
      400,
      'badRequest',
    );
    assert.equal(
      noName,
      `Invalid input for field/attribute server. Value: {'flavorRef': '1', 'imageRef': '${imageId}', 'networks': 'none'}. 'name' is a required property`,
    );
    const action = await fault(
      await call(cloud, 'POST', `${C}/servers/8a4c8a4c-0000-0000-0000-000000000000/action`, demo, { 'os-start': null }),
      404,
      'itemNotFound',
    );
    assert.equal(action, 'Instance 8a4c8a4c-0000-0000-0000-000000000000 has no mapping to a cell.');
    await destroy(auto.id);
  });

  it('boots from volume through block_device_mapping_v2 and deletes the volume with the server', async () => {
    const created = await boot(
      {
        name: 'bfv',
        imageRef: '',
        networks: 'none',
        block_device_mapping_v2: [
          {
            boot_index: 0,
            uuid: imageId,
            source_type: 'image',
            destination_type: 'volume',
            volume_size: 1,
            delete_on_termination: true,
          },
          {
            boot_index: -1,
            source_type: 'blank',
            destination_type: 'volume',
            volume_size: 2,
            delete_on_termination: false,
          },
        ],
      },
      demo,
      '2.37',
    );
    const s = (await waitServer(created.id, (x) => x?.status === 'ACTIVE' || x?.status === 'ERROR'))!;
    assert.equal(s.status, 'ACTIVE', JSON.stringify(s.fault));
    assert.equal(s.image, '');
    const vols = s['os-extended-volumes:volumes_attached'];
    assert.equal(vols.length, 2);
    const att = await ok(await call(cloud, 'GET', `${C}/servers/${s.id}/os-volume_attachments`, demo));
    assert.deepEqual(
      att.volumeAttachments.map((a: Json) => a.device),
      ['/dev/vda', '/dev/vdb'],
    );
    const root = att.volumeAttachments[0].volumeId;
    const data = att.volumeAttachments[1].volumeId;
    const pid = projectId(cloud, 'demo');
    const rootVol = (await ok(await call(cloud, 'GET', `/volume/v3/${pid}/volumes/${root}`, demo))).volume;
    assert.equal(rootVol.status, 'in-use');
    assert.equal(rootVol.attachments[0].server_id, s.id);
    await fault(
      await call(cloud, 'DELETE', `${C}/servers/${s.id}/os-volume_attachments/${root}`, demo),
      400,
      'badRequest',
    );
    await destroy(s.id);
    // The root volume had delete_on_termination: Cinder deletes it (after its own transition).
    const deadline = Date.now() + 5000;
    while ((await call(cloud, 'GET', `/volume/v3/${pid}/volumes/${root}`, demo)).status !== 404) {
      assert.ok(Date.now() < deadline, 'root volume was not deleted with its server');
      await new Promise((r) => setTimeout(r, 10));
    }
    const kept = (await ok(await call(cloud, 'GET', `/volume/v3/${pid}/volumes/${data}`, demo))).volume;
    assert.equal(kept.status, 'available');
  });

  it('attaches and detaches volumes through os-volume_attachments', async () => {
    const pid = projectId(cloud, 'demo');
    const vol = (
      await ok(await call(cloud, 'POST', `/volume/v3/${pid}/volumes`, demo, { volume: { size: 1, name: 'data' } }), 202)
    ).volume;
    const deadline = Date.now() + 5000;
    while (
      (await ok(await call(cloud, 'GET', `/volume/v3/${pid}/volumes/${vol.id}`, demo))).volume.status !== 'available'
    ) {
      assert.ok(Date.now() < deadline, 'volume never became available');
      await new Promise((r) => setTimeout(r, 10));
    }
    const created = await boot({ name: 'attach', networks: 'none' }, demo, '2.37');
    await waitServer(created.id, (x) => x?.status === 'ACTIVE');
    const att = await ok(
      await call(cloud, 'POST', `${C}/servers/${created.id}/os-volume_attachments`, demo, {
        volumeAttachment: { volumeId: vol.id },
      }),
    );
    assert.equal(att.volumeAttachment.device, '/dev/vdb');
    assert.equal(att.volumeAttachment.serverId, created.id);
    assert.equal(
      (await ok(await call(cloud, 'GET', `/volume/v3/${pid}/volumes/${vol.id}`, demo))).volume.status,
      'in-use',
    );
    const s = (await ok(await call(cloud, 'GET', `${C}/servers/${created.id}`, demo))).server;
    assert.deepEqual(s['os-extended-volumes:volumes_attached'], [{ id: vol.id }]);
    await fault(
      await call(cloud, 'POST', `${C}/servers/${created.id}/os-volume_attachments`, demo, {
        volumeAttachment: { volumeId: vol.id },
      }),
      400,
      'badRequest',
    );
    await ok(await call(cloud, 'DELETE', `${C}/servers/${created.id}/os-volume_attachments/${vol.id}`, demo), 202);
    assert.equal(
      (await ok(await call(cloud, 'GET', `/volume/v3/${pid}/volumes/${vol.id}`, demo))).volume.status,
      'available',
    );
    await destroy(created.id);
  });

  it('attaches and detaches network interfaces through os-interface', async () => {
    const created = await boot({ name: 'ifaces', networks: [{ uuid: netId }] });
    await waitServer(created.id, (x) => x?.status === 'ACTIVE');
    const first = await ok(await call(cloud, 'GET', `${C}/servers/${created.id}/os-interface`, demo));
    assert.equal(first.interfaceAttachments.length, 1);
    assert.equal(first.interfaceAttachments[0].net_id, netId);
    assert.equal(first.interfaceAttachments[0].port_state, 'ACTIVE');
    const extra = (
      await ok(await call(cloud, 'POST', `${N}/ports`, demo, { port: { network_id: netId, name: 'byo' } }), 201)
    ).port;
    const att = await ok(
      await call(cloud, 'POST', `${C}/servers/${created.id}/os-interface`, demo, {
        interfaceAttachment: { port_id: extra.id },
      }),
    );
    assert.equal(att.interfaceAttachment.port_id, extra.id);
    const viaNet = await ok(
      await call(cloud, 'POST', `${C}/servers/${created.id}/os-interface`, demo, {
        interfaceAttachment: { net_id: netId },
      }),
    );
    const s = (await ok(await call(cloud, 'GET', `${C}/servers/${created.id}`, demo))).server;
    assert.equal(s.addresses.private.length, 3);
    await fault(
      await call(cloud, 'POST', `${C}/servers/${created.id}/os-interface`, demo, {
        interfaceAttachment: { net_id: netId, port_id: extra.id },
      }),
      400,
      'badRequest',
    );
    // Detach: the port Nova made is deleted, the user's port is unbound and kept.
    await ok(
      await call(
        cloud,
        'DELETE',
        `${C}/servers/${created.id}/os-interface/${viaNet.interfaceAttachment.port_id}`,
        demo,
      ),
      202,
    );
    assert.equal((await call(cloud, 'GET', `${N}/ports/${viaNet.interfaceAttachment.port_id}`, demo)).status, 404);
    await ok(await call(cloud, 'DELETE', `${C}/servers/${created.id}/os-interface/${extra.id}`, demo), 202);
    const kept = (await ok(await call(cloud, 'GET', `${N}/ports/${extra.id}`, demo))).port;
    assert.equal(kept.device_id, '');
    await fault(
      await call(cloud, 'GET', `${C}/servers/${created.id}/os-interface/${extra.id}`, demo),
      404,
      'itemNotFound',
    );
    await destroy(created.id);
  });

  it('lists availability zones, and services/hypervisors for admins only', async () => {
    const az = await ok(await call(cloud, 'GET', `${C}/os-availability-zone`, demo));
    assert.deepEqual(az.availabilityZoneInfo, [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }]);
    await fault(await call(cloud, 'GET', `${C}/os-availability-zone/detail`, demo), 403, 'forbidden');
    const detail = await ok(await call(cloud, 'GET', `${C}/os-availability-zone/detail`, admin));
    assert.ok(detail.availabilityZoneInfo.some((z: Json) => z.zoneName === 'internal'));
    await fault(await call(cloud, 'GET', `${C}/os-services`, demo), 403, 'forbidden');
    const svcs = await ok(await call(cloud, 'GET', `${C}/os-services`, admin));
    assert.ok(svcs.services.some((s: Json) => s.binary === 'nova-compute' && s.state === 'up'));
    const hv = await ok(await call(cloud, 'GET', `${C}/os-hypervisors/detail`, admin));
    assert.equal(hv.hypervisors[0].state, 'up');
  });
});

describe('devcloud nova + neutron state in SQLite', () => {
  it('keeps servers, their ports and keypairs across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocx-nova-state-'));
    const path = join(dir, 'state.db');
    try {
      let db = new SqliteDatabase(path);
      let cloud = await startTestCloud({ services: [neutronService, novaService], store: db.forCloud('c') });
      let token = await getToken(cloud, 'demo');
      const net = (await (
        await call(cloud, 'POST', `${N}/networks`, token, { network: { name: 'kept' } })
      ).json()) as Json;
      await call(cloud, 'POST', `${N}/subnets`, token, {
        subnet: { network_id: net.network.id, cidr: '10.3.0.0/24', ip_version: 4 },
      });
      const res = await call(cloud, 'POST', `${C}/servers`, token, {
        server: {
          name: 'survivor',
          flavorRef: '2',
          imageRef: '6b8ba6ad-3a2f-4d0e-9a63-1f6a0e2f0c11',
          networks: [{ uuid: net.network.id }],
        },
      });
      assert.equal(res.status, 202);
      const id = ((await res.json()) as Json).server.id;
      assert.equal(
        (await call(cloud, 'POST', `${C}/os-keypairs`, token, { keypair: { name: 'kept-kp' } })).status,
        200,
      );
      await cloud.close();
      db.close();

      db = new SqliteDatabase(path);
      cloud = await startTestCloud({ services: [neutronService, novaService], store: db.forCloud('c') });
      try {
        token = await getToken(cloud, 'demo');
        const deadline = Date.now() + 5000;
        let s: Json;
        for (;;) {
          s = ((await (await call(cloud, 'GET', `${C}/servers/${id}`, token)).json()) as Json).server;
          if (s.status === 'ACTIVE' || Date.now() > deadline) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        assert.equal(s.status, 'ACTIVE');
        assert.equal(s.name, 'survivor');
        assert.equal(s.flavor.id, '2');
        assert.match(s.addresses.kept[0].addr, /^10\.3\.0\.\d+$/);
        const kps = (await (await call(cloud, 'GET', `${C}/os-keypairs`, token)).json()) as Json;
        assert.deepEqual(
          kps.keypairs.map((k: Json) => k.keypair.name),
          ['kept-kp'],
        );
        const nets = (await (await call(cloud, 'GET', `${N}/networks`, token)).json()) as Json;
        // 'private' is the devstack-style network seeded for demo (once: the restart does not add another).
        assert.deepEqual(nets.networks.map((n: Json) => n.name).sort(), ['kept', 'private', 'public']);
      } finally {
        await cloud.close();
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
