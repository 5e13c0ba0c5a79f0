import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ProxyMetrics } from '../src/metrics.ts';
import { SdkK2KTokenSource } from '../src/sdk-k2k.ts';
import { login, startWorld, type World } from './helpers.ts';

let w: World;
before(async () => {
  w = await startWorld();
});
after(async () => {
  await w?.stop();
});

for (const [name, make] of [
  ['SDK Keystone2Keystone', (url: string) => new SdkK2KTokenSource({ identityUrl: url })],
] as const) {
  test(`K2K with the user's own home token (${name}) gives a working sp1 token for the demo project`, async () => {
    const home = await login(w.direct.idp!.authUrl);
    const body = await fetch(`${w.direct.idp!.authUrl}/auth/tokens`, {
      headers: { 'x-auth-token': home.token, 'x-subject-token': home.token },
    });
    const sps = (
      (await body.json()) as { token: { service_providers: { id: string; auth_url: string; sp_url: string }[] } }
    ).token.service_providers;
    const sp = sps.find((s) => s.id === 'sp1')!;
    const t = await make(w.direct.idp!.authUrl).obtain({
      localToken: home.token,
      localProjectId: home.projectId,
      localProjectName: 'demo',
      localProjectDomainName: 'Default',
      sp,
      deadline: Date.now() + 20_000,
    });
    assert.equal(t.projectId, w.direct.sp1!.projectId, 'the demo project at sp1');
    assert.ok(t.endpoints.compute, 'endpoints from the sp1 catalog');
    const r = await fetch(`${t.endpoints.compute}/v2.1/servers`, { headers: { 'x-auth-token': t.token } });
    assert.equal(r.status, 200);
    await r.body?.cancel();
  });
}

test('the validated home token is the IdP token as it is: the exchange starts at the ECP assertion, steps in metrics', async () => {
  const home = await login(w.direct.idp!.authUrl);
  const body = await fetch(`${w.direct.idp!.authUrl}/auth/tokens`, {
    headers: { 'x-auth-token': home.token, 'x-subject-token': home.token },
  });
  const token = ((await body.json()) as { token: { expires_at: string; user: { id: string } } }).token;
  const metrics = new ProxyMetrics();
  const sp = (await spsOf(home.token)).find((s) => s.id === 'sp1')!;
  const t = await new SdkK2KTokenSource({ identityUrl: w.direct.idp!.authUrl, metrics }).obtain({
    localToken: home.token,
    localProjectId: home.projectId,
    localProjectName: 'demo',
    localProjectDomainName: 'Default',
    localUserId: token.user.id,
    localExpiresAt: new Date(token.expires_at),
    sp,
    deadline: Date.now() + 20_000,
  });
  assert.equal(t.projectId, w.direct.sp1!.projectId);
  const text = await metrics.registry.metrics();
  const steps = [...text.matchAll(/^ocx_proxy_token_step_seconds_count\{target="sp1",step="([^"]+)"\} (\d+)$/gm)].map(
    (m) => `${m[1]} ${m[2]}`,
  );
  // The local project's name + domain name go straight into the rescope: no project listing, no domain lookup.
  assert.deepEqual(steps.sort(), ['k2k.ecp 1', 'k2k.federated-auth 1', 'k2k.rescope 1', 'k2k.sp 1']);
});

async function spsOf(token: string): Promise<{ id: string; auth_url: string; sp_url: string }[]> {
  const r = await fetch(`${w.direct.idp!.authUrl}/auth/tokens`, {
    headers: { 'x-auth-token': token, 'x-subject-token': token },
  });
  return ((await r.json()) as { token: { service_providers: { id: string; auth_url: string; sp_url: string }[] } })
    .token.service_providers;
}

test('K2K started beside the validation serves that token’s exchange only, and only once', async () => {
  const metrics = new ProxyMetrics();
  const source = new SdkK2KTokenSource({ identityUrl: w.direct.idp!.authUrl, metrics });
  const stepCount = async (step: string) =>
    Number(
      new RegExp(`^ocx_proxy_token_step_seconds_count\\{target="sp1",step="k2k\\.${step}"\\} (\\d+)$`, 'm').exec(
        await metrics.registry.metrics(),
      )?.[1] ?? 0,
    );
  const ecpCount = () => stepCount('ecp');
  const [a, b] = [await login(w.direct.idp!.authUrl), await login(w.direct.idp!.authUrl)];
  const sp = (await spsOf(a.token)).find((s) => s.id === 'sp1')!;
  const obtain = async (home: { token: string; projectId: string }) => {
    const r = await fetch(`${w.direct.idp!.authUrl}/auth/tokens`, {
      headers: { 'x-auth-token': home.token, 'x-subject-token': home.token },
    });
    const t = ((await r.json()) as { token: { expires_at: string; user: { id: string } } }).token;
    return source.obtain({
      localToken: home.token,
      localProjectId: home.projectId,
      localProjectName: 'demo',
      localProjectDomainName: 'Default',
      localUserId: t.user.id,
      localExpiresAt: new Date(t.expires_at),
      sp,
      deadline: Date.now() + 20_000,
    });
  };
  source.prefetch(a.token, [sp], Date.now() + 20_000);
  for (let i = 0; i < 200 && (await ecpCount()) < 1; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(await ecpCount(), 1, "a's assertion was asked for");
  const tb = await obtain(b);
  assert.equal(await ecpCount(), 2, "b's exchange asks for its own assertion, never a's");
  const ta = await obtain(a);
  assert.equal(await ecpCount(), 2, "a's exchange is the one started beside its validation: no assertion of its own");
  assert.equal(await stepCount('rescope'), 2, "a's SP token is the one rescoped beside the validation");
  assert.notEqual(ta.token, tb.token);
  await obtain(a);
  assert.equal(await ecpCount(), 3, 'an assertion is used once');
  for (const t of [ta, tb]) {
    const r = await fetch(`${t.endpoints.image}/v2/images`, { headers: { 'x-auth-token': t.token } });
    assert.equal(r.status, 200);
    await r.body?.cancel();
  }
});
