/**
 * Projects and quotas across clouds against in-process devcloud: a home cloud (idp, by password) and a service
 * provider (sp1, by K2K). The demo user is also a member of a second project on both; the test creates known
 * resources in that project through a token scoped to it and checks that the quota rows show exactly that usage,
 * with sizes in bytes, and that one broken or hanging service is a failure of that service only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';

/** devcloud's K2K mapping puts the federated user in this group (devcloud.ts FEDERATED_GROUP). */
const FEDERATED_GROUP = 'federated_users';

import { type CloudsConfig, loadCloudsConfig } from '../src/config/index.ts';
import { MultiCloud } from '../src/multicloud/index.ts';
import { connectionForProject, listProjects, listQuotas, type QuotaRow } from '../src/quotas/index.ts';
import { ComputeClient } from '../src/services/index.ts';
import { createSession } from '../src/session/index.ts';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const SECOND = 'quota-b';

describe('projects and quotas on devcloud (idp by password, sp1 by K2K)', { timeout: 120_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let config: CloudsConfig;
  let multi: MultiCloud;
  const secondIds: Record<string, string> = {};

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-quotas-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp', 'sp1'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
    config = loadCloudsConfig({ files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] }, loadEnv: false });
    for (const name of ['idp', 'sp1']) {
      const ks = dc.cloud(name).keystone;
      const project = ks.ensureProject(SECOND, 'default');
      secondIds[name] = project.id;
      const member = ks.findRoleByName('member');
      assert.ok(member);
      if (name === 'idp') {
        const demo = ks.findUserByName('demo', 'default');
        assert.ok(demo);
        ks.grant('user', demo.id, 'project', project.id, member.id);
      } else {
        // The federated user arrives in this group (devcloud's K2K mapping), as on the real harness.
        const group = ks.ensureGroup(FEDERATED_GROUP, 'default');
        ks.grant('group', group.id, 'project', project.id, member.id);
      }
    }
    // An admin lowers idp's instance limit of the second project, so a limit other than the default shows.
    const admin = createSession(config.getCloud('idp-admin'));
    await new ComputeClient(admin.client('compute')).updateQuotaSet(secondIds.idp as string, { instances: 4 });
    await admin.close();
    multi = await MultiCloud.connect({
      config,
      home: 'idp',
      k2k: { remoteProjectName: 'demo', remoteProjectDomainName: 'Default' },
      deadlineMs: 20_000,
    });
    assert.deepEqual(multi.connectFailures, []);

    // Known resources in the second project of each cloud, created with a token scoped to it.
    const idp = await connectionForProject(multi.get('idp'), secondIds.idp as string);
    assert.equal((await idp.session.getAccess()).project?.name, SECOND);
    for (const i of [1, 2]) {
      await idp.compute.createServer(
        { name: `q-${i}`, flavorRef: '1', imageRef: await imageId(idp), networks: 'none' },
        { microversion: '2.37' },
      );
    }
    await idp.blockStorage.createVolume({ size: 3, name: 'q-vol' });
    await idp.network.createNetwork({ name: 'q-net' });
    await idp.objectStore.createContainer('q-box');
    await idp.objectStore.putObject('q-box', 'hello.txt', 'x'.repeat(100));

    const sp1 = await connectionForProject(multi.get('sp1'), secondIds.sp1 as string);
    const sp1Access = await sp1.session.getAccess();
    assert.equal(sp1Access.project?.name, SECOND);
    assert.ok(sp1Access.federation, 'the sp1 token for the second project is still the federated user');
    await sp1.compute.createServer(
      { name: 'q-sp1', flavorRef: '2', imageRef: await imageId(sp1), networks: 'none' },
      { microversion: '2.37' },
    );
    await sp1.blockStorage.createVolume({ size: 5, name: 'q-vol-sp1' });
  });
  after(async () => {
    await multi?.close();
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function imageId(conn: { image: { listImages(): AsyncIterable<{ id: string }> } }): Promise<string> {
    for await (const img of conn.image.listImages()) return img.id;
    throw new Error('devcloud has no image');
  }

  function pick(rows: QuotaRow[], cloud: string, project: string, resource: string): QuotaRow {
    const r = rows.find(
      (x) => x.location.cloud === cloud && x.location.project.name === project && x.resource === resource,
    );
    assert.ok(r, `row ${cloud}/${project}/${resource}`);
    return r;
  }

  it('lists my projects per cloud with their domain, the token’s own project first', async () => {
    const { projects, failures } = await listProjects(multi);
    assert.deepEqual(failures, []);
    assert.deepEqual(
      projects.map((p) => [p.location.cloud, p.name, p.domain.name, p.current]),
      [
        ['idp', 'demo', 'Default', true],
        ['idp', SECOND, 'Default', false],
        ['sp1', 'demo', 'Default', true],
        ['sp1', SECOND, 'Default', false],
      ],
    );
    assert.equal(projects[1]?.id, secondIds.idp);
    assert.equal(projects[3]?.id, secondIds.sp1);
    assert.equal(projects[0]?.domain.id, 'default');
  });

  it('quota rows show exactly the usage created, sizes in bytes, -1 as unlimited', async () => {
    const { rows, failures, projects } = await listQuotas(multi);
    assert.deepEqual(failures, []);
    assert.equal(projects.length, 4);
    const at = (cloud: string, resource: string) => pick(rows, cloud, SECOND, resource);
    const usageLimit = (r: QuotaRow) => [r.usage, r.limit, r.unit];

    assert.deepEqual(usageLimit(at('idp', 'compute.instances')), [2, 4, 'count']);
    assert.deepEqual(usageLimit(at('idp', 'compute.cores')), [2, 20, 'count']);
    assert.deepEqual(usageLimit(at('idp', 'compute.ram')), [2 * 512 * MiB, 51200 * MiB, 'bytes']);
    assert.deepEqual(usageLimit(at('idp', 'volume.volumes')), [1, 10, 'count']);
    assert.deepEqual(usageLimit(at('idp', 'volume.gigabytes')), [3 * GiB, 1000 * GiB, 'bytes']);
    assert.deepEqual(usageLimit(at('idp', 'volume.snapshots')), [0, 10, 'count']);
    assert.deepEqual(usageLimit(at('idp', 'network.network')), [1, 100, 'count']);
    assert.deepEqual(usageLimit(at('idp', 'network.router')), [0, 10, 'count']);
    assert.deepEqual(usageLimit(at('idp', 'network.subnetpool')), [0, null, 'count']);
    assert.deepEqual(usageLimit(at('idp', 'object.bytes')), [100, null, 'bytes']);
    assert.deepEqual(usageLimit(at('idp', 'object.objects')), [1, null, 'count']);
    assert.deepEqual(usageLimit(at('idp', 'object.containers')), [1, null, 'count']);

    assert.deepEqual(usageLimit(at('sp1', 'compute.instances')), [1, 10, 'count']);
    assert.deepEqual(usageLimit(at('sp1', 'compute.ram')), [2048 * MiB, 51200 * MiB, 'bytes']);
    assert.deepEqual(usageLimit(at('sp1', 'volume.gigabytes')), [5 * GiB, 1000 * GiB, 'bytes']);

    // The demo projects hold none of it.
    for (const cloud of ['idp', 'sp1']) {
      assert.equal(pick(rows, cloud, 'demo', 'compute.instances').usage, 0);
      assert.equal(pick(rows, cloud, 'demo', 'volume.gigabytes').usage, 0);
    }
    const first = at('idp', 'compute.instances');
    assert.deepEqual(first.location, {
      cloud: 'idp',
      region: 'RegionOne',
      zone: null,
      project: { id: secondIds.idp, name: SECOND, domain_id: 'default', domain_name: 'Default' },
    });
    // Per-request caps (metadata items, injected files) are not usage and are not reported.
    assert.equal(
      rows.some((r) => r.resource === 'compute.metadata_items' || r.resource === 'volume.per_volume_gigabytes'),
      false,
    );
  });

  it('filters by project name or id and by service', async () => {
    const { rows, projects } = await listQuotas(multi, {
      projects: [SECOND],
      services: ['compute'],
    });
    assert.deepEqual(
      projects.map((p) => `${p.location.cloud}/${p.name}`),
      ['idp/quota-b', 'sp1/quota-b'],
    );
    assert.deepEqual([...new Set(rows.map((r) => r.service))], ['compute']);
    const byId = await listQuotas(multi, { projects: [secondIds.sp1 as string], services: ['volume'] });
    assert.deepEqual(
      byId.rows.map((r) => `${r.location.cloud}:${r.resource}=${r.usage}`).filter((s) => s.includes('gigabytes')),
      // Cinder's per-volume-type rows come along, in bytes too (the volume went to the default type lvmdriver-1).
      [
        `sp1:volume.gigabytes=${5 * GiB}`,
        'sp1:volume.backup_gigabytes=0',
        'sp1:volume.gigabytes___DEFAULT__=0',
        `sp1:volume.gigabytes_lvmdriver-1=${5 * GiB}`,
      ],
    );
    await assert.rejects(listQuotas(multi, { projects: ['no-such-project'] }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'NOT_FOUND');
      // The answer says where it looked: each cloud with the projects the user has there.
      assert.match(err.message, /'no-such-project' on the selected clouds \(the user's projects: .*idp: .*demo/);
      return true;
    });
  });

  it('each answer follows the current project list (projects read ahead from the last answer are checked)', async () => {
    // listQuotas starts reading the projects of the previous answer while Keystone lists them again: a project
    // joined, renamed or left since then must show as it is now.
    const names = async () => {
      const { rows, failures } = await listQuotas(multi, { services: ['compute'] });
      assert.deepEqual(failures, []);
      return [...new Set(rows.filter((r) => r.location.cloud === 'idp').map((r) => r.location.project.name))];
    };
    assert.deepEqual(await names(), ['demo', SECOND]);
    const ks = dc.cloud('idp').keystone;
    const third = ks.ensureProject('quota-c', 'default');
    const demo = ks.findUserByName('demo', 'default');
    const member = ks.findRoleByName('member');
    assert.ok(demo && member);
    const grant = ks.grant('user', demo.id, 'project', third.id, member.id);
    try {
      assert.deepEqual(await names(), ['demo', SECOND, 'quota-c']);
      ks.projects.put({ ...third, name: 'quota-c-renamed' });
      assert.deepEqual(await names(), ['demo', SECOND, 'quota-c-renamed']);
    } finally {
      ks.assignments.delete(grant.id);
      ks.projects.put({ ...third, name: 'quota-c' });
    }
    assert.deepEqual(await names(), ['demo', SECOND]);
  });

  it('Keystone unified limits: registered defaults and a project override as limits.* rows, no usage', async () => {
    // An admin registers limits the way `openstack registered limit create` / `limit create` do (POST bodies of
    // Keystone's API reference); the demo user then reads them with their own project-scoped tokens.
    const admin = createSession(config.getCloud('idp-admin'));
    try {
      const base = (await admin.getAccess()).identityUrl.replace(/\/+$/, '');
      const keystone = admin.client('identity');
      const { services } = await keystone.getJson<{ services: Array<{ id: string; type: string }> }>(
        `${base}/services`,
      );
      const id = (type: string) => services.find((x) => x.type === type)?.id as string;
      const reg = await keystone.post(`${base}/registered_limits`, {
        json: {
          registered_limits: [
            { service_id: id('compute'), resource_name: 'servers', default_limit: 10 },
            { service_id: id('image'), resource_name: 'image_size_total', default_limit: 1000 },
          ],
        },
      });
      assert.equal(reg.status, 201);
      const own = await keystone.post(`${base}/limits`, {
        json: {
          limits: [
            { project_id: secondIds.idp, service_id: id('compute'), resource_name: 'servers', resource_limit: 4 },
          ],
        },
      });
      assert.equal(own.status, 201);
    } finally {
      await admin.close();
    }
    // A new connection: the registered limits are remembered per connection for a minute.
    const fresh = await MultiCloud.connect({
      config,
      home: 'idp',
      clouds: ['idp', 'sp1'],
      k2k: { remoteProjectName: 'demo', remoteProjectDomainName: 'Default' },
      deadlineMs: 20_000,
    });
    try {
      const { rows, failures } = await listQuotas(fresh, { services: ['limits'] });
      assert.deepEqual(failures, []);
      assert.deepEqual(
        rows.map((r) => [r.location.cloud, r.location.project.name, r.service, r.resource, r.usage, r.limit, r.unit]),
        [
          ['idp', 'demo', 'limits', 'limits.compute.servers', null, 10, 'count'],
          ['idp', 'demo', 'limits', 'limits.image.image_size_total', null, 1000 * MiB, 'bytes'],
          ['idp', SECOND, 'limits', 'limits.compute.servers', null, 4, 'count'],
          ['idp', SECOND, 'limits', 'limits.image.image_size_total', null, 1000 * MiB, 'bytes'],
          // sp1 has no registered limit: no rows, and no failure.
        ],
      );
    } finally {
      await fresh.close();
    }
  });

  it('a failing service is a failure of that service only; the other rows stay', async () => {
    await dc.setFaults('sp1', 'network', { errorRate: 1, errorStatus: 500 });
    try {
      const { rows, failures } = await listQuotas(multi);
      assert.deepEqual(
        failures.map((f) => [f.location.cloud, f.location.project.name, f.service, f.error.code]),
        [
          ['sp1', 'demo', 'network', 'SERVICE_ERROR'],
          ['sp1', SECOND, 'network', 'SERVICE_ERROR'],
        ],
      );
      assert.equal(rows.filter((r) => r.location.cloud === 'sp1' && r.service === 'network').length, 0);
      assert.equal(pick(rows, 'sp1', SECOND, 'compute.instances').usage, 1);
      assert.equal(pick(rows, 'idp', SECOND, 'network.network').usage, 1);
    } finally {
      await dc.clearFaults('sp1');
    }
  });

  it('a hanging service times out alone within the deadline', async () => {
    await dc.setFaults('idp', 'block-storage', { hang: true });
    try {
      const started = Date.now();
      const { rows, failures } = await listQuotas(multi, { deadlineMs: 3000 });
      assert.ok(Date.now() - started < 10_000, 'the answer came back without waiting for the hanging service');
      assert.deepEqual(
        failures.map((f) => [f.location.cloud, f.location.project.name, f.service, f.error.code]),
        [
          ['idp', 'demo', 'volume', 'TIMEOUT'],
          ['idp', SECOND, 'volume', 'TIMEOUT'],
        ],
      );
      assert.equal(pick(rows, 'idp', SECOND, 'compute.instances').usage, 2);
      assert.equal(pick(rows, 'sp1', SECOND, 'volume.gigabytes').usage, 5 * GiB);
    } finally {
      await dc.clearFaults('idp');
    }
  });
});
