// Contract: quotas are enforced with OpenStack's own answers, and every service's "over quota" is OVER_QUOTA:
// Nova 403 "Quota exceeded", Cinder 413 VolumeLimitExceeded, Neutron 409 OverQuota. An admin lowers the demo
// project's limit to its current usage, the demo user tries one more, and the old limit is put back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BlockStorageClient, type Cloud, ComputeClient, ErrorCode, isOcxError, NetworkClient } from '@ocx/sdk';
import { withBootImage, withNetwork } from './fixtures.ts';
import { startTarget, type Target } from './target.ts';

describe('quotas', () => {
  let t: Target;
  let demoProject: string;
  before(async () => {
    t = await startTarget();
    demoProject = (await t.session('sp2').projectId())!;
  });
  after(() => t.stop());

  it('Cinder: a volume over the volumes quota is OVER_QUOTA (413)', async () => {
    const admin = new BlockStorageClient(t.session('sp2-admin').client('block-storage'));
    const demo = new BlockStorageClient(t.session('sp2').client('block-storage'));
    const q = (await admin.getQuotaSet(demoProject, { usage: true })).volumes as { in_use: number; limit: number };
    await admin.updateQuotaSet(demoProject, { volumes: q.in_use });
    try {
      const err = await demo.createVolume({ size: 1, name: `${t.prefix}-overq` }).then(
        (v) => {
          void demo.deleteVolume(v.id).catch(() => {});
          return undefined;
        },
        (e: unknown) => e,
      );
      assert.ok(isOcxError(err, ErrorCode.OVER_QUOTA), `got ${String(err)}`);
      assert.equal(err.status, 413);
      assert.match(err.serverMessage ?? '', /VolumeLimitExceeded|quota/i);
    } finally {
      await admin.updateQuotaSet(demoProject, { volumes: q.limit });
    }
  });

  it('Neutron: a network over the network quota is OVER_QUOTA (409 OverQuota)', async () => {
    const admin = new NetworkClient(t.session('sp2-admin').client('network'));
    const demo = new NetworkClient(t.session('sp2').client('network'));
    const details = (await admin.getQuotaDetails(demoProject)) as Record<string, { used: number; limit: number }>;
    const old = details.network!;
    await admin.http.put(`/quotas/${demoProject}`, { json: { quota: { network: old.used } } });
    try {
      const err = await demo.createNetwork({ name: `${t.prefix}-overq` }).then(
        (n) => {
          void demo.deleteNetwork(n.id).catch(() => {});
          return undefined;
        },
        (e: unknown) => e,
      );
      assert.ok(isOcxError(err, ErrorCode.OVER_QUOTA), `got ${String(err)}`);
      assert.equal(err.status, 409);
    } finally {
      await admin.http.put(`/quotas/${demoProject}`, { json: { quota: { network: old.limit } } });
    }
  });

  it('Nova: a server over the instances quota is OVER_QUOTA (403 Quota exceeded)', async () => {
    const admin = new ComputeClient(t.session('sp2-admin').client('compute'));
    const cloud: Cloud = t.cloud('sp2');
    const limits = await cloud.getComputeLimits();
    const used = limits.total_instances_used ?? 0;
    const oldLimit = limits.max_total_instances ?? -1;
    const net = await withNetwork(t.session('sp2'), `${t.prefix}-qnet`);
    const boot = await withBootImage(cloud, `${t.prefix}-qimg`, t.settleMs);
    const image = boot.image;
    await admin.updateQuotaSet(demoProject, { instances: used });
    try {
      const flavor = (await cloud.listFlavors()).sort((a, b) => a.ram - b.ram)[0]!;
      const err = await cloud.createServer({ name: `${t.prefix}-overq`, image, flavor, network: net.network.id }).then(
        (s) => {
          void cloud.deleteServer(s.id).catch(() => {});
          return undefined;
        },
        (e: unknown) => e,
      );
      assert.ok(isOcxError(err, ErrorCode.OVER_QUOTA), `got ${String(err)}`);
      assert.equal(err.status, 403);
      assert.match(err.serverMessage ?? '', /quota exceeded/i);
    } finally {
      await admin.updateQuotaSet(demoProject, { instances: oldLimit });
      await net.remove();
      await boot.remove();
    }
  });
});
