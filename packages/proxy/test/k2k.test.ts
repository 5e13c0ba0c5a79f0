import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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
