import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { createServer, startWorld, type World } from './helpers.ts';

let w: World;
const names: Record<string, string> = {};

before(async () => {
  // A short fan-out deadline; 2 failures open a breaker for 1 s.
  w = await startWorld({
    fanoutTimeoutMs: 1_500,
    floodTimeoutMs: 1_500,
    breakerFailureThreshold: 2,
    breakerOpenMs: 1_000,
  });
  for (const c of ['idp', 'sp1', 'sp2']) names[await createServer(w.direct[c]!, `vm-${c}`)] = `vm-${c}`;
});
beforeEach(async () => {
  await w.dc.clearFaults();
});
after(async () => {
  await w?.stop();
});

async function listServers(): Promise<{ status: number; missing: string | null; names: string[] }> {
  // The client gives up far beyond the proxy's deadline: a proxy that hangs fails the test.
  const r = await w.call('/compute/v2.1/servers', { signal: AbortSignal.timeout(15_000) });
  const body = (await r.json()) as { servers?: { name: string }[] };
  return {
    status: r.status,
    missing: r.headers.get('x-ocx-missing-service-providers'),
    names: (body.servers ?? []).map((s) => s.name).sort(),
  };
}

test('an SP that is down is left out and named; the others still answer', async () => {
  await w.dc.setFaults('sp1', '*', { down: true });
  const r = await listServers();
  assert.equal(r.status, 200);
  assert.equal(r.missing, 'sp1');
  assert.deepEqual(r.names, ['vm-idp', 'vm-sp2']);
});

test('an SP that hangs is cut at the fan-out deadline and named', async () => {
  await w.dc.setFaults('sp2', 'compute', { hang: true });
  const r = await listServers();
  assert.equal(r.status, 200);
  assert.equal(r.missing, 'sp2');
  assert.deepEqual(r.names, ['vm-idp', 'vm-sp1']);
});

test('an SP answering 500 is left out and named', async () => {
  await w.dc.setFaults('sp1', 'compute', { errorRate: 1, errorStatus: 500 });
  const r = await listServers();
  assert.equal(r.status, 200);
  assert.equal(r.missing, 'sp1');
  assert.deepEqual(r.names, ['vm-idp', 'vm-sp2']);
});

test("with every cloud failing the list is a 503 in Nova's error shape naming them", async () => {
  for (const c of ['idp', 'sp1', 'sp2']) await w.dc.setFaults(c, 'compute', { errorRate: 1, errorStatus: 500 });
  const r = await w.call('/compute/v2.1/servers');
  assert.equal(r.status, 503);
  assert.deepEqual(
    r.headers.get('x-ocx-missing-service-providers')?.split(',').sort(),
    [w.proxy.homeId, 'sp1', 'sp2'].sort(),
  );
  const body = (await r.json()) as { serviceUnavailable?: { message: string } };
  assert.match(body.serviceUnavailable?.message ?? '', /sp1/);
});

test('repeated connection failures open the breaker: the SP is skipped at once, then tried again after the pause', async () => {
  await w.dc.setFaults('sp2', '*', { down: true });
  await listServers();
  await listServers();
  const metrics = await (await fetch(`${w.proxy.url}/metrics`)).text();
  assert.match(metrics, /ocx_proxy_breaker_state\{target="sp2"\} 1/);
  const skipped = await listServers();
  assert.equal(skipped.missing, 'sp2');
  await w.dc.clearFaults();
  // After the open period one trial call goes through and closes the breaker again.
  await new Promise((r) => setTimeout(r, 1_100));
  const back = await listServers();
  assert.equal(back.missing, null);
  assert.deepEqual(back.names, ['vm-idp', 'vm-sp1', 'vm-sp2']);
});

test('looking up an unknown id while an SP is down says which SP could not be asked (503), not a false 404', async () => {
  await w.dc.setFaults('sp1', '*', { down: true });
  const r = await w.call('/compute/v2.1/servers/5f8c0e7e-0000-4000-8000-00000000beef');
  assert.equal(r.status, 503);
  assert.equal(r.headers.get('x-ocx-missing-service-providers'), 'sp1');
});
