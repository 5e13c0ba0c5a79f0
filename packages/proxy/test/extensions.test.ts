/**
 * The design's use cases on devcloud: token injection between proxies (a volume in sp2 attached to a server in
 * sp1) and volume create on boot; plus the extension API's request and response hooks.
 * devcloud's Nova calls its own Cinder in-process, not over HTTP, so "Nova in sp1 calling Cinder through the proxy
 * in front of sp1" is played by the test with the user's sp1 token (what Nova forwards). On real OpenStack real Nova
 * makes those calls through the proxy the stack runs in front of sp1 (test/real/usecases.test.ts).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type Extension,
  type RemoteTokenRequest,
  type RemoteTokenSource,
  type RunningProxy,
  SdkK2KTokenSource,
  startProxy,
} from '../src/index.ts';
import { anyImage, createServer, createVolume, login, startWorld, type World, waitFor } from './helpers.ts';

/** Real K2K (the SDK's), recording the remote tokens so the test can play Nova in sp1. */
class RecordingK2K implements RemoteTokenSource {
  identityUrl = '';
  readonly tokens: Record<string, { token: string; projectId: string }> = {};
  async obtain(req: RemoteTokenRequest) {
    const inner = new SdkK2KTokenSource({ identityUrl: this.identityUrl });
    const t = await inner.obtain(req);
    this.tokens[req.sp.id] = { token: t.token, projectId: t.projectId };
    return t;
  }
}

const hooks: string[] = [];
const probe: Extension = {
  name: 'test-probe',
  routes: [
    { method: 'GET', service: 'compute', path: /^\/flavors\/detail$/ },
    { method: 'GET', service: 'compute', path: /^\/os-availability-zone$/ },
  ],
  async onRequest(ctx) {
    hooks.push(`request ${ctx.path.segments.join('/')}`);
    if (ctx.path.segments[0] === 'os-availability-zone') ctx.target = 'sp2';
    else ctx.query.set('minRam', '0');
    return undefined;
  },
  async onResponse(ctx, res) {
    hooks.push(`response ${ctx.path.segments.join('/')} from ${res.targetId}`);
    res.headers = { ...res.headers, 'x-test-extension': 'seen' };
    const flavors = (res.json as { flavors?: Record<string, unknown>[] } | undefined)?.flavors;
    for (const f of flavors ?? []) f['ocx:query'] = ctx.query.get('minRam');
  },
};

const source = new RecordingK2K();
let w: World;
let sp1Proxy: RunningProxy;

before(async () => {
  // The home proxy proves itself to sp1's proxy with sp1's admin account, which that proxy accepts as a peer.
  w = await startWorld({ remoteTokenSource: source, extensions: [probe], peerAccounts: { sp1: 'sp1-admin' } });
  source.identityUrl = w.direct.idp!.authUrl;
  // The proxy in front of sp1's services, registered in sp1's catalog as a federation-proxy.
  sp1Proxy = await startProxy({
    homeCloud: 'sp1-admin',
    cloudsFile: w.cloudsYaml,
    listen: '127.0.0.1:0',
    db: join(w.dir, 'sp1-proxy.sqlite'),
    logLevel: 'silent',
    peerUsers: ['admin'],
    peerRole: 'admin',
  });
  const admin = await login(w.direct.sp1!.authUrl, 'admin', 'admin-secret', 'admin');
  const h = { 'x-auth-token': admin.token, 'content-type': 'application/json' };
  const svc = await fetch(`${w.direct.sp1!.authUrl}/services`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({ service: { type: 'federation-proxy', name: 'ocx-proxy' } }),
  });
  assert.equal(svc.status, 201);
  const sid = ((await svc.json()) as { service: { id: string } }).service.id;
  const ep = await fetch(`${w.direct.sp1!.authUrl}/endpoints`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({
      endpoint: { service_id: sid, interface: 'public', region_id: 'RegionOne', url: sp1Proxy.url },
    }),
  });
  assert.equal(ep.status, 201);
});
after(async () => {
  await sp1Proxy?.stop();
  await w?.stop();
});

