/** Cinder, Glance and Swift mounted in a real devcloud cloud: Keystone tokens, the catalog, cross-project policy. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cinderModule, cinderV3CatalogModule } from '../src/cinder/index.ts';
import { glanceModule } from '../src/glance/index.ts';
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
