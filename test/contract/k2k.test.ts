// Contract: Keystone-to-Keystone federation idp → sp1/sp2 through the SDK, and the SP token in use on Glance.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSession, ErrorCode, ImageClient, isOcxError, k2kCloudConfig } from '@ocx/sdk';
import { startTarget, type Target } from './target.ts';

describe('K2K federation', () => {
  let t: Target;
  before(async () => {
    t = await startTarget();
  });
  after(() => t.stop());

  for (const sp of ['sp1', 'sp2']) {
    it(`idp → ${sp}: a federated token scoped to demo, usable on the SP's Glance`, async () => {
      const s = t.k2kSession('idp', sp);
      const access = await s.getAccess();
      assert.equal(access.project?.name, 'demo');
      assert.ok(access.federation, 'the token is federated');
      assert.equal(access.federation.protocol, 'saml2');
      assert.ok(access.methods.includes('token') || access.methods.includes('saml2'));
      assert.ok(
        access.catalog.some((e) => e.type === 'image'),
        "the SP token carries the SP's catalog",
      );
      // The SP's own demo project, not the IdP's.
      const local = await t.session(sp).getAccess();
      assert.equal(access.project?.id, local.project?.id);
      // An image of this test's own (a real SP's demo project may hold none): two empty lists would compare equal.
      const own = new ImageClient(t.session(sp).client('image'));
      const mine = await own.createImage({
        name: `ocx-contract-k2k-${sp}-${process.pid}`,
        disk_format: 'raw',
        container_format: 'bare',
      });
      try {
        const images = new ImageClient(s.client('image'));
        const seen: string[] = [];
        for await (const img of images.listImages()) seen.push(img.id);
        const direct: string[] = [];
        for await (const img of own.listImages()) direct.push(img.id);
        assert.ok(direct.includes(mine.id), 'the direct demo token sees the image made for this test');
        assert.deepEqual(seen.sort(), direct.sort(), 'K2K and direct demo tokens see the same images');
      } finally {
        await own.deleteImage(mine.id);
      }
    });
  }

  it('an unknown remote project is a FEDERATION_FAILED error that names it (never "the first one")', async () => {
    const cfg = k2kCloudConfig(t.config.getCloud('idp'), {
      serviceProvider: 'sp1',
      remoteProjectName: 'no-such-project-ocx',
      remoteProjectDomainName: 'Default',
    });
    const err = await createSession(cfg)
      .getAccess()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isOcxError(err), `got ${String(err)}`);
    assert.ok(
      err.code === ErrorCode.FEDERATION_FAILED || err.code === ErrorCode.NOT_FOUND,
      `code ${err.code}: ${err.message}`,
    );
    assert.match(err.message, /no-such-project-ocx/);
  });

  it('an unknown service provider is a clear error', async () => {
    const cfg = k2kCloudConfig(t.config.getCloud('idp'), {
      serviceProvider: 'sp-missing',
      remoteProjectName: 'demo',
      remoteProjectDomainName: 'Default',
    });
    const err = await createSession(cfg)
      .getAccess()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isOcxError(err), `got ${String(err)}`);
    assert.match(err.message, /sp-missing/);
  });
});
