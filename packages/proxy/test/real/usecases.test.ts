/**
 * The design's use cases on real OpenStack (OCX_TEST_TARGET=real, clouds.yaml from OS_CLIENT_CONFIG_FILE as
 * test/real/openstack.sh writes it: idp with Keystone only, Nova/Cinder/Glance/Neutron in sp1 and sp2, K2K
 * idp→sp1/sp2). The proxy under test here is the IdP's (home idp, service account idp-admin), started in-process.
 *
 * Everything behind it is real: the stack runs an OCX proxy in front of each service cloud (test/real/lib/
 * ocxproxy.sh; sp1's on 127.0.0.1:27046, in sp1's catalog as service type `federation-proxy`), and real Nova in
 * sp1 sends its Cinder calls through it (nova.conf `[cinder] endpoint_template`). In the token-injection case
 * Alice makes one attach call through the IdP proxy; Nova in sp1 then makes every Cinder call of the attach and
 * of the detach itself, through the sp1 proxy, which reaches the volume in sp2's real Cinder with the token the
 * IdP proxy injected.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { realLogin } from '../../../../test/lib/real-login.ts';
import { cloudsFile, real, skip } from '../../../../test/lib/real-target.ts';
import { type RunningProxy, startProxy } from '../../src/index.ts';
import { waitFor } from '../helpers.ts';

const SLOW = 240_000;

interface Direct {
  token: string;
  projectId: string;
  ep: Record<string, string>;
}

const login = (cloud: string): Promise<Direct & { authUrl: string }> => realLogin(cloud, cloudsFile);

/** Real services change state slowly: poll every 2 s, up to SLOW. */
const until = <T>(what: string, fn: () => Promise<T | undefined>): Promise<T> => waitFor(what, fn, SLOW, 2_000);

const json = async <T>(r: Response): Promise<T> => (await r.json()) as T;

let dir: string;
let a: RunningProxy;
let user: Direct & { authUrl: string };
const sp: Record<string, Direct> = {};
const cleanup: Array<() => Promise<unknown>> = [];

function viaA(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('x-auth-token', user.token);
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers.set('content-type', 'application/json');
  }
  return fetch(`${a.url}${path}`, { ...init, headers, body, signal: AbortSignal.timeout(SLOW) });
}

before(async () => {
  if (!real) return;
  dir = mkdtempSync(join(tmpdir(), 'ocx-proxy-real-'));
  user = await login('idp');
  a = await startProxy({
    homeCloud: 'idp-admin',
    listen: '127.0.0.1:0',
    db: join(dir, 'a.sqlite'),
    fanoutTimeoutMs: 90_000,
    floodTimeoutMs: 90_000,
    upstreamTimeoutMs: 180_000,
    logLevel: 'warn',
    cloudsFile,
    // The stack's proxies in front of sp1 and sp2 accept injections from their cloud's admin (ocxproxy.sh).
    peerAccounts: { sp1: 'sp1-admin', sp2: 'sp2-admin' },
  });
  sp.sp1 = await login('sp1');
  sp.sp2 = await login('sp2');
});

after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await a?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const images: Record<string, string> = {};

/** The smallest flavor, and a 1 MiB raw image uploaded through the proxy into that cloud (name@cloud). */
async function flavorAndImage(cloud: string): Promise<{ flavor: string; image: string }> {
  const d = sp[cloud]!;
  const flavors = await json<{ flavors: { id: string; ram: number; disk: number }[] }>(
    await fetch(`${d.ep.compute}/flavors/detail`, { headers: { 'x-auth-token': d.token } }),
  );
  const flavor = [...flavors.flavors].sort((x, y) => x.ram - y.ram)[0]!.id;
  if (!images[cloud]) {
    const r = await viaA('/image/v2/images', {
      method: 'POST',
      json: { name: `ocx-proxy-img@${cloud}`, disk_format: 'raw', container_format: 'bare' },
    });
    assert.equal(r.status, 201);
    const id = (await json<{ id: string }>(r)).id;
    cleanup.push(() => viaA(`/image/v2/images/${id}`, { method: 'DELETE' }));
    const up = await viaA(`/image/v2/images/${id}/file`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: Buffer.alloc(1024 * 1024, 0),
    });
    assert.equal(up.status, 204, await up.text());
    const inCloud = await json<{ status: string }>(
      await fetch(`${d.ep.image}/v2/images/${id}`, { headers: { 'x-auth-token': d.token } }),
    );
    assert.equal(inCloud.status, 'active', `image uploaded through the proxy is active in ${cloud}`);
    images[cloud] = id;
  }
  return { flavor, image: images[cloud]! };
}

