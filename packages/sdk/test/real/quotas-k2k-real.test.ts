// My projects and quotas of the federated demo user on a service provider reached by K2K from idp, against real
// OpenStack (OCX_TEST_TARGET=real only; clouds from OS_CLIENT_CONFIG_FILE). The SP's admin creates a fresh project
// and gives the group K2K users arrive in (federated_users, test/real/lib/ocx_admin.py) the member role on it; the
// federated user must then see it beside demo, and read its quotas through a K2K token rescoped to it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type CloudsConfig, loadCloudsConfig } from '../../src/config/index.ts';
import { MultiCloud } from '../../src/multicloud/index.ts';
import { listProjects, listQuotas } from '../../src/quotas/index.ts';
import { createSession } from '../../src/session/index.ts';
import type { Session } from '../../src/session/types.ts';

const REAL = process.env.OCX_TEST_TARGET === 'real';
const FILE = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/os-harness/clouds.yaml';
const SP = process.env.OCX_REAL_SERVICE_CLOUD ?? 'sp1';

describe(`projects and quotas through K2K (idp → ${SP}) on real OpenStack`, {
  skip: !REAL && 'set OCX_TEST_TARGET=real',
  timeout: 300_000,
}, () => {
  let config: CloudsConfig;
  let admin: Session;
  let multi: MultiCloud;
  const name = `ocx-qk-${randomBytes(3).toString('hex')}`;
  let projectId = '';
  const cleanup: Array<() => Promise<unknown>> = [];

  before(async () => {
    config = loadCloudsConfig({ files: { clouds: [FILE], secure: [], publicClouds: [] }, loadEnv: false });
    admin = createSession(config.getCloud(`${SP}-admin`));
    const ks = admin.client('identity');
    const group = (
      await ks.getJson<{ groups: Array<{ id: string }> }>('/groups', {
        query: { name: 'federated_users', domain_id: 'default' },
      })
    ).groups[0];
    const member = (await ks.getJson<{ roles: Array<{ id: string }> }>('/roles', { query: { name: 'member' } }))
      .roles[0];
    assert.ok(group && member, 'the SP has the federated_users group and the member role');
    const res = await ks.post('/projects', {
      json: { project: { name, domain_id: 'default', description: 'OCX K2K quotas real test' } },
    });
    projectId = (await res.json<{ project: { id: string } }>()).project.id;
    cleanup.push(async () => {
      await (await ks.patch(`/projects/${projectId}`, { json: { project: { enabled: false } } })).dump();
      await (await ks.delete(`/projects/${projectId}`)).dump();
    });
    await (await ks.put(`/projects/${projectId}/groups/${group.id}/roles/${member.id}`)).dump();
    multi = await MultiCloud.connect({
      config,
      home: 'idp',
      k2k: { serviceProviders: [SP], remoteProjectName: 'demo', remoteProjectDomainName: 'Default' },
    });
    assert.deepEqual(
      multi.connectFailures.map((f) => `${f.name}: ${f.error.message}`),
      [],
    );
  });
  after(async () => {
    for (const f of cleanup.reverse()) await f().catch((err) => console.error(`cleanup: ${String(err)}`));
    await multi?.close();
    await admin?.close();
  });

  test(`the federated user's projects on ${SP}: demo (the K2K token's) first, and the one granted to its group`, async () => {
    const { projects, failures } = await listProjects(multi);
    assert.deepEqual(failures, []);
    const onSp = projects.filter((p) => p.location.cloud === SP);
    assert.equal(onSp[0]?.name, 'demo');
    assert.equal(onSp[0]?.current, true);
    const fresh = onSp.find((p) => p.id === projectId);
    assert.ok(fresh, `${name} is listed for the federated user`);
    assert.equal(fresh.name, name);
    assert.equal(fresh.domain.id, 'default');
    assert.equal(fresh.current, false);
  });

  test(`quotas of the new project through a K2K token rescoped to it: nothing in use`, async () => {
    const { rows, failures, projects } = await listQuotas(multi, {
      projects: [name],
      services: ['compute', 'network'],
    });
    assert.deepEqual(
      failures.map((f) => `${f.location.cloud}/${f.service}: ${f.error.code} ${f.error.message}`),
      [],
    );
    assert.deepEqual(
      projects.map((p) => `${p.location.cloud}/${p.name}`),
      [`${SP}/${name}`],
    );
    const at = (resource: string) => rows.find((r) => r.resource === resource);
    for (const r of rows) assert.equal(r.location.project.id, projectId);
    assert.equal(at('compute.instances')?.usage, 0);
    assert.ok((at('compute.instances')?.limit ?? 0) > 0, 'an instance limit');
    assert.equal(at('network.network')?.usage, 0);
  });
});
