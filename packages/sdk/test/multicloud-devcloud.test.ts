/**
 * The multi-cloud layer over the real SDK stack (Session, K2K, transport) against devcloud: a home IdP and two
 * service providers reached by Keystone-to-Keystone, with devcloud's fault injection making one cloud hang, one
 * answer 5xx, one refuse connections and one reject every token, so each failure code is produced by real HTTP.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { type CloudsConfig, loadCloudsConfig } from '../src/config/index.ts';
import { MultiCloud } from '../src/multicloud/index.ts';
import { collect } from '../src/services/index.ts';

describe('MultiCloud on devcloud (real Session, real K2K)', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let config: CloudsConfig;
  const opened: MultiCloud[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-mc-dc-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({
      clouds: ['idp', 'sp1', 'sp2', 'sp3'],
      cloudsYamlPath,
      transitionMs: 50,
      logLevel: 'silent',
    });
    config = loadCloudsConfig({ files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] }, loadEnv: false });
  });
  after(async () => {
    for (const m of opened) await m.close();
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function connect(opts: Parameters<typeof MultiCloud.connect>[0]): Promise<MultiCloud> {
    const m = await MultiCloud.connect({ config, deadlineMs: 20_000, ...opts });
    opened.push(m);
    return m;
  }

  it('home by credentials, every service provider by K2K, discovered from the home token', async () => {
    const multi = await connect({
      home: 'idp',
      k2k: { remoteProjectName: 'demo', remoteProjectDomainName: 'Default' },
    });
    assert.deepEqual(multi.names(), ['idp', 'sp1', 'sp2', 'sp3']);
    assert.deepEqual(multi.connectFailures, []);
    assert.deepEqual(
      multi.connections().map((c) => c.via),
      ['credentials', 'k2k', 'k2k', 'k2k'],
    );
    // The K2K tokens are federated tokens of the SPs, scoped to their demo project.
    const tokens = await multi
      .select({ names: ['sp1', 'sp2'] })
      .call((conn, _n, ctx) => conn.session.getAccess({ signal: ctx.signal }));
    for (const r of tokens.results) {
      assert.ok(r.value.federation, `${r.location.cloud} token is federated`);
      assert.equal(r.value.project?.name, 'demo');
    }
    const services = await multi.listServices();
    const sp1 = services.results.find((r) => r.location.cloud === 'sp1');
    for (const t of ['compute', 'image', 'network', 'block-storage', 'identity'])
      assert.ok(
        sp1?.value.some((s) => s.type === t),
        `sp1 offers ${t}`,
      );
  });

  it('list over the federated clouds merges results with their locations', async () => {
    const multi = await connect({
      home: 'idp',
      k2k: { remoteProjectName: 'demo', remoteProjectDomainName: 'Default' },
    });
    const sps = multi.select({ where: (c) => c.via === 'k2k' });
    const { items, failures } = await sps.list((conn, _n, ctx) => conn.compute.listFlavors({ signal: ctx.signal }));
    assert.deepEqual(failures, []);
    const clouds = new Set(items.map((i) => i.location.cloud));
    assert.deepEqual([...clouds].sort(), ['sp1', 'sp2', 'sp3']);
    assert.ok(items.every((i) => i.location.project.name === 'demo'));
  });

  it('each failure is told apart: TIMEOUT, SERVICE_ERROR, UNREACHABLE, AUTH_EXPIRED; the healthy cloud still answers', async () => {
    const multi = await connect({ clouds: ['idp', 'sp1', 'sp2', 'sp3'] });
    assert.deepEqual(multi.connectFailures, []);
    // A long-running program has discovered its endpoints already; warm up so faults hit the list calls.
    const warm = await multi.call((conn, _n, ctx) => collect(conn.compute.listFlavors({ signal: ctx.signal })));
    assert.deepEqual(warm.failures, []);
    await dc.setFaults('sp1', 'compute', { hang: true });
    await dc.setFaults('sp2', 'compute', { errorRate: 1, errorStatus: 500 }); // 503 would be retried
    await dc.setFaults('sp3', 'compute', { errorRate: 1, errorStatus: 401 });
    await dc.setFaults('idp', '*', { down: true });
    try {
      const outcome = await multi.call((conn, _n, ctx) => collect(conn.compute.listFlavors({ signal: ctx.signal })), {
        deadlineMs: 4000,
      });
      const codes = Object.fromEntries(outcome.failures.map((f) => [f.cloud, f.error.code]));
      assert.deepEqual(codes, { idp: 'UNREACHABLE', sp1: 'TIMEOUT', sp2: 'SERVICE_ERROR', sp3: 'AUTH_EXPIRED' });
      assert.equal(outcome.results.length, 0);
      await dc.clearFaults('sp1');
      await dc.clearFaults('sp2');
      const again = await multi.call((conn, _n, ctx) => collect(conn.compute.listFlavors({ signal: ctx.signal })), {
        deadlineMs: 4000,
      });
      assert.deepEqual(
        again.results.map((r) => r.location.cloud),
        ['sp1', 'sp2'],
        'clouds recover as soon as their fault is gone: nothing was cached as broken',
      );
      assert.ok((again.results[0]?.value.length ?? 0) > 0);
    } finally {
      await dc.clearFaults();
    }
  });

  it('a cloud that hangs during its first discovery answers as soon as the hang is gone (nothing stuck is kept)', async () => {
    const multi = await connect({ clouds: ['sp1', 'sp2'] });
    assert.deepEqual(multi.connectFailures, []);
    // No warm-up: the hang hits sp1's version discovery, which the session shares between callers and caches.
    await dc.setFaults('sp1', 'compute', { hang: true });
    try {
      const hung = await multi.call((conn, _n, ctx) => collect(conn.compute.listFlavors({ signal: ctx.signal })), {
        deadlineMs: 1000,
      });
      assert.deepEqual(
        hung.failures.map((f) => [f.cloud, f.error.code]),
        [['sp1', 'TIMEOUT']],
      );
      await dc.clearFaults('sp1');
      const again = await multi.call((conn, _n, ctx) => collect(conn.compute.listFlavors({ signal: ctx.signal })), {
        deadlineMs: 10_000,
      });
      assert.deepEqual(again.failures, []);
      assert.deepEqual(
        again.results.map((r) => r.location.cloud),
        ['sp1', 'sp2'],
      );
    } finally {
      await dc.clearFaults();
    }
  });
});
