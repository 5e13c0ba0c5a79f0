// Contract: nodepool's surface through the cloud layer — flavors, images, keypairs, servers (create, wait,
// addresses, list, get, delete), limits, unattached floating IPs. Same assertions on devcloud and real Nova.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Cloud, ErrorCode, isOcxError } from '@ocx/sdk';
import { withBootImage, withNetwork } from './fixtures.ts';
import { startTarget, type Target } from './target.ts';

describe('nodepool surface (cloud layer)', () => {
  let t: Target;
  let cloud: Cloud;
  let boot: Awaited<ReturnType<typeof withBootImage>>;
  before(async () => {
    t = await startTarget();
    cloud = t.cloud('sp1');
    boot = await withBootImage(cloud, `${t.prefix}-boot`, t.settleMs);
  });
  after(async () => {
    await boot?.remove();
    await t.stop();
  });

  it('listFlavors returns normalized flavors with a location', async () => {
    const flavors = await cloud.listFlavors();
    assert.ok(flavors.length > 0);
    const tiny = flavors.find((f) => f.name === 'm1.tiny');
    assert.ok(tiny, 'm1.tiny exists');
    assert.equal(typeof tiny.ram, 'number');
    assert.equal(tiny.location.cloud, 'sp1');
    assert.equal(await cloud.getFlavor('no-such-flavor-ocx'), null);
  });

  it('keypairs: a server-generated pair has a private key; delete is false the second time', async () => {
    const name = `${t.prefix}-kp`;
    const kp = await cloud.createKeypair(name);
    try {
      assert.match(kp.public_key, /^ssh-(rsa|ed25519) /);
      assert.match(kp.private_key ?? '', /PRIVATE KEY/);
      assert.ok((await cloud.listKeypairs()).some((k) => k.name === name));
    } finally {
      assert.equal(await cloud.deleteKeypair(name), true);
    }
    assert.equal(await cloud.deleteKeypair(name), false);
    assert.equal(await cloud.getKeypair(name), null);
  });

  it('createImage uploads, waits for active, and is idempotent by name + hash', async () => {
    const data = Buffer.from(`ocx contract image ${t.prefix}\n`.repeat(2000));
    const sha256 = createHash('sha256').update(data).digest('hex');
    const name = `${t.prefix}-img`;
    const img = await cloud.createImage(name, { data, sha256, diskFormat: 'raw', wait: true, timeoutMs: t.settleMs });
    try {
      assert.equal(img.status, 'active');
      assert.equal(img.size, data.length);
      assert.equal(img.checksum, createHash('md5').update(data).digest('hex'));
      const again = await cloud.createImage(name, { data, sha256, diskFormat: 'raw', wait: true });
      assert.equal(again.id, img.id, 'same name + same hash returns the existing image');
      assert.equal((await cloud.getImage(name))?.id, img.id);
    } finally {
      assert.equal(await cloud.deleteImage(img.id, { wait: true, timeoutMs: t.settleMs }), true);
    }
    assert.equal(await cloud.getImage(name), null);
    assert.equal(await cloud.deleteImage(img.id), false);
  });

  it('createServer on a network → waitForServer → addresses → list/get → deleteServer(wait)', async () => {
    const session = t.session('sp1');
    const net = await withNetwork(session, `${t.prefix}-srvnet`);
    const flavor = (await cloud.listFlavors()).sort((a, b) => a.ram - b.ram)[0]!;
    const image = boot.image;
    const name = `${t.prefix}-srv`;
    let id: string | undefined;
    try {
      const created = await cloud.createServer({
        name,
        image,
        flavor,
        network: net.network.id,
        metadata: { nodepool_node_id: '0001' },
        wait: true,
        autoIp: false,
        timeoutMs: t.settleMs,
      });
      id = created.id;
      assert.equal(created.status, 'ACTIVE');
      assert.equal(created.location.cloud, 'sp1');
      assert.equal(created.location.project.name ?? 'demo', 'demo');
      assert.ok(created.private_v4, 'private_v4 resolved from the port on the tenant network');
      assert.equal(created.interface_ip, created.private_v4 || created.public_v4);
      assert.ok(created.addresses[net.network.name]?.some((a) => a.addr === created.private_v4));
      const listed = await cloud.listServers();
      const mine = listed.find((s) => s.id === id);
      assert.ok(mine, 'listServers shows it');
      assert.equal(mine.metadata?.nodepool_node_id, '0001');
      assert.equal((await cloud.getServer(id))?.name, name);
    } finally {
      if (id) assert.equal(await cloud.deleteServer(id, { wait: true, timeoutMs: t.settleMs }), true);
      await net.remove();
    }
    assert.equal(await cloud.getServer(id!), null);
    assert.equal(await cloud.deleteServer(id!), false);
  });

  it('getComputeLimits reports maxima and usage', async () => {
    const limits = await cloud.getComputeLimits();
    assert.equal(typeof limits.max_total_instances, 'number');
    assert.equal(typeof limits.total_instances_used, 'number');
    assert.ok((limits.max_total_cores ?? 0) !== 0);
  });

  it('getServer by a name that matches two servers throws AMBIGUOUS', async () => {
    const session = t.session('sp1');
    const net = await withNetwork(session, `${t.prefix}-ambnet`);
    const flavor = (await cloud.listFlavors()).sort((a, b) => a.ram - b.ram)[0]!;
    const image = boot.image;
    const ids: string[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        ids.push((await cloud.createServer({ name: `${t.prefix}-twin`, image, flavor, network: net.network.id })).id);
      }
      const err = await cloud.getServer(`${t.prefix}-twin`).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isOcxError(err, ErrorCode.AMBIGUOUS), `got ${String(err)}`);
    } finally {
      for (const id of ids) await cloud.deleteServer(id, { wait: true, timeoutMs: t.settleMs });
      await net.remove();
    }
  });
});
