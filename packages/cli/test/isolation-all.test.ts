/**
 * Tenant isolation across every front door at once (issue 16): alice (project demo) and bob (project other), each
 * with servers, networks and an image on the three clouds (idp; sp1 and sp2 by K2K), use the SDK (MultiCloud with
 * K2K), the `ocx` CLI (child processes), the proxy and the gateway concurrently. A property (fast-check) runs random
 * interleavings of lists, gets, deletes and decoy creates (an image made with the other's image id) by both users on
 * all surfaces, while each user's gateway WatchServers stream stays open. Required: no list, watch event, CLI table
 * or error ever carries the other's resource ids or names, no attempt on the other's resources succeeds, and
 * afterwards each user's own resources are where they were, on every surface. FUZZ_RUNS=N cases (default 12).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type Client, ConnectError, createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { DEFAULT_USERS } from '@ocx/devcloud';
import { type Gateway, startGateway } from '@ocx/gateway';
import { loadCloudsConfig, MultiCloud } from '@ocx/sdk';
import { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import fc from 'fast-check';
import { login, startWorld, type World } from '../../proxy/test/helpers.ts';

const RUNS = Number(process.env.FUZZ_RUNS ?? 12);
const CLOUDS = ['idp', 'sp1', 'sp2'] as const;
const run = promisify(execFile);

interface User {
  name: 'alice' | 'bob';
  project: string;
  token: string;
  sdk: MultiCloud;
  gw: Client<typeof CloudService>;
  /** Ids and names of what this user made (servers, networks, image). */
  ids: Set<string>;
  names: Set<string>;
  servers: Record<string, string>;
  networks: Record<string, string>;
  image: string;
  /** Every server id the user's watch stream reported. */
  watched: Set<string>;
  watchEnded?: string;
}

let w: World;
let gateway: Gateway;
let users: Record<'alice' | 'bob', User>;
let cliYaml: string;
const watches = new AbortController();
const watching: Promise<void>[] = [];

function other(u: User): User {
  return u.name === 'alice' ? users.bob : users.alice;
}

/** Anything a user got back must not name the other's resources. */
function clean(u: User, what: string, text: string): void {
  const o = other(u);
  for (const id of o.ids) assert.ok(!text.includes(id), `${u.name}'s ${what} shows ${o.name}'s ${id}`);
  for (const n of o.names) assert.ok(!text.includes(n), `${u.name}'s ${what} shows ${o.name}'s ${n}`);
}

const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? String(x) : x));
const gwAuth = (u: User) => ({ headers: { authorization: `Bearer ${u.token}` }, timeoutMs: 20_000 });
const proxy = (u: User, path: string, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  headers.set('x-auth-token', u.token);
  return w.call(path, { ...init, headers, signal: AbortSignal.timeout(20_000) });
};

async function setupUser(name: 'alice' | 'bob', password: string, project: string): Promise<User> {
  const idp = w.direct.idp!.authUrl;
  const token = (await login(idp, name === 'alice' ? 'demo' : 'bob', password, project)).token;
  const config = loadCloudsConfig({ files: { clouds: [w.cloudsYaml], secure: [], publicClouds: [] }, loadEnv: false });
  const base = config.getCloud('idp');
  const sdk = await MultiCloud.connect({
    home: {
      ...base,
      auth: { ...base.auth, username: name === 'alice' ? 'demo' : 'bob', password, project_name: project },
    },
    clouds: [],
    k2k: { remoteProjectName: project, remoteProjectDomainName: 'Default' },
    deadlineMs: 20_000,
  });
  assert.deepEqual(sdk.connectFailures, []);
  assert.deepEqual(sdk.names().sort(), [...CLOUDS]);
  const gw = createClient(CloudService, createGrpcTransport({ baseUrl: gateway.grpcUrl }));
  const u: User = {
    name,
    project,
    token,
    sdk,
    gw,
    ids: new Set(),
    names: new Set(),
    servers: {},
    networks: {},
    image: '',
    watched: new Set(),
  };
  for (const cloud of CLOUDS) {
    const sname = `${name}-srv-${cloud}`;
    const s = await gw.createServer(
      { spec: { location: { cloud }, name: sname, image: 'cirros-*', flavor: 'm1.tiny' } },
      gwAuth(u),
    );
    u.servers[cloud] = s.server?.id ?? '';
    const nname = `${name}-net-${cloud}`;
    const r = await proxy(u, '/network/v2.0/networks', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(cloud === 'idp' ? {} : { 'mm-service-provider': cloud }) },
      body: JSON.stringify({ network: { name: nname } }),
    });
    assert.equal(r.status, 201, await r.clone().text());
    u.networks[cloud] = ((await r.json()) as { network: { id: string } }).network.id;
    for (const x of [u.servers[cloud], u.networks[cloud]]) u.ids.add(x);
    u.names.add(sname).add(nname);
  }
  const img = await proxy(u, '/image/v2/images', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'mm-service-provider': 'sp1' },
    body: JSON.stringify({ name: `${name}-img-sp1`, disk_format: 'raw', container_format: 'bare' }),
  });
  assert.equal(img.status, 201, await img.clone().text());
  // Not in `ids`: the other user makes decoys with this very id (proxyDecoy), which rightly show in their lists.
  u.image = ((await img.json()) as { id: string }).id;
  u.names.add(`${name}-img-sp1`);
  return u;
}

