import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthContext } from '../src/auth/index.ts';
import {
  ApplicationCredentialAuth,
  authFromConfig,
  cachedAccess,
  clearDiscoveryCache,
  MemoryTokenCache,
  PasswordAuth,
  scopeFromAuthConfig,
  TokenAuth,
} from '../src/auth/index.ts';
import type { CloudConfig } from '../src/config/types.ts';
import { ErrorCode, OcxError } from '../src/errors/index.ts';
import { createTransport } from '../src/transport/index.ts';
import { FakeKeystone } from './auth-fixtures.ts';
import { closedPort, startServer } from './transport-helpers.ts';

const transport = createTransport({ retry: false });
const ctx: AuthContext = { transport, timeoutMs: 5000 };
let ks: FakeKeystone;
let devstack: FakeKeystone;
let noDoc: FakeKeystone;

before(async () => {
  ks = await FakeKeystone.start();
  devstack = await FakeKeystone.start({ prefix: '/identity' });
  noDoc = await FakeKeystone.start({ versionDoc: false });
});
after(async () => {
  await Promise.all([ks.close(), devstack.close(), noDoc.close(), transport.close()]);
});

// biome-ignore lint/suspicious/noExplicitAny: JSON request body from the wire
function lastAuthBody(k: FakeKeystone): any {
  const r = [...k.requests].reverse().find((x) => x.method === 'POST' && x.url.endsWith('/v3/auth/tokens'));
  return JSON.parse(r!.body);
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<OcxError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof OcxError, `expected OcxError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${code}, got ${err.code}: ${err.message}`);
    return err;
  }
  assert.fail(`expected rejection with ${code}`);
}

function cloud(authType: CloudConfig['authType'], auth: CloudConfig['auth']): CloudConfig {
  return {
    name: 'test',
    regionName: '',
    regions: [],
    authType,
    auth,
    interface: 'public',
    identityApiVersion: '3',
    services: {},
    verify: true,
    extra: {},
  };
}

describe('auth: password', () => {
  it('user name + domain name, project by name + domain: sends the v3 body and reads AccessInfo', async () => {
    const plugin = authFromConfig(
      cloud('password', {
        auth_url: ks.url,
        username: 'demo',
        password: 'demo-secret',
        user_domain_name: 'Default',
        project_name: 'demo',
        project_domain_name: 'Default',
      }),
    );
    const access = await plugin.authenticate(ctx);
    assert.deepEqual(lastAuthBody(ks).auth, {
      identity: {
        methods: ['password'],
        password: { user: { name: 'demo', domain: { name: 'Default' }, password: 'demo-secret' } },
      },
      scope: { project: { name: 'demo', domain: { name: 'Default' } } },
    });
    assert.equal(access.project?.id, 'p-demo');
    assert.equal(access.project?.domain?.id, 'default');
    assert.equal(access.user.name, 'demo');
    assert.equal(access.user.id, 'u-demo');
    assert.deepEqual(access.methods, ['password']);
    assert.deepEqual(
      access.roles.map((r) => r.name),
      ['member'],
    );
    assert.equal(access.catalog[0]?.type, 'identity');
    assert.equal(access.identityUrl, ks.v3);
    assert.equal(access.unscoped, false);
    assert.ok(access.expiresAt.getTime() > Date.now());
    assert.ok(ks.tokens.has(access.token), 'the token is the X-Subject-Token the server issued');
  });

  it('user by id + project by id', async () => {
    const access = await new PasswordAuth({
      authUrl: `${ks.url}/v3`,
      userId: 'u-demo',
      password: 'demo-secret',
      scope: { kind: 'project', id: 'p-demo' },
    }).authenticate(ctx);
    assert.deepEqual(lastAuthBody(ks).auth.identity.password.user, { id: 'u-demo', password: 'demo-secret' });
    assert.deepEqual(lastAuthBody(ks).auth.scope, { project: { id: 'p-demo' } });
    assert.equal(access.project?.name, 'demo');
  });

  it('domain scope, system scope and unscoped', async () => {
    const base = { auth_url: ks.url, username: 'admin', password: 'admin-secret', user_domain_id: 'default' };
    const dom = await authFromConfig(cloud('password', { ...base, domain_id: 'default' })).authenticate(ctx);
    assert.deepEqual(lastAuthBody(ks).auth.scope, { domain: { id: 'default' } });
    assert.equal(dom.domain?.id, 'default');
    assert.equal(dom.project, undefined);
    const sys = await authFromConfig(cloud('v3password', { ...base, system_scope: 'all' })).authenticate(ctx);
    assert.deepEqual(lastAuthBody(ks).auth.scope, { system: { all: true } });
    assert.equal(sys.system, true);
    const un = await authFromConfig(cloud('password', base)).authenticate(ctx);
    assert.equal(lastAuthBody(ks).auth.scope, undefined);
    assert.equal(un.unscoped, true);
    assert.deepEqual(un.catalog, []);
  });

  it('a wrong password is AUTH_FAILED with the server message, and the password is nowhere in the error', async () => {
    const err = await rejectsWith(
      new PasswordAuth({
        authUrl: ks.url,
        username: 'demo',
        password: 'wrong-password-x',
        userDomain: { id: 'default' },
      }).authenticate(ctx),
      ErrorCode.AUTH_FAILED,
    );
    assert.equal(err.status, 401);
    assert.match(err.message, /requires authentication/);
    assert.ok(!JSON.stringify(err.toJSON()).includes('wrong-password-x'));
    assert.ok(!err.message.includes('wrong-password-x'));
  });

  it('a username without a domain uses the default domain (python-openstackclient behaviour)', async () => {
    await authFromConfig(
      cloud('password', { auth_url: ks.url, username: 'demo', password: 'demo-secret', project_name: 'demo' }),
    ).authenticate(ctx);
    assert.deepEqual(lastAuthBody(ks).auth.identity.password.user.domain, { id: 'default' });
    assert.deepEqual(lastAuthBody(ks).auth.scope.project.domain, { id: 'default' });
  });

  it('an unreachable Keystone is UNREACHABLE, not AUTH_FAILED', async () => {
    const port = await closedPort();
    await rejectsWith(
      new PasswordAuth({ authUrl: `http://127.0.0.1:${port}`, userId: 'u', password: 'p-secret' }).authenticate(ctx),
      ErrorCode.UNREACHABLE,
    );
  });
});

