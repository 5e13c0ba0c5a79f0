// Contract: Keystone v3 auth, scopes, catalog, and the auth error codes — same on devcloud and real Keystone.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSession, ErrorCode, IdentityClient, isOcxError } from '@ocx/sdk';
import { startTarget, type Target } from './target.ts';

describe('auth and catalog', () => {
  let t: Target;
  before(async () => {
    t = await startTarget();
  });
  after(() => t.stop());

  for (const name of ['idp', 'sp1', 'sp2']) {
    it(`password auth on ${name} gives a project-scoped token with roles and a catalog`, async () => {
      const access = await t.session(name).getAccess();
      assert.equal(access.project?.name, 'demo');
      assert.equal(access.user.name, 'demo');
      assert.ok(
        access.roles.some((r) => r.name === 'member'),
        'demo has role member',
      );
      assert.ok(access.expiresAt.getTime() > Date.now());
      assert.ok(
        access.catalog.some((e) => e.type === 'identity'),
        'catalog lists identity',
      );
      assert.equal(access.unscoped, false);
    });
  }

  it('the IdP token lists the service providers sp1 and sp2', async () => {
    const access = await t.session('idp').getAccess();
    const ids = access.serviceProviders.map((sp) => sp.id).sort();
    assert.ok(ids.includes('sp1') && ids.includes('sp2'), `service providers: ${ids.join(',')}`);
    for (const sp of access.serviceProviders) {
      assert.match(sp.auth_url, /\/OS-FEDERATION\/identity_providers\/[^/]+\/protocols\/saml2\/auth$/);
      assert.match(sp.sp_url, /^https?:\/\//);
    }
  });

  it('service clouds list compute, block storage, image and network endpoints', async () => {
    const s = t.session('sp1');
    for (const type of ['compute', 'block-storage', 'image', 'network']) {
      const url = await s.endpointFor(type);
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+(\/|$)/, `${type} endpoint ${url}`);
    }
  });

  it('the admin user gets the admin role on the admin project', async () => {
    const access = await t.session('sp1-admin').getAccess();
    assert.equal(access.project?.name, 'admin');
    assert.ok(access.roles.some((r) => r.name === 'admin'));
  });

  it('a wrong password is AUTH_FAILED, with the cloud named and no password in the message', async () => {
    const cfg = t.config.getCloud('sp1');
    const bad = { ...cfg, auth: { ...cfg.auth, password: 'not-the-password-xyz' } };
    const err = await createSession(bad)
      .getAccess()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isOcxError(err, ErrorCode.AUTH_FAILED), `got ${String(err)}`);
    assert.equal(err.status, 401);
    assert.doesNotMatch(JSON.stringify(err.toJSON()) + err.message, /not-the-password-xyz/);
  });

  it('token auth re-scopes an existing token', async () => {
    const first = await t.session('sp1').getAccess();
    const cfg = t.config.getCloud('sp1');
    const byToken = createSession({
      ...cfg,
      authType: 'v3token',
      auth: { auth_url: cfg.auth.auth_url, token: first.token, project_name: 'demo', project_domain_name: 'Default' },
    });
    const second = await byToken.getAccess();
    assert.equal(second.project?.id, first.project?.id);
    assert.equal(second.user.id, first.user.id);
    await byToken.close();
  });

  it('an unscoped token sees its projects through /v3/auth/projects', async () => {
    const s = t.session('sp1');
    const identity = new IdentityClient(s.client('identity'));
    const names: string[] = [];
    for await (const p of identity.listAuthProjects()) names.push(p.name);
    assert.ok(names.includes('demo'), `auth projects: ${names.join(',')}`);
  });
});
