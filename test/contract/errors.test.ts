// Contract: the error model on real wire answers — codes, status, cloud/service/method/URL, request id and the
// server's fault message; no token anywhere in an error; AUTH_EXPIRED after a revoked token.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ComputeClient, createSession, ErrorCode, isOcxError } from '@ocx/sdk';
import { startTarget, type Target } from './target.ts';

describe('errors', () => {
  let t: Target;
  before(async () => {
    t = await startTarget();
  });
  after(() => t.stop());

  it('Nova: a missing server is NOT_FOUND carrying cloud, service, method, URL, request id and the fault', async () => {
    const s = t.session('sp1');
    const compute = new ComputeClient(s.client('compute'));
    const err = await compute.getServer('00000000-0000-4000-8000-000000000000').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isOcxError(err, ErrorCode.NOT_FOUND), `got ${String(err)}`);
    assert.equal(err.status, 404);
    assert.equal(err.cloud, 'sp1');
    assert.equal(err.service, 'compute');
    assert.equal(err.method, 'GET');
    assert.match(err.url ?? '', /\/servers\/00000000-0000-4000-8000-000000000000$/);
    assert.match(err.requestId ?? '', /^req-/);
    assert.match(err.serverMessage ?? '', /could not be found/i);
    const token = (await s.getAccess()).token;
    assert.ok(!JSON.stringify(err.toJSON()).includes(token));
    assert.ok(!err.summary().includes(token));
  });

  it('Nova: an invalid create body is BAD_REQUEST with the validation message', async () => {
    const s = t.session('sp1');
    const err = await s
      .client('compute')
      .post('/servers', { json: { server: { name: 'x' } } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isOcxError(err, ErrorCode.BAD_REQUEST), `got ${String(err)}`);
    assert.equal(err.status, 400);
    assert.ok(err.serverMessage);
  });

  it('a revoked token: one re-auth is attempted; a token-only session then fails AUTH_EXPIRED', async () => {
    const s = t.session('sp1');
    const access = await s.getAccess();
    const cfg = t.config.getCloud('sp1');
    const tokenOnly = createSession({
      ...cfg,
      authType: 'v3token',
      auth: { auth_url: cfg.auth.auth_url, token: access.token, project_name: 'demo', project_domain_name: 'Default' },
    });
    const compute = new ComputeClient(tokenOnly.client('compute'));
    await compute.getLimits();
    // Revoke the original token (a user may revoke their own token).
    const idUrl = access.identityUrl.replace(/\/$/, '');
    const res = await fetch(`${idUrl}/auth/tokens`, {
      method: 'DELETE',
      headers: { 'X-Auth-Token': access.token, 'X-Subject-Token': access.token },
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 204);
    tokenOnly.invalidate();
    const err = await compute.getLimits().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isOcxError(err, ErrorCode.AUTH_EXPIRED) || isOcxError(err, ErrorCode.AUTH_FAILED), `got ${String(err)}`);
    await tokenOnly.close();
  });

  it('the wrong endpoint type is ENDPOINT_NOT_FOUND naming the service', async () => {
    const err = await t
      .session('sp1')
      .endpointFor('no-such-service-type')
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(isOcxError(err, ErrorCode.ENDPOINT_NOT_FOUND), `got ${String(err)}`);
    assert.match(err.message, /no-such-service-type/);
  });
});
