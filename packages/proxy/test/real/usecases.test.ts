/**
 * The design's use cases on real OpenStack (OCX_TEST_TARGET=real, clouds.yaml from OS_CLIENT_CONFIG_FILE as
 * test/real/openstack.sh writes it: idp with Keystone only, Nova/Cinder/Glance/Neutron in sp1 and sp2, K2K
 * idp→sp1/sp2). The proxy's home is idp (service account idp-admin).
 *
 * What is real and what is played: Nova in sp1 is configured by the harness to call sp1's Cinder straight from
 * the catalog, not through a proxy (and the shared harness must not be reconfigured), so in the token-injection
 * case the test makes the Cinder calls Nova would make (with the user's sp1 token, against the proxy in front of
 * sp1); everything those calls reach is real Cinder in sp2.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadCloudsConfig } from '@ocx/sdk';
import {
  SdkK2KTokenSource,
  type RemoteTokenRequest,
  type RemoteTokenSource,
  type RunningProxy,
  startProxy,
} from '../../src/index.ts';

const real = process.env.OCX_TEST_TARGET === 'real';
const skip = real ? false : 'set OCX_TEST_TARGET=real (and OS_CLIENT_CONFIG_FILE) to run against real OpenStack';
const cloudsFile = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/ocx-real/clouds.yaml';
const SLOW = 240_000;

class RecordingK2K implements RemoteTokenSource {
  readonly tokens: Record<string, { token: string; projectId: string }> = {};
  readonly inner: SdkK2KTokenSource;
  constructor(identityUrl: string) {
    this.inner = new SdkK2KTokenSource({ identityUrl });
  }
  async obtain(req: RemoteTokenRequest) {
    const t = await this.inner.obtain(req);
    this.tokens[req.sp.id] = { token: t.token, projectId: t.projectId };
    return t;
  }
}

interface Direct {
  token: string;
  projectId: string;
  ep: Record<string, string>;
}

async function login(cloud: string): Promise<Direct & { authUrl: string }> {
  const c = loadCloudsConfig({
    files: { clouds: [cloudsFile], secure: [], publicClouds: [] },
    loadEnv: false,
  }).getCloud(cloud);
  const authUrl = String(c.auth.auth_url).replace(/\/+$/, '');
  const r = await fetch(`${authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: c.auth.username, domain: { name: 'Default' }, password: c.auth.password } },
        },
        scope: { project: { name: c.auth.project_name, domain: { name: 'Default' } } },
      },
    }),
  });
  assert.equal(r.status, 201, `login ${cloud}`);
  const body = (await r.json()) as {
    token: { project: { id: string }; catalog: { type: string; endpoints: { interface: string; url: string }[] }[] };
  };
  const ep: Record<string, string> = {};
  for (const e of body.token.catalog) {
    const u = e.endpoints.find((x) => x.interface === 'public')?.url;
    if (u) ep[e.type] = u.replace(/\/+$/, '');
  }
  return { token: r.headers.get('x-subject-token')!, projectId: body.token.project.id, ep, authUrl };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = SLOW): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

const json = async <T>(r: Response): Promise<T> => (await r.json()) as T;

let dir: string;
let a: RunningProxy;
let b: RunningProxy;
let source: RecordingK2K;
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
  source = new RecordingK2K(user.authUrl);
  // The proxy in front of sp1, registered in sp1's catalog under its own service type (nothing else uses it;
  // removed after) before any K2K, so sp1's catalog as the IdP proxy sees it names it.
  const admin = await login('sp1-admin');
  const h = { 'x-auth-token': admin.token, 'content-type': 'application/json' };
  const svc = await json<{ service: { id: string } }>(
    await fetch(`${admin.authUrl}/services`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ service: { type: 'federation-proxy', name: 'ocx-proxy-test' } }),
    }),
  );
  cleanup.push(() => fetch(`${admin.authUrl}/services/${svc.service.id}`, { method: 'DELETE', headers: h }));
  const slow = {
    fanoutTimeoutMs: 90_000,
    floodTimeoutMs: 90_000,
    upstreamTimeoutMs: 180_000,
    logLevel: 'warn',
    cloudsFile,
  };
  a = await startProxy({
    homeCloud: 'idp-admin',
    listen: '127.0.0.1:0',
    db: join(dir, 'a.sqlite'),
    remoteTokenSource: source,
    ...slow,
  });
  b = await startProxy({ homeCloud: 'sp1-admin', listen: '127.0.0.1:0', db: join(dir, 'b.sqlite'), ...slow });
  const ep = await fetch(`${admin.authUrl}/endpoints`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({
      endpoint: { service_id: svc.service.id, interface: 'public', region_id: 'RegionOne', url: b.url },
    }),
  });
  assert.equal(ep.status, 201);
  sp.sp1 = await login('sp1');
  sp.sp2 = await login('sp2');
});

after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await a?.stop();
  await b?.stop();
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
  }
});

test('volume create on boot: real Cinder makes a new volume in sp1, real Nova boots with it attached', {
  skip,
  timeout: SLOW * 3,
}, async () => {
  // The harness's fake Cinder backend cannot fill a volume from an image, so the new volume is blank and the
  // server boots from its image with the volume attached at boot.
  const { flavor, image } = await flavorAndImage('sp1');
  const r = await viaA('/compute/v2.1/servers', {
    method: 'POST',
    headers: { 'mm-service-provider': 'sp1', 'openstack-api-version': 'compute 2.37' },
    json: {
      server: {
        name: 'ocx-proxy-bfv',
        flavorRef: flavor,
        imageRef: image,
        networks: 'none',
        block_device_mapping_v2: [
          { source_type: 'image', uuid: image, destination_type: 'local', boot_index: 0, delete_on_termination: true },
          {
            source_type: 'blank',
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
  const d = sp.sp1!;
  const vol = await json<{ volume: { name: string; status: string; attachments: { server_id: string }[] } }>(
    await fetch(`${d.ep.volumev3}/volumes/${volId}`, { headers: { 'x-auth-token': d.token } }),
  );
  assert.equal(vol.volume.name, 'ocx-proxy-bfv-bdm1');
  assert.equal(vol.volume.attachments[0]?.server_id, id);
});

test('token injection: volume BS1 in sp2, server VM1 in sp1 — the proxy in front of sp1 reaches BS1 in real Cinder', {
  skip,
  timeout: SLOW * 3,
}, async () => {
  const { flavor, image } = await flavorAndImage('sp1');
  const d1 = sp.sp1!;
  const d2 = sp.sp2!;
  const vm = await fetch(`${d1.ep.compute}/servers`, {
    method: 'POST',
    headers: { 'x-auth-token': d1.token, 'content-type': 'application/json', 'openstack-api-version': 'compute 2.37' },
    body: JSON.stringify({ server: { name: 'ocx-proxy-VM1', flavorRef: flavor, imageRef: image, networks: 'none' } }),
  });
  assert.equal(vm.status, 202);
  const vm1 = (await json<{ server: { id: string } }>(vm)).server.id;
  cleanup.push(() =>
    fetch(`${d1.ep.compute}/servers/${vm1}`, { method: 'DELETE', headers: { 'x-auth-token': d1.token } }),
  );
  const vol = await fetch(`${d2.ep.volumev3}/volumes`, {
    method: 'POST',
    headers: { 'x-auth-token': d2.token, 'content-type': 'application/json' },
    body: JSON.stringify({ volume: { name: 'ocx-proxy-BS1', size: 1 } }),
  });
  assert.equal(vol.status, 202);
  const bs1 = (await json<{ volume: { id: string } }>(vol)).volume.id;
  cleanup.push(() =>
    fetch(`${d2.ep.volumev3}/volumes/${bs1}`, { method: 'DELETE', headers: { 'x-auth-token': d2.token } }),
  );
  await until('VM1 ACTIVE', async () => {
    const s = await json<{ server: { status: string } }>(
      await fetch(`${d1.ep.compute}/servers/${vm1}`, { headers: { 'x-auth-token': d1.token } }),
    );
    return s.server.status === 'ACTIVE' ? true : undefined;
  });
  await until('BS1 available', async () => {
    const v = await json<{ volume: { status: string } }>(
      await fetch(`${d2.ep.volumev3}/volumes/${bs1}`, { headers: { 'x-auth-token': d2.token } }),
    );
    return v.volume.status === 'available' ? true : undefined;
  });

  // Alice asks Nova (through the IdP proxy) to attach BS1 to VM1.
  const attach = await viaA(`/compute/v2.1/servers/${vm1}/os-volume_attachments`, {
    method: 'POST',
    json: { volumeAttachment: { volumeId: bs1 } },
  });
  const attachText = await attach.text();
  assert.equal(
    attach.headers.get('x-ocx-service-provider'),
    'sp1',
    `forwarded to Nova in sp1 (${attach.status} ${attachText})`,
  );

  // Nova in sp1 would now call Cinder through the proxy in front of sp1 with the user's sp1 token.
  const t1 = source.tokens.sp1!;
  const nova = { 'x-auth-token': t1.token, 'content-type': 'application/json', 'openstack-api-version': 'volume 3.44' };
  const show = await fetch(`${b.url}/volume/v3/${t1.projectId}/volumes/${bs1}`, { headers: nova });
  assert.equal(show.status, 200);
  assert.match(show.headers.get('x-ocx-service-provider') ?? '', /^via:.*:sp2$/);
  const created = await fetch(`${b.url}/volume/v3/${t1.projectId}/attachments`, {
    method: 'POST',
    headers: nova,
    body: JSON.stringify({ attachment: { volume_uuid: bs1, instance_uuid: vm1 } }),
  });
  const createdText = await created.text();
  assert.equal(created.status, 200, createdText);
  const attId = (JSON.parse(createdText) as { attachment: { id: string } }).attachment.id;
  const inSp2 = await json<{ volume: { status: string } }>(
    await fetch(`${d2.ep.volumev3}/volumes/${bs1}`, { headers: { 'x-auth-token': d2.token } }),
  );
  assert.equal(inSp2.volume.status, 'reserved', 'real Cinder in sp2 holds the attachment made through the sp1 proxy');
  const del = await fetch(`${b.url}/volume/v3/${t1.projectId}/attachments/${attId}`, {
    method: 'DELETE',
    headers: nova,
  });
  assert.equal(del.status, 200);
  await del.body?.cancel();
});
