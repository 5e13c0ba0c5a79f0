/**
 * TokenValidator against devcloud's Keystone: a service account validates user tokens (X-Subject-Token), results
 * are reused for the TTL, refused tokens are AUTH_FAILED, and a Keystone that cannot be reached is UNREACHABLE.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { SERVICE_LOGIN_STEP, SUBJECT_TOKEN_STEP, TokenValidator } from '../src/auth/index.ts';
import { type CloudsConfig, loadCloudsConfig } from '../src/config/index.ts';
import { ErrorCode, OcxError } from '../src/errors/index.ts';
import { createSession } from '../src/session/index.ts';
import { createTransport } from '../src/transport/index.ts';

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('TokenValidator on devcloud', { timeout: 60_000 }, () => {
  let dc: Devcloud;
  let dir: string;
  let config: CloudsConfig;
  const closers: (() => Promise<void>)[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ocx-tv-'));
    const cloudsYamlPath = join(dir, 'clouds.yaml');
    dc = await startDevcloud({ clouds: ['idp', 'sp1'], cloudsYamlPath, logLevel: 'silent' });
    config = loadCloudsConfig({ files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] }, loadEnv: false });
  });
  after(async () => {
    for (const c of closers) await c();
    await dc?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function cloud(name: string) {
    return config.getCloud(name);
  }
  async function userToken(): Promise<string> {
    const s = createSession(cloud('idp'));
    closers.push(() => s.close());
    return s.getToken();
  }

  it('validates a user token with the service account and tells who, where, which roles and which SPs', async () => {
    const v = new TokenValidator({ cloud: cloud('idp-admin') });
    closers.push(() => v.close());
    const token = await userToken();
    const got = await v.validate(token);
    assert.equal(got.userName, 'demo');
    assert.ok(got.userId);
    assert.equal(got.userDomainId, 'default');
    assert.equal(got.projectName, 'demo');
    assert.ok(got.projectId);
    assert.equal(got.projectDomainId, 'default');
    assert.deepEqual([...got.roles].sort(), ['member', 'reader']);
    assert.deepEqual(got.methods, ['password']);
    assert.ok(got.expiresAt > Date.now());
    assert.ok(got.catalog.length > 0, 'the catalog comes as Keystone sent it');
    assert.deepEqual(
      got.serviceProviders.map((sp) => sp.id),
      ['sp1'],
    );
    assert.match(got.serviceProviders[0]!.authUrl, /^http:\/\/127\.0\.0\.1:\d+\//);
    assert.match(got.serviceProviders[0]!.spUrl, /^http:\/\/127\.0\.0\.1:\d+\//);
    // The service account's own token is the SDK's cached one: a second validation logs in no more.
    const svc = await v.serviceAccess();
    assert.equal(svc.user.name, 'admin');
  });

  it('withCatalog: false asks ?nocatalog: no catalog, the same user, project and service providers', async () => {
    const v = new TokenValidator({ cloud: cloud('idp-admin'), withCatalog: false });
    closers.push(() => v.close());
    const got = await v.validate(await userToken());
    assert.equal(got.userName, 'demo');
    assert.equal(got.projectName, 'demo');
    assert.deepEqual(got.catalog, [], 'Keystone built no catalog');
    assert.deepEqual(
      got.serviceProviders.map((sp) => sp.id),
      ['sp1'],
    );
  });

  it('reuses a result for the TTL and asks Keystone again after it', async () => {
    let asked = 0;
    const transport = createTransport({
      metrics: {
        onRequest: (m) => {
          if (m.operation === 'auth.validate') asked++;
        },
      },
    });
    closers.push(() => transport.close());
    const cached = new TokenValidator({ cloud: cloud('idp-admin'), transport });
    const uncached = new TokenValidator({ cloud: cloud('idp-admin'), transport, cacheTtlMs: 0 });
    const token = await userToken();
    await cached.validate(token);
    await cached.validate(token);
    assert.equal(asked, 1, 'the second validation within the TTL is answered from the cache');
    // Without a cache, a burst of concurrent validations of one token still asks Keystone once.
    const burst = await Promise.all([1, 2, 3].map(() => uncached.validate(token)));
    assert.deepEqual(
      burst.map((v) => v.userName),
      ['demo', 'demo', 'demo'],
    );
    assert.equal(asked, 2, 'three concurrent validations, one question to Keystone');
    // Revoke the token: the cached validator still answers from its cache within the TTL; one without a TTL does not.
    const idp = createSession(cloud('idp'));
    closers.push(() => idp.close());
    const identity = idp.client('identity');
    await identity.delete('/auth/tokens', { headers: { 'x-subject-token': token } });
    assert.equal((await cached.validate(token)).userName, 'demo');
    await assert.rejects(uncached.validate(token), (err: unknown) => {
      assert.ok(err instanceof OcxError);
      assert.equal(err.code, ErrorCode.AUTH_FAILED);
      assert.equal(err.status, 404);
      return true;
    });
  });

  it('a token Keystone does not know is AUTH_FAILED, and the token never appears in the error', async () => {
    const v = new TokenValidator({ cloud: cloud('idp-admin') });
    closers.push(() => v.close());
    const bogus = 'gAAAAA-not-a-token-0123456789';
    await assert.rejects(v.validate(bogus), (err: unknown) => {
      assert.ok(err instanceof OcxError);
      assert.equal(err.code, ErrorCode.AUTH_FAILED);
      assert.equal(err.step, SUBJECT_TOKEN_STEP);
      assert.equal(err.cloud, 'idp-admin');
      assert.ok(!JSON.stringify(err.toJSON()).includes(bogus));
      assert.ok(!err.message.includes(bogus));
      return true;
    });
  });

  it("the service account's own failed login is told apart from a refused user token (step service-login)", async () => {
    const base = cloud('idp-admin');
    const v = new TokenValidator({ cloud: { ...base, auth: { ...base.auth, password: 'not-the-admin-password' } } });
    closers.push(() => v.close());
    await assert.rejects(v.validate(await userToken()), (err: unknown) => {
      assert.ok(err instanceof OcxError);
      assert.equal(err.code, ErrorCode.AUTH_FAILED);
      assert.equal(err.step, SERVICE_LOGIN_STEP);
      assert.ok(!JSON.stringify(err.toJSON()).includes('not-the-admin-password'));
      return true;
    });
  });

  it('a Keystone that cannot be reached is UNREACHABLE', async () => {
    const port = await closedPort();
    const base = cloud('idp-admin');
    const v = new TokenValidator({
      cloud: { ...base, auth: { ...base.auth, auth_url: `http://127.0.0.1:${port}/identity` } },
      timeoutMs: 5_000,
    });
    closers.push(() => v.close());
    await assert.rejects(v.validate('whatever'), (err: unknown) => {
      assert.ok(err instanceof OcxError);
      assert.equal(err.code, ErrorCode.UNREACHABLE);
      assert.equal(err.step, SERVICE_LOGIN_STEP);
      return true;
    });
  });
});
