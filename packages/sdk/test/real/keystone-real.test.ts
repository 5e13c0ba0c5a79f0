// Auth and K2K against real Keystone (three Keystones, K2K through Apache + mod_auth_mellon) and real Glance/Nova.
// Runs only with OCX_TEST_TARGET=real and OS_CLIENT_CONFIG_FILE pointing at the real clouds.yaml
// (test/real/openstack.sh writes it: clouds idp, sp1, sp2 (demo) and idp-admin, sp1-admin, sp2-admin).
// Service providers: OCX_REAL_SPS (default "sp1 sp2"), as registered in the idp Keystone.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  ApplicationCredentialAuth,
  authFromConfig,
  Keystone2Keystone,
  MemoryTokenCache,
  PasswordAuth,
  TokenAuth,
} from '../../src/auth/index.ts';
import { loadCloudsConfig } from '../../src/config/index.ts';
import type { CloudConfig } from '../../src/config/types.ts';
import { ErrorCode, OcxError } from '../../src/errors/index.ts';
import { createSession } from '../../src/session/index.ts';
import { createLogger, createTransport } from '../../src/transport/index.ts';
import { captureStream } from '../transport-helpers.ts';

const file = process.env.OS_CLIENT_CONFIG_FILE;
const enabled = process.env.OCX_TEST_TARGET === 'real' && !!file && existsSync(file);
const skip = enabled ? false : 'needs OCX_TEST_TARGET=real and OS_CLIENT_CONFIG_FILE with the real clouds';
const SPS = (process.env.OCX_REAL_SPS ?? 'sp1 sp2').split(/\s+/).filter(Boolean);