async function serverActive(c: string, id: string): Promise<void> {
  const d = w.direct[c]!;
  await waitFor(`server ${id} ACTIVE in ${c}`, async () => {
    const r = (await (
      await fetch(`${d.endpoints.compute}/servers/${id}`, { headers: { 'x-auth-token': d.token } })
    ).json()) as {
      server: { status: string };
    };
    return r.server.status === 'ACTIVE' ? true : undefined;
  });
}

const cinder = (c: string) => w.direct[c]!.endpoints.volumev3 ?? w.direct[c]!.endpoints['block-storage']!;

test('token injection: attaching volume BS1 (sp2) to server VM1 (sp1) lets sp1 reach BS1 through its proxy', async () => {
  const vm1 = await createServer(w.direct.sp1!, 'VM1');
  const bs1 = await createVolume(w.direct.sp2!, 'BS1');
  await serverActive('sp1', vm1);
  const r = await w.call(`/compute/v2.1/servers/${vm1}/os-volume_attachments`, {
    method: 'POST',
    json: { volumeAttachment: { volumeId: bs1, device: '/dev/vdd' } },
  });
  await r.body?.cancel();
  assert.equal(r.headers.get('x-ocx-service-provider'), 'sp1', 'the attach went to Nova in sp1');

  // Now be Nova in sp1: it calls Cinder through the proxy in front of sp1 with the user's sp1 token.
  const sp1 = source.tokens.sp1!;
  const nova = {
    'x-auth-token': sp1.token,
    'content-type': 'application/json',
    'openstack-api-version': 'volume 3.27',
  };
  const show = await fetch(`${sp1Proxy.url}/volume/v3/${sp1.projectId}/volumes/${bs1}`, { headers: nova });
  assert.equal(show.status, 200);
  assert.match(show.headers.get('x-ocx-service-provider') ?? '', /^via:.*:sp2$/);
  const vol = (await show.json()) as { volume: { id: string; name: string; links: { href: string }[] } };
  assert.equal(vol.volume.name, 'BS1');
  for (const l of vol.volume.links) {
    assert.ok(l.href.startsWith(`${sp1Proxy.url}/volume/`) && l.href.includes(`/${sp1.projectId}/`), l.href);
  }
  // Nova's attachment_create: placed by the volume's location, i.e. in sp2 with the injected sp2 token.
  const att = await fetch(`${sp1Proxy.url}/volume/v3/${sp1.projectId}/attachments`, {
    method: 'POST',
    headers: nova,
    body: JSON.stringify({ attachment: { volume_uuid: bs1, instance_uuid: vm1 } }),
  });
  const attText = await att.text();
  assert.equal(att.status, 200, attText);
  const d2 = w.direct.sp2!;
  const inSp2 = (await (
    await fetch(`${cinder('sp2')}/volumes/${bs1}`, { headers: { 'x-auth-token': d2.token } })
  ).json()) as {
    volume: { status: string };
  };
  assert.notEqual(inSp2.volume.status, 'available', 'the attachment was made in sp2');
  // Without the injected mapping, sp1's proxy knows nothing of BS1.
  const stranger = await login(w.direct.sp1!.authUrl);
  const miss = await fetch(`${sp1Proxy.url}/volume/v3/${stranger.projectId}/volumes/${bs1}`, {
    headers: { 'x-auth-token': stranger.token },
  });
  assert.equal(miss.status, 404);
});

test("attaching across clouds without a proxy in front of the server's cloud is refused with a clear conflict", async () => {
  const vm = await createServer(w.direct.sp2!, 'VM-in-sp2');
  const vol = await createVolume(w.direct.sp1!, 'vol-in-sp1');
  await serverActive('sp2', vm);
  const r = await w.call(`/compute/v2.1/servers/${vm}/os-volume_attachments`, {
    method: 'POST',
    json: { volumeAttachment: { volumeId: vol } },
  });
  assert.equal(r.status, 409);
  const body = (await r.json()) as { conflictingRequest: { message: string } };
  assert.match(body.conflictingRequest.message, /lives in sp1.*sp2 has no federation proxy/);
});

