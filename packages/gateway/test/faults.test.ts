/**
 * Faults behind the gateway (issue 16), with devcloud's fault injection on real HTTP: a service provider slow by
 * seconds, hanging, or cutting its answer mid-body; the home Keystone answering 503 or hanging. Lists over the
 * three clouds return the healthy clouds' items on time with a per-cloud failure, the caller's gRPC deadline holds,
 * a cut body is an error (never a shorter list or a half server), and no validated token is trusted past
 * tokenCacheTtlMs while Keystone cannot confirm it.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { CloudService } from '@ocx/sdk/gen/ocx/cloud/v1/cloud_service_pb';
import { connectTransport, type Env, passwordToken, startEnv } from './helpers.ts';

const CACHE_MS = 1_500;
let env: Env;
/** One server per cloud, made before any fault: what a complete list holds. */
const ids: Record<string, string> = {};

before(async () => {
  env = await startEnv({ tokenCacheTtlMs: CACHE_MS, perCloudDeadlineMs: 6_000 });
  for (const cloud of ['idp', 'sp1', 'sp2']) {
    const r = await env.client.createServer(
      {
        spec: {
          location: { cloud },
          name: `f-${cloud}-${'x'.repeat(200)}`,
          image: 'cirros-*',
          flavor: 'm1.tiny',
          wait: true,
        },
      },
      { ...env.auth, timeoutMs: 30_000 },
    );
    ids[cloud] = r.server?.id ?? '';
    assert.ok(ids[cloud], `a server on ${cloud}`);
  }
  // Warm: the caller's clouds (K2K tokens, discovery) are connected before any fault.
  const warm = await env.client.listServers({}, env.auth);
  assert.deepEqual(warm.failures, []);
  assert.equal(warm.servers.length, 3);
});
beforeEach(async () => {
  await env.dc.clearFaults();
});
after(async () => {
  await env?.dc.clearFaults();
  await env?.stop();
});

function byCloud(servers: { id: string; location?: { cloud: string } }[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of servers) {
    const cloud = s.location?.cloud ?? '?';
    out[cloud] = [...(out[cloud] ?? []), s.id];
  }
  return out;
}

async function timed<T>(p: Promise<T>): Promise<{ value?: T; error?: ConnectError; ms: number }> {
  const t0 = Date.now();
  try {
    return { value: await p, ms: Date.now() - t0 };
  } catch (err) {
    return { error: ConnectError.from(err), ms: Date.now() - t0 };
  }
}

test('sp1 cutting its answers mid-body: lists leave sp1 out as a failure, GetServer of its server is an error', async () => {
  for (const cut of [1, 400, 900]) {
    await env.dc.setFaults('sp1', 'compute', { cutBodyAfterBytes: cut });
    const r = await timed(env.client.listServers({}, { ...env.auth, timeoutMs: 10_000 }));
    assert.ok(r.value, `the call failed: ${r.error?.message}`);
    assert.deepEqual(byCloud(r.value.servers), { idp: [ids.idp], sp2: [ids.sp2] }, `cut after ${cut}`);
    assert.deepEqual(
      r.value.failures.map((f) => f.cloud),
      ['sp1'],
    );
    const got = await timed(
      env.client.getServer({ filter: { nameOrId: ids.sp1 } }, { ...env.auth, timeoutMs: 10_000 }),
    );
    assert.ok(!got.value?.server, `a server came back from a cut body (after ${cut} bytes)`);
    assert.equal(got.error?.code, Code.Unavailable, `${got.error?.message}`);
    // Nor may a delete report `deleted: false` (nodepool would take the server for gone and leak it).
    const del = await timed(
      env.client.deleteServer({ filter: { nameOrId: ids.sp1 } }, { ...env.auth, timeoutMs: 10_000 }),
    );
    assert.equal(del.error?.code, Code.Unavailable, `DeleteServer answered ${JSON.stringify(del.value)}`);
    console.log(
      `# sp1 cut after ${cut} bytes: list idp + sp2 in ${r.ms} ms, sp1 ${r.value.failures[0]?.code} (${r.value.failures[0]?.message.slice(0, 80)}); GetServer ${Code[got.error.code]}`,
    );
  }
  await env.dc.clearFaults();
  const again = await env.client.listServers({}, env.auth);
  assert.equal(again.servers.length, 3, 'whole again once sp1 answers whole');
});

test('sp1 slow by 2.5 s: a list scoped to sp2 meanwhile is fast; the list over all clouds waits for sp1 and is whole', async () => {
  await env.dc.setFaults('sp1', 'compute', { latencyMs: 2_500 });
  const all = timed(env.client.listServers({}, { ...env.auth, timeoutMs: 10_000 }));
  const sp2 = await timed(env.client.listServers({ filter: { location: { clouds: ['sp2'] } } }, env.auth));
  assert.deepEqual(byCloud(sp2.value?.servers ?? []), { sp2: [ids.sp2] });
  assert.ok(sp2.ms < 1_000, `sp2 took ${sp2.ms} ms`);
  const a = await all;
  assert.deepEqual(a.value?.failures, []);
  assert.deepEqual(byCloud(a.value?.servers ?? []), { idp: [ids.idp], sp1: [ids.sp1], sp2: [ids.sp2] });
  assert.ok(a.ms >= 2_400, `the whole list in ${a.ms} ms`);
  console.log(`# sp1 2.5 s slow: sp2 alone ${sp2.ms} ms; all three ${a.ms} ms, whole`);
});

