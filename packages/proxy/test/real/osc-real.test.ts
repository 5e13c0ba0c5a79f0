/**
 * python-openstackclient, unmodified, through the federation proxy on real OpenStack (OCX_TEST_TARGET=real;
 * clouds from OS_CLIENT_CONFIG_FILE as test/real/openstack.sh writes them: idp with Keystone only,
 * Glance/Nova/Cinder/Neutron in sp1 and sp2, K2K idp→sp1/sp2) — the conformance-run half of issue 6's
 * "python-openstackclient with the catalog pointing at the proxy" (the devcloud half is test/osc.test.ts).
 *
 * The proxy (home idp, service account idp-admin) is put into idp's Keystone catalog the way mixmatch is deployed,
 * in a separate region `ocx-proxy` so other users of the cloud are unaffected; idp runs no compute, image, block
 * storage or network service, so their service entries are created too. Everything this test adds to the catalog
 * (and every resource it makes in sp1/sp2) is removed in `after`, also when a test fails.
 *
 * Skipped when /usr/bin/openstack is missing, unless OCX_REQUIRE_OSC=1 (CI), where that fails loudly.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { type RunningProxy, startProxy } from '@ocx/proxy';
import { type Cloud, type CloudConfig, connectCloud, loadCloudsConfig } from '@ocx/sdk';
import { realLogin } from '../../../../test/lib/real-login.ts';
import { waitFor } from '../helpers.ts';

const OSC = '/usr/bin/openstack';
const real = process.env.OCX_TEST_TARGET === 'real';
const haveOsc = existsSync(OSC);
if (real && !haveOsc && process.env.OCX_REQUIRE_OSC === '1') {
  test('python-openstackclient is installed (OCX_REQUIRE_OSC=1)', () => {
    assert.fail(`${OSC} is missing: apt-get install python3-openstackclient`);
  });
}
const skip = !real
  ? 'set OCX_TEST_TARGET=real (and OS_CLIENT_CONFIG_FILE) to run against real OpenStack'
  : haveOsc
    ? false
    : `${OSC} is not installed`;
const cloudsFile = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/ocx-real/clouds.yaml';
const REGION = 'ocx-proxy';
const SLOW = 300_000;
const run = promisify(execFile);
const tag = randomBytes(3).toString('hex');

const json = async <T>(r: Response): Promise<T> => (await r.json()) as T;

let dir: string;
let proxy: RunningProxy | undefined;
let oscYaml: string;
const clouds: Record<string, Cloud> = {};
const cleanup: Array<{ what: string; fn: () => Promise<unknown> }> = [];
const ids: Record<string, string> = {};

function config(name: string): CloudConfig {
  return loadCloudsConfig({ files: { clouds: [cloudsFile], secure: [], publicClouds: [] }, loadEnv: false }).getCloud(
    name,
  );
}

/** Real services change state slowly: poll every 2 s, up to SLOW. */
const until = <T>(what: string, fn: () => Promise<T | undefined>): Promise<T> => waitFor(what, fn, SLOW, 2_000);

/** `openstack --os-cloud idp-proxy …`: idp's demo user, region ocx-proxy (= the proxy). */
async function osc(...args: string[]): Promise<string> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('OS_')) delete env[k];
  // /usr/bin first: a pyenv python3 shim lacks the OpenStack libraries.
  env.PATH = `/usr/bin:${process.env.PATH ?? ''}`;
  env.OS_CLIENT_CONFIG_FILE = oscYaml;
  try {
    const r = await run(OSC, ['--os-cloud', 'idp-proxy', ...args], { env, encoding: 'utf8', timeout: 240_000 });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openstack ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

/** idp's Keystone as its admin (fetch; every call under a deadline). */
async function idpAdmin(): Promise<(path: string, init?: RequestInit & { json?: unknown }) => Promise<Response>> {
  const { token, authUrl } = await realLogin('idp-admin', cloudsFile, 60_000);
  return (path, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('x-auth-token', token);
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      headers.set('content-type', 'application/json');
    }
    return fetch(`${authUrl}${path}`, { ...init, headers, body, signal: AbortSignal.timeout(60_000) });
  };
}

/**
 * Region `ocx-proxy` in idp's catalog with the proxy's compute, block storage, image and network endpoints.
 * Only what this function creates is removed again (a region or service that already existed stays).
 */
