/**
 * The same shared-state guarantees on PostgreSQL. Runs when OCX_TEST_PG_URL names a database
 * (postgres://user@127.0.0.1:port/db), e.g. a throwaway cluster from Debian's postgresql package; skipped otherwise.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { type OpenedDatabase, openDatabase, type RunningProxy, startProxy } from '../src/index.ts';
import type { RemoteTokenRequest, RemoteTokenSource } from '../src/k2k.ts';
import type { HomeKeystone, ValidatedToken } from '../src/keystone.ts';
import { ProxyMetrics } from '../src/metrics.ts';
import { ResourceMappings } from '../src/resource-mappings.ts';
import { SpRoots } from '../src/sp-roots.ts';
import { TokenMappings } from '../src/token-mappings.ts';
import { createServer, startWorld, type World } from './helpers.ts';

const url = process.env.OCX_TEST_PG_URL;
const skip = url ? false : 'set OCX_TEST_PG_URL=postgres://… to run against PostgreSQL';

let a: OpenedDatabase;
let b: OpenedDatabase;
before(async () => {
  if (!url) return;
  a = await openDatabase(url);
  b = await openDatabase(url);
  await a.db.deleteFrom('token_mappings').execute();
  await a.db.deleteFrom('project_resource_mappings').execute();
  await a.db.deleteFrom('sp_service_roots').execute();
});
after(async () => {
  await a?.close();
  await b?.close();
});

test('two replicas on one PostgreSQL share sealed token mappings and resource mappings', { skip }, async () => {
  let calls = 0;
  const source: RemoteTokenSource = {
    async obtain(_req: RemoteTokenRequest) {
      calls++;
      return {
        token: `remote-${randomBytes(8).toString('hex')}`,
        expiresAt: new Date(Date.now() + 3_600_000),
        projectId: 'rp',
        projectName: 'demo',
        endpoints: {},
      };
    },
  };
  const pepper = randomBytes(32);
  const ta = new TokenMappings({ db: a.db, pepper, source, metrics: new ProxyMetrics() });
  const tb = new TokenMappings({ db: b.db, pepper, source, metrics: new ProxyMetrics() });
  const user: ValidatedToken = {
    userId: 'u',
    userName: 'demo',
    projectId: 'p',
    projectName: 'demo',
    projectDomainId: 'default',
    projectDomainName: 'Default',
    roles: [],
    expiresAt: new Date(Date.now() + 600_000),
    serviceProviders: [],
  };
  const sp = { id: 'sp1', auth_url: 'x', sp_url: 'y' };
  const local = randomBytes(20).toString('hex');
  const c1 = await ta.forSp({ localToken: local, hash: ta.hash(local), user, sp, deadline: Date.now() + 5000 });
  const c2 = await tb.forSp({ localToken: local, hash: tb.hash(local), user, sp, deadline: Date.now() + 5000 });
  assert.equal(calls, 1);
  assert.equal(c2.token, c1.token);
  const rows = await a.db.selectFrom('token_mappings').selectAll().execute();
  assert.equal(rows.length, 1);
  assert.ok(!JSON.stringify(rows).includes(c1.token) && !JSON.stringify(rows).includes(local));
  const ra = new ResourceMappings({ db: a.db, metrics: new ProxyMetrics(), missTtlMs: 0 });
  const rb = new ResourceMappings({ db: b.db, metrics: new ProxyMetrics(), missTtlMs: 0 });
  await ra.record([{ type: 'servers', id: 's1', targetId: 'sp2', projectId: 'p' }]);
  await ra.record([{ type: 'servers', id: 's1', targetId: 'sp1', projectId: 'p' }]);
  assert.equal(await rb.find('p', 'servers', 's1'), 'sp1');
  assert.equal(await tb.dropForToken(tb.hash(local)), 1);
});

test('a proxy on PostgreSQL serves an aggregated list and stores what it learned there', { skip }, async () => {
  let w: World | undefined;
  let other: RunningProxy | undefined;
  try {
    w = await startWorld({ db: url });
    const id = await createServer(w.direct.sp2!, 'pg-vm');
    const r = await w.call('/compute/v2.1/servers');
    assert.equal(r.status, 200);
    assert.ok(((await r.json()) as { servers: { id: string }[] }).servers.some((s) => s.id === id));
    other = await startProxy({
      homeCloud: 'idp-admin',
      cloudsFile: w.cloudsYaml,
      listen: '127.0.0.1:0',
      db: url,
      logLevel: 'silent',
    });
    const viaOther = await fetch(`${other.url}/compute/v2.1/servers/${id}`, { headers: { 'x-auth-token': w.token } });
    assert.equal(viaOther.status, 200);
    const m = await (await fetch(`${other.url}/metrics`)).text();
    assert.doesNotMatch(m, /result="flood_hit"\} [1-9]/, 'the second replica found the mapping in PostgreSQL');
  } finally {
    await other?.stop();
    await w?.stop();
  }
});

test('service provider roots one replica learned are found by another on PostgreSQL, and replaced when they change', {
  skip,
}, async () => {
  // Only what SpRoots asks of the home Keystone: the service account's token and the service providers it lists.
  const keystone = {
    cloudName: 'home',
    async serviceToken() {
      return {
        token: 'service-token',
        projectId: 'p',
        projectName: 'service',
        serviceProviders: [{ id: 'sp1', auth_url: 'http://sp1.invalid', sp_url: 'http://sp1.invalid' }],
      };
    },
  } as unknown as HomeKeystone;
  let exchanges = 0;
  const source: RemoteTokenSource = {
    async obtain() {
      exchanges++;
      throw new Error('no K2K in this test');
    },
  };
  const roots = (db: OpenedDatabase) =>
    new SpRoots({
      db: db.db,
      keystone,
      source,
      logger: pino({ level: 'silent' }),
      metrics: new ProxyMetrics(),
      discoveryTimeoutMs: 1_000,
      rediscoverMs: 60_000,
    });
  await a.db.deleteFrom('sp_service_roots').execute(); // the proxy of the test before stored real ones
  const ra = roots(a);
  await ra.learn('sp1', { compute: 'http://sp1.example:8774', 'block-storage': 'http://sp1.example:8776' });
  const rb = roots(b);
  assert.deepEqual(await rb.rootFor('compute'), { spId: 'sp1', root: 'http://sp1.example:8774' });
  assert.deepEqual(await rb.rootFor('block-storage'), { spId: 'sp1', root: 'http://sp1.example:8776' });
  assert.equal(exchanges, 0, 'stored roots need no K2K');
  await ra.learn('sp1', { compute: 'http://sp1-new.example:8774' });
  const rows = await b.db.selectFrom('sp_service_roots').selectAll().where('service_type', '=', 'compute').execute();
  assert.deepEqual(
    rows.map((r) => [r.sp_id, r.root_url]),
    [['sp1', 'http://sp1-new.example:8774']],
  );
  assert.equal(await roots(b).rootFor('image'), undefined, 'no SP runs image: after one failed discovery, undefined');
  assert.equal(exchanges, 1);
});
