/**
 * Faults through the proxy (issue 16): an SP slow by seconds, hanging, or cutting its answer mid-body. The other SPs'
 * answers are unaffected and on time, the proxy's deadlines hold, and a cut body reaches the client as an error —
 * never as a shorter success. (Down, hanging and 500 in a fan-out: faults.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { anyImage, createServer, startWorld, type World } from './helpers.ts';

const FANOUT_MS = 2_000;
const UPSTREAM_MS = 3_000;
let w: World;
const ids: Record<string, string> = {};

before(async () => {
  w = await startWorld({ fanoutTimeoutMs: FANOUT_MS, floodTimeoutMs: FANOUT_MS, upstreamTimeoutMs: UPSTREAM_MS });
  for (const c of ['idp', 'sp1', 'sp2']) ids[c] = await createServer(w.direct[c]!, `vm-${c}-${'x'.repeat(200)}`);
  // The proxy learns where each server lives (fault-free) before any fault is set.
  for (const c of ['idp', 'sp1', 'sp2']) {
    const r = await w.call(`/compute/v2.1/servers/${ids[c]}`);
    assert.equal(r.status, 200, `learning ${c}'s server`);
    await r.arrayBuffer();
  }
});
beforeEach(async () => {
  await w.dc.clearFaults();
});
after(async () => {
  await w?.stop();
});

async function timed(path: string): Promise<{ status: number; ms: number; text: string | Error }> {
  const t0 = Date.now();
  const r = await w.call(path, { signal: AbortSignal.timeout(20_000) });
  let text: string | Error;
  try {
    text = await r.text();
  } catch (err) {
    text = err as Error;
  }
  return { status: r.status, ms: Date.now() - t0, text };
}

test('sp1 slow by 2.5 s: sp2 and home answers stay fast meanwhile; sp1 answers late but whole', async () => {
  await w.dc.setFaults('sp1', 'compute', { latencyMs: 2_500 });
  const slow = timed(`/compute/v2.1/servers/${ids.sp1}`);
  const others = await Promise.all([
    timed(`/compute/v2.1/servers/${ids.sp2}`),
    timed(`/compute/v2.1/servers/${ids.idp}`),
  ]);
  for (const o of others) {
    assert.equal(o.status, 200);
    assert.ok(o.ms < 1_000, `an unaffected SP took ${o.ms} ms`);
  }
  const s = await slow;
  assert.equal(s.status, 200);
  assert.ok(s.ms >= 2_400, `sp1 answered in ${s.ms} ms`);
  assert.match(String(s.text), /"server"/);
  console.log(`# slow sp1: ${s.ms} ms; sp2 ${others[0]!.ms} ms, home ${others[1]!.ms} ms`);
});

test('sp1 slower than the fan-out deadline: the list comes back at the deadline without it, naming it', async () => {
  await w.dc.setFaults('sp1', 'compute', { latencyMs: 8_000 });
  const t0 = Date.now();
  const r = await w.call('/compute/v2.1/servers', { signal: AbortSignal.timeout(20_000) });
  const body = (await r.json()) as { servers: { id: string }[] };
  const ms = Date.now() - t0;
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-ocx-missing-service-providers'), 'sp1');
  assert.deepEqual(body.servers.map((s) => s.id).sort(), [ids.idp, ids.sp2].sort());
  assert.ok(ms < FANOUT_MS + 1_500, `the list took ${ms} ms (deadline ${FANOUT_MS})`);
  console.log(`# list with sp1 8 s slow: ${ms} ms (fan-out deadline ${FANOUT_MS} ms)`);
});

test('sp1 hanging on a single-resource call: 504 at the upstream deadline, sp2 unaffected meanwhile', async () => {
  await w.dc.setFaults('sp1', 'compute', { hang: true });
  const hung = timed(`/compute/v2.1/servers/${ids.sp1}`);
  const other = await timed(`/compute/v2.1/servers/${ids.sp2}`);
  assert.equal(other.status, 200);
  assert.ok(other.ms < 1_000, `sp2 took ${other.ms} ms`);
  const h = await hung;
  assert.equal(h.status, 504);
  assert.ok(h.ms >= UPSTREAM_MS - 100 && h.ms < UPSTREAM_MS + 2_000, `the hung call took ${h.ms} ms`);
  assert.ok(!(h.text instanceof Error));
  JSON.parse(h.text);
  console.log(`# hung sp1: 504 after ${h.ms} ms (upstream deadline ${UPSTREAM_MS} ms); sp2 ${other.ms} ms`);
});

test('sp1 cutting a single-resource answer mid-body: the client gets an error, never a shorter 2xx', async () => {
  const whole = await timed(`/compute/v2.1/servers/${ids.sp1}`);
  assert.equal(whole.status, 200);
  const full = String(whole.text).length;
  for (const cut of [1, Math.floor(full / 2), full - 1]) {
    await w.dc.setFaults('sp1', 'compute', { cutBodyAfterBytes: cut });
    let outcome: string;
    try {
      const r = await w.call(`/compute/v2.1/servers/${ids.sp1}`, { signal: AbortSignal.timeout(20_000) });
      const text = await r.text();
      // A complete answer that is an error is fine; a 2xx must be whole.
      if (r.status < 300) {
        assert.equal(text.length, full, `a ${r.status} with ${text.length} of ${full} bytes`);
        JSON.parse(text);
        assert.fail(`a cut body (after ${cut} bytes) came through as a whole ${r.status}`);
      }
      assert.equal(r.status, 502, `status ${r.status}`);
      assert.match(text, /sp1/);
      JSON.parse(text);
      outcome = `${r.status} ${text.slice(0, 160)}`;
    } catch (err) {
      if ((err as Error).name === 'AssertionError') throw err;
      outcome = `error: ${(err as Error).message}${(err as { cause?: Error }).cause ? ` (${(err as { cause: Error }).cause.message})` : ''}`;
    }
    console.log(`# cut after ${cut}/${full} bytes: ${outcome}`);
    await w.dc.clearFaults();
    const again = await timed(`/compute/v2.1/servers/${ids.sp2}`);
    assert.equal(again.status, 200, 'the proxy serves on');
  }
});

test('sp1 cutting its list mid-body: the aggregated list leaves sp1 out and names it, never a partial sp1 list', async () => {
  await w.dc.setFaults('sp1', 'compute', { cutBodyAfterBytes: 200 });
  const r = await w.call('/compute/v2.1/servers', { signal: AbortSignal.timeout(20_000) });
  const body = (await r.json()) as { servers: { id: string }[] };
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('x-ocx-missing-service-providers'), 'sp1');
  assert.deepEqual(body.servers.map((s) => s.id).sort(), [ids.idp, ids.sp2].sort());
});

test('sp1 cutting a streamed image download mid-body: the client sees the download fail, never a shorter file', async () => {
  const image = await anyImage(w.direct.sp1!);
  const learn = await w.call(`/image/v2/images/${image}`);
  assert.equal(learn.status, 200);
  await learn.arrayBuffer();
  const whole = await w.call(`/image/v2/images/${image}/file`);
  const size = (await whole.arrayBuffer()).byteLength;
  assert.ok(size > 100);
  await w.dc.setFaults('sp1', 'image', { cutBodyAfterBytes: Math.floor(size / 2) });
  let outcome: string;
  try {
    const r = await w.call(`/image/v2/images/${image}/file`, { signal: AbortSignal.timeout(20_000) });
    const got = (await r.arrayBuffer()).byteLength;
    assert.ok(r.status >= 500, `a ${r.status} with ${got} of ${size} bytes read as complete`);
    outcome = `${r.status}`;
  } catch (err) {
    if ((err as Error).name === 'AssertionError') throw err;
    outcome = `error: ${(err as Error).message}`;
  }
  console.log(`# streamed download cut after ${Math.floor(size / 2)}/${size} bytes: ${outcome}`);
});