test('version documents of services only the SPs run (idp has no Nova) come from an SP, pointing at the proxy', {
  skip,
  timeout: SLOW,
}, async () => {
  const r = await viaA('/compute/');
  assert.equal(r.status, 200);
  const body = await json<{ versions: { id: string; links: { href: string }[] }[] }>(r);
  assert.ok(body.versions.some((v) => v.id === 'v2.1'));
  for (const v of body.versions) for (const l of v.links) assert.ok(l.href.startsWith(`${a.url}/compute/`), l.href);
});

test('lists through the proxy hold the servers and volumes of sp1 and sp2', { skip, timeout: SLOW * 2 }, async () => {
  // A server and a volume of this test's own in each SP, made directly there: two empty lists would compare equal.
  const made: Record<string, string[]> = { servers: [], volumes: [] };
  for (const c of ['sp1', 'sp2']) {
    const d = sp[c]!;
    const { flavor, image } = await flavorAndImage(c);
    const vol = await fetch(`${d.ep.volumev3}/volumes`, {
      method: 'POST',
      headers: { 'x-auth-token': d.token, 'content-type': 'application/json' },
      body: JSON.stringify({ volume: { size: 1, name: `ocx-proxy-list-${c}` } }),
    });
    assert.equal(vol.status, 202, await vol.clone().text());
    const volId = (await json<{ volume: { id: string } }>(vol)).volume.id;
    cleanup.push(() => deleteWhenSettled(d, 'volumev3', `volumes/${volId}`));
    const srv = await fetch(`${d.ep.compute}/servers`, {
      method: 'POST',
      headers: { 'x-auth-token': d.token, 'content-type': 'application/json', 'openstack-api-version': 'compute 2.37' },
      body: JSON.stringify({
        server: { name: `ocx-proxy-list-${c}`, flavorRef: flavor, imageRef: image, networks: 'none' },
      }),
    });
    assert.equal(srv.status, 202, await srv.clone().text());
    const srvId = (await json<{ server: { id: string } }>(srv)).server.id;
    cleanup.push(() =>
      fetch(`${d.ep.compute}/servers/${srvId}`, { method: 'DELETE', headers: { 'x-auth-token': d.token } }),
    );
    made.volumes!.push(volId);
    made.servers!.push(srvId);
  }
  for (const [path, key, type] of [
    ['/compute/v2.1/servers', 'servers', 'compute'],
    [`/volume/v3/${user.projectId}/volumes`, 'volumes', 'volumev3'],
  ] as const) {
    const r = await viaA(path);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-ocx-missing-service-providers'), null);
    const got = new Set((await json<Record<string, { id: string }[]>>(r))[key]!.map((x) => x.id));
    for (const c of ['sp1', 'sp2']) {
      const d = sp[c]!;
      const direct = await json<Record<string, { id: string }[]>>(
        await fetch(`${d.ep[type]}/${key}`, { headers: { 'x-auth-token': d.token } }),
      );
      for (const x of direct[key]!) assert.ok(got.has(x.id), `${key} ${x.id} of ${c} is in the proxy's list`);
    }
    for (const id of made[key]!) assert.ok(got.has(id), `${key} ${id}, made for this test, is in the proxy's list`);
  }
});