function cloud(name: string): CloudConfig {
  return loadCloudsConfig().getCloud(name);
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

const transport = createTransport({ timeoutMs: 60_000 });
const ctx = { transport, timeoutMs: 60_000 };

function k2k(sp: string): Keystone2Keystone {
  return new Keystone2Keystone({
    idp: authFromConfig(cloud('idp')),
    serviceProvider: sp,
    target: { projectName: 'demo', projectDomainName: 'Default' },
    idpTokenCache: new MemoryTokenCache(),
  });
}

describe('real Keystone: password, token, application credential', { skip }, () => {
  it('password auth (name + domain, project scope) in idp, sp1 and sp2', async () => {
    for (const name of ['idp', ...SPS]) {
      const c = cloud(name);
      const access = await authFromConfig(c).authenticate(ctx);
      assert.equal(access.project?.name, 'demo', name);
      assert.equal(access.user.name, 'demo');
      assert.ok(
        access.catalog.some((e) => e.type === 'identity'),
        `${name} has an identity entry`,
      );
      assert.ok(access.expiresAt.getTime() > Date.now());
    }
  });

  it('an unversioned auth_url is discovered; user and project by id work; system-scoped admin token', async () => {
    const c = cloud('idp');
    const first = await authFromConfig(c).authenticate(ctx);
    const unversioned = String(c.auth.auth_url).replace(/\/v3\/?$/, '');
    const byId = await new PasswordAuth({
      authUrl: unversioned,
      userId: first.user.id,
      password: String(c.auth.password),
      scope: { kind: 'project', id: first.project!.id },
    }).authenticate(ctx);
    assert.equal(byId.project?.id, first.project?.id);
    assert.match(byId.identityUrl, /\/v3$/);
    const admin = cloud('idp-admin');
    // keystone-manage bootstrap gives admin a system role assignment: system scope must work
    const sys = await authFromConfig({
      ...admin,
      auth: { ...admin.auth, project_name: undefined, project_domain_name: undefined, system_scope: 'all' },
    }).authenticate(ctx);
    assert.equal(sys.system, true);
    assert.equal(sys.project, undefined);
  });

  it('wrong password is AUTH_FAILED', async () => {
    const c = cloud('idp');
    await rejectsWith(
      authFromConfig({ ...c, auth: { ...c.auth, password: 'definitely-wrong' } }).authenticate(ctx),
      ErrorCode.AUTH_FAILED,
    );
  });

  it('token auth rescopes an unscoped token', async () => {
    const c = cloud('idp');
    const unscoped = await new PasswordAuth({
      authUrl: String(c.auth.auth_url),
      username: 'demo',
      userDomain: { name: 'Default' },
      password: String(c.auth.password),
    }).authenticate(ctx);
    const scoped = await new TokenAuth({
      authUrl: String(c.auth.auth_url),
      token: unscoped.token,
      scope: { kind: 'project', name: 'demo', domainName: 'Default' },
    }).authenticate(ctx);
    assert.equal(scoped.project?.name, 'demo');
    assert.ok(scoped.catalog.length > 0);
  });

  it('application credential (created for the run, then deleted): by id and by name + user', async () => {
    const s = createSession(cloud('idp'), { transport, tokenCache: new MemoryTokenCache() });
    const access = await s.getAccess();
    const ks = s.client('identity');
    const name = `ocx-test-${randomBytes(4).toString('hex')}`;
    const created = await (
      await ks.post(`/users/${access.user.id}/application_credentials`, { json: { application_credential: { name } } })
    ).json<{ application_credential: { id: string; secret: string } }>();
    const { id, secret } = created.application_credential;
    try {
      const authUrl = String(s.cloud.auth.auth_url);
      const a1 = await new ApplicationCredentialAuth({ authUrl, id, secret }).authenticate(ctx);
      assert.equal(a1.project?.id, access.project?.id);
      assert.deepEqual(a1.methods, ['application_credential']);
      const a2 = await new ApplicationCredentialAuth({
        authUrl,
        name,
        username: 'demo',
        userDomain: { name: 'Default' },
        secret,
      }).authenticate(ctx);
      assert.equal(a2.user.id, access.user.id);
      await rejectsWith(
        new ApplicationCredentialAuth({ authUrl, id, secret: 'wrong-secret' }).authenticate(ctx),
        ErrorCode.AUTH_FAILED,
      );
    } finally {
      await ks.delete(`/users/${access.user.id}/application_credentials/${id}`);
    }
  });

  it('a revoked token gets exactly one re-authentication in a session', async () => {
    const s = createSession(cloud('idp'), { transport, tokenCache: new MemoryTokenCache() });
    const ks = s.client('identity');
    const before = await s.getToken();
    await ks.delete('/auth/tokens', { headers: { 'X-Subject-Token': before } });
    const res = await ks.get('/auth/projects');
    assert.equal(res.status, 200);
    assert.notEqual(await s.getToken(), before);
  });
});

describe('real K2K through mod_auth_mellon', { skip }, () => {
  for (const sp of SPS) {
    it(`idp → ${sp}: scoped SP token for project demo, then the SP's Glance lists images`, async () => {
      const session = createSession(cloud(sp), { auth: k2k(sp), transport, tokenCache: new MemoryTokenCache() });
      const access = await session.getAccess();
      assert.equal(access.project?.name, 'demo');
      assert.equal(access.federation?.protocol, 'saml2');
      assert.ok(access.identityUrl.includes(':'), 'SP identity URL');
      const images = await session.client('image').getJson<{ images: unknown[] }>('/images');
      assert.ok(Array.isArray(images.images));
      const names = [];
      for await (const img of session
        .client('image')
        .paginate<{ name: string }>('/images', { itemsKey: 'images', limit: 1 }))
        names.push(img.name);
      assert.equal(names.length, images.images.length, 'pagination with limit=1 sees every image');
      await session.close();
    });
  }

  it('compute microversion "latest" is negotiated against the SP Nova', async () => {
    const session = createSession(cloud(SPS[0]!), {
      auth: k2k(SPS[0]!),
      transport,
      tokenCache: new MemoryTokenCache(),
    });
    const nova = session.client('compute');
    const v = await nova.version();
    assert.ok(v.maxMicroversion, 'nova publishes a max microversion');
    const res = await nova.get('/servers', { microversion: 'latest' });
    assert.equal(res.headers.get('openstack-api-version'), `compute ${v.maxMicroversion}`);
    await res.dump();
    const err = await rejectsWith(nova.get('/servers', { microversion: '2.999' }), ErrorCode.BAD_REQUEST);
    assert.match(err.message, /outside/);
  });

  it('an SP the IdP does not know is FEDERATION_FAILED at service-provider', async () => {
    const err = await rejectsWith(k2k('no-such-sp').authenticate(ctx), ErrorCode.FEDERATION_FAILED);
    assert.equal(err.step, 'service-provider');
  });

  it('a project the federated user lacks is FEDERATION_FAILED at project-selection', async () => {
    const plugin = new Keystone2Keystone({
      idp: authFromConfig(cloud('idp')),
      serviceProvider: SPS[0]!,
      target: { projectName: 'admin', projectDomainName: 'Default' },
      idpTokenCache: new MemoryTokenCache(),
    });
    const err = await rejectsWith(plugin.authenticate(ctx), ErrorCode.FEDERATION_FAILED);
    assert.equal(err.step, 'project-selection');
  });

  it('trace logs of a whole K2K flow contain no token', async () => {
    const out = captureStream();
    const t = createTransport({ logger: createLogger({ level: 'trace', destination: out }) });
    const plugin = k2k(SPS[0]!);
    const idpCache = new MemoryTokenCache();
    const p2 = new Keystone2Keystone({
      idp: plugin.idp,
      serviceProvider: plugin.serviceProvider,
      target: plugin.target,
      idpTokenCache: idpCache,
    });
    const access = await p2.authenticate({ transport: t, timeoutMs: 60_000 });
    const idpToken = idpCache.get(plugin.idp.cacheKey())!.token;
    await new Promise((r) => setTimeout(r, 50));
    const text = out.text();
    assert.ok(text.includes('saml2/ecp'));
    assert.ok(!text.includes(access.token));
    assert.ok(!text.includes(idpToken));
    assert.ok(!text.includes('demo-secret'));
    assert.ok(!/<saml:Assertion/i.test(text));
    await t.close();
  });
});
