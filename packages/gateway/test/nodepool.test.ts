/**
 * Every nodepool RPC through the gateway against an in-process devcloud (idp + sp1 + sp2, K2K), as a gRPC client
 * sees it: items with their Location from every cloud, filters, shade's get/delete semantics, the error table,
 * per-cloud failures that never hide the other clouds, and the caller's deadline.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { ErrorDetailSchema } from '@ocx/sdk/gen/ocx/cloud/v1/common_pb';
import { connectTransport, type Env, grpcWebTransport, startEnv } from './helpers.ts';

async function rejects(p: Promise<unknown>, code: Code): Promise<ConnectError> {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    assert.equal(e.code, code, `expected ${Code[code]}, got ${Code[e.code]}: ${e.message}`);
    return e;
  }
  assert.fail(`expected ${Code[code]}, the call succeeded`);
}

const loc = (...clouds: string[]) => ({ location: { clouds } });

describe('gateway: nodepool surface on devcloud', { timeout: 120_000 }, () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(async () => {
    await env?.stop();
  });

  it('refuses calls without a valid bearer token, and never echoes the token', async () => {
    await rejects(env.client.listFlavors({}), Code.Unauthenticated);
    const bogus = 'gAAAAA-not-a-real-token-1234567890';
    const e = await rejects(
      env.client.listFlavors({}, { headers: { authorization: `Bearer ${bogus}` } }),
      Code.Unauthenticated,
    );
    assert.ok(!e.message.includes(bogus));
    assert.ok(!JSON.stringify(e.details).includes(bogus));
  });

  it('ListFlavors over every cloud, each with its Location; location, name and attribute filters', async () => {
    const all = await env.client.listFlavors({}, env.auth);
    assert.deepEqual(all.failures, []);
    assert.deepEqual([...new Set(all.flavors.map((f) => f.location?.cloud))].sort(), ['idp', 'sp1', 'sp2']);
    for (const f of all.flavors) {
      assert.equal(f.location?.project?.name, 'demo');
    }
    const sp1 = await env.client.listFlavors({ filter: loc('sp1') }, env.auth);
    assert.ok(sp1.flavors.length > 0);
    assert.ok(sp1.flavors.every((f) => f.location?.cloud === 'sp1'));
    const tiny = await env.client.listFlavors({ filter: { nameOrId: 'm1.tiny' } }, env.auth);
    assert.equal(tiny.flavors.length, 3);
    const glob = await env.client.listFlavors({ filter: { nameOrId: 'm1.*', ...loc('idp') } }, env.auth);
    assert.ok(glob.flavors.length > 1 && glob.flavors.every((f) => f.name.startsWith('m1.')));
    const ram = tiny.flavors[0]?.ram;
    const byRam = await env.client.listFlavors({ filter: { attributes: { ram: String(ram) } } }, env.auth);
    assert.ok(byRam.flavors.length >= 3 && byRam.flavors.every((f) => f.ram === ram));
    await rejects(env.client.listFlavors({ filter: loc('nowhere') }, env.auth), Code.NotFound);
    // Another project scopes the call only where the caller has a role there (Keystone decides).
    await rejects(
      env.client.listFlavors({ filter: { location: { project: { name: 'admin', domainName: 'Default' } } } }, env.auth),
      Code.PermissionDenied,
    );
    const own = await env.client.listFlavors(
      { filter: { location: { clouds: ['idp'], project: { name: 'demo', domainName: 'Default' } } } },
      env.auth,
    );
    assert.ok(own.flavors.length > 0 && own.flavors.every((f) => f.location?.project?.name === 'demo'));
  });

  it('images: create on one cloud, get (exactly one or AMBIGUOUS), list, delete → false the second time', async () => {
    const data = Buffer.from('gateway image bytes\n'.repeat(100));
    const created = await env.client.createImage(
      { location: { cloud: 'sp1' }, name: 'gw-img', data, diskFormat: 'raw', wait: true },
      env.auth,
    );
    assert.equal(created.image?.location?.cloud, 'sp1');
    assert.equal(created.image?.status, 'active');
    assert.equal(created.image?.checksum, createHash('md5').update(data).digest('hex'));
    const got = await env.client.getImage({ filter: { nameOrId: 'gw-img' } }, env.auth);
    assert.equal(got.image?.id, created.image?.id);
    const listed = await env.client.listImages({ filter: { nameOrId: 'gw-img' } }, env.auth);
    assert.deepEqual(
      listed.images.map((i) => i.location?.cloud),
      ['sp1'],
    );
    // The seed image exists on every cloud: a get over all clouds is ambiguous, over one it is not.
    const amb = await rejects(
      env.client.getImage({ filter: { nameOrId: 'cirros-*' } }, env.auth),
      Code.FailedPrecondition,
    );
    assert.equal(amb.findDetails(ErrorDetailSchema)[0]?.code, 'AMBIGUOUS');
    const one = await env.client.getImage({ filter: { nameOrId: 'cirros-*', ...loc('sp2') } }, env.auth);
    assert.equal(one.image?.location?.cloud, 'sp2');
    // A request without a target cloud when several are reachable is refused.
    await rejects(env.client.createImage({ name: 'gw-img2', data }, env.auth), Code.InvalidArgument);

    assert.equal(
      (await env.client.deleteImage({ filter: { nameOrId: 'gw-img' }, wait: true }, env.auth)).deleted,
      true,
    );
    assert.equal((await env.client.deleteImage({ filter: { nameOrId: 'gw-img' } }, env.auth)).deleted, false);
    const nf = await rejects(env.client.getImage({ filter: { nameOrId: 'gw-img' } }, env.auth), Code.NotFound);
    assert.equal(nf.findDetails(ErrorDetailSchema)[0]?.code, 'NOT_FOUND');
  });

  it('keypairs: generated pair carries its private key; list filter; delete', async () => {
    const kp = await env.client.createKeypair({ location: { cloud: 'sp2' }, name: 'gw-key' }, env.auth);
    assert.equal(kp.keypair?.location?.cloud, 'sp2');
    assert.match(kp.keypair?.privateKey ?? '', /PRIVATE KEY/);
    const listed = await env.client.listKeypairs({ filter: { nameOrId: 'gw-key' } }, env.auth);
    assert.deepEqual(
      listed.keypairs.map((k) => [k.location?.cloud, k.privateKey]),
      [['sp2', '']],
    );
    const dup = await rejects(
      env.client.createKeypair({ location: { cloud: 'sp2' }, name: 'gw-key' }, env.auth),
      Code.AlreadyExists,
    );
    assert.deepEqual(
      [dup.findDetails(ErrorDetailSchema)[0]?.code, dup.findDetails(ErrorDetailSchema)[0]?.cloud],
      ['CONFLICT', 'sp2'],
    );
    assert.equal((await env.client.deleteKeypair({ filter: { nameOrId: 'gw-key' } }, env.auth)).deleted, true);
    assert.equal((await env.client.deleteKeypair({ filter: { nameOrId: 'gw-key' } }, env.auth)).deleted, false);
  });

  it('servers: create + wait (push), get, list, wait, delete; limits; unattached floating IPs', async () => {
    const limits = await env.client.getLimits({}, env.auth);
    assert.deepEqual(limits.failures, []);
    assert.equal(limits.limits.length, 3);
    for (const l of limits.limits) {
      assert.ok((l.compute?.maxTotalInstances ?? 0n) > 0n);
      assert.ok(l.volume?.maxTotalVolumes !== undefined);
    }
    const before = limits.limits.find((l) => l.location?.cloud === 'sp1')?.compute?.totalInstancesUsed ?? 0n;
    const created = await env.client.createServer(
      {
        spec: {
          location: { cloud: 'sp1' },
          name: 'gw-srv',
          image: 'cirros-*',
          flavor: 'm1.tiny',
          metadata: { nodepool_node_id: '7' },
          wait: true,
          timeoutSeconds: 30,
        },
      },
      env.auth,
    );
    const s = created.server;
    assert.equal(s?.status, 'ACTIVE');
    assert.equal(s?.location?.cloud, 'sp1');
    assert.match(s?.interfaceIp ?? '', /^\d+\.\d+\.\d+\.\d+$/);
    const got = await env.client.getServer({ filter: { nameOrId: 'gw-srv' } }, env.auth);
    assert.equal(got.server?.id, s?.id);
    assert.equal(got.server?.metadata.nodepool_node_id, '7');
    const listed = await env.client.listServers({ filter: { attributes: { status: 'ACTIVE' } } }, env.auth);
    assert.deepEqual(
      listed.servers.map((x) => x.id),
      [s?.id],
    );
    const after = await env.client.getLimits({ location: { clouds: ['sp1'] } }, env.auth);
    assert.equal(after.limits[0]?.compute?.totalInstancesUsed, before + 1n);
    const waited = await env.client.waitForServer({ filter: { nameOrId: s?.id ?? '' }, timeoutSeconds: 10 }, env.auth);
    assert.equal(waited.server?.status, 'ACTIVE');
    await rejects(
      env.client.waitForServer(
        { filter: { nameOrId: '00000000-0000-4000-8000-000000000000' }, timeoutSeconds: 10 },
        env.auth,
      ),
      Code.NotFound,
    );
    assert.equal(
      (await env.client.deleteServer({ filter: { nameOrId: 'gw-srv' }, wait: true }, env.auth)).deleted,
      true,
    );
    assert.equal((await env.client.deleteServer({ filter: { nameOrId: 'gw-srv' } }, env.auth)).deleted, false);
    await rejects(env.client.getServer({ filter: { nameOrId: 'gw-srv' } }, env.auth), Code.NotFound);
    const fips = await env.client.deleteUnattachedFloatingIps({}, env.auth);
    assert.deepEqual(fips.failures, []);
    assert.deepEqual(fips.deleted.map((d) => d.location?.cloud).sort(), ['idp', 'sp1', 'sp2']);
  });

  it('one cloud failing is a per-cloud failure (SERVICE_ERROR, TIMEOUT); the others still answer', async () => {
    await env.dc.setFaults('sp2', 'compute', { errorRate: 1, errorStatus: 503 });
    try {
      const r = await env.client.listFlavors({}, env.auth);
      assert.deepEqual([...new Set(r.flavors.map((f) => f.location?.cloud))].sort(), ['idp', 'sp1']);
      assert.deepEqual(
        r.failures.map((f) => [f.cloud, f.code]),
        [['sp2', 'SERVICE_ERROR']],
      );
      assert.match(r.failures[0]?.requestId ?? '', /^req-/);
    } finally {
      await env.dc.clearFaults('sp2');
    }
    await env.dc.setFaults('sp1', 'compute', { hang: true });
    try {
      const started = Date.now();
      // The caller's deadline (1.5 s) bounds every cloud's budget: the hanging cloud is a TIMEOUT, not a hang.
      const r = await env.client.listFlavors({}, { ...env.auth, timeoutMs: 1500 });
      assert.ok(Date.now() - started < 5000);
      assert.deepEqual(
        r.failures.map((f) => [f.cloud, f.code]),
        [['sp1', 'TIMEOUT']],
      );
      assert.ok(r.flavors.some((f) => f.location?.cloud === 'idp'));
    } finally {
      await env.dc.clearFaults('sp1');
    }
  });

  it('speaks Connect and gRPC-Web on the HTTP/1.1 listener too', async () => {
    for (const transport of [connectTransport(env.gw), grpcWebTransport(env.gw)]) {
      const c = createClient(CloudService, transport);
      const r = await c.listKeypairs({ filter: loc('idp') }, env.auth);
      assert.deepEqual(r.failures, []);
      await rejects(c.listKeypairs({}), Code.Unauthenticated);
    }
  });

  it('GetCapabilities: services and microversions, image formats, floating IP networks, zones, quotas, tempurl, SPs', async () => {
    const r = await env.client.getCapabilities({}, env.auth);
    assert.deepEqual(r.failures, []);
    assert.deepEqual(
      r.clouds.map((c) => c.location?.cloud),
      ['idp', 'sp1', 'sp2'],
    );
    const idp = r.clouds[0];
    assert.deepEqual([...(idp?.serviceProviders ?? [])].sort(), ['sp1', 'sp2']);
    const sp1 = r.clouds[1];
    const compute = sp1?.services.find((s) => s.type === 'compute');
    assert.match(compute?.maxMicroversion ?? '', /^2\.\d+$/);
    assert.ok(sp1?.services.some((s) => s.type === 'block-storage' && s.version.startsWith('3')));
    assert.ok(sp1?.diskFormats.includes('raw') && sp1.diskFormats.includes('qcow2'));
    assert.ok(sp1?.containerFormats.includes('bare'));
    assert.ok(sp1?.floatingIpNetworks.includes('public'));
    assert.equal(sp1?.floatingIps, true);
    assert.ok((sp1?.availabilityZones.length ?? 0) > 0);
    assert.ok(sp1?.quotaResources.includes('maxTotalInstances'));
    assert.equal(sp1?.tempurl, true);
    assert.ok(sp1?.tempurlDigests.includes('sha256'));
  });

  it('the Ansible read surface: networks, security groups, volumes, floating IPs with their locations', async () => {
    const ext = await env.client.listNetworks({ filter: { attributes: { is_router_external: 'true' } } }, env.auth);
    assert.deepEqual(ext.failures, []);
    assert.deepEqual(ext.networks.map((n) => [n.location?.cloud, n.name]).sort(), [
      ['idp', 'public'],
      ['sp1', 'public'],
      ['sp2', 'public'],
    ]);
    assert.ok(ext.networks.every((n) => n.isRouterExternal));
    const groups = await env.client.listSecurityGroups({ filter: { nameOrId: 'default', ...loc('sp1') } }, env.auth);
    assert.equal(groups.securityGroups.length, 1);
    assert.ok((groups.securityGroups[0]?.rules.length ?? 0) > 0);
    const volumes = await env.client.listVolumes({ filter: loc('sp2') }, env.auth);
    assert.deepEqual(volumes.failures, []);
    const fips = await env.client.listFloatingIps({}, env.auth);
    assert.deepEqual(fips.failures, []);
    assert.ok(fips.floatingIps.every((f) => f.location?.cloud));
  });
});