test('sp1 8 s slow and sp2 hanging, caller deadline 3 s: idp items on time, sp1 and sp2 failures, no hang', async () => {
  await env.dc.setFaults('sp1', 'compute', { latencyMs: 8_000 });
  await env.dc.setFaults('sp2', 'compute', { hang: true });
  const r = await timed(env.client.listServers({}, { ...env.auth, timeoutMs: 3_000 }));
  assert.ok(r.value, `the call failed: ${r.error?.message}`);
  assert.deepEqual(byCloud(r.value.servers), { idp: [ids.idp] });
  assert.deepEqual(r.value.failures.map((f) => [f.cloud, f.code]).sort(), [
    ['sp1', 'TIMEOUT'],
    ['sp2', 'TIMEOUT'],
  ]);
  assert.ok(r.ms < 3_000, `answered after ${r.ms} ms, past the caller's 3 s deadline`);
  // A call that needs the hanging cloud alone ends at the caller's deadline, as DEADLINE_EXCEEDED.
  const one = await timed(env.client.getServer({ filter: { nameOrId: ids.sp2 } }, { ...env.auth, timeoutMs: 2_000 }));
  assert.ok(one.error, 'GetServer on a hanging cloud cannot succeed');
  // Not NOT_FOUND: the cloud that holds it could not be asked.
  assert.equal(one.error.code, Code.DeadlineExceeded, one.error.message);
  assert.ok(one.ms < 2_000 + 500, `GetServer returned after ${one.ms} ms (deadline 2 s)`);
  console.log(
    `# sp1 8 s slow + sp2 hanging, deadline 3 s: ${r.ms} ms, idp's item + 2 TIMEOUT failures; GetServer(sp2) ${Code[one.error.code]} after ${one.ms} ms`,
  );
});

for (const [how, spec] of [
  ['answering 503', { errorRate: 1, errorStatus: 503 }],
  ['hanging', { hang: true }],
] as const) {
  test(`the home Keystone ${how}: a new token is refused clearly; a validated one is trusted only for its cache time`, async () => {
    const fresh = await passwordToken(env);
    const seen = await passwordToken(env);
    assert.notEqual(fresh, seen);
    const as = (t: string) => ({ headers: { authorization: `Bearer ${t}` }, timeoutMs: 3_000 });
    const flavors = (t: string) => timed(env.client.listFlavors({ filter: { location: { clouds: ['idp'] } } }, as(t)));
    assert.ok((await flavors(seen)).value);
    const validatedAt = Date.now();
    await env.dc.setFaults('idp', 'identity', spec);
    try {
      const cached = await flavors(seen);
      if (Date.now() - validatedAt < CACHE_MS)
        assert.ok(cached.value, `inside the cache time: ${cached.error?.message}`);
      const refused = await flavors(fresh);
      assert.ok(refused.error, 'a token Keystone never confirmed was served');
      const want = how === 'hanging' ? [Code.Unavailable, Code.DeadlineExceeded] : [Code.Unavailable];
      assert.ok(want.includes(refused.error.code), `${Code[refused.error.code]}: ${refused.error.message}`);
      if (how === 'hanging') {
        // Keystone never answers: the caller's own 3 s deadline ends the call (connect-es answers it itself).
        assert.equal(refused.error.code, Code.DeadlineExceeded);
        assert.ok(
          refused.ms >= 2_500 && refused.ms < 3_500,
          `refused after ${refused.ms} ms: at the caller's 3 s deadline`,
        );
      } else assert.match(refused.error.rawMessage, /home Keystone could not validate the token/);
      assert.ok(!refused.error.message.includes(fresh), 'the token is not echoed');
      assert.ok(refused.ms < 3_500, `refused after ${refused.ms} ms`);
      await new Promise((r) => setTimeout(r, Math.max(0, validatedAt + CACHE_MS + 100 - Date.now())));
      const expired = await flavors(seen);
      assert.ok(expired.error, `a token validated ${Date.now() - validatedAt} ms ago still served`);
      assert.ok([Code.Unavailable, Code.DeadlineExceeded].includes(expired.error.code), expired.error.message);
      // Connect over HTTP/1.1 says the same.
      const c = createClient(CloudService, connectTransport(env.gw));
      const viaConnect = await timed(c.listFlavors({}, as(fresh)));
      assert.ok(viaConnect.error && want.includes(viaConnect.error.code), viaConnect.error?.message);
      console.log(
        `# home Keystone ${how}: new token ${Code[refused.error.code]} in ${refused.ms} ms ("${refused.error.rawMessage}"); the validated one ${Code[expired.error.code]} after the ${CACHE_MS} ms cache`,
      );
    } finally {
      await env.dc.clearFaults();
    }
    assert.ok((await flavors(fresh)).value, 'served again once Keystone is back');
    assert.ok((await flavors(seen)).value);
  });
}
