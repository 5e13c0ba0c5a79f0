/**
 * The SDK on top of the gateway ("turtles"): a clouds.yaml cloud with `gateway:` makes the SDK's cloud layer talk
 * gRPC to an OCX gateway, behind the same CloudLayer as REST. The cloud layer's nodepool cases
 * (packages/sdk/test/cloud-nodepool-cases.ts, also run over REST by cloud-devcloud.test.ts) run here through a
 * gateway in front of devcloud's sp1 (reached by K2K from idp); then what only this backend has: errors read back
 * from the gateway's details, UNSUPPORTED for what it does not offer, the caller's deadline, a refused token.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  type CloudLayer,
  type CloudsConfig,
  callScope,
  createSession,
  ErrorCode,
  isOcxError,
  loadCloudsConfig,
  MultiCloud,
  NetworkClient,
  openCloud,
  type Session,
} from '@ocx/sdk';
import { nodepoolCases } from '../../sdk/test/cloud-nodepool-cases.ts';
import { type Env, gatewayCloudsYaml, startEnv } from './helpers.ts';

nodepoolCases('gRPC through an OCX gateway to devcloud', async () => {
  const env = await startEnv({}, ['idp', 'sp1']);
  const dir = mkdtempSync(join(tmpdir(), 'ocx-turtles-'));
  const config = gatewayCloudsYaml(env, dir, { 'sp1-gw': { url: env.gw.grpcUrl, cloud: 'sp1' } });
  const setup = createSession(env.config.getCloud('sp1'));
  return {
    cloudName: 'sp1-gw',
    sp1Port: env.dc.clouds.find((c) => c.name === 'sp1')?.port ?? 0,
    setupNetwork: new NetworkClient(setup.client('network')),
    cloud: (opts) => openCloud({ cloud: 'sp1-gw', config, ...opts }),
    async stop() {
      await setup.close();
      await env.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SDK gateway backend: what only it has', { timeout: 120_000 }, () => {
  let env: Env;
  let dir: string;
  let config: CloudsConfig;
  const opened: CloudLayer[] = [];
  const open = (name = 'sp1-gw') => {
    const c = openCloud({ cloud: name, config, pollIntervalMs: 20 });
    opened.push(c);
    return c;
  };
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );

  before(async () => {
    env = await startEnv({}, ['idp', 'sp1']);
    dir = mkdtempSync(join(tmpdir(), 'ocx-turtles-'));
    config = gatewayCloudsYaml(env, dir, {
      'sp1-gw': { url: env.gw.grpcUrl, cloud: 'sp1' },
      'nowhere-gw': { url: env.gw.grpcUrl, cloud: 'nowhere' },
    });
  });
  after(async () => {
    for (const c of opened) await c.close();
    await env?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('errors come back as the OcxError the gateway had: CONFLICT for a taken name, NOT_FOUND for an unknown cloud', async () => {
    const c = open();
    await c.createKeypair('gwb-kp');
    try {
      const taken = await failure(c.createKeypair('gwb-kp'));
      assert.ok(isOcxError(taken, ErrorCode.CONFLICT), `got ${String(taken)}`);
      assert.equal((taken as { cloud?: string }).cloud, 'sp1-gw');
    } finally {
      await c.deleteKeypair('gwb-kp');
    }
    const unknown = await failure(open('nowhere-gw').listFlavors());
    assert.ok(isOcxError(unknown, ErrorCode.NOT_FOUND), `got ${String(unknown)}`);
    assert.match((unknown as Error).message, /no cloud named nowhere/);
  });

  it('createImage streams up UploadImage in ≤ 1 MiB chunks: 3 MiB from a stream with its sha256, none without', async () => {
    const c = open();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const sha256 = createHash('sha256').update(data).digest('hex');
    // A stream in pieces larger than the gateway's 1 MiB limit: the backend re-chunks them.
    const pieces = [data.subarray(0, 2_500_000), data.subarray(2_500_000)];
    const image = await c.createImage('gwb-stream', {
      data: Readable.from(pieces),
      sha256,
      diskFormat: 'raw',
      wait: true,
    });
    try {
      assert.equal(image.status, 'active');
      assert.equal(image.size, data.length);
      assert.equal(image.checksum, createHash('md5').update(data).digest('hex'));
      const noHash = await failure(c.createImage('gwb-nohash', { data: Readable.from([data]), diskFormat: 'raw' }));
      assert.ok(isOcxError(noHash, ErrorCode.BAD_REQUEST), `got ${String(noHash)}`);
      assert.match((noHash as Error).message, /needs its sha256/);
      assert.equal(await c.getImage('gwb-nohash'), null);
    } finally {
      assert.equal(await c.deleteImage(image.id), true);
    }
  });

  it('what the gateway does not offer is UNSUPPORTED, naming the method and the gateway', async () => {
    const c = open();
    const raw = await failure(c.expandServers([]));
    assert.ok(isOcxError(raw, ErrorCode.UNSUPPORTED));
    assert.match((raw as Error).message, new RegExp(`expandServers .*${env.gw.grpcUrl.replace(/[/.:]/g, '.')}`));
    assert.throws(
      () => c.compute,
      (e: unknown) => isOcxError(e, ErrorCode.UNSUPPORTED),
    );
    const bfv = await failure(c.createServer({ name: 's', image: 'cirros', flavor: 'm1.tiny', bootFromVolume: true }));
    assert.ok(isOcxError(bfv, ErrorCode.UNSUPPORTED));
    assert.match((bfv as Error).message, /bootFromVolume/);
  });

  it("the caller's deadline reaches the gateway: a hanging Nova is a TIMEOUT within it, not a hang", async () => {
    const c = open();
    await env.dc.setFaults('sp1', 'compute', { hang: true });
    const scope = callScope({ deadline: Date.now() + 1500 });
    try {
      const started = Date.now();
      const err = await failure(c.listFlavors({ signal: scope.signal }));
      assert.ok(isOcxError(err, ErrorCode.TIMEOUT), `got ${String(err)}`);
      assert.ok(Date.now() - started < 4000, `took ${Date.now() - started} ms`);
    } finally {
      scope.dispose();
      await env.dc.clearFaults('sp1');
    }
  });

  it('an application credential and the gateway only (no auth_url): exchanged by the gateway, K2K included', async () => {
    const idp = createSession(env.config.getCloud('idp'));
    const access = await idp.getAccess();
    const made = await idp.client('identity').post(`/users/${access.user.id}/application_credentials`, {
      json: { application_credential: { name: 'gwb-script' } },
    });
    const ac = (await made.json<{ application_credential: { id: string; secret: string } }>()).application_credential;
    try {
      const path = join(dir, 'script-clouds.yaml');
      writeFileSync(
        path,
        `clouds:
  script:
    auth_type: v3applicationcredential
    auth: {application_credential_id: "${ac.id}", application_credential_secret: "${ac.secret}"}
    gateway: {url: "${env.gw.grpcUrl}", cloud: sp1}
  script-bad:
    auth_type: v3applicationcredential
    auth: {application_credential_id: "${ac.id}", application_credential_secret: wrong}
    gateway: {url: "${env.gw.grpcUrl}", cloud: sp1}
`,
      );
      const scripts = loadCloudsConfig({ files: { clouds: [path], secure: [], publicClouds: [] }, loadEnv: false });
      const c = openCloud({ cloud: 'script', config: scripts });
      opened.push(c);
      assert.ok((await c.listFlavors()).some((f) => f.name === 'm1.tiny'));
      assert.equal((await c.currentLocation()).project.name, 'demo');
      const multi = await MultiCloud.connect({ config: scripts, clouds: ['script', 'script-bad'] });
      try {
        assert.deepEqual(
          multi.connectFailures.map((f) => [f.name, f.error.code]),
          [['script-bad', ErrorCode.AUTH_FAILED]],
        );
        const out = await multi.call((conn) => conn.cloudLayer.listKeypairs());
        assert.deepEqual(
          out.results.map((r) => r.location.name),
          ['script'],
        );
        assert.ok(!JSON.stringify(out.failures.map((f) => f.error.message)).includes(ac.secret));
      } finally {
        await multi.close();
      }
    } finally {
      await idp.client('identity').delete(`/users/${access.user.id}/application_credentials/${ac.id}`);
      await idp.close();
    }
  });

  it('a token the gateway does not accept is AUTH_FAILED, and the token is in no message', async () => {
    // sp1's own Keystone issues the token; the gateway trusts idp's.
    const sp1 = env.config.getCloud('sp1');
    const wrong = { ...config.getCloud('sp1-gw'), auth: { ...sp1.auth } };
    const session: Session = createSession(sp1);
    const token = await session.getToken();
    await session.close();
    const c = openCloud({ cloud: wrong, pollIntervalMs: 20 });
    opened.push(c);
    const err = await failure(c.listServers());
    assert.ok(isOcxError(err, ErrorCode.AUTH_FAILED), `got ${String(err)}`);
    assert.ok(!JSON.stringify({ m: (err as Error).message, s: String(err) }).includes(token));
  });
});