async function registerProxy(proxyUrl: string): Promise<void> {
  const ks = await idpAdmin();
  const have = await ks(`/regions/${REGION}`);
  await have.body?.cancel();
  if (have.status === 404) {
    const r = await ks('/regions', { method: 'POST', json: { region: { id: REGION, description: 'OCX proxy test' } } });
    assert.equal(r.status, 201, `region create: ${await r.text()}`);
    cleanup.push({
      what: `region ${REGION}`,
      fn: async () => (await ks(`/regions/${REGION}`, { method: 'DELETE' })).body?.cancel(),
    });
  }
  const services = (await json<{ services: { id: string; type: string }[] }>(await ks('/services'))).services;
  const paths: Record<string, string> = {
    compute: '/compute/v2.1',
    volumev3: '/volume/v3/$(project_id)s',
    'block-storage': '/volume/v3/$(project_id)s',
    image: '/image',
    network: '/network',
  };
  for (const [type, path] of Object.entries(paths)) {
    let svc = services.find((s) => s.type === type)?.id;
    if (!svc) {
      const r = await ks('/services', { method: 'POST', json: { service: { type, name: `ocx-proxy-${type}` } } });
      assert.equal(r.status, 201, `service create ${type}`);
      const id = (await json<{ service: { id: string } }>(r)).service.id;
      svc = id;
      cleanup.push({
        what: `service ${type}`,
        fn: async () => (await ks(`/services/${id}`, { method: 'DELETE' })).body?.cancel(),
      });
    }
    const r = await ks('/endpoints', {
      method: 'POST',
      json: { endpoint: { service_id: svc, interface: 'public', region_id: REGION, url: `${proxyUrl}${path}` } },
    });
    assert.equal(r.status, 201, `endpoint create ${type}`);
    const id = (await json<{ endpoint: { id: string } }>(r)).endpoint.id;
    cleanup.push({
      what: `endpoint ${type}`,
      fn: async () => (await ks(`/endpoints/${id}`, { method: 'DELETE' })).body?.cancel(),
    });
  }
}

async function serverStatus(cloud: string, id: string): Promise<string> {
  return (await clouds[cloud]!.compute.getServer(id)).status;
}

async function volume(cloud: string, id: string) {
  return clouds[cloud]!.getVolumeById(id);
}

/** Seed one SP directly (not through the proxy): an image, a server without a NIC, a volume. */
async function seed(cloud: string): Promise<void> {
  const c = clouds[cloud]!;
  const image = await c.createImage(`ocx-osc-${tag}-img-${cloud}`, {
    data: Buffer.alloc(1024 * 1024, 7),
    diskFormat: 'raw',
    wait: true,
    timeoutMs: SLOW,
  });
  cleanup.push({ what: `image in ${cloud}`, fn: () => c.deleteImage(image.id) });
  ids[`image-${cloud}`] = image.id;
  const vol = await c.createVolume({ size: 1, name: `ocx-osc-${tag}-vol-${cloud}` });
  ids[`volume-${cloud}`] = vol.id;
  // Pushed before the server's cleanup, so it runs after it: an attached volume is free once its server is gone.
  cleanup.push({
    what: `volume in ${cloud}`,
    fn: async () => {
      await until(`volume ${vol.id} detached`, async () => {
        const v = await volume(cloud, vol.id);
        return v?.status !== 'in-use' ? true : undefined;
      });
      await c.deleteVolume(vol.id, { wait: true, timeoutMs: SLOW });
    },
  });
  const flavors = await c.listFlavors();
  const flavor = [...flavors].sort((x, y) => x.ram - y.ram || x.disk - y.disk)[0]!;
  const created = await c.compute.createServer(
    { name: `ocx-osc-${tag}-vm-${cloud}`, flavorRef: flavor.id, imageRef: image.id, networks: 'none' },
    { microversion: '2.37' },
  );
  ids[`server-${cloud}`] = created.id;
  cleanup.push({ what: `server in ${cloud}`, fn: () => c.deleteServer(created.id, { wait: true, timeoutMs: SLOW }) });
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), 'ocx-proxy-osc-real-'));
  proxy = await startProxy({
    homeCloud: 'idp-admin',
    cloudsFile,
    listen: '127.0.0.1:0',
    db: join(dir, 'proxy.sqlite'),
    fanoutTimeoutMs: 90_000,
    floodTimeoutMs: 90_000,
    upstreamTimeoutMs: 180_000,
    logLevel: 'warn',
  });
  await registerProxy(proxy.url);
  const demo = config('idp');
  oscYaml = join(dir, 'clouds.yaml');
  writeFileSync(
    oscYaml,
    [
      'clouds:',
      '  idp-proxy:',
      '    auth:',
      `      auth_url: ${JSON.stringify(String(demo.auth.auth_url))}`,
      `      username: ${JSON.stringify(String(demo.auth.username))}`,
      `      password: ${JSON.stringify(String(demo.auth.password))}`,
      `      project_name: ${JSON.stringify(String(demo.auth.project_name))}`,
      '      user_domain_name: Default',
      '      project_domain_name: Default',
      `    region_name: ${REGION}`,
      '    interface: public',
      '    identity_api_version: 3',
      '',
    ].join('\n'),
  );
  // No warm-up: idp runs no compute, image, block storage or network, and the first osc command below is the first
  // request this fresh proxy sees — keystoneauth's unauthenticated version discovery, which the proxy answers with
  // an SP's document learned by its own service account's K2K (src/sp-roots.ts).
  const all = loadCloudsConfig({ files: { clouds: [cloudsFile], secure: [], publicClouds: [] }, loadEnv: false });
  for (const c of ['sp1', 'sp2']) clouds[c] = connectCloud({ cloud: c, config: all, pollIntervalMs: 2_000 });
  await Promise.all(['sp1', 'sp2'].map((c) => seed(c)));
});

