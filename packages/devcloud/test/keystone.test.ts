import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Cloud, call, getToken, issueToken, type Json, startTestCloud } from './helpers.ts';

let cloud: Cloud;
before(async () => {
  cloud = await startTestCloud();
});
after(() => cloud.close());

const tokenBody = (auth: unknown) => ({ auth });
const password = (name: string, pw: string) => ({
  methods: ['password'],
  password: { user: { name, domain: { id: 'default' }, password: pw } },
});

describe('version discovery', () => {
  test('GET /identity answers 300 with the v3 version, GET /identity/v3 with the version document', async () => {
    const root = await call(cloud, 'GET', '/identity/');
    assert.equal(root.status, 300);
    const versions = (await root.json()) as {
      versions: { values: { id: string; status: string; links: { href: string }[] }[] };
    };
    assert.equal(versions.versions.values[0]?.status, 'stable');
    assert.equal(versions.versions.values[0]?.links[0]?.href, `${cloud.baseUrl}/identity/v3/`);
    const v3 = await call(cloud, 'GET', '/identity/v3');
    assert.equal(v3.status, 200);
    const doc = (await v3.json()) as { version: { id: string; 'media-types': unknown[] } };
    assert.match(doc.version.id, /^v3\.\d+$/);
  });
});

describe('password auth', () => {
  test('project-scoped token: 201, X-Subject-Token, body like Keystone', async () => {
    const { token, body } = await issueToken(cloud, 'demo', 'demo');
    assert.ok(token.length >= 40, 'token is long and random');
    const t = body.token as Record<string, Json>;
    assert.deepEqual(t.methods, ['password']);
    assert.equal(t.user.name, 'demo');
    assert.deepEqual(t.user.domain, { id: 'default', name: 'Default' });
    assert.equal(t.project.name, 'demo');
    assert.deepEqual(t.roles.map((r: { name: string }) => r.name).sort(), ['member', 'reader']);
    assert.match(t.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.match(t.issued_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(t.audit_ids.length, 1);
    const identity = t.catalog.find((s: { type: string }) => s.type === 'identity');
    assert.ok(identity);
    assert.deepEqual(identity.endpoints.map((e: { interface: string }) => e.interface).sort(), [
      'admin',
      'internal',
      'public',
    ]);
    assert.equal(identity.endpoints[0].url, `${cloud.baseUrl}/identity/v3`);
    assert.equal(identity.endpoints[0].region_id, 'RegionOne');
  });

  test('two logins give different tokens', async () => {
    const a = await getToken(cloud, 'demo');
    const b = await getToken(cloud, 'demo');
    assert.notEqual(a, b);
  });

  test('admin token carries admin and the implied member and reader roles', async () => {
    const { body } = await issueToken(cloud, 'admin', 'admin');
    const roles = (body.token.roles as { name: string }[]).map((r) => r.name).sort();
    assert.deepEqual(roles, ['admin', 'member', 'reader']);
  });

  test('without a scope, demo lands in its default project and admin gets an unscoped token (as in the real harness)', async () => {
    const demo = await issueToken(cloud, 'demo', null);
    assert.equal(demo.body.token.project?.name, 'demo');
    const admin = await issueToken(cloud, 'admin', null);
    assert.equal(admin.body.token.project, undefined);
    assert.ok(Array.isArray(admin.body.token.service_providers) || admin.body.token.service_providers === undefined);
    const cat = await call(cloud, 'GET', '/identity/v3/auth/catalog', admin.token);
    assert.equal(cat.status, 403);
  });

  test('?nocatalog leaves the catalog out', async () => {
    const res = await call(
      cloud,
      'POST',
      '/identity/v3/auth/tokens?nocatalog',
      undefined,
      tokenBody({ ...{ identity: password('demo', 'demo-secret') } }),
    );
    assert.equal(res.status, 201);
    const body = (await res.json()) as { token: Record<string, unknown> };
    assert.equal(body.token.catalog, undefined);
  });

  test('wrong password: 401 with Keystone error body and WWW-Authenticate', async () => {
    const res = await call(
      cloud,
      'POST',
      '/identity/v3/auth/tokens',
      undefined,
      tokenBody({ identity: password('demo', 'nope') }),
    );
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Keystone uri="/);
    assert.deepEqual(await res.json(), {
      error: { code: 401, message: 'The request you have made requires authentication.', title: 'Unauthorized' },
    });
  });

  test('scope to a project without a role: 401', async () => {
    const res = await call(cloud, 'POST', '/identity/v3/auth/tokens', undefined, {
      auth: {
        identity: password('demo', 'demo-secret'),
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    });
    assert.equal(res.status, 401);
  });

  test('malformed request: 400 Bad Request body', async () => {
    const res = await call(cloud, 'POST', '/identity/v3/auth/tokens', undefined, { auth: {} });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: number; title: string } };
    assert.equal(body.error.code, 400);
    assert.equal(body.error.title, 'Bad Request');
  });

  test('unscoped request without a default project gives an unscoped token without catalog or roles', async () => {
    const admin = await getToken(cloud, 'admin');
    const created = await call(cloud, 'POST', '/identity/v3/users', admin, {
      user: { name: 'loner', password: 'pw-loner', domain_id: 'default' },
    });
    assert.equal(created.status, 201);
    const res = await call(
      cloud,
      'POST',
      '/identity/v3/auth/tokens',
      undefined,
      tokenBody({ identity: password('loner', 'pw-loner') }),
    );
    assert.equal(res.status, 201);
    const t = ((await res.json()) as { token: Record<string, unknown> }).token;
    assert.equal(t.project, undefined);
    assert.equal(t.roles, undefined);
    assert.equal(t.catalog, undefined);
  });
});

describe('token validation and revocation', () => {
  test('demo may validate its own token but not the admin token (403)', async () => {
    const demo = await getToken(cloud, 'demo');
    const admin = await getToken(cloud, 'admin');
    assert.equal(
      (await call(cloud, 'GET', '/identity/v3/auth/tokens', demo, undefined, { 'x-subject-token': demo })).status,
      200,
    );
    const res = await call(cloud, 'GET', '/identity/v3/auth/tokens', demo, undefined, { 'x-subject-token': admin });
    assert.equal(res.status, 403);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, /identity:validate_token/);
  });

  test('GET /v3/auth/tokens validates; HEAD answers 200; DELETE revokes; then 404 and 401', async () => {
    const admin = await getToken(cloud, 'admin');
    const subject = await getToken(cloud, 'demo');
    const ok = await call(cloud, 'GET', '/identity/v3/auth/tokens', admin, undefined, { 'x-subject-token': subject });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('x-subject-token'), subject);
    const body = (await ok.json()) as { token: { user: { name: string } } };
    assert.equal(body.token.user.name, 'demo');
    const head = await call(cloud, 'HEAD', '/identity/v3/auth/tokens', admin, undefined, {
      'x-subject-token': subject,
    });
    assert.equal(head.status, 200);
    const del = await call(cloud, 'DELETE', '/identity/v3/auth/tokens', subject, undefined, {
      'x-subject-token': subject,
    });
    assert.equal(del.status, 204);
    const gone = await call(cloud, 'GET', '/identity/v3/auth/tokens', admin, undefined, { 'x-subject-token': subject });
    assert.equal(gone.status, 404);
    const used = await call(cloud, 'GET', '/identity/v3/auth/projects', subject);
    assert.equal(used.status, 401);
    assert.equal(cloud.ctx.validateToken(subject), undefined);
  });

  test('a garbage token is rejected with 401', async () => {
    const res = await call(cloud, 'GET', '/identity/v3/auth/projects', 'gAAAAAnotatoken');
    assert.equal(res.status, 401);
  });

  test('an expired token is invalid for Keystone and for services', async () => {
    const token = await getToken(cloud, 'demo');
    assert.ok(cloud.ctx.validateToken(token));
    for (const row of cloud.keystone.tokens.all()) {
      if (cloud.keystone.lookup(token)?.id === row.id)
        cloud.keystone.tokens.put({ ...row, expiresAt: new Date(Date.now() - 1000).toISOString() });
    }
    assert.equal(cloud.ctx.validateToken(token), undefined);
    const res = await call(cloud, 'GET', '/identity/v3/auth/projects', token);
    assert.equal(res.status, 401);
  });

  test('token rescope keeps the expiry and chains audit ids', async () => {
    const { token, body } = await issueToken(cloud, 'demo', null);
    const res = await call(cloud, 'POST', '/identity/v3/auth/tokens', undefined, {
      auth: {
        identity: { methods: ['token'], token: { id: token } },
        scope: { project: { name: 'demo', domain: { name: 'Default' } } },
      },
    });
    assert.equal(res.status, 201);
    const t = ((await res.json()) as { token: Record<string, Json> }).token;
    assert.deepEqual(t.methods, ['token', 'password']);
    assert.equal(t.expires_at, body.token.expires_at);
    assert.equal(t.audit_ids[1], (body.token.audit_ids as string[])[0]);
    assert.equal(t.project.name, 'demo');
  });

  test('validateToken gives services the user, project and roles', async () => {
    const token = await getToken(cloud, 'admin');
    const info = cloud.ctx.validateToken(token);
    assert.equal(info?.userName, 'admin');
    assert.equal(info?.projectName, 'admin');
    assert.equal(info?.isAdmin, true);
    const demo = cloud.ctx.validateToken(await getToken(cloud, 'demo'));
    assert.equal(demo?.isAdmin, false);
    assert.deepEqual(demo?.roles.sort(), ['member', 'reader']);
  });
});

