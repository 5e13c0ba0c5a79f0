/**
 * The home Keystone (the K2K identity provider) goes down under an SDK session on a service provider: the token the
 * session holds keeps working at the SP while it is valid, a new token is refused at once with a clear error
 * (UNREACHABLE naming the K2K step), nothing is used past its expiry, and the session recovers when the IdP is back.
 * devcloud with 6 s tokens and fault injection (`down`: connection refused) on real HTTP.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Devcloud, startDevcloud } from '@ocx/devcloud';
import { MemoryTokenCache } from '../src/auth/index.ts';
import { type CloudConfig, k2kCloudConfig, loadCloudsConfig } from '../src/config/index.ts';
import { isOcxError, type OcxError } from '../src/errors/index.ts';
import { ComputeClient, collect } from '../src/services/index.ts';
import { createSession, type Session } from '../src/session/index.ts';

const TTL_S = 6;
let dc: Devcloud;
let dir: string;
let k2k: CloudConfig;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ocx-home-down-'));
  const cloudsYamlPath = join(dir, 'clouds.yaml');
  dc = await startDevcloud({ clouds: ['idp', 'sp1'], cloudsYamlPath, tokenTtlSeconds: TTL_S, logLevel: 'silent' });
  const config = loadCloudsConfig({
    files: { clouds: [cloudsYamlPath], secure: [], publicClouds: [] },
    loadEnv: false,
  });
  k2k = k2kCloudConfig(config.getCloud('idp'), {
    serviceProvider: 'sp1',
    remoteProjectName: 'demo',
    remoteProjectDomainName: 'Default',
  });
});
after(async () => {
  await dc?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const session = (): Session => createSession(k2k, { tokenCache: new MemoryTokenCache(), refreshMarginMs: 1_000 });

async function refused(p: Promise<unknown>): Promise<OcxError> {
  const t0 = performance.now();
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  const ms = performance.now() - t0;
  assert.ok(err, 'a token was handed out while the home Keystone is down');
  assert.ok(isOcxError(err, 'UNREACHABLE'), `expected UNREACHABLE, got ${String(err)}`);
  assert.ok(ms < 5_000, `refused after ${ms} ms`);
  return err as OcxError;
}

describe('the home Keystone down', { timeout: 60_000 }, () => {
  it('held tokens work until they expire, new ones are refused clearly, none is used past expiry, recovery is automatic', async (t) => {
    const s = session();
    const first = await s.getAccess();
    const compute = new ComputeClient(s.client('compute'));
    assert.ok((await collect(compute.listFlavors())).length > 0);

    await dc.setFaults('idp', '*', { down: true });
    try {
      // 1. The session's SP token is still valid: the SP answers without asking the IdP.
      assert.equal((await s.getAccess()).token, first.token);
      assert.ok((await collect(compute.listFlavors())).length > 0, 'sp1 still serves the held token');

      // 2. A new session needs a new assertion from the IdP: refused at once, naming the step (ecp-assertion while
      //    the IdP token is still cached, idp-login once it is not).
      const fresh = await refused(session().getAccess());
      assert.ok(fresh.step === 'ecp-assertion' || fresh.step === 'idp-login', `step ${fresh.step}`);
      assert.doesNotMatch(fresh.message, new RegExp(first.token));

      // 3. Past the token's expiry the session does not hand out (or use) the old token.
      const wait = first.expiresAt.getTime() - Date.now() + 300;
      t.diagnostic(`token valid for ${Math.round(wait)} ms more; waiting`);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await refused(s.getAccess());
      await refused(collect(compute.listFlavors()));
    } finally {
      await dc.clearFaults('idp');
    }

    // 4. The IdP is back: the same session gets a new token and serves again.
    const again = await s.getAccess();
    assert.notEqual(again.token, first.token);
    assert.ok(again.expiresAt.getTime() > Date.now());
    assert.ok((await collect(compute.listFlavors())).length > 0);
  });
});