/** Delete a volume once it has left 'creating' (Cinder refuses to delete it before). */
async function deleteWhenSettled(d: Direct, type: string, path: string): Promise<unknown> {
  await until(`${path} settled`, async () => {
    const r = await fetch(`${d.ep[type]}/${path}`, { headers: { 'x-auth-token': d.token } });
    if (r.status === 404) return true;
    const v = await json<{ volume: { status: string } }>(r);
    return v.volume.status === 'creating' ? undefined : true;
  });
  return fetch(`${d.ep[type]}/${path}`, { method: 'DELETE', headers: { 'x-auth-token': d.token } });
}

/**
 * Through the IdP proxy, boot a server in sp1 from `image` with a new blank 1 GiB volume that the volume-create-on-
 * boot extension makes in `volumeSp`; wait for ACTIVE. The server is deleted after the tests.
 */
async function bootWithNewVolume(
  name: string,
  volumeSp: string,
  flavor: string,
  image: string,
): Promise<{ id: string; volId: string }> {
  const r = await viaA('/compute/v2.1/servers', {
    method: 'POST',
    headers: { 'mm-service-provider': 'sp1', 'openstack-api-version': 'compute 2.37' },
    json: {
      server: {
        name: name,
        flavorRef: flavor,
        imageRef: image,
        networks: 'none',
        block_device_mapping_v2: [
          { source_type: 'image', uuid: image, destination_type: 'local', boot_index: 0, delete_on_termination: true },
          {
            source_type: 'blank',
            destination_type: 'volume',
            volume_size: 1,
            service_provider: volumeSp,
            delete_on_termination: true,
          },
        ],
      },
    },
  });
  const text = await r.text();
  assert.equal(r.status, 202, text);
  assert.equal(r.headers.get('x-ocx-service-provider'), 'sp1');
  const id = (JSON.parse(text) as { server: { id: string } }).server.id;
  cleanup.push(() => viaA(`/compute/v2.1/servers/${id}`, { method: 'DELETE' }));
  const server = await until('server ACTIVE in sp1', async () => {
    const s = await json<{
      server: { status: string; fault?: unknown; 'os-extended-volumes:volumes_attached': { id: string }[] };
    }>(await viaA(`/compute/v2.1/servers/${id}`));
    if (s.server.status === 'ERROR') throw new Error(`server went to ERROR: ${JSON.stringify(s.server.fault)}`);
    return s.server.status === 'ACTIVE' ? s.server : undefined;
  });
  const volId = server['os-extended-volumes:volumes_attached'][0]?.id;
  assert.ok(volId, 'the server has the new volume');
  return { id, volId: volId! };
}

test('volume create on boot: real Cinder makes a new volume in sp1, real Nova boots with it attached', {
  skip,
  timeout: SLOW * 3,
}, async () => {
  // The harness's fake Cinder backend cannot fill a volume from an image, so the new volume is blank and the
  // server boots from its image with the volume attached at boot.
  const { flavor, image } = await flavorAndImage('sp1');
  const { id, volId } = await bootWithNewVolume('ocx-proxy-bfv', 'sp1', flavor, image);
  const d = sp.sp1!;
  const vol = await json<{ volume: { name: string; status: string; attachments: { server_id: string }[] } }>(
    await fetch(`${d.ep.volumev3}/volumes/${volId}`, { headers: { 'x-auth-token': d.token } }),
  );
  assert.equal(vol.volume.name, 'ocx-proxy-bfv-bdm1');
  assert.equal(vol.volume.attachments[0]?.server_id, id);
});

type VolumeShow = {
  volume: { status: string; attachments: { server_id: string; attachment_id: string }[] };
};

