import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { loadCloudsConfig } from '../src/config/index.ts';
import { isOcxError, OcxError } from '../src/errors/index.ts';
import { allFailed, fanOut, MultiCloud } from '../src/multicloud/index.ts';
import { ConfigSandbox } from './config-helpers.ts';
import {
  cloudConfigFor,
  type FakeCloud,
  listServers,
  startFakeCloud,
  testSessionFactory,
} from './multicloud-helpers.ts';

const cleanups: Array<() => Promise<void> | void> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function fake(...args: Parameters<typeof startFakeCloud>): Promise<FakeCloud> {
  const f = await startFakeCloud(...args);
  cleanups.push(() => f.close());
  return f;
}

/** A loopback port nobody listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('MultiCloud.call', () => {
  it('one answer per cloud: results with locations, and failures that tell the causes apart', async () => {
    const ok = await fake('ok', { kind: 'ok', items: [{ id: 's1', name: 'web' }] });
    const broken = await fake('broken', {
      kind: 'status',
      status: 500,
      body: JSON.stringify({ computeFault: { code: 500, message: 'nova-api fell over' } }),
    });
    const slow = await fake('slow', { kind: 'hang' });
    const expired = await fake('expired', {
      kind: 'status',
      status: 401,
      body: JSON.stringify({ error: { code: 401, message: 'token expired' } }),
    });
    const wrongPw = await fake('wrongpw', { kind: 'ok', items: [] }, { password: 'other' });
    const dead = `http://127.0.0.1:${await deadPort()}`;
    const { factory } = testSessionFactory();
    const multi = await MultiCloud.connect({
      clouds: [
        cloudConfigFor(ok.url, 'ok'),
        cloudConfigFor(broken.url, 'broken'),
        cloudConfigFor(slow.url, 'slow'),
        cloudConfigFor(expired.url, 'expired'),
        cloudConfigFor(dead, 'dead'),
        cloudConfigFor(wrongPw.url, 'wrongpw'),
      ],
      sessionFactory: factory,
    });
    // connecting authenticated every cloud: the unreachable one and the bad password are reported, not thrown
    assert.deepEqual(
      multi.connectFailures.map((f) => [f.name, f.error.code]),
      [
        ['dead', 'UNREACHABLE'],
        ['wrongpw', 'AUTH_FAILED'],
      ],
    );

    const outcome = await multi.call(listServers, { deadlineMs: 400 });
    assert.deepEqual(outcome.results, [
      {
        location: { cloud: 'ok', region: 'RegionOne', name: 'ok' },
        value: [{ id: 's1', name: 'web' }],
        durationMs: outcome.results[0]?.durationMs,
      },
    ]);
    const codes = Object.fromEntries(outcome.failures.map((f) => [f.name, f.error.code]));
    assert.deepEqual(codes, {
      broken: 'SERVICE_ERROR',
      slow: 'TIMEOUT',
      expired: 'AUTH_EXPIRED',
      dead: 'UNREACHABLE',
      wrongpw: 'AUTH_FAILED',
    });
    const brokenFailure = outcome.failures.find((f) => f.name === 'broken');
    assert.equal(brokenFailure?.error.serverMessage, 'nova-api fell over');
    assert.equal(brokenFailure?.error.requestId, 'req-broken');
    for (const f of outcome.failures) {
      assert.ok(isOcxError(f.error));
      assert.equal(f.error.cloud, f.cloud, 'every failure carries its cloud');
      assert.equal(f.region, 'RegionOne');
    }
    // the hanging cloud's request was cancelled, not left running
    await waitFor(() => slow.abortedRequests === 1);
    assert.equal(allFailed(outcome), false);
  });

  it('never runs more than `concurrency` clouds at once, and still answers for all of them', async () => {
    const counter = { now: 0, max: 0 };
    const fakes = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        fake(`c${i}`, { kind: 'ok', items: [{ id: `s${i}` }], delayMs: 30 }, { sharedCounter: counter }),
      ),
    );
    const { factory } = testSessionFactory();
    const multi = await MultiCloud.connect({
      clouds: fakes.map((f) => cloudConfigFor(f.url, f.name)),
      sessionFactory: factory,
    });
    const limited = await multi.call(listServers, { concurrency: 2 });
    assert.equal(limited.results.length, 6);
    assert.ok(counter.max <= 2, `at most 2 in flight, saw ${counter.max}`);
    assert.deepEqual(
      limited.results.map((r) => r.location.cloud),
      ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'],
      'results come back in connection order',
    );
    counter.max = 0;
    const wide = await multi.call(listServers, { concurrency: 6 });
    assert.equal(wide.results.length, 6);
    assert.ok(counter.max > 2, `with concurrency 6 more than 2 run at once (saw ${counter.max})`);
  });

  it("the caller's AbortSignal cancels what is still running, and the call still resolves", async () => {
    const quick = await fake('quick', { kind: 'ok', items: [{ id: 'q' }] });
    const stuck = await fake('stuck', { kind: 'hang' });
    const { factory } = testSessionFactory();
    const multi = await MultiCloud.connect({
      clouds: [cloudConfigFor(quick.url, 'quick'), cloudConfigFor(stuck.url, 'stuck')],
      sessionFactory: factory,
    });
    const controller = new AbortController();
    const pending = multi.call(
      async (conn, name, ctx) => {
        const items = await listServers(conn, name, ctx);
        if (name === 'quick') setImmediate(() => controller.abort());
        return items;
      },
      { signal: controller.signal, deadlineMs: 60_000 },
    );
    const outcome = await pending;
    assert.deepEqual(
      outcome.results.map((r) => r.location.cloud),
      ['quick'],
    );
    assert.deepEqual(
      outcome.failures.map((f) => [f.cloud, f.error.code]),
      [['stuck', 'CANCELLED']],
    );
    await waitFor(() => stuck.abortedRequests === 1);
  });

  it('an unexpected exception in the caller function is one SERVICE_ERROR for that cloud only', async () => {
    const a = await fake('a', { kind: 'ok', items: [] });
    const b = await fake('b', { kind: 'ok', items: [] });
    const { factory } = testSessionFactory();
    const multi = await MultiCloud.connect({
      clouds: [cloudConfigFor(a.url, 'a'), cloudConfigFor(b.url, 'b')],
      sessionFactory: factory,
    });
    const outcome = await multi.call(async (_conn, name) => {
      if (name === 'b') throw new TypeError('oops in user code');
      return name;
    });
    assert.deepEqual(
      outcome.results.map((r) => r.value),
      ['a'],
    );
    assert.equal(outcome.failures[0]?.error.code, 'SERVICE_ERROR');
    assert.match(outcome.failures[0]?.error.message ?? '', /oops in user code/);
    assert.ok(outcome.failures[0]?.error.cause instanceof TypeError);
  });
});

describe('MultiCloud.select, list and listServices', () => {
  async function three() {
    const x = await fake('x', { kind: 'ok', items: [{ id: 'x1' }, { id: 'x2' }] });
    const y = await fake('y', { kind: 'ok', items: [{ id: 'y1' }] });
    const z = await fake('z', {
      kind: 'ok',
      items: [{ id: 'z1', location: { cloud: 'already', region: null, zone: null, project: {} } }],
    });
    const { factory, made } = testSessionFactory();
    const multi = await MultiCloud.connect({
      clouds: [
        cloudConfigFor(x.url, 'x', 'pw', 'R1'),
        cloudConfigFor(y.url, 'y', 'pw', 'R2'),
        cloudConfigFor(z.url, 'z', 'pw', 'R1'),
      ],
      tags: { x: ['gpu', 'eu'], y: ['eu'], z: ['us'] },
      sessionFactory: factory,
    });
    return { multi, made };
  }

  it('select by names, regions, tags and predicate', async () => {
    const { multi } = await three();
    assert.deepEqual(multi.select({ names: ['x', 'z'] }).names(), ['x', 'z']);
    assert.deepEqual(multi.select({ regions: ['R1'] }).names(), ['x', 'z']);
    assert.deepEqual(multi.select({ tags: ['eu'] }).names(), ['x', 'y']);
    assert.deepEqual(multi.select({ tags: ['eu', 'gpu'] }).names(), ['x']);
    assert.deepEqual(multi.select({ where: (c) => c.cloud !== 'x', regions: ['R1'] }).names(), ['z']);
    const sub = await multi.select({ names: ['y'] }).call(listServers);
    assert.deepEqual(
      sub.results.map((r) => r.location.cloud),
      ['y'],
    );
    assert.equal(multi.get('y').region, 'R2');
    assert.throws(
      () => multi.get('nope'),
      (e: unknown) => isOcxError(e, 'NOT_FOUND'),
    );
  });

  it('list merges every cloud and tags each item with its location (keeping one already there)', async () => {
    const { multi } = await three();
    const { items, failures } = await multi.list(listServers);
    assert.deepEqual(failures, []);
    assert.deepEqual(
      items.map((i) => [i.id, i.location.cloud, i.location.region, i.location.project.id]),
      [
        ['x1', 'x', 'R1', 'proj-x'],
        ['x2', 'x', 'R1', 'proj-x'],
        ['y1', 'y', 'R2', 'proj-y'],
        ['z1', 'already', null, undefined],
      ],
    );
  });

  it('listServices reports what each catalog offers in the cloud region, with canonical types', async () => {
    const { multi } = await three();
    const out = await multi.listServices();
    assert.equal(out.failures.length, 0);
    const x = out.results.find((r) => r.location.cloud === 'x');
    assert.deepEqual(
      x?.value.map((svc) => [svc.type, svc.catalogType]),
      [
        ['block-storage', 'volumev3'],
        ['compute', 'compute'],
      ],
      'the image endpoint is in another region, so it is not reachable here',
    );
    const onlyVolume = await multi.listServices({ service: 'volume' });
    assert.deepEqual(
      onlyVolume.results.map((r) => r.value.map((s) => s.type)),
      [['block-storage'], ['block-storage'], ['block-storage']],
    );
  });

  it('close closes the sessions it made; reauthenticate forgets tokens', async () => {
    const { multi, made } = await three();
    assert.ok(
      made.every((s) => s.access !== undefined),
      'connect authenticated every cloud',
    );
    multi.reauthenticate(['y']);
    assert.deepEqual(
      made.map((s) => s.access === undefined),
      [false, true, false],
    );
    await multi.select({ names: ['x'] }).close();
    assert.ok(
      made.every((s) => !s.closed),
      'a view closes nothing',
    );
    await multi.close();
    assert.ok(made.every((s) => s.closed));
  });
});

describe('MultiCloud.connect from clouds.yaml and K2K', () => {
  it('a broken cloud in clouds.yaml is a CONFIG_INVALID failure of that cloud; the rest work', async () => {
    const good = await fake('good', { kind: 'ok', items: [{ id: 'g' }] });
    const s = new ConfigSandbox();
    cleanups.push(() => s.cleanup());
    s.write(
      'cwd/clouds.yaml',
      `clouds:
  good:
    auth: {auth_url: '${good.url}/v3', username: demo, password: pw, project_name: demo}
    regions: [RegionOne, RegionTwo]
  bad:
    auth: {auth_url: 'not a url', username: demo, password: pw}
`,
    );
    const config = loadCloudsConfig(s.opts());
    const { factory } = testSessionFactory();
    const multi = await MultiCloud.connect({ config, sessionFactory: factory });
    assert.deepEqual(multi.names(), ['good/RegionOne', 'good/RegionTwo', 'bad']);
    assert.deepEqual(
      multi.connectFailures.map((f) => [f.name, f.error.code]),
      [['bad', 'CONFIG_INVALID']],
    );
    const outcome = await multi.call(listServers);
    assert.deepEqual(
      outcome.results.map((r) => [r.location.name, r.location.region]),
      [
        ['good/RegionOne', 'RegionOne'],
        ['good/RegionTwo', 'RegionTwo'],
      ],
    );
    assert.equal(outcome.failures.length, 1);
    assert.match(outcome.failures[0]?.error.message ?? '', /key 'auth\.auth_url'/);
  });

  it('k2k: the home token lists service providers; each becomes a connection through the home session', async () => {
    const home = await fake(
      'home',
      { kind: 'ok', items: [{ id: 'h1' }] },
      {
        serviceProviders: [
          {
            id: 'spA',
            auth_url: 'http://127.0.0.1:1/v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth',
            sp_url: 'http://127.0.0.1:1/ecp',
          },
          {
            id: 'spB',
            auth_url: 'http://127.0.0.1:2/v3/OS-FEDERATION/identity_providers/idp/protocols/saml2/auth',
            sp_url: 'http://127.0.0.1:2/ecp',
          },
        ],
      },
    );
    const homeCfg = cloudConfigFor(home.url, 'home');
    const { factory, made } = testSessionFactory({ home });
    const multi = await MultiCloud.connect({
      home: homeCfg,
      clouds: [homeCfg],
      k2k: { remoteProjectName: 'demo', remoteProjectDomainName: 'Default' },
      sessionFactory: factory,
    });
    assert.deepEqual(multi.names(), ['home', 'spA', 'spB']);
    const spA = multi.get('spA');
    assert.equal(spA.via, 'k2k');
    assert.equal(spA.home, 'home');
    assert.equal(spA.config.federation?.serviceProvider, 'spA');
    assert.equal(spA.config.federation?.remoteProjectName, 'demo');
    const homeSession = made.find((s) => s.cloudName === 'home');
    assert.ok(homeSession);
    assert.equal(
      made.find((s) => s.cloudName === 'spA')?.home,
      homeSession,
      'the SP session was built on the home session',
    );
    assert.equal(homeSession.authCount, 1, 'the home cloud authenticated once for all of them');
    assert.deepEqual(multi.connectFailures, []);

    // asking for an SP the home Keystone does not know is a FEDERATION_FAILED failure of that SP alone
    const picky = await MultiCloud.connect({
      home: homeCfg,
      k2k: { serviceProviders: ['spB', 'spZ'] },
      sessionFactory: testSessionFactory({ home }).factory,
    });
    assert.deepEqual(picky.names(), ['home', 'spB', 'spZ'], 'the home cloud is one of the clouds');
    const f = picky.connectFailures.find((x) => x.name === 'spZ');
    assert.equal(f?.error.code, 'FEDERATION_FAILED');
    assert.match(f?.error.message ?? '', /not registered .* \(registered: spA, spB\)/);
  });

  it('k2k: a service provider named like a cloud already connected by credentials is named sp@home', async () => {
    const home = await fake(
      'home2',
      { kind: 'ok', items: [] },
      {
        serviceProviders: [{ id: 'spA', auth_url: 'http://127.0.0.1:1/v3/x', sp_url: 'http://127.0.0.1:1/ecp' }],
      },
    );
    const spA = await fake('spA', { kind: 'ok', items: [{ id: 'a1' }] });
    const homeCfg = cloudConfigFor(home.url, 'home2');
    const multi = await MultiCloud.connect({
      home: homeCfg,
      clouds: [cloudConfigFor(spA.url, 'spA')],
      k2k: {},
      sessionFactory: testSessionFactory({ home2: home }).factory,
    });
    assert.deepEqual(multi.names(), ['home2', 'spA', 'spA@home2']);
    assert.equal(multi.get('spA').via, 'credentials');
    assert.equal(multi.get('spA@home2').via, 'k2k');
    assert.deepEqual(multi.connectFailures, []);
  });

  it('k2k without a home cloud is refused', async () => {
    await assert.rejects(
      MultiCloud.connect({ k2k: {}, clouds: [], sessionFactory: testSessionFactory().factory }),
      (e: unknown) => isOcxError(e, 'CONFIG_INVALID'),
    );
  });
});

describe('fanOut', () => {
  it('a target that ignores its signal is abandoned at its deadline and reported as TIMEOUT', async () => {
    const never = new Promise<string>(() => {});
    const settled = await fanOut(['a', 'b'], async (t) => (t === 'a' ? 'fine' : never), { deadlineMs: 50 });
    assert.deepEqual(settled[0] && { ok: settled[0].ok, v: settled[0].ok && settled[0].value }, {
      ok: true,
      v: 'fine',
    });
    assert.equal(settled[1]?.ok, false);
    assert.equal(!settled[1]?.ok && settled[1]?.error.code, 'TIMEOUT');
  });

  it('OcxErrors thrown by targets keep their code', async () => {
    const settled = await fanOut([1], async () => {
      throw new OcxError('AUTH_EXPIRED', 'gone');
    });
    assert.equal(!settled[0]?.ok && settled[0]?.error.code, 'AUTH_EXPIRED');
  });
});

async function waitFor(cond: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