before(async () => {
  w = await startWorld(
    {},
    {
      users: [...DEFAULT_USERS, { name: 'bob', password: 'bob-secret', project: 'other', roles: ['member', 'reader'] }],
    },
  );
  // K2K users land in group federated_users at the SPs: bob's project must be open to it there too.
  for (const sp of ['sp1', 'sp2']) {
    const ks = w.dc.cloud(sp).keystone;
    const group = ks.ensureGroup('federated_users', 'default');
    ks.grant('group', group.id, 'project', ks.ensureProject('other', 'default').id, ks.findRoleByName('member')!.id);
  }
  const config = loadCloudsConfig({ files: { clouds: [w.cloudsYaml], secure: [], publicClouds: [] }, loadEnv: false });
  gateway = await startGateway({
    home: config.getCloud('idp-admin'),
    homeName: 'idp',
    watchIntervalMs: 200,
    cloudOptions: { pollIntervalMs: 200, serverListAgeMs: 0 },
  });
  users = {
    alice: await setupUser('alice', 'demo-secret', 'demo'),
    bob: await setupUser('bob', 'bob-secret', 'other'),
  };
  // A clouds.yaml for the CLI: each user on idp, the SPs by K2K.
  const base = config.getCloud('idp');
  const entry = (user: string, password: string, project: string) => ({
    auth: { ...base.auth, username: user, password, project_name: project },
    region_name: base.regionName ?? 'RegionOne',
    identity_api_version: 3,
  });
  cliYaml = join(w.dir, 'isolation-clouds.yaml');
  writeFileSync(
    cliYaml,
    JSON.stringify({
      clouds: { alice: entry('demo', 'demo-secret', 'demo'), bob: entry('bob', 'bob-secret', 'other') },
    }),
  );
  for (const u of Object.values(users)) {
    watching.push(
      (async () => {
        try {
          for await (const e of u.gw.watchServers({}, { ...gwAuth(u), timeoutMs: undefined, signal: watches.signal })) {
            if (e.server?.id) u.watched.add(e.server.id);
            clean(u, 'watch stream', json(e));
          }
        } catch (err) {
          if (!watches.signal.aborted) u.watchEnded = (err as Error).message;
        }
      })(),
    );
  }
});
after(async () => {
  watches.abort();
  await Promise.allSettled(watching);
  for (const u of Object.values(users ?? {})) await u.sdk.close();
  await gateway?.close();
  await w?.stop();
});

/** `ocx server list` / `ocx network list` as the user: on idp, or on sp1 and sp2 by K2K; JSON out. */
async function cli(u: User, noun: 'server' | 'network', k2k: boolean): Promise<string> {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const sps = ['--os-service-provider', 'sp1', '--os-service-provider', 'sp2', '--os-remote-project-name', u.project];
  const { stdout } = await run(
    process.execPath,
    [
      main,
      noun,
      'list',
      '--os-cloud',
      u.name,
      ...(k2k ? [...sps, '--os-remote-project-domain-name', 'Default'] : []),
      '-f',
      'json',
    ],
    {
      env: { ...process.env, OS_CLIENT_CONFIG_FILE: cliYaml, XDG_CACHE_HOME: join(w.dir, `cache-${u.name}`) },
      timeout: 60_000,
    },
  );
  return stdout;
}

type Action = (u: User) => Promise<void>;

