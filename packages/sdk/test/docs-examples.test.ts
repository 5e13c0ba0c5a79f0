/**
 * Every example of docs/sdk.md, run against devcloud (idp → sp1, sp2 by K2K) so the documentation cannot rot.
 * Each test is one example; the code between the `// example` markers is what the doc shows (modulo assertions).
 * When you change an example here, change docs/sdk.md too (and the other way round).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import {
  allFailed,
  authFromConfig,
  type CloudsConfig,
  ComputeClient,
  collect,
  connectCloud,
  createLogger,
  createSession,
  ErrorCode,
  ImageClient,
  isOcxError,
  Keystone2Keystone,
  k2kCloudConfig,
  loadCloudsConfig,
  MultiCloud,
  NetworkClient,
  OcxError,
  type RequestMetric,
  TokenValidator,
} from '@ocx/sdk';

describe('docs/sdk.md examples on devcloud', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let cloudsYamlPath: string;
  let config: CloudsConfig;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-docs-'));
    cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ cloudsYamlPath, transitionMs: 50, logLevel: 'silent' });
    // The doc's K2K-from-clouds.yaml example: devcloud's clouds.yaml plus two federated entries.
    const { readFileSync } = await import('node:fs');
    const written = readFileSync(cloudsYamlPath, 'utf8');
    writeFileSync(
      cloudsYamlPath,
      `${written}  sp1-via-idp:
    federation:
      home_cloud: idp
      service_provider: sp1
      remote_project_name: demo
      remote_project_domain_name: Default
  sp2-via-idp:
    federation:
      home_cloud: idp
      service_provider: sp2
      remote_project_name: demo
      remote_project_domain_name: Default
`,
    );
    config = loadCloudsConfig({ files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] }, loadEnv: false });
  });
  after(async () => {
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loading clouds.yaml: names, regions, one resolved cloud', () => {
    // example: load
    const clouds = loadCloudsConfig({ files: { clouds: [cloudsYamlPath] } });
    const sp1 = clouds.getCloud('sp1'); // CloudConfig: name, regionName, auth, interface, services, verify, ...
    // example end
    assert.ok(clouds.cloudNames().includes('sp1-admin'));
    assert.deepEqual(clouds.regionsOf('sp1'), ['RegionOne']);
    assert.equal(sp1.regionName, 'RegionOne');
    assert.equal(sp1.authType, 'password');
    assert.equal(sp1.auth.username, 'demo');
    assert.equal(sp1.interface, 'public');
  });

  it('a session, a typed service client, pagination and the raw ServiceClient', async () => {
    // example: session
    const session = createSession(config.getCloud('sp1'));
    try {
      const compute = ComputeClient.fromSession(session);
      const names: string[] = [];
      for await (const flavor of compute.listFlavors({ pageSize: 5 })) names.push(flavor.name as string);

      const images = await collect(ImageClient.fromSession(session).listImages());

      const raw = session.client('image'); // any service type or alias: 'volumev3' → block-storage
      const body = await raw.getJson<{ images: Array<{ name: string }> }>('/images', { query: { limit: 1 } });
      // example end
      assert.ok(names.length > 5, 'iteration continued past the first page of 5');
      assert.equal(new Set(names).size, names.length, 'no flavor twice');
      assert.ok(images.some((i) => i.name === 'cirros-0.6.2-x86_64-disk'));
      assert.equal(body.images.length, 1);
      assert.equal(raw.serviceType, 'image');
    } finally {
      await session.close();
    }
  });

  it('the cloud layer: get → null, AMBIGUOUS, delete → false, a server on a network', async () => {
    const session = createSession(config.getCloud('sp1'));
    const neutron = NetworkClient.fromSession(session);
    const glance = ImageClient.fromSession(session);
    const net = await neutron.createNetwork({ name: 'docs-net' });
    await neutron.createSubnet({ network_id: net.id, cidr: '10.42.0.0/24', ip_version: 4 });
    const twins = [
      await glance.createImage({ name: 'docs-twin', disk_format: 'raw', container_format: 'bare' }),
      await glance.createImage({ name: 'docs-twin', disk_format: 'raw', container_format: 'bare' }),
    ];
    try {
      // example: cloud layer
      const cloud = connectCloud({ cloud: 'sp1', config });
      try {
        const missing = await cloud.getImage('no-such-image'); // null, not an error
        let ambiguous: OcxError | undefined;
        try {
          await cloud.getImage('docs-twin'); // two images share the name
        } catch (err) {
          if (isOcxError(err, ErrorCode.AMBIGUOUS)) ambiguous = err;
          else throw err;
        }
        const deleted = await cloud.deleteKeypair('no-such-key'); // false: nothing to delete

        const server = await cloud.createServer({
          name: 'docs-vm',
          image: 'cirros-0.6.2-x86_64-disk',
          flavor: 'm1.tiny',
          network: 'docs-net',
          wait: true, // until ACTIVE with an address
          autoIp: false, // no floating IP (docs-net has no router)
        });
        const listed = await cloud.listServers(); // cached for 5 s, one request for concurrent callers
        const gone = await cloud.deleteServer(server.id, { wait: true });
        // example end
        assert.equal(missing, null);
        assert.equal(ambiguous?.code, 'AMBIGUOUS');
        assert.equal(ambiguous?.resourceId, 'docs-twin');
        assert.equal(deleted, false);
        assert.equal(server.status, 'ACTIVE');
        assert.equal(server.location.cloud, 'sp1');
        assert.equal(server.location.region, 'RegionOne');
        assert.ok(server.private_v4?.startsWith('10.42.0.'), `private_v4 on docs-net, got ${server.private_v4}`);
        assert.ok(listed.some((s) => s.id === server.id));
        assert.equal(gone, true);
        assert.equal(await cloud.deleteServer(server.id), false);
      } finally {
        await cloud.close();
      }
    } finally {
      for (const t of twins) await glance.deleteImage(t.id);
      // devcloud (as of this writing) keeps a deleted server's port bound until something settles the server list:
      // remove leftover ports ourselves so the network can go.
      for (const port of await collect(neutron.listPorts({ query: { network_id: net.id } })))
        await neutron.deletePort(port.id);
      await neutron.deleteNetwork(net.id); // its subnet goes with it
      await session.close();
    }
  });

  it('K2K from clouds.yaml: a federation: entry is used like any other cloud', async () => {
    // example: k2k yaml
    const cloud = connectCloud({ cloud: 'sp1-via-idp', config });
    try {
      const access = await cloud.session.getAccess(); // the SP's federated token, scoped to demo
      const images = await cloud.listImages(); // sp1's Glance, through sp1's catalog
      // example end
      assert.ok(access.federation, 'a federated token');
      assert.equal(access.project?.name, 'demo');
      assert.equal(cloud.session.cloud.federation?.serviceProvider, 'sp1');
      assert.ok(images.some((i) => i.name === 'cirros-0.6.2-x86_64-disk'));
      const own = await collect(ImageClient.fromSession(cloud.session).listImages());
      assert.deepEqual(images.map((i) => i.id).sort(), own.map((i) => i.id).sort());
    } finally {
      await cloud.close();
    }
  });

  it('K2K programmatically: k2kCloudConfig(home, {serviceProvider, remoteProject...})', async () => {
    // example: k2k code
    const home = config.getCloud('idp');
    const sp2 = k2kCloudConfig(home, {
      serviceProvider: 'sp2',
      remoteProjectName: 'demo',
      remoteProjectDomainName: 'Default',
    });
    const session = createSession(sp2);
    const flavors = await collect(ComputeClient.fromSession(session).listFlavors());
    await session.close();
    // example end
    assert.equal(sp2.name, 'idp→sp2');
    assert.ok(flavors.some((f) => f.name === 'm1.tiny'));

    // The lower level the doc mentions: a Keystone2Keystone plugin given to a session as `auth`.
    const plugin = new Keystone2Keystone({
      idp: authFromConfig(home),
      serviceProvider: 'sp1',
      target: { projectName: 'demo', projectDomainName: 'Default' },
    });
    const viaPlugin = createSession(k2kCloudConfig(home, { serviceProvider: 'sp1' }), { auth: plugin });
    try {
      const access = await viaPlugin.getAccess();
      assert.ok(access.federation);
      assert.equal(access.project?.name, 'demo');
      assert.ok((await collect(ImageClient.fromSession(viaPlugin).listImages())).length > 0);
    } finally {
      await viaPlugin.close();
    }
  });

  it('MultiCloud: home + K2K, select, call, list, failures', async () => {
    // example: multicloud
    const multi = await MultiCloud.connect({
      config,
      home: 'idp',
      k2k: { remoteProjectName: 'demo', remoteProjectDomainName: 'Default' }, // every SP the idp token lists
    });
    try {
      const sps = multi.select({ where: (c) => c.via === 'k2k' });
      const { items, failures } = await sps.list((conn, _name, ctx) =>
        conn.compute.listFlavors({ signal: ctx.signal }),
      );
      const tokens = await multi.call((conn, _name, ctx) => conn.session.getToken({ signal: ctx.signal }), {
        deadlineMs: 10_000, // per cloud
        concurrency: 4,
      });
      // example end
      assert.deepEqual(multi.names(), ['idp', 'sp1', 'sp2']);
      assert.deepEqual(multi.connectFailures, []);
      assert.deepEqual(sps.names(), ['sp1', 'sp2']);
      assert.deepEqual(failures, []);
      assert.deepEqual([...new Set(items.map((f) => f.location.cloud))], ['sp1', 'sp2']);
      assert.equal(items.find((f) => f.location.cloud === 'sp2')?.location.project.name, 'demo');
      assert.equal(tokens.results.length, 3);
      assert.equal(allFailed(tokens), false);
    } finally {
      await multi.close();
    }
  });

  it('MultiCloud failures: one cloud down is one CallFailure, the others still answer', async () => {
    await dc.setFaults('sp2', '*', { down: true });
    try {
      // example: failures
      const multi = await MultiCloud.connect({ config, clouds: ['sp1', 'sp2'] });
      try {
        const outcome = await multi.call((conn, _name, ctx) => collect(conn.image.listImages({ signal: ctx.signal })));
        const down = [...multi.connectFailures, ...outcome.failures].map((f) => `${f.name}: ${f.error.code}`);
        // example end
        assert.deepEqual(
          outcome.results.map((r) => r.location.cloud),
          ['sp1'],
        );
        assert.deepEqual([...new Set(down)], ['sp2: UNREACHABLE']);
        assert.equal(allFailed(outcome), false);
      } finally {
        await multi.close();
      }
    } finally {
      await dc.clearFaults('sp2');
    }
  });

  it('the error model: code, status, context and no token', async () => {
    const session = createSession(config.getCloud('sp1'));
    try {
      // example: errors
      try {
        await ComputeClient.fromSession(session).getServer('00000000-0000-0000-0000-000000000000');
      } catch (err) {
        if (!(err instanceof OcxError)) throw err;
        // err.code 'NOT_FOUND', err.status 404, err.cloud 'sp1', err.service 'compute', err.method 'GET',
        // err.url, err.requestId, err.serverMessage (Nova's itemNotFound message)
        // example end
        assert.equal(err.code, ErrorCode.NOT_FOUND);
        assert.equal(err.status, 404);
        assert.equal(err.cloud, 'sp1');
        assert.equal(err.service, 'compute');
        assert.equal(err.method, 'GET');
        assert.match(err.url ?? '', /\/servers\/00000000-0000-0000-0000-000000000000$/);
        assert.match(err.requestId ?? '', /^req-/);
        assert.ok(err.serverMessage);
        const token = await session.getToken();
        assert.ok(!JSON.stringify(err.toJSON()).includes(token));
        assert.ok(!err.summary().includes(token));
        return;
      }
      assert.fail('getServer of a missing id must reject');
    } finally {
      await session.close();
    }
  });

  it('validating user tokens with TokenValidator', async () => {
    const clouds = config;
    const session = createSession(clouds.getCloud('idp'));
    const userToken = await session.getToken();
    // example: validate
    const validator = new TokenValidator({ cloud: clouds.getCloud('idp-admin'), cacheTtlMs: 15_000 });
    const who = await validator.validate(userToken); // GET /v3/auth/tokens with X-Subject-Token
    // example end
    assert.equal(who.userName, 'demo');
    assert.equal(who.projectName, 'demo');
    assert.ok(who.roles.includes('member'));
    assert.ok(who.expiresAt > Date.now());
    assert.ok(who.catalog.length > 0);
    assert.deepEqual(
      who.serviceProviders.map((sp) => sp.id),
      ['sp1', 'sp2'],
    );
    await assert.rejects(validator.validate('not-a-token'), (err: unknown) => isOcxError(err, ErrorCode.AUTH_FAILED));
    await validator.close();
    await session.close();
  });

  it('CONFIG_INVALID names the file, cloud and key', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'clouds:\n  mine:\n    auth:\n      auth_url: keystone.example.com/v3\n');
    // example: config error
    try {
      loadCloudsConfig({ files: { clouds: [bad] } }).getCloud('mine');
    } catch (err) {
      if (!isOcxError(err, ErrorCode.CONFIG_INVALID)) throw err;
      // err.file, err.cloud 'mine', err.key 'auth.auth_url'
      // example end
      assert.equal(err.file, bad);
      assert.equal(err.cloud, 'mine');
      assert.equal(err.key, 'auth.auth_url');
      assert.match(err.message, /expected an http\(s\) URL/);
      return;
    }
    assert.fail('a bad auth_url must be CONFIG_INVALID');
  });
  it('docs/configuration.md: transport settings (timeouts, retries, rate limits, logger, metrics)', async () => {
    const seen: RequestMetric[] = [];
    const lines: string[] = [];
    const destination = { write: (line: string) => lines.push(line) };
    const clouds = config;
    // example: transport
    const session = createSession(clouds.getCloud('sp1'), {
      transportOptions: {
        timeoutMs: 30_000,
        retry: { maxRetries: 4, retryStatuses: [429, 503] },
        rateLimits: { compute: { callsPerSecond: 5, concurrency: 4 }, '*': { concurrency: 16 } },
        logger: createLogger({ level: 'debug', destination }),
        metrics: { onRequest: (m) => seen.push(m) },
      },
    });
    // example end
    try {
      await collect(ComputeClient.fromSession(session).listFlavors());
      const token = await session.getToken();
      assert.ok(seen.some((m) => m.service === 'compute' && m.status === 200));
      assert.ok(
        seen.every((m) => /^http:\/\/127\.0\.0\.1:\d+$/.test(m.origin)),
        'origin only, no path or ids',
      );
      assert.ok(lines.some((l) => l.includes('"service":"compute"') && l.includes('http response')));
      assert.ok(lines.every((l) => !l.includes(token) && !l.includes('demo-secret')));
    } finally {
      await session.close();
    }
  });
});
