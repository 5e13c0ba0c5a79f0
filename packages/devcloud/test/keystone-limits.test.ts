// devcloud Keystone's unified limits (routes-limits.ts), checked against the shapes of Keystone's API reference:
// `registered_limits`/`limits` collections with `default_limit`/`resource_limit`, creating is for admins, and a
// non-admin project-scoped token sees only its own project's limits.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Cloud, call, getToken, type Json, projectId, startTestCloud } from './helpers.ts';

let cloud: Cloud;
before(async () => {
  cloud = await startTestCloud();
});
after(() => cloud.close());

test('registered limits and project limits: admin creates, everyone reads, non-admins only their project', async () => {
  const admin = await getToken(cloud, 'admin');
  const demo = await getToken(cloud, 'demo');
  const svc = cloud.keystone.services.filter((s) => s.type === 'identity')[0];
  assert.ok(svc);
  const reg = { service_id: svc.id, resource_name: 'servers', default_limit: 10, region_id: 'RegionOne' };
  assert.equal(
    (await call(cloud, 'POST', '/identity/v3/registered_limits', demo, { registered_limits: [reg] })).status,
    403,
  );
  const made = await call(cloud, 'POST', '/identity/v3/registered_limits', admin, { registered_limits: [reg] });
  assert.equal(made.status, 201);
  const body = (await made.json()) as Json;
  assert.equal(body.registered_limits[0].default_limit, 10);
  assert.match(body.registered_limits[0].links.self, /\/v3\/registered_limits\/[0-9a-f]{32}$/);
  assert.equal(
    (await call(cloud, 'POST', '/identity/v3/registered_limits', admin, { registered_limits: [reg] })).status,
    409,
  );

  const limit = (project: string, n: number) => ({
    project_id: projectId(cloud, project),
    service_id: svc.id,
    region_id: 'RegionOne',
    resource_name: 'servers',
    resource_limit: n,
  });
  const own = await call(cloud, 'POST', '/identity/v3/limits', admin, {
    limits: [limit('demo', 4), limit('admin', 20)],
  });
  assert.equal(own.status, 201);
  // A limit for a resource nobody registered is refused.
  const unregistered = { ...limit('demo', 1), resource_name: 'cores' };
  assert.equal((await call(cloud, 'POST', '/identity/v3/limits', admin, { limits: [unregistered] })).status, 400);

  const regs = (await (await call(cloud, 'GET', '/identity/v3/registered_limits', demo)).json()) as Json;
  assert.deepEqual(
    regs.registered_limits.map((r: Json) => [r.resource_name, r.default_limit]),
    [['servers', 10]],
  );
  const demoSees = (await (await call(cloud, 'GET', '/identity/v3/limits', demo)).json()) as Json;
  assert.deepEqual(
    demoSees.limits.map((l: Json) => [l.project_id, l.resource_limit]),
    [[projectId(cloud, 'demo'), 4]],
  );
  const adminSees = (await (
    await call(cloud, 'GET', '/identity/v3/limits?resource_name=servers', admin)
  ).json()) as Json;
  assert.equal(adminSees.limits.length, 2);
  assert.equal((await call(cloud, 'GET', '/identity/v3/limits')).status, 401);
});
