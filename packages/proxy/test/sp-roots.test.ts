/**
 * Version discovery of services only the service providers run. The home cloud here is a Keystone-only idp (as in
 * test/real); sp1 and sp2 run everything. Clients (keystoneauth, python-openstackclient) ask for `GET /compute/`
 * and `GET /volume/` without a token before anything else, so a fresh proxy must learn the SPs' endpoints on its
 * own (its service account's K2K), and a restarted one must remember them (table sp_service_roots).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { loadCloudsConfig } from '@ocx/sdk';
import { pino } from 'pino';
import { openDatabase, type RunningProxy, registerProxyRegion, startProxy } from '../src/index.ts';
import { createServer, createVolume, login, startWorld, type World, waitFor } from './helpers.ts';

let w: World;
const extra: RunningProxy[] = [];

before(async () => {
  // idp runs Keystone only: the home cloud has no compute, block storage, image, network or object storage.
  w = await startWorld({}, { servicesFor: { idp: [] } });
});
after(async () => {
  for (const p of extra) await p.stop();
  await w?.stop();
});

async function freshProxy(db: string): Promise<RunningProxy> {
  const p = await startProxy({
    homeCloud: 'idp-admin',
    cloudsFile: w.cloudsYaml,
    listen: '127.0.0.1:0',
    db: join(w.dir, db),
    logger: pino({ level: 'silent' }),
    upstreamTimeoutMs: 10_000,
  });
  extra.push(p);
  return p;
}

interface VersionDoc {
  versions?: { id: string; status: string; links: { href: string; rel: string }[] }[];
  version?: unknown;
}

async function versionDoc(base: string, prefix: string): Promise<{ status: number; doc: VersionDoc; text: string }> {
  const r = await fetch(`${base}${prefix}/`, { signal: AbortSignal.timeout(30_000) });
  const text = await r.text();
  let doc: VersionDoc = {};
  try {
    doc = JSON.parse(text) as VersionDoc;
  } catch {
    // not JSON: the assertion on status shows the text
  }
  return { status: r.status, doc, text };
}

/** The SP's own document, and ours through the proxy: same versions, links pointing at the proxy. */
async function assertServedFromSp(proxyUrl: string, prefix: string, sp: string): Promise<void> {
  const ours = await versionDoc(proxyUrl, prefix);
  const theirs = await versionDoc(w.dc.cloud(sp).baseUrl, prefix);
  // Nova answers 200, Cinder 300 Multiple Choices (as the real ones do).
  assert.ok(theirs.status === 200 || theirs.status === 300, `${sp} ${prefix}/: ${theirs.status}`);
  assert.equal(ours.status, theirs.status, `GET ${prefix}/ without a token: ${ours.text}`);
  const ids = (d: VersionDoc) => (d.versions ?? []).map((v) => `${v.id} ${v.status}`).sort();
  assert.ok(ids(ours.doc).length > 0, `${prefix}/ lists versions`);
  assert.deepEqual(ids(ours.doc), ids(theirs.doc), `${prefix}/ is ${sp}'s document`);
  const hrefs = (ours.doc.versions ?? []).flatMap((v) => v.links.filter((l) => l.rel === 'self').map((l) => l.href));
  assert.ok(hrefs.length > 0, 'the document has self links');
  for (const h of hrefs) assert.ok(h.startsWith(`${proxyUrl}${prefix}`), `link ${h} points at the proxy`);
  for (const c of w.dc.clouds) assert.ok(!ours.text.includes(c.baseUrl), `no link to ${c.name} (${c.baseUrl})`);
}

