// Keystone regions as real Keystone serves them: admins create and delete regions, an endpoint in an unknown
// region creates that region, and a region still holding endpoints cannot be deleted.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Cloud, call, getToken, type Json, startTestCloud } from './helpers.ts';

describe('keystone: regions', () => {
  let cloud: Cloud;
  let admin: string;
  before(async () => {
    cloud = await startTestCloud();
    admin = await getToken(cloud, 'admin', 'admin');
  });
  after(() => cloud.close());

  it('create (201), duplicate (409), list, delete (204)', async () => {
    const made = await call(cloud, 'POST', '/identity/v3/regions', admin, { region: { id: 'east', description: 'x' } });
    assert.equal(made.status, 201);
    const body = (await made.json()) as Json;
    assert.equal(body.region.id, 'east');
    assert.match(body.region.links.self, /\/v3\/regions\/east$/);
    const dup = await call(cloud, 'POST', '/identity/v3/regions', admin, { region: { id: 'east' } });
    assert.equal(dup.status, 409);
    assert.match(((await dup.json()) as Json).error.message, /Duplicate ID, east/);
    const list = (await (await call(cloud, 'GET', '/identity/v3/regions', admin)).json()) as Json;
    assert.ok(list.regions.some((r: Json) => r.id === 'east'));
    assert.equal((await call(cloud, 'DELETE', '/identity/v3/regions/east', admin)).status, 204);
    assert.equal((await call(cloud, 'GET', '/identity/v3/regions/east', admin)).status, 404);
  });

  it('a member may not create regions', async () => {
    const demo = await getToken(cloud);
    const res = await call(cloud, 'POST', '/identity/v3/regions', demo, { region: { id: 'nope' } });
    assert.equal(res.status, 403);
  });

  it('an endpoint in an unknown region creates it; the region cannot go while it has endpoints', async () => {
    const services = ((await (await call(cloud, 'GET', '/identity/v3/services', admin)).json()) as Json).services;
    const identity = services.find((s: Json) => s.type === 'identity');
    const ep = await call(cloud, 'POST', '/identity/v3/endpoints', admin, {
      endpoint: { service_id: identity.id, interface: 'public', region_id: 'west', url: 'http://127.0.0.1:1/x' },
    });
    assert.equal(ep.status, 201);
    const epId = ((await ep.json()) as Json).endpoint.id;
    assert.equal((await call(cloud, 'GET', '/identity/v3/regions/west', admin)).status, 200);
    const blocked = await call(cloud, 'DELETE', '/identity/v3/regions/west', admin);
    assert.equal(blocked.status, 403);
    assert.match(((await blocked.json()) as Json).error.message, /associated endpoints/);
    assert.equal((await call(cloud, 'DELETE', `/identity/v3/endpoints/${epId}`, admin)).status, 204);
    assert.equal((await call(cloud, 'DELETE', '/identity/v3/regions/west', admin)).status, 204);
  });
});
