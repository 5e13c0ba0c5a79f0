/**
 * The home Keystone down, through the proxy (issue 16): a token never seen is refused at once with a clear error;
 * a token validated before is trusted no longer than validationCacheMs; with Keystone back both serve again.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { login, startWorld, type World } from './helpers.ts';

const CACHE_MS = 1_500;
let w: World;

before(async () => {
  w = await startWorld({ validationCacheMs: CACHE_MS, upstreamTimeoutMs: 3_000 });
});
after(async () => {
  await w?.stop();
});

async function flavors(token: string): Promise<{ status: number; ms: number; text: string }> {
  const t0 = Date.now();
  const r = await w.call('/compute/v2.1/flavors', {
    headers: { 'x-auth-token': token },
    signal: AbortSignal.timeout(20_000),
  });
  return { status: r.status, ms: Date.now() - t0, text: await r.text() };
}

for (const [how, spec] of [
  ['answering 503', { errorRate: 1, errorStatus: 503 }],
  ['hanging', { hang: true }],
] as const) {
  test(`the home Keystone ${how}: new tokens refused clearly, a validated one trusted only for its cache time`, async () => {
    const fresh = (await login(w.direct.idp!.authUrl)).token;
    const seen = (await login(w.direct.idp!.authUrl)).token;
    assert.equal((await flavors(seen)).status, 200);
    const validatedAt = Date.now();
    await w.dc.setFaults('idp', 'identity', spec);
    try {
      const cached = await flavors(seen);
      if (Date.now() - validatedAt < CACHE_MS) assert.equal(cached.status, 200, 'inside the cache time');
      const refused = await flavors(fresh);
      assert.ok(refused.status === 503 || refused.status === 504, `${refused.status} ${refused.text}`);
      assert.ok(refused.ms < 5_000, `refused after ${refused.ms} ms`);
      assert.match(refused.text, /home Keystone could not check the token/);
      assert.ok(!refused.text.includes(fresh), 'the token is not echoed');
      await new Promise((r) => setTimeout(r, Math.max(0, validatedAt + CACHE_MS + 100 - Date.now())));
      const expired = await flavors(seen);
      assert.ok(
        expired.status === 503 || expired.status === 504,
        `${expired.status}: a token validated ${Date.now() - validatedAt} ms ago still served`,
      );
      console.log(
        `# Keystone ${how}: new token ${refused.status} in ${refused.ms} ms (${refused.text.slice(0, 120)}); cached one ${expired.status} after the cache time`,
      );
    } finally {
      await w.dc.clearFaults();
    }
    assert.equal((await flavors(fresh)).status, 200);
    assert.equal((await flavors(seen)).status, 200);
  });
}

test('a token in steady use is renewed in the background: after its first call none waits for a slow Keystone', async () => {
  const token = (await login(w.direct.idp!.authUrl)).token;
  const validations = async () =>
    Number(
      /^ocx_proxy_token_step_seconds_count\{target="idp-admin",step="validate"\} (\d+)$/m.exec(
        await (await fetch(`${w.proxy.url}/metrics`)).text(),
      )?.[1] ?? 0,
    );
  await w.dc.setFaults('idp', 'identity', { latencyMs: 600 });
  try {
    const first = await flavors(token);
    assert.equal(first.status, 200);
    assert.ok(first.ms >= 600, `the first call waits for the validation (${first.ms} ms)`);
    const before = await validations();
    const slow: number[] = [];
    // Three cache lifetimes of calls every 100 ms: each entry is renewed before it runs out.
    for (const end = Date.now() + 3 * CACHE_MS; Date.now() < end; ) {
      const r = await flavors(token);
      assert.equal(r.status, 200);
      if (r.ms >= 600) slow.push(r.ms);
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.deepEqual(slow, [], 'no call waited for Keystone');
    assert.ok((await validations()) - before >= 2, 'Keystone was asked again meanwhile, in the background');
  } finally {
    await w.dc.clearFaults();
  }
});
