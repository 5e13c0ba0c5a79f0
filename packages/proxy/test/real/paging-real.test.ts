/**
 * Aggregated paging on real OpenStack with openstacksdk (OCX_TEST_TARGET=real; clouds from OS_CLIENT_CONFIG_FILE
 * as test/real/openstack.sh writes them): images and networks made directly in sp1 and sp2 within a second or two
 * (so created_at ties, issue 12's failure), then openstacksdk — `conn.image.images(limit=2)` following Glance's
 * `next`, `conn.network.networks(limit=2)` following `networks_links` — pages the aggregated lists through an
 * in-process IdP proxy (home idp-admin; endpoint overrides, so nothing is registered in any catalog). Every item
 * made here comes back exactly once, and no item of the walk twice. Others share the stack, so only this run's
 * items (by name) are counted. Everything made is deleted afterwards.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { loadCloudsConfig } from '@ocx/sdk';
import { realLogin } from '../../../../test/lib/real-login.ts';
import { cloudsFile, real, skip } from '../../../../test/lib/real-target.ts';
import { type RunningProxy, startProxy } from '../../src/index.ts';

const SLOW = 120_000;
const tag = `ocx-page-${randomBytes(4).toString('hex')}`;
const run = promisify(execFile);

interface Direct {
  token: string;
  ep: Record<string, string>;
}

const login = (cloud: string): Promise<Direct> => realLogin(cloud, cloudsFile, SLOW);

async function call(url: string, token: string, method = 'GET', json?: unknown): Promise<Record<string, unknown>> {
  const r = await fetch(url, {
    method,
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
    signal: AbortSignal.timeout(SLOW),
  });
  const text = await r.text();
  assert.ok(r.status < 300, `${method} ${url}: ${r.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

let dir: string;
let proxy: RunningProxy;
const made = { images: [] as string[], networks: [] as string[] };
const cleanup: Array<() => Promise<unknown>> = [];

before(async () => {
  if (!real) return;
  dir = mkdtempSync(join(tmpdir(), 'ocx-paging-real-'));
  proxy = await startProxy({
    homeCloud: 'idp-admin',
    cloudsFile,
    listen: '127.0.0.1:0',
    db: join(dir, 'proxy.sqlite'),
    fanoutTimeoutMs: 90_000,
    floodTimeoutMs: 90_000,
    upstreamTimeoutMs: SLOW,
    logLevel: 'warn',
  });
  for (const [cloud, n] of [
    ['sp1', 5],
    ['sp2', 3],
  ] as const) {
    const d = await login(cloud);
    const glance = d.ep.image!;
    const neutron = d.ep.network!;
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const img = (await call(`${glance}/v2/images`, d.token, 'POST', {
          name: `${tag}-${cloud}-${i}`,
          disk_format: 'raw',
          container_format: 'bare',
        })) as { id: string };
        made.images.push(img.id);
        cleanup.push(() => call(`${glance}/v2/images/${img.id}`, d.token, 'DELETE'));
        const net = (await call(`${neutron}/v2.0/networks`, d.token, 'POST', {
          network: { name: `${tag}-${cloud}-${i}` },
        })) as { network: { id: string } };
        made.networks.push(net.network.id);
        cleanup.push(() => call(`${neutron}/v2.0/networks/${net.network.id}`, d.token, 'DELETE'));
      }),
    );
  }
});

after(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => undefined);
  await proxy?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const SCRIPT = `
import json, openstack
conn = openstack.connect(cloud='idp-proxy')
out = {
    'images': [[i.id, i.name] for i in conn.image.images(limit=2)],
    'networks': [[n.id, n.name] for n in conn.network.networks(limit=2)],
}
print(json.dumps(out))
`;

test('real: openstacksdk pages aggregated images and networks (limit=2) through the proxy, each once', {
  skip,
  timeout: 600_000,
}, async () => {
  const demo = loadCloudsConfig({
    files: { clouds: [cloudsFile], secure: [], publicClouds: [] },
    loadEnv: false,
  }).getCloud('idp');
  const yaml = join(dir, 'clouds.yaml');
  writeFileSync(
    yaml,
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
      '    identity_api_version: 3',
      `    image_endpoint_override: ${JSON.stringify(`${proxy.url}/image`)}`,
      `    network_endpoint_override: ${JSON.stringify(`${proxy.url}/network`)}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('OS_')) delete env[k];
  env.OS_CLIENT_CONFIG_FILE = yaml;
  // /usr/bin's python3: a pyenv shim lacks the OpenStack libraries.
  const r = await run('/usr/bin/python3', ['-c', SCRIPT], { env, encoding: 'utf8', timeout: 540_000 });
  const got = JSON.parse(r.stdout) as Record<'images' | 'networks', [string, string][]>;
  for (const kind of ['images', 'networks'] as const) {
    const ids = got[kind].map(([id]) => id);
    assert.equal(new Set(ids).size, ids.length, `no ${kind} twice in the walk`);
    const mine = got[kind].filter(([, name]) => name?.startsWith(tag)).map(([id]) => id);
    assert.deepEqual([...mine].sort(), [...made[kind]].sort(), `every ${kind} of this run exactly once`);
  }
});