after(async () => {
  const failures: string[] = [];
  for (const c of cleanup.reverse()) {
    await c.fn().catch((err: unknown) => failures.push(`${c.what}: ${(err as Error).message}`));
  }
  for (const c of Object.values(clouds)) await c.close().catch(() => undefined);
  await proxy?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  // A leak in the shared cloud is a failure, not a footnote.
  assert.deepEqual(failures, [], 'cleanup');
});

test('server, volume and image list through the proxy hold the seeded items of sp1 and sp2, one command each', {
  skip,
  timeout: SLOW,
}, async () => {
  const servers = new Set((JSON.parse(await osc('server', 'list', '-f', 'json')) as { ID: string }[]).map((s) => s.ID));
  const volumes = new Set((JSON.parse(await osc('volume', 'list', '-f', 'json')) as { ID: string }[]).map((v) => v.ID));
  const images = new Set((JSON.parse(await osc('image', 'list', '-f', 'json')) as { ID: string }[]).map((i) => i.ID));
  for (const c of ['sp1', 'sp2']) {
    assert.ok(servers.has(ids[`server-${c}`]!), `server list has the server of ${c}`);
    assert.ok(volumes.has(ids[`volume-${c}`]!), `volume list has the volume of ${c}`);
    assert.ok(images.has(ids[`image-${c}`]!), `image list has the image of ${c}`);
  }
});

test('server show and volume show of resources living in sp2 / sp1, by id alone', { skip, timeout: SLOW }, async () => {
  const server = JSON.parse(await osc('server', 'show', ids['server-sp2']!, '-f', 'json')) as {
    id: string;
    name: string;
  };
  assert.equal(server.id, ids['server-sp2']);
  assert.equal(server.name, `ocx-osc-${tag}-vm-sp2`);
  const vol = JSON.parse(await osc('volume', 'show', ids['volume-sp1']!, '-f', 'json')) as { id: string; name: string };
  assert.equal(vol.id, ids['volume-sp1']);
  assert.equal(vol.name, `ocx-osc-${tag}-vol-sp1`);
});

test('server delete of a server living in sp1, by id alone', { skip, timeout: SLOW }, async () => {
  const id = ids['server-sp1']!;
  await osc('server', 'delete', id);
  await until(`server ${id} gone from sp1`, async () => {
    const s = await clouds.sp1!.getServerById(id);
    return !s || s.status === 'DELETED' ? true : undefined;
  });
});

test('server add volume: a volume and a server both living in sp2, attached by id through the proxy', {
  skip,
  timeout: SLOW,
}, async () => {
  const server = ids['server-sp2']!;
  const vol = ids['volume-sp2']!;
  await until('server ACTIVE in sp2', async () => {
    const s = await serverStatus('sp2', server);
    if (s === 'ERROR') throw new Error(`server ${server} went to ERROR in sp2`);
    return s === 'ACTIVE' ? true : undefined;
  });
  await until('volume available in sp2', async () => {
    const v = await volume('sp2', vol);
    if (v?.status.startsWith('error')) throw new Error(`volume ${vol} went to ${v.status}`);
    return v?.status === 'available' ? true : undefined;
  });
  await osc('server', 'add', 'volume', server, vol);
  const attached = await until('volume in-use in sp2', async () => {
    const v = await volume('sp2', vol);
    if (v?.status.startsWith('error')) throw new Error(`volume ${vol} went to ${v.status}`);
    return v?.status === 'in-use' ? v : undefined;
  });
  assert.deepEqual(
    attached.attachments.map((a) => a.server_id),
    [server],
  );
});

test('image create --file into sp2 (name@sp2) and image save, streamed through the proxy, same bytes', {
  skip,
  timeout: SLOW,
}, async () => {
  const file = join(dir, 'upload.raw');
  const data = randomBytes(3 * 1024 * 1024 + 17);
  writeFileSync(file, data);
  const name = `ocx-osc-${tag}-upload`;
  const created = JSON.parse(
    await osc(
      'image',
      'create',
      '--file',
      file,
      '--disk-format',
      'raw',
      '--container-format',
      'bare',
      '-f',
      'json',
      `${name}@sp2`,
    ),
  ) as { id: string; name: string };
  const sp2 = clouds.sp2!;
  cleanup.push({ what: 'uploaded image in sp2', fn: () => sp2.deleteImage(created.id) });
  assert.equal(created.name, name, 'the @sp2 suffix chose the cloud and was removed from the name');
  const inSp2 = await sp2.getImageById(created.id);
  assert.ok(inSp2, 'the image lives in sp2');
  assert.equal(inSp2.status, 'active');
  assert.equal(inSp2.size, data.length);
  assert.equal(inSp2.checksum, createHash('md5').update(data).digest('hex'));
  const out = join(dir, 'download.raw');
  await osc('image', 'save', '--file', out, created.id);
  const got = readFileSync(out);
  assert.equal(got.length, data.length);
  assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(data).digest('hex'));
});