const actions: Record<string, Action> = {
  async gwListServers(u) {
    const r = await u.gw.listServers({}, gwAuth(u));
    assert.deepEqual(r.failures, []);
    clean(u, 'gateway server list', json(r));
    for (const c of CLOUDS)
      assert.ok(
        r.servers.some((s) => s.id === u.servers[c]),
        `${u.name} lists own server on ${c}`,
      );
  },
  async gwListNetworks(u) {
    const r = await u.gw.listNetworks({}, gwAuth(u));
    assert.deepEqual(r.failures, []);
    clean(u, 'gateway network list', json(r));
  },
  async gwGetOthers(u) {
    const o = other(u);
    for (const id of [o.servers.sp1!, o.servers.idp!]) {
      try {
        const r = await u.gw.getServer({ filter: { nameOrId: id } }, gwAuth(u));
        assert.fail(`${u.name} got ${o.name}'s server through the gateway: ${json(r).slice(0, 200)}`);
      } catch (err) {
        if ((err as Error).name === 'AssertionError') throw err;
        const e = ConnectError.from(err);
        assert.equal(e.code, 5, `${u.name} GetServer(${o.name}'s): ${e.message}`);
        clean(u, 'gateway error', e.message.replace(id, ''));
      }
    }
  },
  async gwDeleteOthers(u) {
    const o = other(u);
    const r = await u.gw
      .deleteServer({ filter: { nameOrId: o.servers.sp2! } }, gwAuth(u))
      .catch((err) => ({ deleted: false, err: ConnectError.from(err).code }));
    assert.equal(r.deleted, false, `${u.name} deleted ${o.name}'s server through the gateway`);
  },
  async gwOthersProject(u) {
    // Scoping a call to the other's project (Keystone rescopes the caller's token) is refused, naming nothing of it.
    const o = other(u);
    try {
      const r = await u.gw.listServers(
        { filter: { location: { project: { name: o.project, domainName: 'Default' } } } },
        gwAuth(u),
      );
      assert.fail(`${u.name} listed in ${o.name}'s project: ${json(r).slice(0, 200)}`);
    } catch (err) {
      if ((err as Error).name === 'AssertionError') throw err;
      const e = ConnectError.from(err);
      assert.equal(e.code, 7, `${u.name} in ${o.name}'s project: ${e.message}`);
      clean(u, 'gateway error', e.message);
    }
  },
  async proxyLists(u) {
    for (const path of ['/compute/v2.1/servers/detail', '/network/v2.0/networks', '/image/v2/images?limit=1000']) {
      const r = await proxy(u, path);
      const text = await r.text();
      assert.equal(r.status, 200, `${path}: ${text.slice(0, 200)}`);
      assert.equal(r.headers.get('x-ocx-missing-service-providers'), null);
      clean(u, `proxy ${path}`, text);
      if (path.startsWith('/image/')) {
        // The other's image id appears only as this user's own decoy.
        for (const i of (JSON.parse(text) as { images: { id: string; name: string }[] }).images) {
          if (i.id === other(u).image)
            assert.equal(i.name, `decoy-by-${u.name}`, `${u.name} lists ${other(u).name}'s image`);
        }
      }
    }
  },
  async proxyOthers(u) {
    const o = other(u);
    for (const [method, path] of [
      ['GET', `/network/v2.0/networks/${o.networks.sp1}`],
      ['DELETE', `/network/v2.0/networks/${o.networks.sp2}`],
      ['GET', `/compute/v2.1/servers/${o.servers.idp}`],
      ['GET', `/image/v2/images/${o.image}`],
    ] as const) {
      const r = await proxy(u, path, { method });
      const text = await r.text();
      // The other's image id may name this user's own decoy (proxyDecoy): then it is that, never the other's.
      if (r.status === 200 && path.startsWith('/image/')) {
        assert.equal((JSON.parse(text) as { name: string }).name, `decoy-by-${u.name}`);
        continue;
      }
      assert.ok(
        r.status === 404 || r.status === 403,
        `${u.name} ${method} ${o.name}'s ${path}: ${r.status} ${text.slice(0, 200)}`,
      );
      // The id the caller sent may be echoed ("… could not be found"); nothing else of the other's.
      clean(u, `proxy error for ${path}`, text.split(path.split('/').pop()!).join(''));
    }
  },
  async proxyDecoy(u) {
    // An image with the other's image id in idp and sp2 (Glance lets a client choose the id).
    const o = other(u);
    for (const cloud of ['idp', 'sp2']) {
      const r = await proxy(u, '/image/v2/images', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(cloud === 'idp' ? {} : { 'mm-service-provider': cloud }) },
        body: JSON.stringify({ id: o.image, name: `decoy-by-${u.name}`, disk_format: 'raw', container_format: 'bare' }),
      });
      await r.body?.cancel();
      assert.ok(r.status === 201 || r.status === 409, `decoy: ${r.status}`);
    }
  },
  async sdkLists(u) {
    const out = await u.sdk.call((conn) => conn.cloudLayer.listServers({ bare: true }), { deadlineMs: 20_000 });
    assert.deepEqual(out.failures, []);
    clean(u, 'SDK server list', json(out.results.map((r) => r.value)));
    const nets = await u.sdk.call((conn) => conn.cloudLayer.listNetworks(), { deadlineMs: 20_000 });
    clean(u, 'SDK network list', json(nets.results.map((r) => r.value)));
  },
  async sdkGetOthers(u) {
    const o = other(u);
    const out = await u.sdk.call((conn) => conn.cloudLayer.getServer(o.servers.sp1!), { deadlineMs: 20_000 });
    for (const r of out.results)
      assert.equal(r.value, null, `${u.name} got ${o.name}'s server by the SDK on ${r.location.cloud}`);
  },
};