test('volume create on boot: the block device mapping names sp1, the volume is made there and the server boots from it', async () => {
  const image = await anyImage(w.direct.sp1!);
  const r = await w.call('/compute/v2.1/servers', {
    method: 'POST',
    headers: { 'mm-service-provider': 'sp1', 'openstack-api-version': 'compute 2.37' },
    json: {
      server: {
        name: 'boot-from-new-volume',
        flavorRef: '1',
        networks: 'none',
        block_device_mapping_v2: [
          {
            boot_index: 0,
            source_type: 'image',
            uuid: image,
            destination_type: 'volume',
            volume_size: 1,
            service_provider: 'sp1',
            delete_on_termination: true,
          },
        ],
      },
    },
  });
  const text = await r.text();
  assert.equal(r.status, 202, text);
  const id = (JSON.parse(text) as { server: { id: string } }).server.id;
  await serverActive('sp1', id);
  const d = w.direct.sp1!;
  const vols = (await (
    await fetch(`${cinder('sp1')}/volumes/detail`, { headers: { 'x-auth-token': d.token } })
  ).json()) as {
    volumes: { name: string; status: string; attachments: { server_id: string }[] }[];
  };
  const v = vols.volumes.find((x) => x.name === 'boot-from-new-volume-bdm0');
  assert.ok(v, 'the volume was created in sp1');
  assert.equal(v.attachments[0]?.server_id, id, 'and the server boots from it');
});

test('volume create on boot in another cloud: the volume is made in sp2 and handed to the proxy in front of sp1', async () => {
  const image = await anyImage(w.direct.sp2!);
  const r = await w.call('/compute/v2.1/servers', {
    method: 'POST',
    headers: { 'mm-service-provider': 'sp1', 'openstack-api-version': 'compute 2.37' },
    json: {
      server: {
        name: 'cross-boot',
        flavorRef: '1',
        networks: 'none',
        block_device_mapping_v2: [
          {
            boot_index: 0,
            source_type: 'image',
            uuid: image,
            destination_type: 'volume',
            volume_size: 1,
            service_provider: 'sp2',
          },
        ],
      },
    },
  });
  await r.body?.cancel();
  assert.equal(r.headers.get('x-ocx-service-provider'), 'sp1', 'the server create went to sp1');
  const d2 = w.direct.sp2!;
  const vols = (await (
    await fetch(`${cinder('sp2')}/volumes/detail`, { headers: { 'x-auth-token': d2.token } })
  ).json()) as {
    volumes: { id: string; name: string }[];
  };
  const v = vols.volumes.find((x) => x.name === 'cross-boot-bdm0');
  assert.ok(v, 'the volume was created in sp2');
  const sp1 = source.tokens.sp1!;
  const viaSp1 = await fetch(`${sp1Proxy.url}/volume/v3/${sp1.projectId}/volumes/${v.id}`, {
    headers: { 'x-auth-token': sp1.token },
  });
  assert.equal(viaSp1.status, 200, 'Nova in sp1 can reach the new volume through its proxy');
});

test("an extension's request hook rewrites the request and chooses the target; its response hook rewrites the answer", async () => {
  hooks.length = 0;
  const f = await w.call('/compute/v2.1/flavors/detail');
  assert.equal(f.status, 200);
  assert.equal(f.headers.get('x-test-extension'), 'seen');
  const body = (await f.json()) as { flavors: Record<string, unknown>[] };
  assert.ok(body.flavors.length > 0);
  for (const fl of body.flavors) assert.equal(fl['ocx:query'], '0');
  const az = await w.call('/compute/v2.1/os-availability-zone');
  assert.equal(az.status, 200);
  assert.equal(az.headers.get('x-ocx-service-provider'), 'sp2');
  assert.deepEqual(hooks, [
    'request flavors/detail',
    `response flavors/detail from ${w.proxy.homeId}`,
    'request os-availability-zone',
    'response os-availability-zone from sp2',
  ]);
});