describe('auth: connection failures', () => {
  it('a token request on a connection that resets is retried (issuing a token is safe to repeat)', async () => {
    let n = 0;
    const flaky = await startServer((_req, res, raw) => {
      n++;
      if (n === 1) {
        raw.socket.destroy();
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': 'gAAAAAretried-token-1' });
      res.end(
        JSON.stringify({
          token: {
            methods: ['password'],
            user: { id: 'u', name: 'u' },
            expires_at: new Date(Date.now() + 3_600_000).toISOString(),
          },
        }),
      );
    });
    const t = createTransport({ retry: { baseDelayMs: 1 } });
    try {
      const a = await new PasswordAuth({ authUrl: `${flaky.url}/v3`, userId: 'u', password: 'pw-secret' }).authenticate(
        { transport: t },
      );
      assert.equal(a.token, 'gAAAAAretried-token-1');
      assert.equal(flaky.requests.length, 2);
    } finally {
      await t.close();
      await flaky.close();
    }
  });
});

describe('auth: version discovery from auth_url', () => {
  it('an unversioned auth_url is discovered once (GET /, 300 Multiple Choices) and the v3 link used', async () => {
    clearDiscoveryCache();
    const before = ks.requests.length;
    const p = new PasswordAuth({ authUrl: ks.url, userId: 'u-demo', password: 'demo-secret' });
    await p.authenticate(ctx);
    await p.authenticate(ctx);
    const seen = ks.requests.slice(before).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(seen, ['GET /', 'POST /v3/auth/tokens', 'POST /v3/auth/tokens']);
  });

  it('a devstack path prefix (/identity) is kept', async () => {
    const a = await new PasswordAuth({
      authUrl: `${devstack.url}/`,
      userId: 'u-demo',
      password: 'demo-secret',
    }).authenticate(ctx);
    assert.equal(a.identityUrl, `${devstack.url}/v3`);
    assert.deepEqual(
      devstack.requests.map((r) => `${r.method} ${r.url}`),
      ['GET /identity/', 'POST /identity/v3/auth/tokens'],
    );
  });

  it('an auth_url ending in /v3 is used without discovery', async () => {
    const before = ks.requests.length;
    await new PasswordAuth({ authUrl: `${ks.url}/v3/`, userId: 'u-demo', password: 'demo-secret' }).authenticate(ctx);
    assert.deepEqual(
      ks.requests.slice(before).map((r) => r.url),
      ['/v3/auth/tokens'],
    );
  });

  it('without a version document, <auth_url>/v3 is assumed', async () => {
    const a = await new PasswordAuth({ authUrl: noDoc.url, userId: 'u-demo', password: 'demo-secret' }).authenticate(
      ctx,
    );
    assert.equal(a.identityUrl, noDoc.v3);
  });
});

describe('auth: token and application credential', () => {
  it('token auth exchanges a token for a project-scoped one', async () => {
    const unscoped = await new PasswordAuth({
      authUrl: ks.url,
      userId: 'u-demo',
      password: 'demo-secret',
    }).authenticate(ctx);
    const plugin = authFromConfig(cloud('v3token', { auth_url: ks.url, token: unscoped.token, project_id: 'p-demo' }));
    const scoped = await plugin.authenticate(ctx);
    assert.deepEqual(lastAuthBody(ks).auth, {
      identity: { methods: ['token'], token: { id: unscoped.token } },
      scope: { project: { id: 'p-demo' } },
    });
    assert.equal(scoped.project?.id, 'p-demo');
    assert.notEqual(scoped.token, unscoped.token);
  });

  it('an unknown token is AUTH_FAILED', async () => {
    await rejectsWith(
      new TokenAuth({ authUrl: ks.url, token: 'gAAAAAnot-a-real-token' }).authenticate(ctx),
      ErrorCode.AUTH_FAILED,
    );
  });

  it('application credential by id: no scope is sent, the credential’s project comes back', async () => {
    const access = await authFromConfig(
      cloud('v3applicationcredential', {
        auth_url: ks.url,
        application_credential_id: 'ac-1',
        application_credential_secret: 'ac-secret-1',
        project_name: 'ignored',
      }),
    ).authenticate(ctx);
    assert.deepEqual(lastAuthBody(ks).auth, {
      identity: { methods: ['application_credential'], application_credential: { id: 'ac-1', secret: 'ac-secret-1' } },
    });
    assert.equal(access.project?.id, 'p-demo');
  });

  it('application credential by name + user name + domain', async () => {
    await new ApplicationCredentialAuth({
      authUrl: ks.url,
      name: 'ci',
      username: 'demo',
      userDomain: { name: 'Default' },
      secret: 'ac-secret-1',
    }).authenticate(ctx);
    assert.deepEqual(lastAuthBody(ks).auth.identity.application_credential, {
      name: 'ci',
      secret: 'ac-secret-1',
      user: { name: 'demo', domain: { name: 'Default' } },
    });
    await rejectsWith(
      new ApplicationCredentialAuth({ authUrl: ks.url, id: 'ac-1', secret: 'wrong-secret' }).authenticate(ctx),
      ErrorCode.AUTH_FAILED,
    );
  });
});

describe('auth: configuration errors', () => {
  it('missing pieces are CONFIG_INVALID naming the key', () => {
    const cases: Array<[CloudConfig['authType'], CloudConfig['auth'], string]> = [
      ['password', { username: 'x', password: 'y' }, 'auth.auth_url'],
      ['password', { auth_url: 'http://k', username: 'x' }, 'auth.password'],
      ['password', { auth_url: 'http://k', password: 'y' }, 'auth.username'],
      ['token', { auth_url: 'http://k' }, 'auth.token'],
      [
        'v3applicationcredential',
        { auth_url: 'http://k', application_credential_id: 'a' },
        'auth.application_credential_secret',
      ],
      [
        'v3applicationcredential',
        { auth_url: 'http://k', application_credential_secret: 's', application_credential_name: 'n' },
        'auth.application_credential_id',
      ],
      ['v3oidc' as CloudConfig['authType'], { auth_url: 'http://k' }, 'auth_type'],
    ];
    for (const [type, auth, key] of cases) {
      assert.throws(
        () => authFromConfig(cloud(type, auth)),
        (e: unknown) => e instanceof OcxError && e.code === ErrorCode.CONFIG_INVALID && e.key === key,
        `${type} ${JSON.stringify(auth)} → ${key}`,
      );
    }
  });

  it('scopeFromAuthConfig follows keystoneauth precedence', () => {
    assert.deepEqual(scopeFromAuthConfig({ project_id: 'p', project_name: 'n' }), { kind: 'project', id: 'p' });
    assert.deepEqual(scopeFromAuthConfig({ project_name: 'n', project_domain_id: 'd' }), {
      kind: 'project',
      name: 'n',
      domainId: 'd',
    });
    assert.deepEqual(scopeFromAuthConfig({ project_name: 'n', user_domain_name: 'U' }), {
      kind: 'project',
      name: 'n',
      domainName: 'U',
    });
    assert.deepEqual(scopeFromAuthConfig({ tenant_name: 'n' }), { kind: 'project', name: 'n', domainId: 'default' });
    assert.deepEqual(scopeFromAuthConfig({ domain_name: 'D' }), { kind: 'domain', name: 'D' });
    assert.deepEqual(scopeFromAuthConfig({ system_scope: 'all' }), { kind: 'system', system: 'all' });
    assert.deepEqual(scopeFromAuthConfig({}), { kind: 'unscoped' });
  });
});

describe('auth: token cache', () => {
  it('reuses a cached token until it is within the refresh margin of expiry', async () => {
    const cache = new MemoryTokenCache();
    const p = new PasswordAuth({ authUrl: `${ks.url}/v3`, userId: 'u-demo', password: 'demo-secret' });
    const a1 = await cachedAccess(p, ctx, { cache, marginMs: 60_000 });
    const a2 = await cachedAccess(p, ctx, { cache, marginMs: 60_000 });
    assert.equal(a2.token, a1.token);
    // the cached token (issued an hour ago) now expires in 30 s: inside the 60 s margin → re-authenticate
    cache.set(p.cacheKey(), {
      ...a1,
      issuedAt: new Date(Date.now() - 3_600_000),
      expiresAt: new Date(Date.now() + 30_000),
    });
    const a3 = await cachedAccess(p, ctx, { cache, marginMs: 60_000 });
    assert.notEqual(a3.token, a1.token);
    const a4 = await cachedAccess(p, ctx, { cache, force: true, marginMs: 60_000 });
    assert.notEqual(a4.token, a3.token);
  });

  it('concurrent callers share one authentication', async () => {
    const cache = new MemoryTokenCache();
    const p = new PasswordAuth({
      authUrl: `${ks.url}/v3`,
      userId: 'u-demo',
      password: 'demo-secret',
      scope: { kind: 'project', id: 'p-demo' },
    });
    const before = ks.requests.length;
    const all = await Promise.all([1, 2, 3, 4, 5].map(() => cachedAccess(p, ctx, { cache })));
    assert.equal(new Set(all.map((a) => a.token)).size, 1);
    assert.equal(ks.requests.length - before, 1);
  });

  it('one caller cancelling does not fail the others waiting on the same login', async () => {
    const slow = await startServer((_req, res) => {
      setTimeout(() => {
        res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': 'gAAAAAshared-login-1' });
        res.end(
          JSON.stringify({
            token: {
              methods: ['password'],
              user: { id: 'u', name: 'u' },
              expires_at: new Date(Date.now() + 3_600_000).toISOString(),
            },
          }),
        );
      }, 150);
    });
    try {
      const cache = new MemoryTokenCache();
      const p = new PasswordAuth({ authUrl: `${slow.url}/v3`, userId: 'u', password: 'pw-secret' });
      const ac = new AbortController();
      const a = cachedAccess(p, { ...ctx, signal: ac.signal }, { cache });
      const b = cachedAccess(p, ctx, { cache });
      setTimeout(() => ac.abort(), 20);
      await assert.rejects(a, (e: unknown) => e instanceof OcxError && e.code === ErrorCode.CANCELLED);
      assert.equal((await b).token, 'gAAAAAshared-login-1');
      assert.equal(slow.requests.length, 1);
    } finally {
      await slow.close();
    }
  });

  it('cache keys differ by credentials and scope and never contain the secret', () => {
    const k = (password: string, scope?: { kind: 'project'; id: string }) =>
      new PasswordAuth({ authUrl: ks.url, userId: 'u-demo', password, scope }).cacheKey();
    assert.equal(k('pw-secret-1'), k('pw-secret-1'));
    assert.notEqual(k('pw-secret-1'), k('pw-secret-2'));
    assert.notEqual(k('pw-secret-1'), k('pw-secret-1', { kind: 'project', id: 'p' }));
    assert.ok(!k('pw-secret-1').includes('pw-secret-1'));
    assert.match(k('pw-secret-1'), /^[0-9a-f]{64}$/);
  });
});