describe('catalog and scopes', () => {
  test('GET /v3/auth/catalog, /v3/auth/projects, /v3/auth/domains', async () => {
    const token = await getToken(cloud, 'demo');
    const cat = await call(cloud, 'GET', '/identity/v3/auth/catalog', token);
    assert.equal(cat.status, 200);
    const catalog = ((await cat.json()) as { catalog: { type: string }[] }).catalog;
    assert.ok(catalog.some((s) => s.type === 'identity'));
    const projects = await call(cloud, 'GET', '/identity/v3/auth/projects', token);
    const list = (await projects.json()) as { projects: { name: string }[]; links: { self: string } };
    assert.deepEqual(
      list.projects.map((p) => p.name),
      ['demo'],
    );
    assert.equal(list.links.self, `${cloud.baseUrl}/identity/v3/auth/projects`);
    const domains = await call(cloud, 'GET', '/identity/v3/auth/domains', token);
    assert.equal(domains.status, 200);
  });
});

describe('identity admin API', () => {
  test('demo may not list projects or users (403 with the policy name)', async () => {
    const token = await getToken(cloud, 'demo');
    const res = await call(cloud, 'GET', '/identity/v3/projects', token);
    assert.equal(res.status, 403);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /identity:list_projects/);
    assert.equal((await call(cloud, 'GET', '/identity/v3/users', token)).status, 403);
  });

  test('demo lists its own projects through /v3/users/{id}/projects', async () => {
    const { token, body } = await issueToken(cloud, 'demo');
    const uid = (body.token.user as { id: string }).id;
    const res = await call(cloud, 'GET', `/identity/v3/users/${uid}/projects`, token);
    assert.equal(res.status, 200);
    const names = ((await res.json()) as { projects: { name: string }[] }).projects.map((p) => p.name);
    assert.deepEqual(names, ['demo']);
  });

  test('admin creates a project, a user and a grant; the user then logs into it', async () => {
    const admin = await getToken(cloud, 'admin');
    const p = await call(cloud, 'POST', '/identity/v3/projects', admin, {
      project: { name: 'team-a', domain_id: 'default' },
    });
    assert.equal(p.status, 201);
    const project = ((await p.json()) as { project: { id: string; links: { self: string } } }).project;
    assert.equal(project.links.self, `${cloud.baseUrl}/identity/v3/projects/${project.id}`);
    const dup = await call(cloud, 'POST', '/identity/v3/projects', admin, {
      project: { name: 'team-a', domain_id: 'default' },
    });
    assert.equal(dup.status, 409);
    const u = await call(cloud, 'POST', '/identity/v3/users', admin, {
      user: { name: 'alice', password: 'alice-pw', domain_id: 'default' },
    });
    const user = ((await u.json()) as { user: { id: string } }).user;
    const roles = (await (await call(cloud, 'GET', '/identity/v3/roles?name=member', admin)).json()) as {
      roles: { id: string }[];
    };
    const member = roles.roles[0]?.id as string;
    const grant = await call(
      cloud,
      'PUT',
      `/identity/v3/projects/${project.id}/users/${user.id}/roles/${member}`,
      admin,
    );
    assert.equal(grant.status, 204);
    const login = await call(cloud, 'POST', '/identity/v3/auth/tokens', undefined, {
      auth: { identity: password('alice', 'alice-pw'), scope: { project: { id: project.id } } },
    });
    assert.equal(login.status, 201);
    const ra = await call(
      cloud,
      'GET',
      `/identity/v3/role_assignments?user.id=${user.id}&scope.project.id=${project.id}&include_names`,
      admin,
    );
    const assignments = (
      (await ra.json()) as {
        role_assignments: { role: { name: string }; user: { name: string }; scope: { project: { name: string } } }[];
      }
    ).role_assignments;
    assert.equal(assignments.length, 1);
    assert.equal(assignments[0]?.role.name, 'member');
    assert.equal(assignments[0]?.user.name, 'alice');
    assert.equal(assignments[0]?.scope.project.name, 'team-a');
    const missing = await call(cloud, 'GET', '/identity/v3/projects/does-not-exist', admin);
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      error: { code: 404, message: 'Could not find project: does-not-exist.', title: 'Not Found' },
    });
  });

  test('services and endpoints list the catalog entries', async () => {
    const admin = await getToken(cloud, 'admin');
    const services = (
      (await (await call(cloud, 'GET', '/identity/v3/services', admin)).json()) as {
        services: { id: string; type: string }[];
      }
    ).services;
    const identity = services.find((s) => s.type === 'identity');
    assert.ok(identity);
    const eps = (await (
      await call(cloud, 'GET', `/identity/v3/endpoints?service_id=${identity.id}&interface=public`, admin)
    ).json()) as {
      endpoints: { url: string }[];
    };
    assert.deepEqual(
      eps.endpoints.map((e) => e.url),
      [`${cloud.baseUrl}/identity/v3`],
    );
  });
});