/** Upstream calls the proxy at `root` made to a location injected for `sp` (its Prometheus metrics). */
async function injectedCalls(root: string, sp: string): Promise<number> {
  const text = await (await fetch(`${root}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
  let n = 0;
  for (const line of text.split('\n')) {
    const m = /^ocx_proxy_upstream_duration_seconds_count\{([^}]*)\} (\d+)/.exec(line);
    if (m && /target="via:[^"]*:([^"]*)"/.exec(m[1]!)?.[1] === sp && m[1]!.includes('service="block-storage"'))
      n += Number(m[2]);
  }
  return n;
}

test('token injection: Alice attaches BS1 (sp2) to VM1 (sp1) through the IdP proxy; real Nova in sp1 reaches BS1 through the sp1 proxy', {
  skip,
  timeout: SLOW * 4,
}, async () => {
  const sp1Proxy = sp.sp1!.ep['federation-proxy'];
  assert.ok(
    sp1Proxy,
    "sp1's catalog names no federation-proxy: the stack runs no OCX proxy in sp1 (test/real/lib/ocxproxy.sh, OCX_PROXY_CLOUDS)",
  );
  const { flavor, image } = await flavorAndImage('sp1');
  const d2 = sp.sp2!;
  const inSp2 = async (id: string): Promise<VolumeShow['volume']> =>
    (await json<VolumeShow>(await fetch(`${d2.ep.volumev3}/volumes/${id}`, { headers: { 'x-auth-token': d2.token } })))
      .volume;

  // Alice, with her IdP token only, makes VM1 in sp1 and BS1 in sp2 through the IdP proxy.
  const vm = await viaA('/compute/v2.1/servers', {
    method: 'POST',
    headers: { 'mm-service-provider': 'sp1', 'openstack-api-version': 'compute 2.37' },
    json: { server: { name: 'ocx-proxy-VM1', flavorRef: flavor, imageRef: image, networks: 'none' } },
  });
  const vmText = await vm.text();
  assert.equal(vm.status, 202, vmText);
  assert.equal(vm.headers.get('x-ocx-service-provider'), 'sp1');
  const vm1 = (JSON.parse(vmText) as { server: { id: string } }).server.id;
  cleanup.push(() => viaA(`/compute/v2.1/servers/${vm1}`, { method: 'DELETE' }));
  const vol = await viaA(`/volume/v3/${user.projectId}/volumes`, {
    method: 'POST',
    headers: { 'mm-service-provider': 'sp2' },
    json: { volume: { name: 'ocx-proxy-BS1', size: 1 } },
  });
  const volText = await vol.text();
  assert.equal(vol.status, 202, volText);
  assert.equal(vol.headers.get('x-ocx-service-provider'), 'sp2');
  const bs1 = (JSON.parse(volText) as { volume: { id: string } }).volume.id;
  cleanup.push(() => viaA(`/volume/v3/${user.projectId}/volumes/${bs1}`, { method: 'DELETE' }));
  await until('VM1 ACTIVE in sp1', async () => {
    const s = await json<{ server: { status: string; fault?: unknown } }>(await viaA(`/compute/v2.1/servers/${vm1}`));
    if (s.server.status === 'ERROR') throw new Error(`VM1 went to ERROR: ${JSON.stringify(s.server.fault)}`);
    return s.server.status === 'ACTIVE' ? true : undefined;
  });
  await until('BS1 available in sp2', async () => ((await inSp2(bs1)).status === 'available' ? true : undefined));
  // sp1's own Cinder has no such volume: Nova in sp1 can only reach it through its proxy.
  const inSp1 = await fetch(`${sp.sp1!.ep.volumev3}/volumes/${bs1}`, { headers: { 'x-auth-token': sp.sp1!.token } });
  assert.equal(inSp1.status, 404);
  await inSp1.body?.cancel();
  const callsBefore = await injectedCalls(sp1Proxy, 'sp2');

  // The one call Alice makes: attach BS1 to VM1.
  const attach = await viaA(`/compute/v2.1/servers/${vm1}/os-volume_attachments`, {
    method: 'POST',
    json: { volumeAttachment: { volumeId: bs1 } },
  });
  const attachText = await attach.text();
  assert.equal(attach.status, 200, attachText);
  assert.equal(attach.headers.get('x-ocx-service-provider'), 'sp1');
  const made = (JSON.parse(attachText) as { volumeAttachment: { serverId: string; volumeId: string } })
    .volumeAttachment;
  assert.equal(made.serverId, vm1);
  assert.equal(made.volumeId, bs1);

  // Nova in sp1 reserves, connects and completes the attachment in sp2's Cinder: BS1 becomes in-use on VM1.
  const attached = await until('BS1 in-use in sp2', async () => {
    const v = await inSp2(bs1);
    if (v.status.startsWith('error')) throw new Error(`BS1 went to ${v.status}`);
    return v.status === 'in-use' ? v : undefined;
  });
  assert.deepEqual(
    attached.attachments.map((x) => x.server_id),
    [vm1],
  );
  const listed = await json<{ volumeAttachments: { volumeId: string; serverId: string }[] }>(
    await viaA(`/compute/v2.1/servers/${vm1}/os-volume_attachments`),
  );
  assert.deepEqual(
    listed.volumeAttachments.map((x) => [x.serverId, x.volumeId]),
    [[vm1, bs1]],
  );
  const server = await json<{ server: { 'os-extended-volumes:volumes_attached': { id: string }[] } }>(
    await viaA(`/compute/v2.1/servers/${vm1}`),
  );
  assert.deepEqual(
    server.server['os-extended-volumes:volumes_attached'].map((x) => x.id),
    [bs1],
  );
  assert.ok(
    (await injectedCalls(sp1Proxy, 'sp2')) > callsBefore,
    "the sp1 proxy's metrics count Cinder calls it made to sp2 with the injected token",
  );

  // Detach through the IdP proxy: Nova in sp1 deletes the attachment in sp2's Cinder; BS1 is available again.
  const detach = await viaA(`/compute/v2.1/servers/${vm1}/os-volume_attachments/${bs1}`, { method: 'DELETE' });
  assert.equal(detach.status, 202, await detach.text());
  const detached = await until('BS1 available again in sp2', async () => {
    const v = await inSp2(bs1);
    if (v.status.startsWith('error')) throw new Error(`BS1 went to ${v.status}`);
    return v.status === 'available' ? v : undefined;
  });
  assert.deepEqual(detached.attachments, []);
  const left = await json<{ volumeAttachments: unknown[] }>(
    await viaA(`/compute/v2.1/servers/${vm1}/os-volume_attachments`),
  );
  assert.deepEqual(left.volumeAttachments, []);
});

test('volume create on boot in another cloud: the volume is made in sp2, real Nova in sp1 boots with it through the sp1 proxy', {
  skip,
  timeout: SLOW * 4,
}, async () => {
  const { flavor, image } = await flavorAndImage('sp1');
  const d2 = sp.sp2!;
  const inSp2 = (id: string) => fetch(`${d2.ep.volumev3}/volumes/${id}`, { headers: { 'x-auth-token': d2.token } });
  const { id, volId } = await bootWithNewVolume('ocx-proxy-bfv-sp2', 'sp2', flavor, image);
  cleanup.push(() => viaA(`/volume/v3/${user.projectId}/volumes/${volId}`, { method: 'DELETE' }));
  const vol = await json<VolumeShow & { volume: { name: string } }>(await inSp2(volId));
  assert.equal(vol.volume.name, 'ocx-proxy-bfv-sp2-bdm1');
  const inUse = await until('the new volume in-use in sp2', async () => {
    const v = (await json<VolumeShow>(await inSp2(volId))).volume;
    return v.status === 'in-use' ? v : undefined;
  });
  assert.deepEqual(
    inUse.attachments.map((x) => x.server_id),
    [id],
  );

  // Deleting the server: Nova in sp1 detaches the volume and, delete_on_termination, deletes it in sp2.
  const del = await viaA(`/compute/v2.1/servers/${id}`, { method: 'DELETE' });
  assert.equal(del.status, 204, await del.text());
  await until('the volume deleted in sp2', async () => {
    const v = await inSp2(volId);
    await v.body?.cancel();
    return v.status === 404 ? true : undefined;
  });
});