async function discoveries(p: RunningProxy): Promise<Record<string, number>> {
  const text = await (await fetch(`${p.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^ocx_proxy_sp_discoveries_total\{target="([^"]+)",outcome="([^"]+)"\} (\d+)/gm))
    out[`${m[1]} ${m[2]}`] = Number(m[3]);
  return out;
}

test('the home cloud really lacks compute and block storage', async () => {
  assert.equal(w.direct.idp!.endpoints.compute, undefined);
  assert.equal(w.direct.idp!.endpoints.volumev3, undefined);
});

test('a fresh proxy answers unauthenticated GET /compute/ and /volume/ with an SP document, one K2K per SP for many clients', async () => {
  const p = await freshProxy('fresh.sqlite');
  // Many clients discovering at once, before anything else reached this proxy.
  const answers = await Promise.all(
    Array.from({ length: 8 }, (_, i) => versionDoc(p.url, i % 2 ? '/volume' : '/compute')),
  );
  for (const a of answers) assert.ok(a.status === 200 || a.status === 300, `${a.status} ${a.text}`);
  // sp1 comes first (service providers in id order): its documents, links rewritten to the proxy.
  await assertServedFromSp(p.url, '/compute', 'sp1');
  await assertServedFromSp(p.url, '/volume', 'sp1');
  // The exchanges to the other SP end in the background: then there was exactly one per SP, all succeeded.
  const counts = await waitFor('both discoveries to finish', async () => {
    const c = await discoveries(p);
    return c['sp1 ok'] && c['sp2 ok'] ? c : undefined;
  });
  assert.deepEqual(counts, { 'sp1 ok': 1, 'sp2 ok': 1 });
  // Every service of the SP catalogs was learned by those exchanges: no further K2K for another one.
  await assertServedFromSp(p.url, '/image', 'sp1');
  await assertServedFromSp(p.url, '/network', 'sp1');
  assert.deepEqual(await discoveries(p), { 'sp1 ok': 1, 'sp2 ok': 1 });

  // What was learned is stored per SP and service type, with the time it was learned.
  const db = await openDatabase(join(w.dir, 'fresh.sqlite'));
  try {
    const rows = await db.db
      .selectFrom('sp_service_roots')
      .selectAll()
      .orderBy('sp_id')
      .orderBy('service_type')
      .execute();
    const compute = rows.filter((r) => r.service_type === 'compute');
    assert.deepEqual(
      compute.map((r) => [r.sp_id, r.root_url]),
      [
        ['sp1', `${w.dc.cloud('sp1').baseUrl}/compute`],
        ['sp2', `${w.dc.cloud('sp2').baseUrl}/compute`],
      ],
    );
    for (const r of rows) assert.ok(Number(r.learned_at) > Date.now() - 600_000 && Number(r.learned_at) <= Date.now());
  } finally {
    await db.close();
  }
});

test('a restarted proxy on the same database answers at once, with the SPs’ Keystones down (no K2K)', async () => {
  const first = await freshProxy('restart.sqlite');
  await assertServedFromSp(first.url, '/compute', 'sp1');
  await waitFor('both discoveries to finish', async () => {
    const c = await discoveries(first);
    return c['sp1 ok'] && c['sp2 ok'] ? true : undefined;
  });
  await first.stop();
  // No K2K can succeed now: both service providers' Keystones answer 503.
  await w.dc.setFaults('sp1', 'identity', { errorRate: 1, errorStatus: 503 });
  await w.dc.setFaults('sp2', 'identity', { errorRate: 1, errorStatus: 503 });
  try {
    const again = await freshProxy('restart.sqlite');
    await assertServedFromSp(again.url, '/compute', 'sp1');
    await assertServedFromSp(again.url, '/volume', 'sp1');
    assert.deepEqual(await discoveries(again), {}, 'no K2K was tried');
    // Control: a proxy with an empty database cannot answer while the SPs' Keystones are down.
    const empty = await freshProxy('empty.sqlite');
    const r = await versionDoc(empty.url, '/compute');
    assert.equal(r.status, 404, r.text);
    assert.match(r.text, /itemNotFound|has no compute/);
    assert.deepEqual(await discoveries(empty), { 'sp1 failed': 1, 'sp2 failed': 1 });
  } finally {
    await w.dc.clearFaults();
  }
});

test('a stored root that a user’s K2K catalog contradicts is replaced', async () => {
  const file = join(w.dir, 'stale.sqlite');
  const db = await openDatabase(file);
  try {
    await db.db
      .insertInto('sp_service_roots')
      .values({ sp_id: 'sp1', service_type: 'compute', root_url: 'http://127.0.0.1:9/compute', learned_at: 1 })
      .execute();
  } finally {
    await db.close();
  }
  const p = await freshProxy('stale.sqlite');
  const stale = await versionDoc(p.url, '/compute');
  assert.ok(stale.status >= 500, `the stale root is used first: ${stale.status} ${stale.text}`);
  // A user's call through the proxy runs K2K to the SPs, whose catalogs show where compute really is.
  const list = await fetch(`${p.url}/compute/v2.1/servers`, {
    headers: { 'x-auth-token': w.token },
    signal: AbortSignal.timeout(30_000),
  });
  assert.equal(list.status, 200, await list.text());
  await assertServedFromSp(p.url, '/compute', 'sp1');
  const after = await openDatabase(file);
  try {
    const row = await waitFor('the stored root to be replaced', async () => {
      const r = await after.db
        .selectFrom('sp_service_roots')
        .selectAll()
        .where('sp_id', '=', 'sp1')
        .where('service_type', '=', 'compute')
        .executeTakeFirst();
      return r && r.root_url !== 'http://127.0.0.1:9/compute' ? r : undefined;
    });
    assert.equal(row.root_url, `${w.dc.cloud('sp1').baseUrl}/compute`);
    assert.ok(Number(row.learned_at) > 1);
  } finally {
    await after.close();
  }
});

const OSC = '/usr/bin/openstack';
const haveOsc = existsSync(OSC);
test('python-openstackclient: the first commands a fresh proxy ever sees work (server list, volume list)', {
  skip: haveOsc ? false : `${OSC} is not installed`,
}, async () => {
  const ids = {
    vm1: await createServer(w.direct.sp1!, 'first-vm-sp1'),
    vm2: await createServer(w.direct.sp2!, 'first-vm-sp2'),
    vol2: await createVolume(w.direct.sp2!, 'first-vol-sp2'),
  };
  const p = await freshProxy('osc.sqlite');
  // The proxy in idp's catalog as region ocx-proxy; idp runs none of these services, so their entries are made.
  const adminLogin = await login(w.direct.idp!.authUrl, 'admin', 'admin-secret', 'admin');
  for (const [type, name] of [
    ['compute', 'nova'],
    ['volumev3', 'cinderv3'],
    ['image', 'glance'],
    ['network', 'neutron'],
  ]) {
    const r = await fetch(`${w.direct.idp!.authUrl}/services`, {
      method: 'POST',
      headers: { 'x-auth-token': adminLogin.token, 'content-type': 'application/json' },
      body: JSON.stringify({ service: { type, name } }),
    });
    assert.equal(r.status, 201, await r.text());
  }
  const admin = loadCloudsConfig({ files: { clouds: [w.cloudsYaml], secure: [], publicClouds: [] }, loadEnv: false });
  await registerProxyRegion(admin.getCloud('idp-admin'), p.url);
  const yaml = join(w.dir, 'osc-first.yaml');
  writeFileSync(
    yaml,
    `clouds:\n  via-proxy:\n    auth:\n      auth_url: ${w.direct.idp!.authUrl}\n      username: demo\n      password: demo-secret\n      project_name: demo\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: ocx-proxy\n    identity_api_version: 3\n`,
  );
  const osc = async (...args: string[]) => {
    try {
      const r = await promisify(execFile)(OSC, ['--os-cloud', 'via-proxy', ...args], {
        env: { ...process.env, PATH: `/usr/bin:${process.env.PATH}`, OS_CLIENT_CONFIG_FILE: yaml },
        encoding: 'utf8',
        timeout: 60_000,
      });
      return r.stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`openstack ${args.join(' ')} failed: ${e.stderr || e.message}`);
    }
  };
  const servers = JSON.parse(await osc('server', 'list', '-f', 'json')) as { ID: string }[];
  assert.deepEqual(servers.map((s) => s.ID).sort(), [ids.vm1, ids.vm2].sort());
  const volumes = JSON.parse(await osc('volume', 'list', '-f', 'json')) as { ID: string }[];
  assert.deepEqual(
    volumes.map((v) => v.ID),
    [ids.vol2],
  );
});

test('several projects at an SP: the one named like the service account’s home project, else discovery fails', async () => {
  // sp1: the federated users also get `admin` (the service account's home project name); sp2: another project.
  for (const [sp, project] of [
    ['sp1', 'admin'],
    ['sp2', 'other'],
  ] as const) {
    const ks = w.dc.cloud(sp).keystone;
    const group = ks.ensureGroup('federated_users', 'default');
    const member = ks.findRoleByName('member')!;
    ks.grant('group', group.id, 'project', ks.ensureProject(project, 'default').id, member.id);
  }
  const p = await freshProxy('several.sqlite');
  await assertServedFromSp(p.url, '/compute', 'sp1');
  const counts = await waitFor('both discoveries to finish', async () => {
    const c = await discoveries(p);
    return c['sp1 ok'] && c['sp2 failed'] ? c : undefined;
  });
  assert.deepEqual(counts, { 'sp1 ok': 1, 'sp2 failed': 1 });
});
