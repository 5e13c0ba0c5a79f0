import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cinderModule } from '../src/cinder/index.ts';
import { glanceModule } from '../src/glance/index.ts';
import { ADMIN, call, DEMO, type FakeCloud, OTHER, startFake } from './storage-fake-ctx.ts';

// biome-ignore lint/suspicious/noExplicitAny: test reads arbitrary JSON bodies
type Json = Record<string, any>;

describe('cinder v3', () => {
  let cloud: FakeCloud;
  const api = (p: { projectId: string }) => `${cloud.baseUrl}/volume/v3/${p.projectId}`;
  before(async () => {
    cloud = await startFake([cinderModule, glanceModule], { transitionMs: 30 });
  });
  after(async () => cloud.close());

  async function req(who: typeof DEMO, path: string, init: RequestInit & { json?: unknown; mv?: string } = {}) {
    const headers = new Headers(init.headers);
    if (init.mv) headers.set('openstack-api-version', `volume ${init.mv}`);
    return call(api(who), path, { ...init, headers, token: who.token });
  }
  async function json(who: typeof DEMO, path: string, init: RequestInit & { json?: unknown; mv?: string } = {}) {
    const res = await req(who, path, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Json };
  }
  /** Wait for a volume/snapshot to leave its transitional state (bounded by a deadline, not by a timing assertion). */
  async function settled(who: typeof DEMO, path: string, key: string, want: string) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await json(who, path);
      if (r.status === 200 && r.body[key].status === want) return r.body[key];
      if (Date.now() > deadline) assert.fail(`${path} never became ${want} (last: ${JSON.stringify(r.body)})`);
      await new Promise((res) => setTimeout(res, 10));
    }
  }
  async function createVolume(who: typeof DEMO, volume: Json, mv?: string) {
    const r = await json(who, '/volumes', { method: 'POST', json: { volume }, ...(mv ? { mv } : {}) });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.volume as Json;
  }

  it('serves the version document at /volume/ and echoes microversions', async () => {
    const root = await call(`${cloud.baseUrl}/volume`, '/');
    assert.equal(root.status, 300);
    const doc = (await root.json()) as Json;
    assert.equal(doc.versions[0].id, 'v3.0');
    assert.equal(doc.versions[0].version, '3.70');
    assert.equal(doc.versions[0].min_version, '3.0');
    assert.equal(doc.versions[0].links[1].href, `${cloud.baseUrl}/volume/v3/`);
    const dflt = await req(DEMO, '/volumes');
    assert.equal(dflt.headers.get('openstack-api-version'), 'volume 3.0');
    assert.equal(dflt.headers.get('vary'), 'OpenStack-API-Version');
    assert.ok(dflt.headers.get('x-compute-request-id'));
    assert.equal((await req(DEMO, '/volumes', { mv: 'latest' })).headers.get('openstack-api-version'), 'volume 3.70');
    const bad = await json(DEMO, '/volumes', { mv: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(
      bad.body.badRequest.message,
      'API Version String x is of invalid format. Must be of format MajorNum.MinorNum.',
    );
    const high = await json(DEMO, '/volumes', { mv: '3.99' });
    assert.equal(high.status, 406);
    assert.equal(
      high.body.computeFault.message,
      'Version 3.99 is not supported by the API. Minimum is 3.0 and maximum is 3.70.',
    );
  });

  it('requires a token (401 with keystone body) and a URL project matching the token', async () => {
    const res = await call(api(DEMO), '/volumes');
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), {
      error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
    });
    const wrong = await call(api(OTHER), '/volumes', { token: DEMO.token });
    assert.equal(wrong.status, 400);
    assert.deepEqual(await wrong.json(), { badRequest: { code: 400, message: 'Malformed request url' } });
  });

  it('creates a volume (202 creating) that becomes available, with the default type and links', async () => {
    const v = await createVolume(DEMO, { size: 1, name: 'v1', metadata: { a: 'b' } });
    assert.equal(v.status, 'creating');
    assert.equal(v.volume_type, 'lvmdriver-1');
    assert.equal(v.bootable, 'false');
    assert.deepEqual(v.attachments, []);
    assert.equal(v.updated_at, null);
    assert.match(v.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    assert.equal(v.links[0].href, `${api(DEMO)}/volumes/${v.id}`);
    assert.equal(v.links[1].href, `${cloud.baseUrl}/volume/${DEMO.projectId}/volumes/${v.id}`);
    assert.equal(v['os-vol-tenant-attr:tenant_id'], undefined);
    const shown = await settled(DEMO, `/volumes/${v.id}`, 'volume', 'available');
    assert.equal(shown['os-vol-tenant-attr:tenant_id'], DEMO.projectId);
    assert.equal(shown['os-vol-host-attr:host'], undefined);
    assert.deepEqual(shown.metadata, { a: 'b' });
    const newer = await json(DEMO, `/volumes/${v.id}`, { mv: '3.70' });
    assert.equal(typeof newer.body.volume.volume_type_id, 'string');
    assert.equal(newer.body.volume.consumes_quota, true);
    const admin = await json(ADMIN, `/volumes/detail?all_tenants=1`);
    assert.ok(admin.body.volumes.some((x: Json) => x.id === v.id && x['os-vol-host-attr:host']));
  });

  it("ends creation in 'error' when the volume carries the devcloud:fault metadata key", async () => {
    const v = await createVolume(DEMO, { size: 1, name: 'broken', metadata: { 'devcloud:fault': 'disk on fire' } });
    const shown = await settled(DEMO, `/volumes/${v.id}`, 'volume', 'error');
    assert.equal(shown.status, 'error');
    assert.equal(
      (await req(DEMO, `/volumes/${v.id}`, { method: 'DELETE' })).status,
      202,
      'error volumes can be deleted',
    );
  });

  it('validates create input like Cinder', async () => {
    const r = await json(DEMO, '/volumes', { method: 'POST', json: { volume: { size: 'abc' } } });
    assert.equal(r.status, 400);
    assert.equal(
      r.body.badRequest.message,
      "Invalid input for field/attribute size. Value: abc. 'abc' does not match '^[0-9]+$'",
    );
    const t = await json(DEMO, '/volumes', { method: 'POST', json: { volume: { size: 1, volume_type: 'nope' } } });
    assert.equal(t.status, 404);
    assert.equal(t.body.itemNotFound.message, 'Volume type with name nope could not be found.');
    const nf = await json(DEMO, '/volumes/nope');
    assert.deepEqual(nf.body, { itemNotFound: { code: 404, message: 'Volume nope could not be found.' } });
  });

  it('lists with sort, filters, limit/marker and volumes_links; other projects are invisible', async () => {
    for (const n of ['s-b', 's-a', 's-c']) await createVolume(OTHER, { size: 1, name: n });
    const names = (r: { body: Json }) => r.body.volumes.map((v: Json) => v.name);
    const asc = await json(OTHER, '/volumes?sort=name:asc');
    assert.deepEqual(names(asc), ['s-a', 's-b', 's-c']);
    const desc = await json(OTHER, '/volumes/detail?sort_key=name&sort_dir=desc');
    assert.deepEqual(names(desc), ['s-c', 's-b', 's-a']);
    const both = await json(OTHER, '/volumes?sort=name:asc&sort_key=id');
    assert.equal(both.status, 400);
    assert.equal(await (await json(OTHER, '/volumes?name=s-b')).body.volumes.length, 1);
    const page1 = await json(OTHER, '/volumes?sort=name:asc&limit=2');
    assert.deepEqual(names(page1), ['s-a', 's-b']);
    const next = page1.body.volumes_links[0];
    assert.equal(next.rel, 'next');
    const lastId = page1.body.volumes[1].id;
    assert.equal(next.href, `${api(OTHER)}/volumes?sort=name%3Aasc&limit=2&marker=${lastId}`);
    const page2 = await call(next.href, '', { token: OTHER.token });
    const p2 = (await page2.json()) as Json;
    assert.deepEqual(
      p2.volumes.map((v: Json) => v.name),
      ['s-c'],
    );
    assert.equal(p2.volumes_links, undefined);
    const demoNames = names(await json(DEMO, '/volumes?all_tenants=1'));
    assert.ok(!demoNames.includes('s-a'), 'all_tenants is ignored for non-admins');
    const badMarker = await json(OTHER, '/volumes?marker=nope');
    assert.equal(badMarker.status, 404);
    const counted = await json(OTHER, '/volumes?with_count=true&limit=1', { mv: '3.45' });
    assert.equal(counted.body.count, 3);
    assert.equal(counted.body.volumes.length, 1);
  });

  it('attaches with os-attach (in-use), refuses to delete (400), detaches with os-detach', async () => {
    const v = await createVolume(DEMO, { size: 1, name: 'att' });
    await settled(DEMO, `/volumes/${v.id}`, 'volume', 'available');
    const server = '11111111-2222-3333-4444-555555555555';
    const att = await req(DEMO, `/volumes/${v.id}/action`, {
      method: 'POST',
      json: { 'os-attach': { instance_uuid: server, mountpoint: '/dev/vdb' } },
    });
    assert.equal(att.status, 202);
    const shown = (await json(DEMO, `/volumes/${v.id}`)).body.volume;
    assert.equal(shown.status, 'in-use');
    assert.equal(shown.attachments.length, 1);
    assert.equal(shown.attachments[0].server_id, server);
    assert.equal(shown.attachments[0].device, '/dev/vdb');
    assert.deepEqual(shown.metadata, { readonly: 'False', attached_mode: 'rw' });
    const del = await json(DEMO, `/volumes/${v.id}`, { method: 'DELETE' });
    assert.equal(del.status, 400);
    assert.match(del.body.badRequest.message, /^Invalid volume: Volume status must be available/);
    const det = await req(DEMO, `/volumes/${v.id}/action`, {
      method: 'POST',
      json: { 'os-detach': { attachment_id: shown.attachments[0].attachment_id } },
    });
    assert.equal(det.status, 202);
    const after = (await json(DEMO, `/volumes/${v.id}`)).body.volume;
    assert.equal(after.status, 'available');
    assert.deepEqual(after.attachments, []);
    assert.equal((await req(DEMO, `/volumes/${v.id}`, { method: 'DELETE' })).status, 202);
    assert.equal((await json(DEMO, `/volumes/${v.id}`)).body.volume.status, 'deleting');
    const deadline = Date.now() + 10_000;
    while ((await req(DEMO, `/volumes/${v.id}`)).status !== 404) {
      if (Date.now() > deadline) assert.fail('volume was never deleted');
      await new Promise((r) => setTimeout(r, 10));
    }
  });

  it('attachments API (3.27+): reserve, update with connector, complete (3.44), delete', async () => {
    const v = await createVolume(DEMO, { size: 1, name: 'att2' });
    await settled(DEMO, `/volumes/${v.id}`, 'volume', 'available');
    const old = await json(DEMO, '/attachments');
    assert.equal(old.status, 404, 'attachments need 3.27');
    const server = '22222222-2222-3333-4444-555555555555';
    const created = await json(DEMO, '/attachments', {
      method: 'POST',
      mv: '3.27',
      json: { attachment: { volume_uuid: v.id, instance_uuid: server } },
    });
    assert.equal(created.status, 200);
    const a = created.body.attachment;
    assert.equal(a.status, 'reserved');
    assert.equal(a.attach_mode, 'null');
    assert.deepEqual(a.connection_info, {});
    assert.equal((await json(DEMO, `/volumes/${v.id}`)).body.volume.status, 'reserved');
    const upd = await json(DEMO, `/attachments/${a.id}`, {
      method: 'PUT',
      mv: '3.27',
      json: { attachment: { connector: { host: 'h', initiator: 'iqn.x', mountpoint: '/dev/vdc' } } },
    });
    assert.equal(upd.status, 200);
    assert.equal(upd.body.attachment.connection_info.driver_volume_type, 'iscsi');
    assert.equal(upd.body.attachment.connection_info.attachment_id, a.id);
    const done = await req(DEMO, `/attachments/${a.id}/action`, {
      method: 'POST',
      mv: '3.44',
      json: { 'os-complete': null },
    });
    assert.equal(done.status, 204);
    const shown = await json(DEMO, `/attachments/${a.id}`, { mv: '3.44' });
    assert.equal(shown.body.attachment.status, 'attached');
    assert.equal(shown.body.attachment.attach_mode, 'rw');
    const vol = (await json(DEMO, `/volumes/${v.id}`)).body.volume;
    assert.equal(vol.status, 'in-use');
    assert.equal(vol.attachments[0].device, '/dev/vdc');
    const list = await json(DEMO, '/attachments', { mv: '3.44' });
    assert.deepEqual(list.body.attachments, [{ id: a.id, status: 'attached', instance: server, volume_id: v.id }]);
    const del = await json(DEMO, `/attachments/${a.id}`, { method: 'DELETE', mv: '3.44' });
    assert.deepEqual(del.body, { attachments: [] });
    assert.equal((await json(DEMO, `/volumes/${v.id}`)).body.volume.status, 'available');
  });

  it('snapshots: create (available), list/detail, block volume delete without cascade', async () => {
    const v = await createVolume(DEMO, { size: 2, name: 'snapvol' });
    await settled(DEMO, `/volumes/${v.id}`, 'volume', 'available');
    const s = await json(DEMO, '/snapshots', { method: 'POST', json: { snapshot: { volume_id: v.id, name: 's1' } } });
    assert.equal(s.status, 202);
    assert.equal(s.body.snapshot.status, 'creating');
    assert.equal(s.body.snapshot.size, 2);
    const snap = await settled(DEMO, `/snapshots/${s.body.snapshot.id}`, 'snapshot', 'available');
    assert.equal(snap['os-extended-snapshot-attributes:progress'], '100%');
    const list = await json(DEMO, '/snapshots');
    assert.ok(list.body.snapshots.some((x: Json) => x.id === snap.id));
    assert.equal((await json(OTHER, `/snapshots/${snap.id}`)).status, 404);
    const del = await json(DEMO, `/volumes/${v.id}`, { method: 'DELETE' });
    assert.equal(del.status, 400);
    const fromSnap = await createVolume(DEMO, { snapshot_id: snap.id, name: 'from-snap' });
    assert.equal(fromSnap.size, 2);
    assert.equal(fromSnap.snapshot_id, snap.id);
    assert.equal((await req(DEMO, `/volumes/${v.id}?cascade=true`, { method: 'DELETE' })).status, 202);
  });

  it('quota sets with usage, 403 for other projects, and 413 overLimit when exceeded', async () => {
    const q = await json(DEMO, `/os-quota-sets/${DEMO.projectId}?usage=true`);
    assert.equal(q.status, 200);
    assert.equal(q.body.quota_set.id, DEMO.projectId);
    assert.deepEqual(Object.keys(q.body.quota_set.volumes).sort(), ['in_use', 'limit', 'reserved']);
    assert.equal(q.body.quota_set.volumes.limit, 10);
    const used = q.body.quota_set.volumes.in_use as number;
    assert.ok(used >= 1);
    assert.equal(q.body.quota_set['volumes_lvmdriver-1'].limit, -1);
    const plain = await json(DEMO, `/os-quota-sets/${DEMO.projectId}`);
    assert.equal(plain.body.quota_set.gigabytes, 1000);
    const other = await json(DEMO, `/os-quota-sets/${OTHER.projectId}`);
    assert.equal(other.status, 403);
    assert.equal(other.body.forbidden.message, "Policy doesn't allow volume_extension:quotas:show to be performed.");
    const big = await req(DEMO, '/volumes', { method: 'POST', json: { volume: { size: 2000 } } });
    assert.equal(big.status, 413);
    assert.equal(big.headers.get('retry-after'), '0');
    const body = (await big.json()) as Json;
    assert.equal(body.overLimit.code, 413);
    assert.match(
      body.overLimit.message,
      /^VolumeSizeExceedsAvailableQuota: Requested volume or snapshot exceeds allowed gigabytes quota\. Requested 2000G, quota is 1000G and \d+G has been consumed\.$/,
    );
    // Admin sets the volume count quota to 0: the next create is refused with VolumeLimitExceeded.
    const put = await call(api(ADMIN), `/os-quota-sets/${DEMO.projectId}`, {
      method: 'PUT',
      token: ADMIN.token,
      json: { quota_set: { volumes: 0 } },
    });
    try {
      assert.equal(put.status, 200);
      assert.equal(((await put.json()) as Json).quota_set.volumes, 0);
      const over = await json(DEMO, '/volumes', { method: 'POST', json: { volume: { size: 1 } } });
      assert.equal(over.status, 413);
      assert.equal(
        over.body.overLimit.message,
        "VolumeLimitExceeded: Maximum number of volumes allowed (0) exceeded for quota 'volumes'.",
      );
      const denied = await json(DEMO, `/os-quota-sets/${DEMO.projectId}`, {
        method: 'PUT',
        json: { quota_set: { volumes: 100 } },
      });
      assert.equal(denied.status, 403);
    } finally {
      await call(api(ADMIN), `/os-quota-sets/${DEMO.projectId}`, { method: 'DELETE', token: ADMIN.token });
    }
    const limits = await json(DEMO, '/limits');
    assert.equal(limits.body.limits.absolute.maxTotalVolumes, 10);
    assert.equal(typeof limits.body.limits.absolute.totalVolumesUsed, 'number');
  });

  it('backups: create → available, counted in quota usage, restore to a new volume, delete', async () => {
    const v = await createVolume(OTHER, { size: 1, name: 'to-back-up' });
    await settled(OTHER, `/volumes/${v.id}`, 'volume', 'available');
    const created = await json(OTHER, '/backups', {
      method: 'POST',
      json: { backup: { volume_id: v.id, name: 'b1' } },
    });
    assert.equal(created.status, 202);
    assert.deepEqual(Object.keys(created.body.backup).sort(), ['id', 'links', 'name']);
    const id = created.body.backup.id as string;
    const backup = await settled(OTHER, `/backups/${id}`, 'backup', 'available');
    assert.equal(backup.volume_id, v.id);
    assert.equal(backup.size, 1);
    await settled(OTHER, `/volumes/${v.id}`, 'volume', 'available');
    const q = await json(OTHER, `/os-quota-sets/${OTHER.projectId}?usage=true`);
    assert.equal(q.body.quota_set.backups.in_use, 1);
    assert.equal(q.body.quota_set.backup_gigabytes.in_use, 1);
    const restore = await json(OTHER, `/backups/${id}/restore`, {
      method: 'POST',
      json: { restore: { name: 'restored' } },
    });
    assert.equal(restore.status, 202);
    assert.equal(restore.body.restore.backup_id, id);
    assert.equal(restore.body.restore.volume_name, 'restored');
    const restored = await settled(OTHER, `/volumes/${restore.body.restore.volume_id}`, 'volume', 'available');
    assert.equal(restored.size, 1);
    await settled(OTHER, `/backups/${id}`, 'backup', 'available');
    assert.equal((await req(OTHER, `/backups/${id}`, { method: 'DELETE' })).status, 202);
    const deadline = Date.now() + 10_000;
    while ((await req(OTHER, `/backups/${id}`)).status !== 404) {
      if (Date.now() > deadline) assert.fail('backup was never deleted');
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal((await json(DEMO, `/backups/${id}`)).status, 404);
  });

  it('transfers a volume to another project with its auth key', async () => {
    const v = await createVolume(DEMO, { size: 1, name: 'gift' });
    await settled(DEMO, `/volumes/${v.id}`, 'volume', 'available');
    const t = await json(DEMO, '/os-volume-transfer', {
      method: 'POST',
      json: { transfer: { volume_id: v.id, name: 'tr' } },
    });
    assert.equal(t.status, 202);
    const transfer = t.body.transfer;
    assert.match(transfer.auth_key, /^[0-9a-f]{16}$/);
    assert.equal((await json(DEMO, `/volumes/${v.id}`)).body.volume.status, 'awaiting-transfer');
    const listed = await json(DEMO, '/os-volume-transfer');
    assert.deepEqual(Object.keys(listed.body.transfers[0]).sort(), ['id', 'links', 'name', 'volume_id']);
    const bad = await json(OTHER, `/os-volume-transfer/${transfer.id}/accept`, {
      method: 'POST',
      json: { accept: { auth_key: 'wrong' } },
    });
    assert.equal(bad.status, 400);
    assert.equal(
      bad.body.badRequest.message,
      `Invalid auth key: Attempt to transfer ${transfer.id} with invalid auth key.`,
    );
    const ok = await json(OTHER, `/os-volume-transfer/${transfer.id}/accept`, {
      method: 'POST',
      json: { accept: { auth_key: transfer.auth_key } },
    });
    assert.equal(ok.status, 202);
    assert.equal(ok.body.transfer.volume_id, v.id);
    assert.equal((await json(DEMO, `/volumes/${v.id}`)).status, 404);
    const mine = (await json(OTHER, `/volumes/${v.id}`)).body.volume;
    assert.equal(mine.status, 'available');
    assert.equal(mine['os-vol-tenant-attr:tenant_id'], OTHER.projectId);
  });

  it('volume types, availability zones and actions (extend, reset_status admin-only)', async () => {
    const types = await json(DEMO, '/types');
    assert.deepEqual(types.body.volume_types.map((t: Json) => t.name).sort(), ['__DEFAULT__', 'lvmdriver-1']);
    const dflt = await json(DEMO, '/types/default', { mv: '3.62' });
    assert.equal(dflt.body.volume_type.name, 'lvmdriver-1');
    const az = await json(DEMO, '/os-availability-zone');
    assert.deepEqual(az.body, { availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }] });
    const v = await createVolume(OTHER, { size: 1, name: 'ext' });
    await settled(OTHER, `/volumes/${v.id}`, 'volume', 'available');
    const ext = await req(OTHER, `/volumes/${v.id}/action`, { method: 'POST', json: { 'os-extend': { new_size: 3 } } });
    assert.equal(ext.status, 202);
    const extended = await settled(OTHER, `/volumes/${v.id}`, 'volume', 'available');
    assert.equal(extended.size, 3);
    const reset = await json(OTHER, `/volumes/${v.id}/action`, {
      method: 'POST',
      json: { 'os-reset_status': { status: 'error' } },
    });
    assert.equal(reset.status, 403);
    const nope = await json(OTHER, `/volumes/${v.id}/action`, { method: 'POST', json: { 'os-frobnicate': {} } });
    assert.equal(nope.status, 400);
  });

  it('creates bootable volumes from a Glance image and serves Nova through InternalApis.volumes', async () => {
    const imgs = (await (await call(`${cloud.baseUrl}/image`, '/v2/images', { token: DEMO.token })).json()) as Json;
    const image = imgs.images[0];
    const v = await createVolume(DEMO, { size: 1, imageRef: image.id, name: 'boot' });
    assert.equal(v.bootable, 'true');
    assert.equal(v.volume_image_metadata.image_id, image.id);
    assert.equal(v.volume_image_metadata.image_name, image.name);
    assert.equal(v.volume_image_metadata.checksum, image.checksum);
    assert.equal(v.volume_image_metadata.disk_format, image.disk_format);
    const internal = cloud.ctx.internal.volumes;
    const { id } = await internal.create({
      projectId: DEMO.projectId,
      userId: DEMO.userId,
      size: 1,
      imageId: image.id,
    });
    assert.equal(internal.get(id)?.status, 'available');
    internal.attach(id, 'server-1', '/dev/vda');
    assert.equal(internal.get(id)?.status, 'in-use');
    assert.throws(
      () => internal.delete(id),
      (err: Error & { status?: number }) => err.status === 400,
    );
    assert.throws(
      () => internal.attach(id, 'server-2', '/dev/vdb'),
      (err: Error & { status?: number }) => err.status === 400,
    );
    internal.detach(id, 'server-1');
    assert.equal(internal.get(id)?.status, 'available');
    const usage = cloud.ctx.internal.quotas.usage(DEMO.projectId);
    assert.ok(usage.volumes! >= 2);
    internal.delete(id);
    assert.equal(internal.get(id)?.status, 'deleting');
  });
});
