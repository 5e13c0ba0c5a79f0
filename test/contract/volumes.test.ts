// Contract: Cinder v3 volumes (creating → available → deleted), snapshots, quota sets with usage, errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BlockStorageClient, ErrorCode, isOcxError } from '@ocx/sdk';
import { eventually, startTarget, type Target } from './target.ts';

describe('volumes', () => {
  let t: Target;
  let bs: BlockStorageClient;
  let projectId: string;
  before(async () => {
    t = await startTarget();
    const s = t.session('sp2');
    bs = new BlockStorageClient(s.client('block-storage'));
    projectId = (await s.projectId())!;
  });
  after(() => t.stop());

  const gone = (id: string) =>
    eventually(`volume ${id} gone`, t.settleMs, async () => {
      try {
        await bs.getVolume(id);
        return undefined;
      } catch (err) {
        return isOcxError(err, ErrorCode.NOT_FOUND) ? true : undefined;
      }
    });

  it('create → available, counted in quota usage, snapshot, delete', async () => {
    const before = await bs.getQuotaSet(projectId, { usage: true });
    const usedBefore = ((before.volumes as { in_use: number }) ?? { in_use: 0 }).in_use;
    const vol = await bs.createVolume({ size: 1, name: `${t.prefix}-vol` });
    try {
      assert.equal(vol.size, 1);
      const ready = await eventually('volume available', t.settleMs, async () => {
        const v = await bs.getVolume(vol.id);
        return v.status === 'available' ? v : undefined;
      });
      assert.equal(ready.name, `${t.prefix}-vol`);
      const after = await bs.getQuotaSet(projectId, { usage: true });
      const vols = after.volumes as { in_use: number; limit: number };
      assert.equal(vols.in_use, usedBefore + 1);
      assert.equal(typeof vols.limit, 'number');
      const snap = await bs.createSnapshot({ volume_id: vol.id, name: `${t.prefix}-snap` });
      await eventually('snapshot available', t.settleMs, async () =>
        (await bs.getSnapshot(snap.id)).status === 'available' ? true : undefined,
      );
      await bs.deleteSnapshot(snap.id);
      await eventually('snapshot gone', t.settleMs, async () => {
        try {
          await bs.getSnapshot(snap.id);
          return undefined;
        } catch (err) {
          return isOcxError(err, ErrorCode.NOT_FOUND) ? true : undefined;
        }
      });
    } finally {
      await bs.deleteVolume(vol.id).catch(() => {});
    }
    await gone(vol.id);
  });

  it('a missing volume is NOT_FOUND with the server message', async () => {
    const err = await bs.getVolume('00000000-0000-4000-8000-000000000000').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isOcxError(err, ErrorCode.NOT_FOUND), `got ${String(err)}`);
    assert.equal(err.status, 404);
    assert.match(err.serverMessage ?? '', /could not be found/i);
  });

  it('creating a volume with a negative size is BAD_REQUEST', async () => {
    const err = await bs.createVolume({ size: -1, name: `${t.prefix}-bad` }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isOcxError(err, ErrorCode.BAD_REQUEST), `got ${String(err)}`);
    assert.equal(err.status, 400);
  });
});