describe('application credentials', () => {
  test('create with a project token, authenticate with id+secret and name+user, delete revokes', async () => {
    const { token, body } = await issueToken(cloud, 'demo');
    const uid = (body.token.user as { id: string }).id;
    const created = await call(cloud, 'POST', `/identity/v3/users/${uid}/application_credentials`, token, {
      application_credential: { name: 'ci' },
    });
    assert.equal(created.status, 201);
    const ac = (
      (await created.json()) as {
        application_credential: { id: string; secret: string; project_id: string; roles: { name: string }[] };
      }
    ).application_credential;
    assert.ok(ac.secret.length > 20);
    assert.deepEqual(ac.roles.map((r) => r.name).sort(), ['member', 'reader']);
    const byId = await call(cloud, 'POST', '/identity/v3/auth/tokens', undefined, {
      auth: {
        identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: ac.secret } },
      },
    });
    assert.equal(byId.status, 201);
    const acToken = byId.headers.get('x-subject-token') as string;
    const t = ((await byId.json()) as { token: Record<string, Json> }).token;
    assert.deepEqual(t.methods, ['application_credential']);
    assert.equal(t.project.id, ac.project_id);
    assert.equal(t.application_credential.id, ac.id);
    const byName = await call(cloud, 'POST', '/identity/v3/auth/tokens', undefined, {
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { name: 'ci', secret: ac.secret, user: { name: 'demo', domain: { id: 'default' } } },
        },
      },
    });
    assert.equal(byName.status, 201);
    const wrong = await call(cloud, 'POST', '/identity/v3/auth/tokens', undefined, {
      auth: {
        identity: { methods: ['application_credential'], application_credential: { id: ac.id, secret: 'wrong' } },
      },
    });
    assert.equal(wrong.status, 401);
    const del = await call(cloud, 'DELETE', `/identity/v3/users/${uid}/application_credentials/${ac.id}`, token);
    assert.equal(del.status, 204);
    assert.equal(cloud.ctx.validateToken(acToken), undefined);
  });
});
