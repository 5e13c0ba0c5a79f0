// Contract: marker/limit pagination with next links (Glance `next`, Neutron `<collection>_links`,
// Cinder `volumes_links`), followed by the SDK's async iterators, is complete and has no duplicates.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BlockStorageClient, ImageClient, NetworkClient } from '@ocx/sdk';
import { eventually, startTarget, type Target } from './target.ts';

describe('pagination', () => {
  let t: Target;
  before(async () => {
    t = await startTarget();
  });
  after(() => t.stop());

  it('Glance: 5 images listed 2 per page come back complete, once each', async () => {
    const images = new ImageClient(t.session('sp1').client('image'));
    const made: string[] = [];
    try {
      for (let i = 0; i < 5; i++) {
        made.push(
          (await images.createImage({ name: `${t.prefix}-page-${i}`, disk_format: 'raw', container_format: 'bare' }))
            .id,
        );
      }
      const seen: string[] = [];
      for await (const img of images.listImages({ pageSize: 2 })) seen.push(img.id);
      assert.equal(new Set(seen).size, seen.length, 'no image twice');
      for (const id of made) assert.ok(seen.includes(id), `image ${id} listed`);
    } finally {
      for (const id of made) await images.deleteImage(id).catch(() => {});
    }
  });

  it('Neutron: 5 networks listed 2 per page come back complete, once each', async () => {
    const net = new NetworkClient(t.session('sp1').client('network'));
    const made: string[] = [];
    try {
      for (let i = 0; i < 5; i++) made.push((await net.createNetwork({ name: `${t.prefix}-pnet-${i}` })).id);
      const seen: string[] = [];
      for await (const n of net.listNetworks({ pageSize: 2 })) seen.push(n.id);
      assert.equal(new Set(seen).size, seen.length, 'no network twice');
      for (const id of made) assert.ok(seen.includes(id), `network ${id} listed`);
    } finally {
      for (const id of made) await net.deleteNetwork(id).catch(() => {});
    }
  });

  it('Cinder: 3 volumes listed 1 per page come back complete, once each', async () => {
    const bs = new BlockStorageClient(t.session('sp2').client('block-storage'));
    const made: string[] = [];
    try {
      for (let i = 0; i < 3; i++) made.push((await bs.createVolume({ size: 1, name: `${t.prefix}-pvol-${i}` })).id);
      const seen: string[] = [];
      for await (const v of bs.listVolumes({ pageSize: 1 })) seen.push(v.id);
      assert.equal(new Set(seen).size, seen.length, 'no volume twice');
      for (const id of made) assert.ok(seen.includes(id), `volume ${id} listed`);
    } finally {
      for (const id of made) {
        await eventually(`volume ${id} deletable`, t.settleMs, async () => {
          try {
            await bs.deleteVolume(id);
            return true;
          } catch (err) {
            if ((err as { code?: string }).code === 'NOT_FOUND') return true;
            return undefined;
          }
        }).catch(() => {});
      }
    }
  });
});
