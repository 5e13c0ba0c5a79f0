// Projects, quotas, create-in-project and reassign against real OpenStack (OCX_TEST_TARGET=real only; clouds from
// OS_CLIENT_CONFIG_FILE). The admin cloud creates two fresh projects and makes the demo user a member of both, so
// the usage asserted is exactly what this test creates; everything is deleted afterwards.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type CloudsConfig, loadCloudsConfig } from '../../src/config/index.ts';
import { type Connection, MultiCloud } from '../../src/multicloud/index.ts';
import { connectionInProject, listProjects, listQuotas, reassign } from '../../src/quotas/index.ts';
import { collect } from '../../src/services/index.ts';
import { createSession } from '../../src/session/index.ts';
import type { Session } from '../../src/session/types.ts';

const REAL = process.env.OCX_TEST_TARGET === 'real';
const FILE = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/os-harness/clouds.yaml';
const CLOUD = process.env.OCX_REAL_SERVICE_CLOUD ?? 'sp1';
const GiB = 2 ** 30;
const MiB = 2 ** 20;

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('projects and quotas on real OpenStack', {
  skip: !REAL && 'set OCX_TEST_TARGET=real',
  timeout: 900_000,
}, () => {
  let config: CloudsConfig;
  let admin: Session;
  let multi: MultiCloud;
  let conn: Connection;
  const prefix = `ocx-q-${randomBytes(3).toString('hex')}`;
  const projects: Record<'a' | 'b', { id: string; name: string }> = {
    a: { id: '', name: `${prefix}-a` },
    b: { id: '', name: `${prefix}-b` },
  };
  const cleanup: Array<() => Promise<unknown>> = [];

  before(async () => {
    config = loadCloudsConfig({ files: { clouds: [FILE], secure: [], publicClouds: [] }, loadEnv: false });
    admin = createSession(config.getCloud(`${CLOUD}-admin`));
    const ks = admin.client('identity');
    const demoUser = (await ks.getJson<{ users: Array<{ id: string }> }>('/users', { query: { name: 'demo' } }))
      .users[0];
    const member = (await ks.getJson<{ roles: Array<{ id: string }> }>('/roles', { query: { name: 'member' } }))
      .roles[0];
    assert.ok(demoUser && member, 'the harness has the demo user and the member role');
    for (const key of ['a', 'b'] as const) {
      const res = await ks.post('/projects', {
        json: { project: { name: projects[key].name, domain_id: 'default', description: 'OCX quotas real test' } },
      });
      projects[key].id = (await res.json<{ project: { id: string } }>()).project.id;
      const id = projects[key].id;
      cleanup.push(async () => {
        await (await ks.patch(`/projects/${id}`, { json: { project: { enabled: false } } })).dump();
        await (await ks.delete(`/projects/${id}`)).dump();
      });
      await (await ks.put(`/projects/${id}/users/${demoUser.id}/roles/${member.id}`)).dump();
    }
    multi = await MultiCloud.connect({ config, clouds: [CLOUD] });
    conn = multi.get(CLOUD);
  });
  after(async () => {
    for (const f of cleanup.reverse()) await f().catch((err) => console.error(`cleanup: ${String(err)}`));
    await multi?.close();
    await admin?.close();
  });

  test('my projects list both new projects with their domain', async () => {
    const { projects: mine, failures } = await listProjects(multi);
    assert.deepEqual(failures, []);
    for (const p of [projects.a, projects.b]) {
      const found = mine.find((x) => x.id === p.id);
      assert.ok(found, `${p.name} listed`);
      assert.equal(found.name, p.name);
      assert.equal(found.domain.id, 'default');
    }
  });

  test('quota rows show exactly what was created in each project; a volume moves by transfer', async () => {
    const inA = await connectionInProject(conn, projects.a.name);
    const inB = await connectionInProject(conn, projects.b.id);
    assert.equal(await inA.session.projectId(), projects.a.id, 'created in the named project');
    assert.equal(await inB.session.projectId(), projects.b.id);

    const flavor = (await collect(inB.compute.listFlavors())).sort((x, y) => x.ram - y.ram)[0];
    assert.ok(flavor);
    // A tiny image of the test's own in project b (the harness has no public image); Nova counts the instance
    // against the quota whether or not the hypervisor can boot it.
    const image = await inB.image.createImage({ name: `${prefix}-img`, disk_format: 'raw', container_format: 'bare' });
    cleanup.push(() => inB.image.deleteImage(image.id));
    await inB.image.uploadImageData(image.id, new Uint8Array(1024));
    await until('image active', async () => (await inB.image.getImage(image.id)).status === 'active', 60_000);
    const server = await inB.compute.createServer(
      { name: `${prefix}-srv`, flavorRef: flavor.id, imageRef: image.id, networks: 'none' },
      { microversion: '2.37' },
    );
    cleanup.push(async () => {
      await inB.compute.deleteServer(server.id).catch(() => undefined);
      await until('server gone', async () => {
        try {
          await inB.compute.getServer(server.id);
          return false;
        } catch {
          return true;
        }
      });
    });
    const net = async (c: Connection, name: string) => {
      const n = await c.network.createNetwork({ name });
      cleanup.push(() => c.network.deleteNetwork(n.id));
    };
    await net(inA, `${prefix}-a1`);
    await net(inB, `${prefix}-b1`);
    await net(inB, `${prefix}-b2`);
    const volume = async (c: Connection, size: number, name: string) => {
      const v = await c.blockStorage.createVolume({ size, name });
      cleanup.push(async () => {
        // It may have moved to the other project: delete it from whichever project has it.
        for (const x of [inA, inB]) await x.blockStorage.deleteVolume(v.id).catch(() => undefined);
      });
      await until(
        `volume ${name} available`,
        async () => (await c.blockStorage.getVolume(v.id)).status === 'available',
      );
      return v.id;
    };
    const moving = await volume(inA, 1, `${prefix}-va`);
    await volume(inB, 2, `${prefix}-vb`);

    const read = async () => {
      const { rows, failures } = await listQuotas(multi, {
        projects: [projects.a.id, projects.b.id],
        services: ['compute', 'volume', 'network'],
      });
      assert.deepEqual(
        failures.map((f) => `${f.service}: ${f.error.code} ${f.error.message}`),
        [],
      );
      const get = (p: { id: string }, resource: string) => {
        const r = rows.find((x) => x.location.project.id === p.id && x.resource === resource);
        assert.ok(r, `${resource} of ${p.id}`);
        return r.usage;
      };
      return (resources: string[]) =>
        Object.fromEntries(
          (['a', 'b'] as const).flatMap((k) => resources.map((r) => [`${k}:${r}`, get(projects[k], r)])),
        );
    };
    const RES = [
      'compute.instances',
      'compute.cores',
      'compute.ram',
      'volume.volumes',
      'volume.gigabytes',
      'network.network',
    ];
    assert.deepEqual((await read())(RES), {
      'a:compute.instances': 0,
      'a:compute.cores': 0,
      'a:compute.ram': 0,
      'a:volume.volumes': 1,
      'a:volume.gigabytes': 1 * GiB,
      'a:network.network': 1,
      'b:compute.instances': 1,
      'b:compute.cores': flavor.vcpus,
      'b:compute.ram': flavor.ram * MiB,
      'b:volume.volumes': 1,
      'b:volume.gigabytes': 2 * GiB,
      'b:network.network': 2,
    });

    // Reassign the volume from a to b by a Cinder transfer.
    const dest = await reassign(conn, 'volume', moving, projects.b.name, { from: projects.a.id });
    assert.equal(dest.id, projects.b.id);
    assert.equal((await inB.blockStorage.getVolume(moving)).name, `${prefix}-va`);
    const after = (await read())(['volume.volumes', 'volume.gigabytes']);
    assert.deepEqual(after, {
      'a:volume.volumes': 0,
      'a:volume.gigabytes': 0,
      'b:volume.volumes': 2,
      'b:volume.gigabytes': 3 * GiB,
    });

    // A server cannot change project on OpenStack.
    await assert.rejects(reassign(conn, 'server', server.id, projects.a.id), { code: 'UNSUPPORTED' });
  });
});
