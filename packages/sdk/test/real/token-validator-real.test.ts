// TokenValidator against the real idp Keystone: the idp-admin service account validates the demo user's token
// (X-Subject-Token) and refuses it once it is revoked.
// Runs only with OCX_TEST_TARGET=real and OS_CLIENT_CONFIG_FILE pointing at the real clouds.yaml
// (test/real/openstack.sh writes it). Creates nothing on the clouds; the one token it revokes is its own.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MemoryTokenCache, SUBJECT_TOKEN_STEP, TokenValidator } from '../../src/auth/index.ts';
import { loadCloudsConfig } from '../../src/config/index.ts';
import { ErrorCode, OcxError } from '../../src/errors/index.ts';
import { createSession } from '../../src/session/index.ts';

const file = process.env.OS_CLIENT_CONFIG_FILE;
const enabled = process.env.OCX_TEST_TARGET === 'real' && !!file && existsSync(file);
const skip = enabled ? false : 'needs OCX_TEST_TARGET=real and OS_CLIENT_CONFIG_FILE with the real clouds';
const SPS = (process.env.OCX_REAL_SPS ?? 'sp1 sp2').split(/\s+/).filter(Boolean);

describe('TokenValidator on real Keystone', { skip, timeout: 120_000 }, () => {
  it("validates the demo user's token with the idp-admin service account, then refuses it once revoked", async () => {
    const clouds = loadCloudsConfig();
    const demo = createSession(clouds.getCloud('idp'), { tokenCache: new MemoryTokenCache() });
    const validator = new TokenValidator({ cloud: clouds.getCloud('idp-admin'), cacheTtlMs: 0, timeoutMs: 30_000 });
    try {
      const token = await demo.getToken();
      const who = await validator.validate(token);
      assert.equal(who.userName, 'demo');
      assert.equal(who.projectName, 'demo');
      assert.ok(who.userId && who.projectId && who.userDomainId);
      assert.ok(who.roles.length > 0);
      assert.ok(who.methods.includes('password'));
      assert.ok(who.expiresAt > Date.now());
      assert.ok(who.catalog.length > 0, 'the real catalog comes back');
      for (const sp of SPS) {
        const found = who.serviceProviders.find((p) => p.id === sp);
        assert.ok(found, `service provider ${sp} is listed`);
        assert.match(found.authUrl, /\/OS-FEDERATION\/identity_providers\//);
      }
      await demo.client('identity').delete('/auth/tokens', { headers: { 'x-subject-token': token } });
      await assert.rejects(validator.validate(token), (err: unknown) => {
        assert.ok(err instanceof OcxError);
        assert.equal(err.code, ErrorCode.AUTH_FAILED);
        assert.equal(err.step, SUBJECT_TOKEN_STEP);
        assert.ok(!JSON.stringify(err.toJSON()).includes(token));
        return true;
      });
    } finally {
      await validator.close();
      await demo.close();
    }
  });
});
