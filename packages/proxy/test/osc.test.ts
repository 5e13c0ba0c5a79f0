/**
 * python-openstackclient, unmodified, with the home catalog pointing at the proxy (region ocx-proxy, the way
 * mixmatch is deployed) against devcloud's idp, sp1 and sp2. Skipped when /usr/bin/openstack is missing, unless
 * OCX_REQUIRE_OSC=1 (CI), where a missing client fails loudly.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { loadCloudsConfig } from '@ocx/sdk';
import { registerProxyRegion } from '../src/index.ts';
import { createServer, createVolume, startWorld, type World, waitFor } from './helpers.ts';

const OSC = '/usr/bin/openstack';
const have = existsSync(OSC);
if (!have && process.env.OCX_REQUIRE_OSC === '1') {
  test('python-openstackclient is installed (OCX_REQUIRE_OSC=1)', () => {
    assert.fail(`${OSC} is missing: apt-get install python3-openstackclient`);
  });
}
const skip = have ? false : `${OSC} is not installed`;
const run = promisify(execFile);

let w: World;
let oscYaml: string;
const ids: Record<string, string> = {};

async function osc(...args: string[]): Promise<string> {
  try {
    const r = await run(OSC, ['--os-cloud', 'via-proxy', ...args], {
      // /usr/bin first: a pyenv python3 shim lacks the OpenStack libraries.
      env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}`, OS_CLIENT_CONFIG_FILE: oscYaml },
      encoding: 'utf8',
      timeout: 60_000,
    });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`openstack ${args.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

before(async () => {
  if (!have) return;
  w = await startWorld();
  const admin = loadCloudsConfig({ files: { clouds: [w.cloudsYaml], secure: [], publicClouds: [] }, loadEnv: false });
  await registerProxyRegion(admin.getCloud('idp-admin'), w.proxy.url);
  oscYaml = join(w.dir, 'osc-clouds.yaml');
  writeFileSync(
    oscYaml,
    `clouds:\n  via-proxy:\n    auth:\n      auth_url: ${w.direct.idp!.authUrl}\n      username: demo\n      password: demo-secret\n      project_name: demo\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: ocx-proxy\n    identity_api_version: 3\n`,
  );
  for (const c of ['idp', 'sp1', 'sp2']) {
    ids[`server-${c}`] = await createServer(w.direct[c]!, `osc-vm-${c}`);
    ids[`volume-${c}`] = await createVolume(w.direct[c]!, `osc-vol-${c}`);
  }
});
after(async () => {
  await w?.stop();
});

test('server, volume and image lists show idp, sp1 and sp2 in one command each', { skip }, async () => {
  const servers = JSON.parse(await osc('server', 'list', '-f', 'json')) as { Name: string }[];
  assert.deepEqual(servers.map((s) => s.Name).sort(), ['osc-vm-idp', 'osc-vm-sp1', 'osc-vm-sp2']);
  const volumes = JSON.parse(await osc('volume', 'list', '-f', 'json')) as { Name: string }[];
  assert.deepEqual(volumes.map((v) => v.Name).sort(), ['osc-vol-idp', 'osc-vol-sp1', 'osc-vol-sp2']);
  const images = JSON.parse(await osc('image', 'list', '-f', 'json')) as { ID: string }[];
  const direct = new Set<string>();
  for (const c of ['idp', 'sp1', 'sp2']) {
    const d = w.direct[c]!;
    const r = (await (
      await fetch(`${d.endpoints.image}/v2/images`, { headers: { 'x-auth-token': d.token } })
    ).json()) as {
      images: { id: string }[];
    };
    // every devcloud cloud is seeded with an image: an empty cloud would make the comparison below vacuous
    assert.ok(r.images.length > 0, `${c} lists no images directly`);
    for (const i of r.images) direct.add(i.id);
  }
  assert.deepEqual(new Set(images.map((i) => i.ID)), direct, 'the images of all three clouds');
});

test('show a server living in sp2 and delete a volume living in sp1, by id alone', { skip }, async () => {
  const shown = JSON.parse(await osc('server', 'show', ids['server-sp2']!, '-f', 'json')) as { name: string };
  assert.equal(shown.name, 'osc-vm-sp2');
  await osc('volume', 'delete', ids['volume-sp1']!);
  const d = w.direct.sp1!;
  await waitFor('volume gone from sp1', async () => {
    const r = await fetch(`${d.endpoints.volumev3 ?? d.endpoints['block-storage']}/volumes/${ids['volume-sp1']}`, {
      headers: { 'x-auth-token': d.token },
    });
    await r.body?.cancel();
    return r.status === 404 ? true : undefined;
  });
});

test('attach a volume to a server, both living in sp2, by id alone', { skip }, async () => {
  const d = w.direct.sp2!;
  const cinder = d.endpoints.volumev3 ?? d.endpoints['block-storage'];
  await waitFor('server ACTIVE', async () => {
    const r = (await (
      await fetch(`${d.endpoints.compute}/servers/${ids['server-sp2']}`, { headers: { 'x-auth-token': d.token } })
    ).json()) as {
      server: { status: string };
    };
    return r.server.status === 'ACTIVE' ? true : undefined;
  });
  await osc('server', 'add', 'volume', ids['server-sp2']!, ids['volume-sp2']!);
  const status = await waitFor('volume in-use in sp2', async () => {
    const r = (await (
      await fetch(`${cinder}/volumes/${ids['volume-sp2']}`, { headers: { 'x-auth-token': d.token } })
    ).json()) as {
      volume: { status: string; attachments: { server_id: string }[] };
    };
    return r.volume.status === 'in-use' ? r.volume : undefined;
  });
  assert.equal(status.attachments[0]?.server_id, ids['server-sp2']);
});

test('upload an image into sp1 (name@sp1) and download it, streamed through the proxy', { skip }, async () => {
  const file = join(w.dir, 'image.raw');
  const data = randomBytes(3 * 1024 * 1024 + 17);
  writeFileSync(file, data);
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
      'osc-upload@sp1',
    ),
  ) as { id: string; name: string };
  assert.equal(created.name, 'osc-upload', 'the @sp1 suffix chose the cloud and was removed from the name');
  const d = w.direct.sp1!;
  const inSp1 = (await (
    await fetch(`${d.endpoints.image}/v2/images/${created.id}`, { headers: { 'x-auth-token': d.token } })
  ).json()) as {
    status: string;
    size: number;
  };
  assert.equal(inSp1.status, 'active');
  assert.equal(inSp1.size, data.length);
  const out = join(w.dir, 'image.out');
  await osc('image', 'save', '--file', out, created.id);
  const got = readFileSync(out);
  assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(data).digest('hex'));
});