/** Each user's own things, where they were, on every surface. */
async function ownIntact(u: User): Promise<void> {
  const img = await proxy(u, `/image/v2/images/${u.image}`);
  const body = (await img.json()) as { name?: string };
  assert.equal(img.status, 200);
  assert.equal(body.name, `${u.name}-img-sp1`, `${u.name}'s image is still ${u.name}'s`);
  assert.equal(img.headers.get('x-ocx-service-provider'), 'sp1');
  for (const c of CLOUDS) {
    const s = await u.gw.getServer({ filter: { nameOrId: u.servers[c]! } }, gwAuth(u));
    assert.equal(s.server?.location?.cloud, c);
    const n = await proxy(u, `/network/v2.0/networks/${u.networks[c]}`);
    assert.equal(n.status, 200, `${u.name}'s network on ${c}`);
    await n.body?.cancel();
  }
}

test('two users on four surfaces at once: random interleavings never cross', { timeout: 600_000 }, async () => {
  const names = Object.keys(actions);
  const step = fc.record({
    user: fc.constantFrom('alice' as const, 'bob' as const),
    action: fc.constantFrom(...names),
  });
  // The CLI runs beside the property (node start-up is seconds): both users, both lists, on sp1 + sp2 by K2K and
  // then on idp.
  const clis = (async () => {
    const outs: string[] = [];
    for (const k2k of [true, false]) {
      const got = await Promise.all(
        (['alice', 'bob'] as const).flatMap((n) =>
          [cli(users[n], 'server', k2k), cli(users[n], 'network', k2k)].map(async (p) => ({ n, out: await p })),
        ),
      );
      for (const { n, out } of got) {
        clean(users[n], 'CLI table', out);
        outs.push(out);
      }
      for (const n of ['alice', 'bob'] as const) {
        const mine = got
          .filter((g) => g.n === n)
          .map((g) => g.out)
          .join('\n');
        for (const c of k2k ? ['sp1', 'sp2'] : ['idp']) {
          assert.ok(mine.includes(users[n].servers[c]!), `${n}'s CLI lists own server on ${c}: ${mine.slice(0, 1500)}`);
        }
      }
    }
    return outs.length;
  })();
  let clisDone = false;
  let cases = 0;
  let calls = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 12 }), async (steps) => {
        cases++;
        calls += steps.length;
        await Promise.all(steps.map((s) => actions[s.action]!(users[s.user])));
      }),
      { numRuns: RUNS, endOnFailure: true, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
    );
  } finally {
    // The CLI runs finish before the world stops, whatever the property said.
    if (!clisDone) await clis.catch(() => undefined);
  }
  const cliRuns = await clis;
  clisDone = true;
  for (const u of Object.values(users)) await ownIntact(u);
  // The watches saw their own servers (so they were live) and never the other's (clean() in the loop).
  for (const u of Object.values(users)) {
    assert.equal(u.watchEnded, undefined, `${u.name}'s watch ended: ${u.watchEnded}`);
    for (const c of CLOUDS) assert.ok(u.watched.has(u.servers[c]!), `${u.name}'s watch saw own server on ${c}`);
    for (const id of other(u).ids) assert.ok(!u.watched.has(id));
  }
  console.log(
    `# ${cases} interleavings, ${calls} concurrent calls (gateway, proxy, SDK) + ${cliRuns} CLI runs; 0 crossings`,
  );
});
