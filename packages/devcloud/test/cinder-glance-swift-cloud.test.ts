/** Cinder, Glance and Swift mounted in a real devcloud cloud: Keystone tokens, the catalog, cross-project policy. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cinderModule, cinderV3CatalogModule } from '../src/cinder/index.ts';
import { glanceModule } from '../src/glance/index.ts';
import { SqliteDatabase } from '../src/store.ts';
import { swiftModule } from '../src/swift/index.ts';
import { type Cloud, issueToken, startTestCloud } from './helpers.ts';

interface CatalogEntry {
  type: string;
  name: string;
  endpoints: { interface: string; url: string }[];
}

describe('storage services in a devcloud cloud', () => {
  let cloud: Cloud;
  let demo: { token: string; project: string; catalog: CatalogEntry[] };
  let admin: { token: string; project: string };
  before(async () => {
    cloud = await startTestCloud({ services: [cinderModule, cinderV3CatalogModule, glanceModule, swiftModule] });
    const d = await issueToken(cloud, 'demo');
    demo = {
      token: d.token,
      project: d.body.token.project!.id,
      catalog: (d.body.token as { catalog: CatalogEntry[] }).catalog,
    };
    const a = await issueToken(cloud, 'admin');
    admin = { token: a.token, project: a.body.token.project!.id };
  });
  after(async () => cloud.close());

  const url = (type: string) =>
    demo.catalog.find((c) => c.type === type)?.endpoints.find((e) => e.interface === 'public')?.url;

  it('lists block-storage, volumev3, image and object-store in the catalog with devstack-style URLs', () => {
    assert.equal(url('block-storage'), `${cloud.baseUrl}/volume/v3/${demo.project}`);
    assert.equal(url('volumev3'), `${cloud.baseUrl}/volume/v3/${demo.project}`);
    assert.equal(url('image'), `${cloud.baseUrl}/image`);
    assert.equal(url('object-store'), `${cloud.baseUrl}/object-store/v1/AUTH_${demo.project}`);
    assert.equal(demo.catalog.find((c) => c.type === 'volumev3')?.name, 'cinderv3');
  });

  it('serves each API through its catalog URL with a Keystone token', async () => {
    const h = { 'x-auth-token': demo.token, 'content-type': 'application/json' };
    const signal = () => AbortSignal.timeout(5000);
    const vol = await fetch(`${url('block-storage')}/volumes`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ volume: { size: 1, name: 'in-cloud' } }),
      signal: signal(),
    });
    assert.equal(vol.status, 202);
    const images = (await (await fetch(`${url('image')}/v2/images`, { headers: h, signal: signal() })).json()) as {
      images: { name: string }[];
    };
    assert.ok(images.images.some((i) => i.name === 'cirros-0.6.2-x86_64-disk'));
    const cont = await fetch(`${url('object-store')}/box`, {
      method: 'PUT',
      headers: { 'x-auth-token': demo.token },
      signal: signal(),
    });
    assert.equal(cont.status, 201);
    const obj = await fetch(`${url('object-store')}/box/o.json`, {
      method: 'PUT',
      headers: { 'x-auth-token': demo.token, 'content-type': 'application/json' },
      body: '{"not":"parsed"}',
      signal: signal(),
    });
    assert.equal(obj.status, 201, 'JSON object bodies are stored as bytes, not parsed');
    const back = await fetch(`${url('object-store')}/box/o.json`, {
      headers: { 'x-auth-token': demo.token },
      signal: signal(),
    });
    assert.equal(await back.text(), '{"not":"parsed"}');
    assert.equal(back.headers.get('content-type'), 'application/json');
  });

  it("keeps projects apart: demo cannot reach admin's Swift account, admin can reach demo's", async () => {
    const adminAcct = `${cloud.baseUrl}/object-store/v1/AUTH_${admin.project}`;
    const denied = await fetch(adminAcct, {
      method: 'HEAD',
      headers: { 'x-auth-token': demo.token },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(denied.status, 403);
    const ok = await fetch(url('object-store')!, {
      method: 'HEAD',
      headers: { 'x-auth-token': admin.token },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('x-account-container-count'), '1');
  });

  it('quota-set PUT by admin lands in the cloud quota store', async () => {
    const res = await fetch(`${cloud.baseUrl}/volume/v3/${admin.project}/os-quota-sets/${demo.project}`, {
      method: 'PUT',
      headers: { 'x-auth-token': admin.token, 'content-type': 'application/json' },
      body: JSON.stringify({ quota_set: { gigabytes: 7 } }),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 200);
    assert.equal(cloud.ctx.quotaLimit('volume', demo.project, 'gigabytes'), 7);
    const over = await fetch(`${url('block-storage')}/volumes`, {
      method: 'POST',
      headers: { 'x-auth-token': demo.token, 'content-type': 'application/json' },
      body: JSON.stringify({ volume: { size: 8 } }),
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(over.status, 413);
    assert.deepEqual(cloud.ctx.internal.quotas.usage(demo.project).volumes, 1);
  });
});

describe('storage data with persistent state', () => {
  it('keeps image and object bytes across a restart on the same SQLite state file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocx-storage-state-'));
    const services = [glanceModule, swiftModule];
    try {
      const db1 = new SqliteDatabase(join(dir, 'state.db'));
      const c1 = await startTestCloud({ services, store: db1.forCloud('persist') });
      const t1 = await issueToken(c1, 'demo');
      const pid = t1.body.token.project!.id;
      const h = { 'x-auth-token': t1.token };
      const img = (await (
        await fetch(`${c1.baseUrl}/image/v2/images`, {
          method: 'POST',
          headers: { ...h, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'kept', disk_format: 'raw', container_format: 'bare' }),
        })
      ).json()) as { id: string };
      await fetch(`${c1.baseUrl}/image/v2/images/${img.id}/file`, {
        method: 'PUT',
        headers: { ...h, 'content-type': 'application/octet-stream' },
        body: 'image bytes',
      });
      const acct = `${c1.baseUrl}/object-store/v1/AUTH_${pid}`;
      await fetch(`${acct}/keep`, { method: 'PUT', headers: h });
      await fetch(`${acct}/keep/obj`, { method: 'PUT', headers: h, body: 'object bytes' });
      // The bytes live beside the state file (<file>.data/<cloud>/<service>), not in a temp dir.
      const dataDir = join(dir, 'state.db.data', 'persist');
      assert.equal(c1.ctx.dataDir, dataDir);
      assert.ok(readdirSync(join(dataDir, 'glance')).length >= 2, 'seed image + uploaded image');
      assert.equal(readdirSync(join(dataDir, 'swift')).length, 1);
      await c1.close();
      assert.equal(readdirSync(join(dataDir, 'swift')).length, 1, 'kept after close');
      db1.close();

      const db2 = new SqliteDatabase(join(dir, 'state.db'));
      const c2 = await startTestCloud({ services, store: db2.forCloud('persist') });
      try {
        const t2 = await issueToken(c2, 'demo');
        const h2 = { 'x-auth-token': t2.token };
        const data = await fetch(`${c2.baseUrl}/image/v2/images/${img.id}/file`, { headers: h2 });
        assert.equal(await data.text(), 'image bytes');
        const obj = await fetch(`${c2.baseUrl}/object-store/v1/AUTH_${pid}/keep/obj`, { headers: h2 });
        assert.equal(await obj.text(), 'object bytes');
      } finally {
        await c2.close();
        db2.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('moves blobs of a state file from before dataDir (devcloud_blob_dirs) into the data dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocx-storage-legacy-'));
    const legacyDir = mkdtempSync(join(tmpdir(), 'ocx-legacy-swift-'));
    const services = [swiftModule];
    try {
      const db1 = new SqliteDatabase(join(dir, 'state.db'));
      const c1 = await startTestCloud({ services, store: db1.forCloud('old') });
      const t1 = await issueToken(c1, 'demo');
      const acct = `${c1.baseUrl}/object-store/v1/AUTH_${t1.body.token.project!.id}`;
      const h = { 'x-auth-token': t1.token };
      await fetch(`${acct}/keep`, { method: 'PUT', headers: h });
      await fetch(`${acct}/keep/obj`, { method: 'PUT', headers: h, body: 'old layout bytes' });
      await c1.close();
      // Rewrite the state into the old layout: blobs in a temp dir recorded in devcloud_blob_dirs.
      const swiftDir = join(dir, 'state.db.data', 'old', 'swift');
      for (const f of readdirSync(swiftDir)) renameSync(join(swiftDir, f), join(legacyDir, f));
      rmSync(join(dir, 'state.db.data'), { recursive: true, force: true });
      db1.forCloud('old').table<{ id: string; dir: string }>('devcloud_blob_dirs').put({ id: 'swift', dir: legacyDir });
      db1.close();

      const db2 = new SqliteDatabase(join(dir, 'state.db'));
      const c2 = await startTestCloud({ services, store: db2.forCloud('old') });
      try {
        const t2 = await issueToken(c2, 'demo');
        const obj = await fetch(`${acct.replace(c1.baseUrl, c2.baseUrl)}/keep/obj`, {
          headers: { 'x-auth-token': t2.token },
        });
        assert.equal(await obj.text(), 'old layout bytes');
        assert.equal(existsSync(legacyDir), false, 'the old temp dir is gone');
        assert.equal(c2.ctx.store.table<{ id: string }>('devcloud_blob_dirs').all().length, 0);
      } finally {
        await c2.close();
        db2.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(legacyDir, { recursive: true, force: true });
    }
  });

  it("keeps in-memory clouds' data in a temp dir removed on close", async () => {
    const c = await startTestCloud({ services: [glanceModule, swiftModule] });
    const dataDir = c.ctx.dataDir!;
    assert.ok(existsSync(join(dataDir, 'glance')));
    assert.ok(dataDir.startsWith(tmpdir()));
    await c.close();
    assert.equal(existsSync(dataDir), false);
  });

  it('a volume still creating when the cloud stops is available after a restart (and nothing fires after close)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ocx-storage-state-'));
    const services = [cinderModule, cinderV3CatalogModule];
    try {
      const db1 = new SqliteDatabase(join(dir, 'state.db'));
      const c1 = await startTestCloud({ services, store: db1.forCloud('persist'), transitionMs: 50 });
      const t1 = await issueToken(c1, 'demo');
      const pid = t1.body.token.project!.id;
      const res = await fetch(`${c1.baseUrl}/volume/v3/${pid}/volumes`, {
        method: 'POST',
        headers: { 'x-auth-token': t1.token, 'content-type': 'application/json' },
        body: JSON.stringify({ volume: { size: 1, name: 'mid-flight' } }),
      });
      const { volume } = (await res.json()) as { volume: { id: string; status: string } };
      assert.equal(volume.status, 'creating');
      await c1.close();
      db1.close();
      // Past the transition: a timer writing to the closed database would crash this process.
      await new Promise((r) => setTimeout(r, 120));
      const db2 = new SqliteDatabase(join(dir, 'state.db'));
      const c2 = await startTestCloud({ services, store: db2.forCloud('persist'), transitionMs: 50 });
      try {
        const t2 = await issueToken(c2, 'demo');
        const shown = await fetch(`${c2.baseUrl}/volume/v3/${pid}/volumes/${volume.id}`, {
          headers: { 'x-auth-token': t2.token },
        });
        assert.equal(((await shown.json()) as { volume: { status: string } }).volume.status, 'available');
      } finally {
        await c2.close();
        db2.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
