/**
 * Create in a chosen project and reassign on OpenStack, against devcloud: the demo user is a member of demo and a
 * second project; a volume moves between them by a Cinder transfer (the quota rows show the usage move), a move
 * that would not fit the destination's quota changes nothing, servers and networks are UNSUPPORTED with a reason,
 * and a create through a connection in the named project lands in that project.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { type CloudsConfig, loadCloudsConfig } from '../src/config/index.ts';
import type { Connection } from '../src/multicloud/index.ts';
import { MultiCloud } from '../src/multicloud/index.ts';
import { connectionInProject, listQuotas, reassign } from '../src/quotas/index.ts';
import { BlockStorageClient } from '../src/services/index.ts';
import { createSession } from '../src/session/index.ts';

const GiB = 2 ** 30;
const SECOND = 'quota-b';

describe('create in a project and reassign on OpenStack (devcloud)', { timeout: 60_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let config: CloudsConfig;
  let multi: MultiCloud;
  let conn: Connection;
  let secondId = '';

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-reassign-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp'], cloudsYamlPath, transitionMs: 20, logLevel: 'silent' });
    config = loadCloudsConfig({ files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] }, loadEnv: false });
    const ks = dc.cloud('idp').keystone;
    const project = ks.ensureProject(SECOND, 'default');
    secondId = project.id;
    const demo = ks.findUserByName('demo', 'default');
    const member = ks.findRoleByName('member');
    assert.ok(demo && member);
    ks.grant('user', demo.id, 'project', project.id, member.id);
    multi = await MultiCloud.connect({ config, clouds: ['idp'] });
    conn = multi.get('idp');
  });
  after(async () => {
    await multi?.close();
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function availableVolume(c: Connection, size: number, name: string): Promise<string> {
    const v = await c.blockStorage.createVolume({ size, name });
    for (let i = 0; i < 100; i++) {
      if ((await c.blockStorage.getVolume(v.id)).status === 'available') return v.id;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`volume ${name} never became available`);
  }

  async function gigabytes(): Promise<Record<string, number>> {
    const { rows, failures } = await listQuotas(multi, { services: ['volume'] });
    assert.deepEqual(failures, []);
    return Object.fromEntries(
      rows.filter((r) => r.resource === 'volume.gigabytes').map((r) => [r.location.project.name, r.usage]),
    );
  }

  it('a create through a connection in the named project lands in that project', async () => {
    const inSecond = await connectionInProject(conn, SECOND);
    assert.equal(await inSecond.session.projectId(), secondId);
    await availableVolume(inSecond, 1, 'made-in-second');
    assert.deepEqual(await gigabytes(), { demo: 0, [SECOND]: 1 * GiB });
    const names = async (c: Connection) => {
      const out: string[] = [];
      for await (const v of c.blockStorage.listVolumes()) out.push(v.name ?? '');
      return out;
    };
    assert.deepEqual(await names(inSecond), ['made-in-second']);
    assert.deepEqual(await names(conn), []);
    // The scoped connection is cached per project.
    assert.equal(await connectionInProject(conn, secondId), inSecond);
    await assert.rejects(connectionInProject(conn, 'nope'), { code: 'NOT_FOUND', message: /no project 'nope'/ });
  });

  it('a volume moves to another project by a Cinder transfer, and its usage with it', async () => {
    const id = await availableVolume(conn, 2, 'mover');
    assert.deepEqual(await gigabytes(), { demo: 2 * GiB, [SECOND]: 1 * GiB });
    const dest = await reassign(conn, 'volume', id, SECOND);
    assert.equal(dest.id, secondId);
    assert.deepEqual(await gigabytes(), { demo: 0, [SECOND]: 3 * GiB });
    const inSecond = await connectionInProject(conn, SECOND);
    assert.equal((await inSecond.blockStorage.getVolume(id)).name, 'mover');
    await assert.rejects(conn.blockStorage.getVolume(id), { code: 'NOT_FOUND' });
    // And back, naming the source project explicitly.
    await reassign(conn, 'volume', id, 'demo', { from: SECOND });
    assert.deepEqual(await gigabytes(), { demo: 2 * GiB, [SECOND]: 1 * GiB });
  });

  it('a move that would not fit the destination quota fails first and changes nothing', async () => {
    const admin = createSession(config.getCloud('idp-admin'));
    try {
      await new BlockStorageClient(admin.client('block-storage')).updateQuotaSet(secondId, { gigabytes: 2 });
    } finally {
      await admin.close();
    }
    const demoVolume = (await (async () => {
      for await (const v of conn.blockStorage.listVolumes()) if (v.name === 'mover') return v.id;
      return undefined;
    })()) as string;
    await assert.rejects(reassign(conn, 'volume', demoVolume, SECOND), {
      code: 'OVER_QUOTA',
      message: `project '${SECOND}' has room for ${1 * GiB} of volume.gigabytes, ${2 * GiB} needed; nothing was changed`,
    });
    assert.equal((await conn.blockStorage.getVolume(demoVolume)).status, 'available');
    const transfers: unknown[] = [];
    for await (const t of conn.blockStorage.listTransfers()) transfers.push(t);
    assert.deepEqual(transfers, [], 'no transfer was left behind');
    assert.deepEqual(await gigabytes(), { demo: 2 * GiB, [SECOND]: 1 * GiB });
  });

  it('a container moves by server-side copy, verified, resuming over objects already there', async () => {
    await conn.objectStore.createContainer('box');
    const body = { 'a.txt': 'alpha', 'b.txt': 'bravo!', 'dir/c.txt': 'charlie...' };
    for (const [name, text] of Object.entries(body)) await conn.objectStore.putObject('box', name, text);
    // An earlier, interrupted move already copied a.txt.
    const inSecond = await connectionInProject(conn, SECOND);
    await inSecond.objectStore.createContainer('box');
    await inSecond.objectStore.putObject('box', 'a.txt', 'alpha');
    const objectBytes = async () => {
      const { rows } = await listQuotas(multi, { services: ['object'] });
      return Object.fromEntries(
        rows.filter((r) => r.resource === 'object.bytes').map((r) => [r.location.project.name, r.usage]),
      );
    };
    assert.deepEqual(await objectBytes(), { demo: 21, [SECOND]: 5 });
    const progress: string[] = [];
    await reassign(conn, 'container', 'box', SECOND, {
      onProgress: (p) => progress.push(`${p.done}/${p.total} ${p.object} ${p.copied ? 'copied' : 'already there'}`),
    });
    assert.deepEqual(progress, ['1/3 a.txt already there', '2/3 b.txt copied', '3/3 dir/c.txt copied']);
    assert.deepEqual(await objectBytes(), { demo: 0, [SECOND]: 21 });
    for (const [name, text] of Object.entries(body)) {
      const got = await inSecond.client('object-store').get(`/box/${name}`);
      assert.equal(await got.text(), text);
    }
    await assert.rejects(conn.objectStore.getContainer('box'), { code: 'NOT_FOUND' });
  });

  it('an image: Glance lets only an admin change the owner, so a member gets UNSUPPORTED with the sharing way', async () => {
    const image = await conn.image.createImage({ name: 'mine', disk_format: 'raw', container_format: 'bare' });
    await assert.rejects(reassign(conn, 'image', image.id, SECOND), {
      code: 'UNSUPPORTED',
      message: new RegExp(
        `Glance lets only an admin change an image owner \\(it answered: Attribute 'owner' can be only set by admin\\.\\).*openstack image add project ${image.id} ${secondId}`,
      ),
    });
    assert.equal((await conn.image.getImage(image.id)).owner, await conn.session.projectId(), 'unchanged');
  });

  it('servers, networks and floating IPs cannot change project on OpenStack: UNSUPPORTED, saying why and what instead', async () => {
    await assert.rejects(reassign(conn, 'server', 'any-server', SECOND), {
      code: 'UNSUPPORTED',
      message:
        /server any-server cannot be moved to another project on OpenStack: Nova's server update .*Instead: snapshot/,
    });
    await assert.rejects(reassign(conn, 'network', 'n1', SECOND), {
      code: 'UNSUPPORTED',
      message: /project_id can be set on create but never updated.*RBAC policy/,
    });
    await assert.rejects(reassign(conn, 'floatingip', 'f1', SECOND), {
      code: 'UNSUPPORTED',
      message: /Instead: release it and allocate a new floating IP/,
    });
  });
});
