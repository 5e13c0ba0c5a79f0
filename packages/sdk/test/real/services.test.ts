// The thin service clients against real Keystone, Nova, Cinder, Glance and Neutron (OCX_TEST_TARGET=real only;
// clouds from OS_CLIENT_CONFIG_FILE, default the shared harness's /tmp/os-harness/clouds.yaml).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { type CloudsConfig, loadCloudsConfig } from '../../src/config/index.ts';
import {
  BlockStorageClient,
  ComputeClient,
  collect,
  IdentityClient,
  ImageClient,
  NetworkClient,
} from '../../src/services/index.ts';
import { createSession } from '../../src/session/index.ts';
import type { Session } from '../../src/session/types.ts';

const REAL = process.env.OCX_TEST_TARGET === 'real';
const FILE = process.env.OS_CLIENT_CONFIG_FILE ?? '/tmp/os-harness/clouds.yaml';
const CLOUD = process.env.OCX_REAL_SERVICE_CLOUD ?? 'sp1';

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('service clients on real OpenStack', { skip: !REAL && 'set OCX_TEST_TARGET=real', timeout: 600_000 }, () => {
  let config: CloudsConfig;
  let session: Session;
  let projectId: string;
  const prefix = `ocx-rs-${randomBytes(3).toString('hex')}`;
  before(async () => {
    config = loadCloudsConfig({ files: { clouds: [FILE], secure: [], publicClouds: [] }, loadEnv: false });
    session = createSession(config.getCloud(CLOUD));
    projectId = (await session.projectId())!;
  });
  after(async () => {
    await session?.close();
  });

  test('identity: projects (paged), auth projects, domains, catalog', async () => {
    const admin = createSession(config.getCloud(`${CLOUD}-admin`));
    try {
      const identity = new IdentityClient(admin.client('identity'));
      const names = (await collect(identity.listProjects({ pageSize: 1 }))).map((p) => p.name);
      assert.ok(names.includes('demo') && names.includes('admin'), names.join());
      assert.deepEqual(
        (await collect(identity.listAuthProjects())).map((p) => p.name),
        ['admin'],
      );
      assert.ok((await collect(identity.listDomains())).some((d) => d.id === 'default'));
      assert.ok((await identity.getCatalog()).some((s) => s.type === 'identity'));
    } finally {
      await admin.close();
    }
  });

  test('compute: flavors paged, AZs, limits, quota set', async () => {
    const nova = new ComputeClient(session.client('compute'));
    const flavors = await collect(nova.listFlavors({ pageSize: 1 }));
    assert.ok(flavors.length >= 2, 'more than one page of one flavor');
    assert.equal(new Set(flavors.map((f) => f.id)).size, flavors.length);
    assert.ok((await nova.listAvailabilityZones()).some((z) => z.zoneState.available));
    assert.equal(typeof (await nova.getLimits()).absolute.maxTotalInstances, 'number');
    assert.equal(typeof (await nova.getQuotaSet(projectId)).instances, 'number');
  });

  test('block storage: quota usage, volume, transfer create/delete', async () => {
    const cinder = new BlockStorageClient(session.client('block-storage'));
    const q = await cinder.getQuotaSet(projectId, { usage: true });
    assert.equal(typeof (q.volumes as { limit: number }).limit, 'number');
    const vol = await cinder.createVolume({ size: 1, name: `${prefix}-vol` });
    try {
      await until('volume available', async () => (await cinder.getVolume(vol.id)).status === 'available');
      const transfer = await cinder.createTransfer(vol.id, { name: `${prefix}-t` });
      assert.ok(transfer.auth_key);
      assert.ok((await collect(cinder.listTransfers())).some((t) => t.id === transfer.id));
      await cinder.deleteTransfer(transfer.id);
      await until('volume available again', async () => (await cinder.getVolume(vol.id)).status === 'available');
    } finally {
      await cinder.deleteVolume(vol.id);
    }
  });

  test('image: create, upload, tag, JSON patch, filter + sort, streamed download, delete', async () => {
    const glance = new ImageClient(session.client('image'));
    const img = await glance.createImage({ name: `${prefix}-img`, disk_format: 'raw', container_format: 'bare' });
    try {
      const data = randomBytes(64 * 1024);
      await glance.uploadImageData(img.id, data);
      await glance.addTag(img.id, `${prefix}-tag`);
      const patched = await glance.setImageProperties(img.id, { 'ocx.k': 'v' }, await glance.getImage(img.id));
      assert.equal(patched['ocx.k'], 'v');
      const found = await collect(
        glance.listImages({ query: { tag: `${prefix}-tag`, sort: 'name:asc' }, pageSize: 1 }),
      );
      assert.deepEqual(
        found.map((i) => i.id),
        [img.id],
      );
      const chunks: Buffer[] = [];
      const { bytes } = await glance.downloadImageData(
        img.id,
        new Writable({
          write(c: Buffer, _e, done) {
            chunks.push(c);
            done();
          },
        }),
      );
      assert.equal(bytes, data.length);
      assert.equal(
        createHash('sha256').update(Buffer.concat(chunks)).digest('hex'),
        createHash('sha256').update(data).digest('hex'),
      );
      await glance.removeTag(img.id, `${prefix}-tag`);
    } finally {
      await glance.deleteImage(img.id);
    }
  });

  test('network: security group + rule, quota details, ports paged', async () => {
    const neutron = new NetworkClient(session.client('network'));
    const sg = await neutron.createSecurityGroup({ name: `${prefix}-sg` });
    try {
      const rule = await neutron.createSecurityGroupRule({
        security_group_id: sg.id,
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 22,
        port_range_max: 22,
      });
      assert.equal(rule.port_range_min, 22);
      assert.ok(
        (await collect(neutron.listSecurityGroupRules({ query: { security_group_id: sg.id } }))).some(
          (r) => r.id === rule.id,
        ),
      );
      await neutron.deleteSecurityGroupRule(rule.id);
    } finally {
      await neutron.deleteSecurityGroup(sg.id);
    }
    const details = await neutron.getQuotaDetails(projectId);
    assert.equal(typeof details.port?.used, 'number');
    const ports = await collect(neutron.listPorts({ pageSize: 1 }));
    assert.equal(new Set(ports.map((p) => p.id)).size, ports.length);
  });
});
