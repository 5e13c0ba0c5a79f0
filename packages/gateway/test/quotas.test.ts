/**
 * QuotaService against devcloud (idp + sp1 + sp2 over K2K): the caller's projects per cloud, quota rows with
 * exactly the usage of a volume created for the test (sizes in bytes, unlimited as an absent limit), filters by
 * project and resource prefix, a failing service as one failure per (cloud, project) with its OCX code, a volume
 * moved between two of the demo user's projects, and a server move as FAILED_PRECONDITION with code UNSUPPORTED.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Client, Code, ConnectError, createClient } from '@connectrpc/connect';
import { type Connection, MultiCloud } from '@ocx/sdk';
import { ErrorDetailSchema } from '@ocx/sdk/gen/ocx/cloud/v1/common_pb';
import { QuotaService } from '@ocx/sdk/gen/ocx/cloud/v1/quota_service_pb';
import { type Env, startEnv } from './helpers.ts';

const GiB = 2n ** 30n;
const SECOND = 'gwquota-b';

describe('gateway QuotaService (devcloud)', { timeout: 120_000 }, () => {
  let env: Env;
  let quotas: Client<typeof QuotaService>;
  let multi: MultiCloud;
  let conn: Connection;
  let volumeId = '';

  before(async () => {
    env = await startEnv();
    quotas = createClient(QuotaService, env.grpc);
    const ks = env.dc.cloud('idp').keystone;
    const project = ks.ensureProject(SECOND, 'default');
    const demo = ks.findUserByName('demo', 'default');
    const member = ks.findRoleByName('member');
    assert.ok(demo && member);
    ks.grant('user', demo.id, 'project', project.id, member.id);
    multi = await MultiCloud.connect({ config: env.config, clouds: ['idp'] });
    conn = multi.get('idp');
    const v = await conn.blockStorage.createVolume({ size: 3, name: 'gw-quota-vol' });
    for (let i = 0; i < 100 && (await conn.blockStorage.getVolume(v.id)).status !== 'available'; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((await conn.blockStorage.getVolume(v.id)).status, 'available');
    volumeId = v.id;
  });
  after(async () => {
    await multi?.close();
    await env?.stop();
  });

  const gigabytes = async () => {
    const { rows, failures } = await quotas.listQuotas(
      { location: { clouds: ['idp'] }, resourcePrefix: 'volume.gigabytes' },
      env.auth,
    );
    assert.deepEqual(failures, []);
    return Object.fromEntries(
      rows.filter((r) => r.resource === 'volume.gigabytes').map((r) => [r.location?.project?.name, r.usage]),
    );
  };

  it('lists the caller’s projects per cloud with domain and location', async () => {
    const { projects, failures } = await quotas.listProjects({}, env.auth);
    assert.deepEqual(failures, []);
    const seen = projects.map((p) => [p.location?.cloud, p.name, p.location?.project?.domainName, p.current]);
    assert.deepEqual(
      seen.sort((a, b) => String(a).localeCompare(String(b))),
      [
        ['idp', 'demo', 'Default', true],
        ['idp', SECOND, 'Default', false],
        ['sp1', 'demo', 'Default', true],
        ['sp2', 'demo', 'Default', true],
      ],
    );
    for (const p of projects) {
      assert.equal(p.location?.project?.id, p.id);
      assert.ok(p.id);
    }
    const only = await quotas.listProjects({ location: { clouds: ['idp'] }, projects: [SECOND] }, env.auth);
    assert.deepEqual(
      only.projects.map((p) => p.name),
      [SECOND],
    );
  });

  it('quota rows carry exactly the usage created, in bytes, with unlimited as an absent limit', async () => {
    const { rows, failures } = await quotas.listQuotas({ location: { clouds: ['idp'] }, projects: ['demo'] }, env.auth);
    assert.deepEqual(failures, []);
    const at = (resource: string) => {
      const r = rows.find((x) => x.resource === resource);
      assert.ok(r, `a ${resource} row`);
      return [r.service, r.usage, r.limit, r.reserved, r.unit, r.location?.cloud, r.location?.project?.name];
    };
    assert.deepEqual(at('volume.gigabytes'), ['volume', 3n * GiB, 1000n * GiB, 0n, 'bytes', 'idp', 'demo']);
    assert.deepEqual(at('volume.volumes'), ['volume', 1n, 10n, 0n, 'count', 'idp', 'demo']);
    assert.deepEqual(at('network.subnetpool'), ['network', 0n, undefined, 0n, 'count', 'idp', 'demo']);
    assert.ok(rows.every((r) => r.location?.project?.name === 'demo'));
  });

  it('filters by resource prefix', async () => {
    const { rows } = await quotas.listQuotas({ location: { clouds: ['idp'] }, resourcePrefix: 'volume.' }, env.auth);
    assert.ok(rows.length > 0);
    assert.ok(rows.every((r) => r.resource.startsWith('volume.')));
    assert.deepEqual(await gigabytes(), { demo: 3n * GiB, [SECOND]: 0n });
  });

  it('a failing service is one failure per project with its OCX code; the other rows stay', async () => {
    await env.dc.setFaults('sp1', 'network', { errorRate: 1, errorStatus: 500 });
    try {
      const { rows, failures } = await quotas.listQuotas({ location: { clouds: ['sp1'] } }, env.auth);
      assert.deepEqual(
        failures.map((f) => [f.location?.cloud, f.location?.project?.name, f.service, f.code]),
        [['sp1', 'demo', 'network', 'SERVICE_ERROR']],
      );
      assert.equal(rows.filter((r) => r.service === 'network').length, 0);
      assert.equal(rows.find((r) => r.resource === 'compute.instances')?.usage, 0n);
    } finally {
      await env.dc.clearFaults('sp1');
    }
  });

  it('reassigns a volume to another project of the caller, and its usage with it', async () => {
    const { project } = await quotas.reassign(
      { cloud: 'idp', kind: 'volume', id: volumeId, toProject: SECOND },
      env.auth,
    );
    assert.equal(project?.name, SECOND);
    assert.equal(project?.location?.cloud, 'idp');
    assert.deepEqual(await gigabytes(), { demo: 0n, [SECOND]: 3n * GiB });
    await quotas.reassign(
      { cloud: 'idp', kind: 'volume', id: volumeId, toProject: 'demo', fromProject: SECOND },
      env.auth,
    );
    assert.deepEqual(await gigabytes(), { demo: 3n * GiB, [SECOND]: 0n });
  });

  it('a server cannot change project on OpenStack: FAILED_PRECONDITION with code UNSUPPORTED', async () => {
    const err = await quotas
      .reassign({ cloud: 'idp', kind: 'server', id: 'some-server', toProject: SECOND }, env.auth)
      .then(
        () => assert.fail('reassign succeeded'),
        (e: unknown) => ConnectError.from(e),
      );
    assert.equal(err.code, Code.FailedPrecondition);
    assert.match(err.rawMessage, /^server some-server cannot be moved to another project on OpenStack: /);
    assert.deepEqual(
      err.findDetails(ErrorDetailSchema).map((d) => [d.code, d.cloud]),
      [['UNSUPPORTED', 'idp']],
    );
  });

  it('rejects a bad kind and a call without a token', async () => {
    await assert.rejects(quotas.reassign({ cloud: 'idp', kind: 'disk', id: 'x', toProject: SECOND }, env.auth), {
      code: Code.InvalidArgument,
    });
    await assert.rejects(quotas.listProjects({}), { code: Code.Unauthenticated });
  });
});
